/**
 * `DENOPOOL_*` environment variables: every key of `config.toml` and `secrets.toml` can also be
 * set from the environment, the way containers and app stores configure a service.
 *
 * - a config key is `DENOPOOL_<SECTION>_<KEY>`, upper case: `node.rpc_url` is
 *   `DENOPOOL_NODE_RPC_URL`, `server.status_listen` is `DENOPOOL_SERVER_STATUS_LISTEN`;
 * - a secret is `DENOPOOL_<KEY>`: `DENOPOOL_RPC_USER`, `DENOPOOL_RPC_PASSWORD`.
 *
 * Values are text: `true`/`false` for booleans, decimal numbers, comma-separated lists
 * (`DENOPOOL_BANS_EXEMPT=127.0.0.0/8,10.0.0.0/8`); arrays of tables (`[[node.tip_sources]]`)
 * stay in the file. They win over the files and lose to command-line flags; relative paths are
 * relative to the working directory. A `DENOPOOL_` variable that names no key is refused, with
 * the closest name.
 *
 * Two more name the files themselves, for `main.ts` (`lib/config/cli.ts`): `DENOPOOL_CONFIG`
 * (the config file when `--config` is not given) and `DENOPOOL_SECRETS` (likewise `--secrets`).
 *
 * @module
 */

import { ConfigError, expectedError } from "./errors.ts";
import { describeValue, type Field } from "./fields.ts";
import {
  CONFIG_SCHEMA,
  type ConfigSections,
  type Secrets,
  SECRETS_SCHEMA,
  SECTION_NAMES,
  type SectionName,
  tomlKey,
} from "./schema.ts";
import { closest } from "./suggest.ts";

/** Prefix of every variable the configuration reads. */
export const ENV_PREFIX = "DENOPOOL_";

/** The config file's path when `--config` is not given ("" = not set). */
export const ENV_CONFIG_PATH = "DENOPOOL_CONFIG";

/** The secrets file's path when `--secrets` is not given ("" = not set). */
export const ENV_SECRETS_PATH = "DENOPOOL_SECRETS";

/** The label used as `ConfigError.file` for problems in environment variables. */
export const ENVIRONMENT = "environment";

/** What one variable sets: a key of a `config.toml` section, or a secret. */
export type EnvTarget =
  | { readonly kind: "config"; readonly section: SectionName; readonly key: string }
  | { readonly kind: "secret"; readonly key: keyof Secrets };

/** The variable's name for a target: `DENOPOOL_NODE_RPC_URL`, `DENOPOOL_RPC_USER`. */
export function envName(target: EnvTarget): string {
  const parts = target.kind === "config"
    ? [target.section, tomlKey(target.key)]
    : [tomlKey(target.key)];
  return ENV_PREFIX + parts.join("_").toUpperCase();
}

/** The dotted key a target stands for in the files: `node.rpc_url`, `rpc_user`. */
export function envTargetKey(target: EnvTarget): string {
  return target.kind === "config"
    ? `${target.section}.${tomlKey(target.key)}`
    : tomlKey(target.key);
}

function buildTable(): ReadonlyMap<string, EnvTarget> {
  const table = new Map<string, EnvTarget>();
  const add = (target: EnvTarget, field: Field<unknown>) => {
    if (field.fromText === undefined) return; // arrays of tables stay in the file
    const name = envName(target);
    // Section names hold no "_", so a clash could only come from a secret; refuse it loudly.
    if (table.has(name)) throw new Error(`two keys share the variable ${name}`);
    table.set(name, target);
  };
  for (const section of SECTION_NAMES) {
    for (const [key, field] of Object.entries(CONFIG_SCHEMA[section])) {
      add({ kind: "config", section, key }, field as Field<unknown>);
    }
  }
  for (const [key, field] of Object.entries(SECRETS_SCHEMA)) {
    add({ kind: "secret", key: key as keyof Secrets }, field as Field<unknown>);
  }
  return table;
}

/** Every variable the configuration reads, by name, in file order (secrets last). */
export const ENV_VARIABLES: ReadonlyMap<string, EnvTarget> = buildTable();

/** What the environment sets, checked and typed (paths not resolved yet). */
export interface EnvValues {
  /** Config keys, by section and camelCase key. */
  readonly config: { readonly [S in SectionName]?: Partial<ConfigSections[S]> };
  /** Secrets, by camelCase key. */
  readonly secrets: Partial<Secrets>;
}

/**
 * Reads the `DENOPOOL_*` variables of `env` (e.g. `Deno.env.toObject()`). Throws a
 * {@linkcode ConfigError} naming the variable (and its key) for an unknown variable or a bad
 * value, e.g. `environment: DENOPOOL_NODE_NETWORK (node.network): expected one of …`.
 */
export function readEnv(env: Readonly<Record<string, string>>): EnvValues {
  const config: Record<string, Record<string, unknown>> = {};
  const secrets: Record<string, unknown> = {};
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith(ENV_PREFIX)) continue;
    if (name === ENV_CONFIG_PATH || name === ENV_SECRETS_PATH) continue; // files, not keys
    const target = ENV_VARIABLES.get(name);
    if (target === undefined) {
      const guess = closest(name, [...ENV_VARIABLES.keys(), ENV_CONFIG_PATH, ENV_SECRETS_PATH]);
      throw new ConfigError({
        file: ENVIRONMENT,
        key: name,
        reason: `unknown variable${
          guess === undefined ? "" : `; did you mean ${guess}?`
        } (every DENOPOOL_ variable names a key of config.example.toml)`,
      });
    }
    const field = (target.kind === "config"
      ? (CONFIG_SCHEMA[target.section] as Record<string, Field<unknown>>)[target.key]
      : (SECRETS_SCHEMA as Record<string, Field<unknown>>)[target.key])!;
    const text = env[name];
    const raw = field.fromText!(text);
    const result = field.parse(raw);
    const where = `${name} (${envTargetKey(target)})`;
    if (!result.ok) {
      // Never echo a secret's value back.
      const found = target.kind === "secret" ? "a value that is not accepted" : describeValue(text);
      throw expectedError(ENVIRONMENT, where + (result.at ?? ""), result.expected, found);
    }
    if (target.kind === "config") {
      (config[target.section] ??= {})[target.key] = result.value;
    } else {
      secrets[target.key] = result.value;
    }
  }
  return { config, secrets } as EnvValues;
}
