/**
 * Persistence wired to a running pool: restores bans and best shares at startup, records found
 * blocks, samples pool and saved-worker history every minute, and runs the Clerk routes and the
 * notifications when channels are configured: the hub of `lib/notify` with one persisted queue per
 * channel (Discord, ntfy, Telegram, webhook), the saved-worker and node watches feeding it, and
 * the Discord and Telegram bots.
 *
 * @module
 */

import type { Routes } from "../routes/routes.ts";
import type { Config } from "../lib/config/mod.ts";
import type { BanEntry, BanList, BanListener } from "../lib/pool/mod.ts";
import { CHURN_BAN_REASON } from "../lib/pool/mod.ts";
import type { FoundBlockRecord } from "../lib/pool/mod.ts";
import type { WorkerRegistry } from "../lib/pool/mod.ts";
import { hexToBytes, reverseBytes } from "../lib/bitcoin/mod.ts";
import { ClerkVerifier } from "../lib/auth/clerk.ts";
import { SessionReader } from "../lib/auth/session.ts";
import { DiscordChannel, DiscordLinkBot, DiscordRest } from "../lib/discord/mod.ts";
import {
  checkTargetUrl,
  type NodeHealth,
  NodeWatch,
  NotifyHub,
  NtfyChannel,
  type QueueTuning,
  TelegramApi,
  TelegramBot,
  TelegramChannel,
  WebhookChannel,
  WorkerWatch,
} from "../lib/notify/mod.ts";
import { Periodic, type Timers } from "../lib/periodic.ts";
import { createAuthRoutes } from "../routes/auth.ts";
import { type DomainStores, type PoolStore, WorkerNameHashes } from "../lib/store/mod.ts";

/** Tuning of {@linkcode startPersistence} (defaults in brackets); tests shorten them. */
export interface PersistenceOptions {
  /** History sampling period, ms [60 000]. */
  readonly sampleIntervalMs?: number;
  /** Notifier pass period, ms [30 000]. */
  readonly notifyIntervalMs?: number;
  /** Offline threshold, ms [`discord.offline_threshold_seconds`]. */
  readonly offlineAfterMs?: number;
  /** Back-online threshold, ms [`discord.online_threshold_seconds`]. */
  readonly onlineAfterMs?: number;
  /** Link-bot polling period, ms [5 000]. */
  readonly pollIntervalMs?: number;
  /** Least time between two Discord messages, ms [2 000]. */
  readonly discordMinIntervalMs?: number;
  /** Least time between two messages of the other channels, ms [their `min_interval_ms`]. */
  readonly channelMinIntervalMs?: number;
  /** First retry back-off of every channel, ms [webhook: `backoff_ms`; others 1 000]. */
  readonly channelBackoffMs?: number;
  /** Telegram bot polling period, ms [`notify.telegram.poll_interval_seconds`]. */
  readonly telegramPollIntervalMs?: number;
  /** Node watch period, ms [15 000]. */
  readonly nodeIntervalMs?: number;
  /** Node-down threshold, ms [`notify.node_down_seconds`]. */
  readonly nodeDownAfterMs?: number;
  /** Operator log. */
  readonly log?: (message: string) => void;
  /** Timers of the history sampler (default: the global ones); tests pass a manual clock. */
  readonly timers?: Timers;
}

/** What {@linkcode startPersistence} needs from the pool. */
export interface PersistenceParts {
  /** The configuration. */
  readonly config: Config;
  /** The open store (closed by `stop`). */
  readonly store: PoolStore;
  /** Live workers (and the pool's best shares). */
  readonly registry: WorkerRegistry;
  /** The node's health for the node watch (the template feed's readiness); absent → no watch. */
  readonly node?: () => NodeHealth;
}

/** The running persistence side. */
export interface Persistence {
  /** The store. */
  readonly store: PoolStore;
  /** Session refresh and saved-worker routes for the status app's `auth` mount. */
  readonly authRoutes: Routes;
  /** The notification hub (one queue per channel), when any channel is configured. */
  readonly notify?: NotifyHub;
  /** The saved-worker watch feeding the hub, when any channel is configured. */
  readonly watch?: WorkerWatch;
  /** The Discord link bot, when Discord is configured. */
  readonly bot?: DiscordLinkBot;
  /** The Telegram bot, when Telegram is configured. */
  readonly telegramBot?: TelegramBot;
  /** Stores a found block record (journal writes and settled blocks). */
  journalBlock(record: FoundBlockRecord): void;
  /** Stores a settled block and sends its notice. */
  blockSettled(record: FoundBlockRecord): void;
  /** One history pass now, beside the timed ones (the sampler runs one every minute). */
  sample(): Promise<void>;
  /** Writes that are still in flight, settled. */
  flush(): Promise<void>;
  /**
   * Stops the sampler, the watches, the bots and the channel queues (each waits for its pass in
   * flight; notices not yet delivered stay in the store), takes a last sample, flushes writes and
   * closes the store.
   */
  stop(): Promise<void>;
}

/**
 * True for a reconnect-churn ban: short-lived protection of one process, never written to the
 * store nor restored from it. Bans stored before sources were recorded are known by key and reason.
 */
export function isChurnBan(entry: BanEntry): boolean {
  return entry.source === "churn" ||
    (entry.source === undefined && entry.key.startsWith("ip:") &&
      entry.reason === CHURN_BAN_REASON);
}

/**
 * A ban listener that writes every ban change to the store (errors go to `log`), except
 * reconnect-churn bans, which live in memory only.
 */
export function persistBans(
  store: Pick<DomainStores, "bans">,
  track: (p: Promise<unknown>) => void,
): BanListener {
  return {
    onBan: (entry) => {
      if (!isChurnBan(entry)) track(store.bans.put(entry));
    },
    onUnban: (key) => track(store.bans.delete(key)),
  };
}

/** Where {@linkcode restoreBans} puts IP bans, and its clock. */
export interface RestoreBansOptions {
  /** The list for `ip:` keys (the admission's); without it they go to `bans` like the rest. */
  readonly ipBans?: BanList;
  /** Clock, ms since the epoch (bans ended by now are dropped). */
  readonly now?: number;
}

/**
 * Puts the stored bans still in force back: `ip:` keys into `ipBans`, the rest (workers, payout
 * addresses) into `bans`. Ended bans are dropped. A reconnect-churn ban an older version stored is
 * not restored but deleted: it protected the process that set it, and a farm reconnecting after a
 * restart must not meet it. Returns how many came back.
 */
export async function restoreBans(
  store: Pick<DomainStores, "bans">,
  bans: BanList,
  options: RestoreBansOptions = {},
): Promise<number> {
  const now = options.now ?? Date.now();
  let restored = 0;
  for (const b of await store.bans.list()) {
    if (b.until <= now) continue;
    if (isChurnBan(b)) {
      await store.bans.delete(b.key);
      continue;
    }
    const list = options.ipBans !== undefined && b.key.startsWith("ip:") ? options.ipBans : bans;
    list.ban(b.key, b.reason, b.until - now, now, b.source);
    restored++;
  }
  return restored;
}

/** True when Discord is fully configured (bot token, server and channel ids). */
export function discordConfigured(config: Config): boolean {
  return config.discord.serverId !== "" && config.discord.channelId !== "" &&
    config.secrets.discordBotToken !== "";
}

/** The saved-worker thresholds, s: `[notify]`'s, or `[discord]`'s where `[notify]` keeps 300. */
export function workerThresholds(config: Config): { offline: number; online: number } {
  const pick = (own: number, old: number) => own !== 300 ? own : old;
  return {
    offline: pick(config.notify.offlineThresholdSeconds, config.discord.offlineThresholdSeconds),
    online: pick(config.notify.onlineThresholdSeconds, config.discord.onlineThresholdSeconds),
  };
}

/**
 * The channels a signed-in user can choose on the saved-workers page: ntfy and webhook (their
 * own URLs), Telegram and Discord (linked with a code), as configured.
 */
export function userChannels(config: Config): string[] {
  const n = config.notify;
  const out: string[] = [];
  if (n?.ntfy.enabled) out.push("ntfy");
  if (n?.webhook.enabled) out.push("webhook");
  if (n?.telegram.enabled && config.secrets.telegramBotToken) out.push("telegram");
  if (discordConfigured(config)) out.push("discord");
  return out;
}

/** Builds the hub with every configured channel, and the Telegram bot when Telegram is on. */
function notifyFrom(
  config: Config,
  store: PoolStore,
  options: PersistenceOptions,
  parts: {
    statusUrl?: string;
    log: (m: string) => void;
    onlineHashes: () => ReadonlySet<string>;
    status: () => string;
  },
): { hub: NotifyHub; telegramBot?: TelegramBot; discordBot?: DiscordLinkBot } | undefined {
  const n = config.notify;
  const { log, statusUrl } = parts;
  const hub = new NotifyHub({
    store,
    notices: { statusUrl, brand: config.status.brandName },
    onError: (e) => log(`notify: ${e instanceof Error ? e.message : e}`),
  });
  const tuning = (minIntervalMs: number, more: QueueTuning = {}): QueueTuning => ({
    maxQueued: n.queueSize,
    timeoutMs: n.sendTimeoutSeconds * 1000,
    minIntervalMs: options.channelMinIntervalMs ?? minIntervalMs,
    ...(options.channelBackoffMs !== undefined ? { backoffMs: options.channelBackoffMs } : {}),
    ...more,
  });
  let discordBot: DiscordLinkBot | undefined;
  if (discordConfigured(config)) {
    const rest = new DiscordRest({
      baseUrl: config.discord.apiBaseUrl,
      token: config.secrets.discordBotToken,
    });
    const channelId = config.discord.channelId;
    hub.add(new DiscordChannel({ rest, channelId, store, statusUrl }), {
      ...tuning(2_000),
      minIntervalMs: options.discordMinIntervalMs ?? 2_000,
      maxAttempts: 2,
      // The REST client waits out Discord's rate limits itself.
      timeoutMs: Math.max(n.sendTimeoutSeconds * 1000, 5 * 60_000),
    });
    discordBot = new DiscordLinkBot({
      rest,
      store,
      channelId,
      onError: (e) => log(`discord: ${e instanceof Error ? e.message : e}`),
    });
  }
  if (n.ntfy.enabled) {
    hub.add(
      new NtfyChannel({
        topicUrl: n.ntfy.topicUrl || undefined,
        token: config.secrets.ntfyToken || undefined,
        store,
      }),
      tuning(n.ntfy.minIntervalMs),
    );
  }
  let telegramBot: TelegramBot | undefined;
  if (n.telegram.enabled && config.secrets.telegramBotToken) {
    const api = new TelegramApi({
      baseUrl: n.telegram.apiBaseUrl,
      token: config.secrets.telegramBotToken,
    });
    hub.add(
      new TelegramChannel({ api, chatId: n.telegram.chatId || undefined, store }),
      tuning(n.telegram.minIntervalMs),
    );
    telegramBot = new TelegramBot({
      api,
      store,
      status: parts.status,
      onlineHashes: parts.onlineHashes,
      onError: (e) => log(`telegram: ${e instanceof Error ? e.message : e}`),
    });
  }
  if (n.webhook.enabled) {
    hub.add(
      new WebhookChannel({
        url: n.webhook.url || undefined,
        secret: config.secrets.webhookSecret || undefined,
        store,
      }),
      tuning(n.webhook.minIntervalMs, {
        maxAttempts: n.webhook.maxAttempts,
        backoffMs: options.channelBackoffMs ?? n.webhook.backoffMs,
      }),
    );
  }
  return hub.channels.length > 0 ? { hub, telegramBot, discordBot } : undefined;
}

/** Starts history sampling, the auth routes and (when configured) the notifications. */
export async function startPersistence(
  parts: PersistenceParts,
  options: PersistenceOptions = {},
): Promise<Persistence> {
  const { config, store, registry } = parts;
  const log = options.log ?? (() => {});
  const pending = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    const tracked = p.catch((e) => log(`store: ${e instanceof Error ? e.message : e}`))
      .finally(() => pending.delete(tracked));
    pending.add(tracked);
  };
  const hashes = new WorkerNameHashes();

  // The pool-wide best shares come back into the live table.
  for (const s of await store.bestShares.list()) {
    registry.bestShares.offer(s.worker, s.difficulty, reverseBytes(hexToBytes(s.hash)), s.at);
  }

  const onlineHashes = () => {
    const set = new Set<string>();
    for (const w of registry.list(Date.now())) set.add(hashes.get(w.name));
    return set;
  };
  const bestByHash = () => {
    const best = new Map<string, number>();
    for (const w of registry.list(Date.now())) {
      const h = hashes.get(w.name);
      best.set(h, Math.max(best.get(h) ?? 0, w.bestDifficulty));
    }
    return best;
  };

  let sessions: SessionReader | undefined;
  if (config.auth.clerkJwksUrl !== "") {
    const verifier = new ClerkVerifier({
      jwksUrl: config.auth.clerkJwksUrl,
      issuer: config.auth.clerkIssuer,
      audience: config.auth.clerkAudience,
      authorizedParties: config.auth.clerkAuthorizedParties,
    });
    // Fetched now so a broken URL shows in the log at once; later fetches follow key rotation.
    await verifier.refresh().catch((e) =>
      log(`clerk: JWKS: ${e instanceof Error ? e.message : e}`)
    );
    sessions = new SessionReader({
      verifier,
      cookieName: config.auth.clerkSessionCookieName,
      onSeen: (userId) => track(store.users.touch(userId)),
    });
  }

  const discordOn = discordConfigured(config);
  const publicUrl = config.server.statusPublicUrl.replace(/\/+$/, "");
  const statusUrl = publicUrl
    ? `${publicUrl}/saved-workers`
    : config.status.brandDomain
    ? `https://${config.status.brandDomain}/saved-workers`
    : undefined;
  const nodeHealth = parts.node;
  const statusText = () => {
    const now = Date.now();
    const node = nodeHealth?.();
    return `${config.status.brandName}: ${registry.list(now).length} workers online, ` +
      `${formatHashrate(registry.totalHashrate(now))}` +
      (node ? `\nnode: ${node.up ? "giving work" : `down (${node.reason ?? "unknown"})`}` : "") +
      (statusUrl ? `\n${statusUrl}` : "");
  };
  const notify = config.notify
    ? notifyFrom(config, store, options, { statusUrl, log, onlineHashes, status: statusText })
    : undefined;
  const hub = notify?.hub;
  let watch: WorkerWatch | undefined;
  let nodeWatch: NodeWatch | undefined;
  if (hub) {
    const restored = await hub.restore();
    if (restored > 0) log(`notify: ${restored} queued notice(s) from before the restart`);
    const thresholds = workerThresholds(config);
    watch = new WorkerWatch({
      store,
      users: () => hub.users(),
      onlineHashes,
      bestShares: config.notify.bestShareNotices ? () => bestByHash() : undefined,
      publish: (e) => hub.publish(e),
      offlineAfterMs: options.offlineAfterMs ?? thresholds.offline * 1000,
      onlineAfterMs: options.onlineAfterMs ?? thresholds.online * 1000,
      onError: (e) => log(`notify: ${e instanceof Error ? e.message : e}`),
    });
    watch.start(options.notifyIntervalMs ?? 30_000);
    if (nodeHealth) {
      nodeWatch = new NodeWatch({
        health: nodeHealth,
        publish: (e) => hub.publish(e),
        downAfterMs: options.nodeDownAfterMs ?? config.notify.nodeDownSeconds * 1000,
      });
      nodeWatch.start(options.nodeIntervalMs ?? 15_000);
    }
    notify?.discordBot?.start(options.pollIntervalMs ?? 5_000);
    notify?.telegramBot?.start(
      options.telegramPollIntervalMs ?? config.notify.telegram.pollIntervalSeconds * 1000,
    );
  }
  const channels = config.notify ? userChannels(config) : [];

  const authRoutes = createAuthRoutes({
    sessions,
    publicUrl: publicUrl || undefined,
    savedWorkers: {
      store,
      liveWorkers: (now) => registry.list(now),
      discordEnabled: discordOn,
      notify: channels.some((c) => c !== "discord")
        ? {
          ntfy: channels.includes("ntfy"),
          webhook: channels.includes("webhook"),
          telegram: channels.includes("telegram"),
          checkUrl: (url) =>
            checkTargetUrl(url, { allowPrivate: config.notify.allowPrivateUserUrls }),
        }
        : undefined,
    },
  });

  let lastBest = "";
  const sample = async () => {
    const now = Date.now();
    const minute = Math.floor(now / 60_000);
    const live = registry.list(now);
    await store.history.putPool({
      minute,
      hashrate: registry.totalHashrate(now),
      workers: live.length,
    });
    const byHash = new Map<string, { hashrate: number; best: number }>();
    for (const w of live) {
      const h = hashes.get(w.name);
      const agg = byHash.get(h) ?? { hashrate: 0, best: 0 };
      agg.hashrate += w.hashrate;
      agg.best = Math.max(agg.best, w.bestDifficulty);
      byHash.set(h, agg);
    }
    for (const [h, agg] of byHash) {
      if ((await store.savedWorkers.usersWhoSaved(h)).length === 0) continue;
      await store.history.putWorker(
        h,
        { minute, hashrate: agg.hashrate, bestDifficulty: agg.best },
        new Date(now),
      );
    }
    const best = registry.bestShares.list();
    const key = JSON.stringify(best);
    if (key !== lastBest) {
      await store.bestShares.put(best);
      lastBest = key;
    }
  };
  const tracked = () => {
    const run = sample();
    track(run);
    return run;
  };
  // One sample at a time, the next a period after the last one ended (a slow store delays it
  // rather than piling samples up). Periodic runs a pass at once; that one is skipped, so the
  // first sample comes a period after start, once the miners are back (not a zero at boot).
  let waited = false;
  const sampler = new Periodic<void>({
    run: () => waited ? tracked() : void (waited = true),
    intervalMs: options.sampleIntervalMs ?? 60_000,
    timers: options.timers,
    onError: () => {}, // `track` logs it
  });
  void sampler.start();

  let stopped: Promise<void> | undefined;
  return {
    store,
    authRoutes,
    notify: hub,
    watch,
    bot: notify?.discordBot,
    telegramBot: notify?.telegramBot,
    journalBlock: (record) => track(store.blocks.put(record)),
    blockSettled(record) {
      track(store.blocks.put(record));
      if (hub && record.status === "accepted") hub.blockFound(record);
    },
    sample: () => tracked(),
    async flush() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    stop() {
      stopped ??= (async () => {
        await sampler.stop();
        await watch?.stop();
        await nodeWatch?.stop();
        await notify?.discordBot?.stop();
        await notify?.telegramBot?.stop();
        await hub?.stop();
        track(sample());
        while (pending.size > 0) await Promise.all([...pending]);
        // Writes not tracked here (bans from the Stratum side) are queued in the store itself.
        await store.flush();
        store.close();
      })();
      return stopped;
    },
  };
}

/** A hashrate in H/s as short text: 1.23 TH/s. */
function formatHashrate(hps: number): string {
  const units = ["H/s", "kH/s", "MH/s", "GH/s", "TH/s", "PH/s", "EH/s"];
  let i = 0;
  while (hps >= 1000 && i < units.length - 1) {
    hps /= 1000;
    i++;
  }
  return `${hps.toFixed(i === 0 ? 0 : 2)} ${units[i]}`;
}
