/**
 * Loads `config.toml` and `secrets.toml` once at start-up into a validated, deeply frozen
 * {@linkcode Config}. Every problem is a {@linkcode ConfigError} naming the file and the key.
 *
 * Relative paths in a file are taken relative to that file's directory (so the pool behaves the
 * same whatever directory it is started from); relative paths from the command line are taken
 * relative to the working directory.
 *
 * @module
 */

import { parsePasswordHash, PasswordHashError } from "../admin/mod.ts";
import { parse, TomlError } from "smol-toml";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { AddressError, addressToScript } from "../bitcoin/mod.ts";
import { NETWORKS } from "../bitcoin/mod.ts";
import { ENV_PREFIX, ENVIRONMENT, readEnv } from "./env.ts";
import { ConfigError, expectedError } from "./errors.ts";
import { describeValue, type Field, parseHostPort } from "./fields.ts";
import {
  type Config,
  CONFIG_SCHEMA,
  type ConfigSections,
  deepFreeze,
  type Secrets,
  SECRETS_SCHEMA,
  type SectionName,
  tomlKey,
} from "./schema.ts";
import {
  elementAt,
  type TomlTable,
  validateConfigDocument,
  validateSecretsDocument,
} from "./validate.ts";

/** Values that replace file values, e.g. from command-line flags. Checked like file values. */
export type ConfigOverrides = {
  readonly [S in SectionName]?: { readonly [K in keyof ConfigSections[S]]?: ConfigSections[S][K] };
};

/** What {@linkcode loadConfig} reads. */
export interface LoadConfigOptions {
  /** Path of `config.toml`. */
  readonly configPath: string;
  /**
   * Path of `secrets.toml`. When given, the file must exist; when undefined, `secrets.toml`
   * beside the config file is read if it exists.
   */
  readonly secretsPath?: string;
  /**
   * Environment variables, e.g. `Deno.env.toObject()`: the `DENOPOOL_*` ones set keys of both
   * files (see `env.ts`), winning over the files and losing to `overrides`. None when left out.
   */
  readonly env?: Readonly<Record<string, string>>;
  /** Values that win over the file (relative paths resolve against the working directory). */
  readonly overrides?: ConfigOverrides;
  /** Where warnings go (default: `console.error`), e.g. a secrets file others can read. */
  readonly warn?: (message: string) => void;
}

/** The label used as `ConfigError.file` for problems in overrides. */
export const COMMAND_LINE = "command line";

/** Default file name of the secrets file, looked for beside the config file. */
export const SECRETS_FILE_NAME = "secrets.toml";

/** Reads, checks and freezes the configuration. Throws `ConfigError` on any problem. */
export async function loadConfig(options: LoadConfigOptions): Promise<Config> {
  const warn = options.warn ?? ((message: string) => console.error(message));
  const configFile = options.configPath;
  const configAbsolute = resolve(configFile);
  const configDir = dirname(configAbsolute);

  const fromEnv = readEnv(options.env ?? {});
  const configText = await readFile(configFile, false);
  const sections = validateConfigDocument(configFile, parseToml(configFile, configText!));
  const resolved = resolveFilePaths(sections, configDir);
  const withEnv = applyValues(resolved, fromEnv.config, Deno.cwd());
  const merged = applyOverrides(withEnv, options.overrides ?? {});

  const secretsFile = options.secretsPath ?? join(dirname(configFile), SECRETS_FILE_NAME);
  const secretsText = await readFile(secretsFile, options.secretsPath === undefined);
  let secrets: Secrets = defaultsOf(SECRETS_SCHEMA);
  if (secretsText !== undefined) {
    secrets = validateSecretsDocument(secretsFile, parseToml(secretsFile, secretsText));
    await warnIfExposed(secretsFile, warn);
  }
  secrets = { ...secrets, ...fromEnv.secrets };

  const config: Config = {
    ...merged,
    node: {
      ...merged.node,
      rpcUrl: merged.node.rpcUrl || `http://127.0.0.1:${NETWORKS[merged.node.network].rpcPort}`,
    },
    secrets,
    files: {
      config: configAbsolute,
      secrets: secretsText === undefined ? undefined : resolve(secretsFile),
    },
  };
  await checkRules(config, configFile, secretsFile, Object.keys(fromEnv.secrets).length > 0);
  return deepFreeze(config);
}

/** The file's text; undefined when it does not exist and `optional`. */
async function readFile(file: string, optional: boolean): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(file);
  } catch (error) {
    if (optional && error instanceof Deno.errors.NotFound) return undefined;
    const reason = error instanceof Deno.errors.NotFound
      ? "file not found"
      : error instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : error instanceof Deno.errors.IsADirectory
      ? "is a directory, not a file"
      : String(error instanceof Error ? error.message : error);
    throw new ConfigError({ file, key: "", reason: `cannot read: ${reason}` }, { cause: error });
  }
}

function parseToml(file: string, text: string): TomlTable {
  try {
    return parse(text) as TomlTable;
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    const what = error.message.split("\n")[0].replace(/^Invalid TOML document:\s*/, "");
    throw new ConfigError(
      { file, key: "", reason: `malformed TOML: ${what}`, line: error.line, column: error.column },
      { cause: error },
    );
  }
}

function defaultsOf<S>(fields: { readonly [K in keyof S]-?: Field<S[K]> }): S {
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(fields) as [string, Field<unknown>][]) {
    out[key] = field.default;
  }
  return out as S;
}

/** Keys holding file paths (resolved to absolute paths when not ""). */
const PATH_KEYS: readonly (readonly [SectionName, string])[] = [
  ["server", "dataDir"],
  ["server", "statusTlsCert"],
  ["server", "statusTlsKey"],
  ["stratum", "tlsCert"],
  ["stratum", "tlsKey"],
  ["node", "rpcCookiePath"],
  ["status", "storeUrl"],
];

function resolvePath(value: string, base: string): string {
  if (value === "" || isAbsolute(value)) return value;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return value; // a URL (remote store), not a path
  return resolve(base, value);
}

function resolveFilePaths(sections: ConfigSections, base: string): ConfigSections {
  const out = { ...sections } as unknown as Record<SectionName, Record<string, unknown>>;
  for (const [section, key] of PATH_KEYS) {
    out[section] = { ...out[section], [key]: resolvePath(out[section][key] as string, base) };
  }
  return out as unknown as ConfigSections;
}

/** Checked values (from the environment) over `sections`; relative paths against `base`. */
function applyValues(
  sections: ConfigSections,
  values: { readonly [S in SectionName]?: object },
  base: string,
): ConfigSections {
  const out = { ...sections } as unknown as Record<SectionName, Record<string, unknown>>;
  for (const [section, keys] of Object.entries(values) as [SectionName, object][]) {
    for (const [key, value] of Object.entries(keys)) {
      const isPath = PATH_KEYS.some(([s, k]) => s === section && k === key);
      out[section] = { ...out[section], [key]: isPath ? resolvePath(value, base) : value };
    }
  }
  return out as unknown as ConfigSections;
}

function applyOverrides(sections: ConfigSections, overrides: ConfigOverrides): ConfigSections {
  const out = { ...sections } as unknown as Record<SectionName, Record<string, unknown>>;
  for (const [section, values] of Object.entries(overrides) as [SectionName, object][]) {
    if (!Object.hasOwn(CONFIG_SCHEMA, section)) {
      throw new ConfigError({ file: COMMAND_LINE, key: section, reason: "unknown section" });
    }
    const fields = CONFIG_SCHEMA[section] as Record<string, Field<unknown>>;
    for (const [key, raw] of Object.entries(values)) {
      if (raw === undefined) continue;
      const dotted = `${section}.${tomlKey(key)}`;
      if (!Object.hasOwn(fields, key)) {
        throw new ConfigError({ file: COMMAND_LINE, key: dotted, reason: "unknown key" });
      }
      const result = fields[key].parse(raw);
      if (!result.ok) {
        const found = describeValue(result.at === undefined ? raw : elementAt(raw, result.at));
        throw expectedError(COMMAND_LINE, dotted + (result.at ?? ""), result.expected, found);
      }
      const isPath = PATH_KEYS.some(([s, k]) => s === section && k === key);
      const value = isPath ? resolvePath(result.value as string, Deno.cwd()) : result.value;
      out[section] = { ...out[section], [key]: value };
    }
  }
  return out as unknown as ConfigSections;
}

async function warnIfExposed(file: string, warn: (message: string) => void): Promise<void> {
  if (Deno.build.os === "windows") return;
  const info = await Deno.stat(file);
  if (info.mode === null || (info.mode & 0o077) === 0) return;
  const mode = (info.mode & 0o777).toString(8).padStart(4, "0");
  warn(
    `warning: ${file}: secrets are readable by group or others (mode ${mode}); ` +
      `run: chmod 600 ${file}`,
  );
}

/** Rules that involve more than one key, or the file system. */
async function checkRules(
  config: Config,
  file: string,
  secretsFile: string,
  secretsFromEnv: boolean,
): Promise<void> {
  const network = NETWORKS[config.node.network];

  // Addresses are checked for the configured network; a mainnet address on regtest is refused.
  const { mining } = config;
  if (mining.poolFeePercent > 0 && mining.payoutAddress === "") {
    throw expectedError(
      file,
      "mining.payout_address",
      `a ${network.name} address (required when mining.pool_fee_percent > 0)`,
      "nothing",
    );
  }
  if (mining.donationPercent > 0 && mining.donationAddress === "") {
    throw expectedError(
      file,
      "mining.donation_address",
      `a ${network.name} address (required when mining.donation_percent > 0)`,
      "nothing",
    );
  }
  for (const key of ["payoutAddress", "donationAddress"] as const) {
    const address = mining[key];
    if (address === "") continue;
    try {
      addressToScript(address, network);
    } catch (error) {
      if (!(error instanceof AddressError)) throw error;
      throw expectedError(
        file,
        `mining.${tomlKey(key)}`,
        `a valid ${network.name} address`,
        `${describeValue(address)} (${error.message})`,
      );
    }
  }

  if (config.admin.enabled) {
    if (config.secrets.adminPasswordHash === "") {
      throw expectedError(
        secretsFile,
        "admin_password_hash",
        "a password hash (required when admin.enabled; run: deno task admin-password)",
        "nothing",
      );
    }
    try {
      parsePasswordHash(config.secrets.adminPasswordHash);
    } catch (error) {
      if (!(error instanceof PasswordHashError)) throw error;
      throw expectedError(
        secretsFile,
        "admin_password_hash",
        "a hash written by deno task admin-password",
        `a malformed hash (${error.message})`,
      );
    }
  }

  const { difficulty } = config;
  if (difficulty.start < difficulty.min) {
    throw expectedError(
      file,
      "difficulty.start",
      `at least difficulty.min (${difficulty.min})`,
      String(difficulty.start),
    );
  }
  if (difficulty.max !== 0 && difficulty.max < difficulty.start) {
    throw expectedError(
      file,
      "difficulty.max",
      `0 (no limit) or at least difficulty.start (${difficulty.start})`,
      String(difficulty.max),
    );
  }

  checkListenClashes(config, file);

  // TLS: "" for both cert and key means a self-signed pair kept in the data dir.
  await checkCertPair(
    file,
    "stratum.tls_cert",
    config.stratum.tlsCert,
    "stratum.tls_key",
    config.stratum.tlsKey,
  );
  await checkCertPair(
    file,
    "server.status_tls_cert",
    config.server.statusTlsCert,
    "server.status_tls_key",
    config.server.statusTlsKey,
  );

  const { auth, discord, secrets } = config;
  if ((auth.clerkJwksUrl === "") !== (auth.clerkIssuer === "")) {
    const missing = auth.clerkJwksUrl === "" ? "auth.clerk_jwks_url" : "auth.clerk_issuer";
    const other = auth.clerkJwksUrl === "" ? "auth.clerk_issuer" : "auth.clerk_jwks_url";
    throw expectedError(file, missing, `a URL (required when ${other} is set)`, "nothing");
  }
  if ((discord.serverId === "") !== (discord.channelId === "")) {
    const missing = discord.serverId === "" ? "discord.server_id" : "discord.channel_id";
    const other = discord.serverId === "" ? "discord.channel_id" : "discord.server_id";
    throw expectedError(file, missing, `a Discord id (required when ${other} is set)`, "nothing");
  }
  const { notify } = config;
  if (notify.telegram.enabled && secrets.telegramBotToken === "") {
    throw expectedError(
      secretsFile,
      "telegram_bot_token",
      "a bot token (required when notify.telegram.enabled is true)",
      "nothing",
    );
  }
  if (notify.webhook.enabled && notify.webhook.url !== "" && secrets.webhookSecret === "") {
    throw expectedError(
      secretsFile,
      "webhook_secret",
      "a shared secret (required when notify.webhook.url is set)",
      "nothing",
    );
  }
  if ((secrets.rpcUser === "") !== (secrets.rpcPassword === "")) {
    const missing = secrets.rpcUser === "" ? "rpc_user" : "rpc_password";
    const other = secrets.rpcUser === "" ? "rpc_password" : "rpc_user";
    // When the environment took part, name both spellings: the file's key and the variable.
    const spell = (key: string) =>
      secretsFromEnv ? `${ENV_PREFIX}${key.toUpperCase()} (${key})` : key;
    throw expectedError(
      secretsFromEnv ? `${secretsFile} or the ${ENVIRONMENT}` : secretsFile,
      spell(missing),
      `a string (required when ${spell(other)} is set)`,
      "nothing",
    );
  }
}

/** Two listeners on one fixed port clash when their hosts are equal or either is a wildcard. */
function checkListenClashes(config: Config, file: string): void {
  const listeners: [string, string][] = [
    ["stratum.listen", config.stratum.listen],
    ["stratum.tls_listen", config.stratum.tlsListen],
    ["server.status_listen", config.server.statusListen],
    ["server.status_tls_listen", config.server.statusTlsListen],
    ["server.metrics_listen", config.server.metricsListen],
  ];
  const wildcard = (host: string) => host === "0.0.0.0" || host === "::";
  const seen: [string, string, { hostname: string; port: number }][] = [];
  for (const [key, address] of listeners) {
    const parsed = parseHostPort(address);
    if (parsed === undefined || parsed.port === 0) continue; // "" = off; 0 = any free port
    for (const [otherKey, otherAddress, other] of seen) {
      const sameHost = parsed.hostname === other.hostname || wildcard(parsed.hostname) ||
        wildcard(other.hostname);
      if (parsed.port === other.port && sameHost) {
        throw expectedError(
          file,
          key,
          `an address whose port differs from ${otherKey} (${JSON.stringify(otherAddress)})`,
          JSON.stringify(address),
        );
      }
    }
    seen.push([key, address, parsed]);
  }
}

async function checkCertPair(
  file: string,
  certKey: string,
  cert: string,
  keyKey: string,
  key: string,
): Promise<void> {
  if (cert === "" && key === "") return;
  if (cert === "") {
    throw expectedError(file, certKey, `a PEM file (required when ${keyKey} is set)`, "nothing");
  }
  if (key === "") {
    throw expectedError(file, keyKey, `a PEM file (required when ${certKey} is set)`, "nothing");
  }
  for (const [name, path] of [[certKey, cert], [keyKey, key]]) {
    try {
      const info = await Deno.stat(path);
      if (!info.isFile) throw new Deno.errors.IsADirectory(path);
    } catch (error) {
      const why = error instanceof Deno.errors.NotFound
        ? "not found"
        : error instanceof Deno.errors.IsADirectory
        ? "not a file"
        : "not readable";
      throw expectedError(file, name, "a readable PEM file", `${JSON.stringify(path)} (${why})`);
    }
  }
}
