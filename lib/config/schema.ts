/**
 * The shape of denopool's configuration: the `Config` type, every key's default and check.
 *
 * Keys are snake_case in the TOML files (`stratum.max_line_bytes`) and camelCase here
 * (`config.stratum.maxLineBytes`); {@linkcode tomlKey} converts. `config.example.toml` documents
 * every key with its default and meaning. A string default of "" means "off" or "automatic", as
 * each key's comment says.
 *
 * @module
 */

import type { NetworkName } from "../bitcoin/mod.ts";
import {
  booleanField,
  choiceField,
  type Field,
  hexMaskField,
  hostPortCheck,
  integerField,
  isIpOrCidr,
  numberField,
  snowflakeCheck,
  stringField,
  stringListField,
  tableField,
  tableListField,
  telegramChatCheck,
  urlCheck,
  zmqEndpointCheck,
} from "./fields.ts";

/** `[server]`: HTTP status server, metrics and files. */
export interface ServerConfig {
  /** HTTP listen address of the status UI and JSON API ("" = off). */
  readonly statusListen: string;
  /** HTTPS listen address ("" = off); when set, plain HTTP redirects to it. */
  readonly statusTlsListen: string;
  /** PEM certificate for HTTPS (absolute path once loaded). */
  readonly statusTlsCert: string;
  /** PEM private key for HTTPS (absolute path once loaded). */
  readonly statusTlsKey: string;
  /** Canonical public URL of the status site (cookies, redirects, same-origin checks); "" = the request's Host. */
  readonly statusPublicUrl: string;
  /**
   * Proxies (IPs or CIDRs) whose `X-Forwarded-For`, `X-Forwarded-Proto` and `Forwarded` are
   * believed; they are also exempt from `httpMaxConnectionsPerIp`.
   */
  readonly trustedProxies: readonly string[];
  /** Longest wait (ms) for a request's head on the status, metrics and admin listeners. */
  readonly httpHeaderTimeoutMs: number;
  /** Longest wait (ms) for a request's body, from the end of its head. */
  readonly httpBodyTimeoutMs: number;
  /** Longest wait (ms) for the next request on an idle keep-alive connection. */
  readonly httpIdleTimeoutMs: number;
  /** Most open HTTP connections from one address (IPv6: one /64); 0 = no cap. */
  readonly httpMaxConnectionsPerIp: number;
  /** Listen address of the Prometheus metrics endpoint ("" = off). */
  readonly metricsListen: string;
  /** Directory for the store, block journal and logs (absolute path once loaded). */
  readonly dataDir: string;
  /** Turns off the JSON API (`/api/*`) while keeping the pages. */
  readonly noJson: boolean;
}

/** `[stratum]`: the miner-facing Stratum v1 server. */
export interface StratumConfig {
  /** Plain TCP listen address. */
  readonly listen: string;
  /** TLS listen address ("" = off). */
  readonly tlsListen: string;
  /** PEM certificate for Stratum TLS (absolute path once loaded). */
  readonly tlsCert: string;
  /** PEM private key for Stratum TLS (absolute path once loaded). */
  readonly tlsKey: string;
  /** Longest accepted line, in bytes; longer lines close the connection. */
  readonly maxLineBytes: number;
  /** Seconds without any message before a connection is closed. */
  readonly idleTimeoutSeconds: number;
  /** Bytes of extranonce2 each miner rolls (2..8). */
  readonly extranonce2Size: number;
  /** Password miners must send in `mining.authorize` ("" = any password). */
  readonly password: string;
  /** Most open connections in total. */
  readonly maxConnections: number;
  /** Most open connections from one IP address (0 = no limit). */
  readonly maxConnectionsPerIp: number;
  /** Steady rate of accepted connections per second (token bucket). */
  readonly acceptRatePerSecond: number;
  /** Connections that may be accepted in one burst (token bucket size). */
  readonly acceptBurst: number;
  /** Most Stratum messages per connection per minute (0 = no limit). */
  readonly messagesPerMinute: number;
  /** Shares waiting for a hash, pool-wide, before connections stop reading until half are answered. */
  readonly maxSharesInFlight: number;
  /** The same per connection (a miner that pipelines submits is read as fast as it is answered). */
  readonly maxSharesInFlightPerConnection: number;
  /** Version bits miners may roll (BIP310), as a 32-bit mask. */
  readonly versionRollingMask: number;
  /** Miner client names refused at subscribe (case-insensitive, exact). */
  readonly clientBlacklist: readonly string[];
}

/** `[node]`: the Bitcoin Core node that supplies templates and takes blocks. */
export interface NodeConfig {
  /** The network the pool mines on. */
  readonly network: NetworkName;
  /** JSON-RPC URL; "" in the file means `http://127.0.0.1:<the network's RPC port>`. */
  readonly rpcUrl: string;
  /** Cookie file for RPC auth; "" = found automatically (absolute path once loaded, if set). */
  readonly rpcCookiePath: string;
  /** ZMQ `hashblock` endpoint ("" = off). */
  readonly zmqHashblock: string;
  /** ZMQ `rawblock` endpoint ("" = off). */
  readonly zmqRawblock: string;
  /** Seconds an ordinary RPC call may take. */
  readonly rpcTimeoutSeconds: number;
  /** Uses `getblocktemplate` longpoll for new templates. */
  readonly longpoll: boolean;
  /** Seconds between template refreshes when nothing else triggers one. */
  readonly refreshIntervalSeconds: number;
  /** Least milliseconds between two template fetches. */
  readonly minRefreshIntervalMs: number;
  /** Seconds without a fresh template before the pool stops handing out work. */
  readonly staleAfterSeconds: number;
  /** Publish coinbase-only work for a new tip before `getblocktemplate` answers. */
  readonly emptyFirst: boolean;
  /** Other nodes that may announce new tips first (`[[node.tip_sources]]`). */
  readonly tipSources: readonly TipSourceConfig[];
}

/** One `[[node.tip_sources]]` table: another node that may hear of new blocks first. */
export interface TipSourceConfig {
  /** Name in the status API and `/metrics`. */
  readonly name: string;
  /** Its JSON-RPC URL ("" = none): polled for its best block. */
  readonly rpcUrl: string;
  /** Its RPC cookie file ("" = use `rpc_user`/`rpc_password`). */
  readonly rpcCookiePath: string;
  /** Its RPC user. */
  readonly rpcUser: string;
  /** Its RPC password. */
  readonly rpcPassword: string;
  /** Its ZMQ `hashblock` endpoint ("" = off). */
  readonly zmqHashblock: string;
  /** Its ZMQ `rawblock` endpoint ("" = off). */
  readonly zmqRawblock: string;
  /** Act on its tips at once with empty work, before the pool's own node confirms them. */
  readonly trusted: boolean;
  /** Milliseconds between RPC polls. */
  readonly pollMs: number;
}

/** Hash implementation the share workers use. */
export type HashBackend = "auto" | "ts" | "webcrypto";

/** `[mining]`: coinbase payouts and share hashing. */
export interface MiningConfig {
  /** Address that receives the pool fee; required when `poolFeePercent` > 0. */
  readonly payoutAddress: string;
  /** Percent of the block reward kept as pool fee (0..99.99). */
  readonly poolFeePercent: number;
  /** Address that receives the donation; required when `donationPercent` > 0. */
  readonly donationAddress: string;
  /** Percent of the pool fee donated (0..100). */
  readonly donationPercent: number;
  /** Text put in every coinbase scriptSig (printable ASCII, at most 40 bytes). */
  readonly poolTag: string;
  /** Share-checking Web Workers at most (0 = one per CPU core). */
  readonly hashWorkers: number;
  /** Of them, the ones kept running when there is no load (the rest start when needed). */
  readonly hashWorkersAtRest: number;
  /** sha256d implementation for shares ("auto" picks the fastest). */
  readonly hashBackend: HashBackend;
}

/** `[difficulty]`: share difficulty and vardiff. */
export interface DifficultyConfig {
  /** Difficulty a new connection starts at. */
  readonly start: number;
  /** Lowest difficulty (fractions allowed, > 0). */
  readonly min: number;
  /** Highest difficulty (0 = no limit). */
  readonly max: number;
  /** Shares per minute vardiff aims for. */
  readonly targetSharesPerMinute: number;
  /** Adjusts difficulty per connection. */
  readonly vardiff: boolean;
  /** Least seconds between two difficulty changes of one connection. */
  readonly retargetSeconds: number;
}

/** `[bans]`: automatic bans. A threshold of 0 turns that ban off. */
export interface BansConfig {
  /** Invalid shares within the window that ban a worker (0 = off). */
  readonly invalidThreshold: number;
  /** Window for counting invalid shares, in seconds. */
  readonly invalidWindowSeconds: number;
  /** Length of an invalid-share ban, in seconds. */
  readonly banSeconds: number;
  /**
   * Connections from one IP that end without useful work (never authorized, or closed within
   * `reconnectShortSeconds` without an accepted share) within the window that ban the IP (0 = off).
   */
  readonly reconnectThreshold: number;
  /** Window for counting such connections per IP, in seconds. */
  readonly reconnectWindowSeconds: number;
  /** Length of a reconnect ban, in seconds (kept in memory only: a restart lifts it). */
  readonly reconnectBanSeconds: number;
  /** An authorized connection closed sooner than this without a share counts as a reconnect. */
  readonly reconnectShortSeconds: number;
  /** Addresses and CIDR ranges never banned by admission rules (default: loopback). */
  readonly exempt: readonly string[];
}

/** `[auth]`: Clerk sign-in for saved workers. Off while `clerkJwksUrl` is "". */
export interface AuthConfig {
  /** URL of Clerk's JWKS ("" = sign-in off). */
  readonly clerkJwksUrl: string;
  /** Expected `iss` of session tokens. */
  readonly clerkIssuer: string;
  /** Expected `aud` of session tokens ("" = not checked). */
  readonly clerkAudience: string;
  /** Allowed `azp` origins of session tokens (empty = not checked). */
  readonly clerkAuthorizedParties: readonly string[];
  /** Name of the session cookie. */
  readonly clerkSessionCookieName: string;
  /** Clerk sign-in page URL. */
  readonly clerkSignInUrl: string;
}

/** `[discord]`: the Discord notifier. On when both ids and the bot token are set. */
export interface DiscordConfig {
  /** Discord REST API base URL. */
  readonly apiBaseUrl: string;
  /** Guild (server) id ("" = off). */
  readonly serverId: string;
  /** Channel id for notices ("" = off). */
  readonly channelId: string;
  /** Seconds a worker must be offline before "offline" is sent. */
  readonly offlineThresholdSeconds: number;
  /** Seconds a worker must be back before "online" is sent. */
  readonly onlineThresholdSeconds: number;
}

/** `[notify.ntfy]`: ntfy topics. */
export interface NtfyConfig {
  /** The channel is on (the pool's topic, and users' own topics). */
  readonly enabled: boolean;
  /** The pool's topic URL for pool notices ("" = users' topics only). */
  readonly topicUrl: string;
  /** Least milliseconds between two messages. */
  readonly minIntervalMs: number;
}

/** `[notify.telegram]`: the Telegram bot. Needs `telegram_bot_token` in the secrets. */
export interface TelegramConfig {
  /** The channel and the bot are on. */
  readonly enabled: boolean;
  /** Bot API base URL. */
  readonly apiBaseUrl: string;
  /** Chat for pool notices ("" = linked users' chats only). */
  readonly chatId: string;
  /** Seconds between two `getUpdates` polls of the bot. */
  readonly pollIntervalSeconds: number;
  /** Least milliseconds between two messages. */
  readonly minIntervalMs: number;
}

/** `[notify.webhook]`: signed JSON webhooks. A pool URL needs `webhook_secret` in the secrets. */
export interface WebhookConfig {
  /** The channel is on (the pool's URL, and users' own URLs). */
  readonly enabled: boolean;
  /** The pool's URL for pool notices ("" = users' URLs only). */
  readonly url: string;
  /** Tries of one call (the first included) on 5xx and network errors. */
  readonly maxAttempts: number;
  /** First back-off in milliseconds, doubled each retry. */
  readonly backoffMs: number;
  /** Least milliseconds between two calls. */
  readonly minIntervalMs: number;
}

/** `[notify]`: notifications on every channel (Discord's own keys are in `[discord]`). */
export interface NotifyConfig {
  /** Most notices waiting per channel; more are dropped and counted. */
  readonly queueSize: number;
  /** Seconds one send may take. */
  readonly sendTimeoutSeconds: number;
  /** Seconds a saved worker must be offline before an "offline" notice. */
  readonly offlineThresholdSeconds: number;
  /** Seconds a saved worker must be back before a "back online" notice. */
  readonly onlineThresholdSeconds: number;
  /** Seconds the node must give no work before a "node down" notice. */
  readonly nodeDownSeconds: number;
  /** Tell users about new best shares of their saved workers. */
  readonly bestShareNotices: boolean;
  /** Let users' own ntfy and webhook URLs point at private or loopback addresses. */
  readonly allowPrivateUserUrls: boolean;
  /** `[notify.ntfy]` */
  readonly ntfy: NtfyConfig;
  /** `[notify.telegram]` */
  readonly telegram: TelegramConfig;
  /** `[notify.webhook]` */
  readonly webhook: WebhookConfig;
}

/**
 * Whether the pool publishes its public status snapshots to its store for status mirrors: "auto"
 * does when `store_url` is set (a store others can reach), "on" always, "off" never.
 */
export type MirrorPublish = "auto" | "on" | "off";

/** `[status]`: status snapshots, branding and the store. */
export interface StatusConfig {
  /** Refresh period of `/api/overview`, seconds. */
  readonly overviewRefreshSeconds: number;
  /** Refresh period of `/api/pool-page`, seconds. */
  readonly poolPageRefreshSeconds: number;
  /** Refresh period of `/api/node`, seconds. */
  readonly nodeRefreshSeconds: number;
  /** Refresh period of `/api/server`, seconds. */
  readonly serverRefreshSeconds: number;
  /** Refresh period of `/api/pool-hashrate`, seconds. */
  readonly poolHashrateRefreshSeconds: number;
  /** Refresh period of `/api/blocks`, seconds. */
  readonly blocksRefreshSeconds: number;
  /** Refresh period of `/api/widget`, seconds. */
  readonly widgetRefreshSeconds: number;
  /** URL that returns the BTC price ("" = no price shown). */
  readonly priceUrl: string;
  /** Fiat currency code for the price (lowercase ISO 4217). */
  readonly fiatCurrency: string;
  /** Name shown in the UI and notices. */
  readonly brandName: string;
  /** Public domain used in links (e.g. Discord notices); "" = none. */
  readonly brandDomain: string;
  /** Disconnects the node's slowest peers when true. */
  readonly peerCleanupEnabled: boolean;
  /** Peers pinging slower than this many ms are disconnected. */
  readonly peerCleanupMaxPingMs: number;
  /** Peer cleanup never goes below this many peers. */
  readonly peerCleanupMinPeers: number;
  /** Deno KV store location ("" = a local file under the data dir). */
  readonly storeUrl: string;
  /** Publish the public snapshots to the store for status mirrors. */
  readonly mirrorPublish: MirrorPublish;
}

/** `[admin]`: the operator's admin panel. Off unless `enabled`; needs `admin_password_hash`. */
export interface AdminConfig {
  /** Serve the admin panel. */
  readonly enabled: boolean;
  /** Its own listener, "host:port" ("" = under `/admin` on the status server). */
  readonly listen: string;
  /** How long a login lasts, in minutes. */
  readonly sessionMinutes: number;
  /** Login attempts allowed per minute from one address. */
  readonly loginAttemptsPerMinute: number;
}

/** The sections of `config.toml`, typed. */
export interface ConfigSections {
  /** `[server]` */
  readonly server: ServerConfig;
  /** `[stratum]` */
  readonly stratum: StratumConfig;
  /** `[node]` */
  readonly node: NodeConfig;
  /** `[mining]` */
  readonly mining: MiningConfig;
  /** `[difficulty]` */
  readonly difficulty: DifficultyConfig;
  /** `[bans]` */
  readonly bans: BansConfig;
  /** `[auth]` */
  readonly auth: AuthConfig;
  /** `[discord]` */
  readonly discord: DiscordConfig;
  /** `[notify]` */
  readonly notify: NotifyConfig;
  /** `[status]` */
  readonly status: StatusConfig;
  /** `[admin]` */
  readonly admin: AdminConfig;
}

/** `secrets.toml`: credentials kept apart from the shareable config. "" = not set. */
export interface Secrets {
  /** RPC user name (with `rpcPassword`, instead of the cookie file). */
  readonly rpcUser: string;
  /** RPC password. */
  readonly rpcPassword: string;
  /** Clerk secret key (Backend API). */
  readonly clerkSecretKey: string;
  /** Clerk publishable key (front end). */
  readonly clerkPublishableKey: string;
  /** Discord bot token. */
  readonly discordBotToken: string;
  /** Bearer token of the pool's ntfy topic. */
  readonly ntfyToken: string;
  /** Telegram bot token. */
  readonly telegramBotToken: string;
  /** Shared secret the pool's webhook bodies are signed with. */
  readonly webhookSecret: string;
  /** PBKDF2 hash of the admin password (`deno task admin-password` writes it). */
  readonly adminPasswordHash: string;
}

/** Where the configuration came from. */
export interface ConfigFiles {
  /** Absolute path of the config file that was read. */
  readonly config: string;
  /** Absolute path of the secrets file, or undefined when there was none. */
  readonly secrets: string | undefined;
}

/** The whole validated, deeply frozen configuration. */
export interface Config extends ConfigSections {
  /** Credentials from `secrets.toml`. */
  readonly secrets: Secrets;
  /** The files it was read from. */
  readonly files: ConfigFiles;
}

/** Names of the `config.toml` sections. */
export type SectionName = keyof ConfigSections;

/** A field definition for every key of one section. */
export type SectionSchema<S> = { readonly [K in keyof S]-?: Field<S[K]> };

/** Field definitions for every key of every section. */
export type ConfigSchema = { readonly [S in SectionName]: SectionSchema<ConfigSections[S]> };

/** Networks accepted by `node.network` / `--network`. */
export const NETWORK_NAMES: readonly NetworkName[] = Object.freeze([
  "mainnet",
  "testnet",
  "testnet4",
  "signet",
  "regtest",
]);

const SECONDS_PER_DAY = 86_400;
const optionalListen = hostPortCheck(true);
const httpUrl = urlCheck(["http:", "https:"], false);
const optionalHttpUrl = urlCheck(["http:", "https:"], true);

/** Every key of `config.toml`: default and check. */
export const CONFIG_SCHEMA: ConfigSchema = {
  server: {
    statusListen: stringField("127.0.0.1:8080", { check: optionalListen }),
    statusTlsListen: stringField("", { check: optionalListen }),
    statusTlsCert: stringField(""),
    statusTlsKey: stringField(""),
    statusPublicUrl: stringField("", { check: optionalHttpUrl }),
    trustedProxies: stringListField([], "an IP address or CIDR range", isIpOrCidr),
    httpHeaderTimeoutMs: integerField(10_000, 100, 600_000),
    httpBodyTimeoutMs: integerField(10_000, 100, 600_000),
    httpIdleTimeoutMs: integerField(30_000, 100, 3_600_000),
    httpMaxConnectionsPerIp: integerField(64, 0, 1_000_000),
    metricsListen: stringField("", { check: optionalListen }),
    dataDir: stringField("./data", { check: (v) => v === "" ? "a directory path" : undefined }),
    noJson: booleanField(false),
  },
  stratum: {
    listen: stringField("0.0.0.0:3333", { check: hostPortCheck(false) }),
    tlsListen: stringField("", { check: optionalListen }),
    tlsCert: stringField(""),
    tlsKey: stringField(""),
    maxLineBytes: integerField(16384, 1024, 1_048_576),
    idleTimeoutSeconds: integerField(180, 10, SECONDS_PER_DAY),
    extranonce2Size: integerField(4, 2, 8),
    password: stringField("", { maxBytes: 256 }),
    maxConnections: integerField(50_000, 1, 1_000_000),
    maxConnectionsPerIp: integerField(1_000, 0, 1_000_000),
    acceptRatePerSecond: numberField(500, { min: 0, minExclusive: true, max: 1_000_000 }),
    acceptBurst: integerField(1_000, 1, 1_000_000),
    messagesPerMinute: integerField(1_200, 0, 1_000_000),
    maxSharesInFlight: integerField(20_000, 1, 10_000_000),
    maxSharesInFlightPerConnection: integerField(64, 1, 100_000),
    versionRollingMask: hexMaskField(0x1fffe000),
    clientBlacklist: stringListField([], "a client name"),
  },
  node: {
    network: choiceField<NetworkName>("mainnet", NETWORK_NAMES),
    rpcUrl: stringField("", { check: optionalHttpUrl }),
    rpcCookiePath: stringField(""),
    zmqHashblock: stringField("tcp://127.0.0.1:28332", { check: zmqEndpointCheck }),
    zmqRawblock: stringField("", { check: zmqEndpointCheck }),
    rpcTimeoutSeconds: numberField(10, { min: 0, minExclusive: true, max: 3600 }),
    longpoll: booleanField(true),
    refreshIntervalSeconds: numberField(30, { min: 1, max: 3600 }),
    minRefreshIntervalMs: integerField(500, 0, 60_000),
    staleAfterSeconds: integerField(120, 10, SECONDS_PER_DAY),
    emptyFirst: booleanField(true),
    tipSources: tableListField<TipSourceConfig>(
      {
        name: stringField("", {
          maxBytes: 32,
          check: (v) =>
            /^[A-Za-z0-9_.-]+$/.test(v) ? undefined : "a name of letters, digits, _ . -",
        }),
        rpcUrl: stringField("", { check: optionalHttpUrl }),
        rpcCookiePath: stringField(""),
        rpcUser: stringField("", { maxBytes: 256 }),
        rpcPassword: stringField("", { maxBytes: 256 }),
        zmqHashblock: stringField("", { check: zmqEndpointCheck }),
        zmqRawblock: stringField("", { check: zmqEndpointCheck }),
        trusted: booleanField(false),
        pollMs: integerField(500, 50, 60_000),
      },
      (source) =>
        source.rpcUrl === "" && source.zmqHashblock === "" && source.zmqRawblock === ""
          ? "a tip source with rpc_url, zmq_hashblock or zmq_rawblock"
          : ["zmq", "longpoll", "rpc"].includes(source.name)
          ? `a tip source name other than "zmq", "longpoll" and "rpc" (the node's own sources)`
          : undefined,
    ),
  },
  mining: {
    payoutAddress: stringField("", { maxBytes: 128 }),
    poolFeePercent: numberField(0, { min: 0, max: 99.99 }),
    donationAddress: stringField("", { maxBytes: 128 }),
    donationPercent: numberField(0, { min: 0, max: 100 }),
    poolTag: stringField("/denopool/", {
      maxBytes: 40,
      check: (v) => /^[\x20-\x7e]*$/.test(v) ? undefined : "printable ASCII",
    }),
    hashWorkers: integerField(0, 0, 256),
    hashWorkersAtRest: integerField(1, 1, 256),
    hashBackend: choiceField<HashBackend>("auto", ["auto", "ts", "webcrypto"]),
  },
  difficulty: {
    start: numberField(1024, { min: 0, minExclusive: true, max: 1e15 }),
    min: numberField(1, { min: 0, minExclusive: true, max: 1e15 }),
    max: numberField(0, { min: 0, max: 1e15 }),
    targetSharesPerMinute: numberField(15, { min: 0, minExclusive: true, max: 600 }),
    vardiff: booleanField(true),
    retargetSeconds: integerField(30, 1, 3600),
  },
  bans: {
    invalidThreshold: integerField(40, 0, 1_000_000),
    invalidWindowSeconds: integerField(300, 1, SECONDS_PER_DAY),
    banSeconds: integerField(900, 1, 365 * SECONDS_PER_DAY),
    reconnectThreshold: integerField(60, 0, 1_000_000),
    reconnectWindowSeconds: integerField(60, 1, SECONDS_PER_DAY),
    reconnectBanSeconds: integerField(600, 1, 365 * SECONDS_PER_DAY),
    reconnectShortSeconds: integerField(10, 0, SECONDS_PER_DAY),
    exempt: stringListField(["127.0.0.0/8", "::1"], "an IP address or CIDR range", isIpOrCidr),
  },
  auth: {
    clerkJwksUrl: stringField("", { check: optionalHttpUrl }),
    clerkIssuer: stringField("", { check: optionalHttpUrl }),
    clerkAudience: stringField(""),
    clerkAuthorizedParties: stringListField(
      [],
      'an origin like "https://pool.example"',
      (v) => httpUrl(v) === undefined,
    ),
    clerkSessionCookieName: stringField("__session", {
      check: (v) => /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(v) ? undefined : "a cookie name",
    }),
    clerkSignInUrl: stringField("", { check: optionalHttpUrl }),
  },
  discord: {
    apiBaseUrl: stringField("https://discord.com/api/v10", { check: httpUrl }),
    serverId: stringField("", { check: snowflakeCheck }),
    channelId: stringField("", { check: snowflakeCheck }),
    offlineThresholdSeconds: integerField(300, 10, SECONDS_PER_DAY),
    onlineThresholdSeconds: integerField(300, 10, SECONDS_PER_DAY),
  },
  notify: {
    queueSize: integerField(100, 1, 10_000),
    sendTimeoutSeconds: integerField(10, 1, 300),
    offlineThresholdSeconds: integerField(300, 10, SECONDS_PER_DAY),
    onlineThresholdSeconds: integerField(300, 10, SECONDS_PER_DAY),
    nodeDownSeconds: integerField(120, 10, SECONDS_PER_DAY),
    bestShareNotices: booleanField(true),
    allowPrivateUserUrls: booleanField(false),
    ntfy: tableField<NtfyConfig>({
      enabled: booleanField(false),
      topicUrl: stringField("", { check: optionalHttpUrl }),
      minIntervalMs: integerField(1_000, 0, 3_600_000),
    }),
    telegram: tableField<TelegramConfig>({
      enabled: booleanField(false),
      apiBaseUrl: stringField("https://api.telegram.org", { check: httpUrl }),
      chatId: stringField("", { check: telegramChatCheck }),
      pollIntervalSeconds: integerField(5, 1, 3600),
      minIntervalMs: integerField(1_000, 0, 3_600_000),
    }),
    webhook: tableField<WebhookConfig>({
      enabled: booleanField(false),
      url: stringField("", { check: optionalHttpUrl }),
      maxAttempts: integerField(5, 1, 20),
      backoffMs: integerField(1_000, 10, 600_000),
      minIntervalMs: integerField(0, 0, 3_600_000),
    }),
  },
  status: {
    overviewRefreshSeconds: integerField(10, 1, 3600),
    poolPageRefreshSeconds: integerField(10, 1, 3600),
    nodeRefreshSeconds: integerField(10, 1, 3600),
    serverRefreshSeconds: integerField(10, 1, 3600),
    poolHashrateRefreshSeconds: integerField(5, 1, 3600),
    blocksRefreshSeconds: integerField(3, 1, 3600),
    widgetRefreshSeconds: integerField(10, 1, 3600),
    priceUrl: stringField("", { check: optionalHttpUrl }),
    fiatCurrency: stringField("usd", {
      check: (v) => /^[a-z]{3}$/.test(v) ? undefined : "a 3-letter lowercase currency code",
    }),
    brandName: stringField("denopool", { maxBytes: 64 }),
    brandDomain: stringField("", { maxBytes: 253 }),
    peerCleanupEnabled: booleanField(false),
    peerCleanupMaxPingMs: integerField(250, 1, 60_000),
    peerCleanupMinPeers: integerField(30, 0, 1000),
    storeUrl: stringField(""),
    mirrorPublish: choiceField<MirrorPublish>("auto", ["auto", "on", "off"]),
  },
  admin: {
    enabled: booleanField(false),
    listen: stringField("127.0.0.1:8081", { check: optionalListen }),
    sessionMinutes: integerField(60, 1, 7 * 24 * 60),
    loginAttemptsPerMinute: integerField(5, 1, 1000),
  },
};

/** Every key of `secrets.toml` (top level, no sections): default and check. */
export const SECRETS_SCHEMA: SectionSchema<Secrets> = {
  rpcUser: stringField("", { maxBytes: 1024 }),
  rpcPassword: stringField("", { maxBytes: 1024 }),
  clerkSecretKey: stringField("", { maxBytes: 1024 }),
  clerkPublishableKey: stringField("", { maxBytes: 1024 }),
  discordBotToken: stringField("", { maxBytes: 1024 }),
  ntfyToken: stringField("", { maxBytes: 1024 }),
  telegramBotToken: stringField("", { maxBytes: 1024 }),
  webhookSecret: stringField("", { maxBytes: 1024 }),
  adminPasswordHash: stringField("", { maxBytes: 1024 }),
};

/** The TOML spelling of a camelCase key: `maxLineBytes` → `max_line_bytes`. */
export function tomlKey(camel: string): string {
  return camel.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());
}

/** The camelCase spelling of a TOML key: `max_line_bytes` → `maxLineBytes`. */
export function camelKey(snake: string): string {
  return snake.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Names of the sections, in file order. */
export const SECTION_NAMES: readonly SectionName[] = Object.freeze(
  Object.keys(CONFIG_SCHEMA) as SectionName[],
);

/** Every section's defaults (before path resolution and the network's RPC port). */
export const CONFIG_DEFAULTS: ConfigSections = deepFreeze(
  Object.fromEntries(
    SECTION_NAMES.map((section) => [
      section,
      Object.fromEntries(
        Object.entries(CONFIG_SCHEMA[section]).map((
          [key, field],
        ) => [key, (field as Field<unknown>).default]),
      ),
    ]),
  ) as unknown as ConfigSections,
);

/** Freezes `value` and everything reachable from it; returns it. */
export function deepFreeze<T>(value: T, seen: WeakSet<object> = new WeakSet()): T {
  if (typeof value === "object" && value !== null && !seen.has(value)) {
    seen.add(value);
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child, seen);
  }
  return value;
}
