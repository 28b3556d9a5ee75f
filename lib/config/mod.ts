/**
 * denopool's configuration: load `config.toml` + `secrets.toml` into a validated, deeply frozen
 * {@linkcode Config}, or fail with one {@linkcode ConfigError} line.
 *
 * ```ts
 * import { loadConfig } from "./lib/config/mod.ts";
 * const config = await loadConfig({ configPath: "config.toml" });
 * config.stratum.maxLineBytes; // 16384 unless the file says otherwise
 * ```
 *
 * @module
 */

export type { NetworkName } from "../bitcoin/mod.ts";
export {
  ENV_CONFIG_PATH,
  ENV_PREFIX,
  ENV_SECRETS_PATH,
  ENV_VARIABLES,
  ENVIRONMENT,
  envName,
  type EnvTarget,
  envTargetKey,
  type EnvValues,
  readEnv,
} from "./env.ts";
export { ConfigError, type ConfigErrorDetails } from "./errors.ts";
export { type HostPort, parseHostPort } from "./fields.ts";
export {
  COMMAND_LINE,
  type ConfigOverrides,
  loadConfig,
  type LoadConfigOptions,
  SECRETS_FILE_NAME,
} from "./load.ts";
export {
  type AdminConfig,
  type AuthConfig,
  type BansConfig,
  type Config,
  CONFIG_DEFAULTS,
  type ConfigFiles,
  type ConfigSections,
  type DifficultyConfig,
  type DiscordConfig,
  type HashBackend,
  type MiningConfig,
  type MirrorPublish,
  NETWORK_NAMES,
  type NodeConfig,
  type NotifyConfig,
  type NtfyConfig,
  type Secrets,
  type SectionName,
  type ServerConfig,
  type StatusConfig,
  type StratumConfig,
  type TelegramConfig,
  type TipSourceConfig,
  tomlKey,
  type WebhookConfig,
} from "./schema.ts";
