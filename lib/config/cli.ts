/**
 * The command line of `main.ts`: a small, strict flag parser, `--help`, `--version`,
 * `--check-config`, and loading the configuration the flags point at.
 *
 * Flags take the long form `--name value` or `--name=value`; the Go-style single dash (`-no-json`,
 * as goPool spells its flags) is accepted too. Unknown flags, missing values and stray arguments
 * are usage errors: one line on stderr and exit code 2, like every configuration error.
 *
 * @module
 */

import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import denoJson from "../../deno.json" with { type: "json" };
import type { NetworkName } from "../bitcoin/mod.ts";
import { ENV_CONFIG_PATH, ENV_SECRETS_PATH } from "./env.ts";
import { ConfigError } from "./errors.ts";
import { type ConfigOverrides, loadConfig } from "./load.ts";
import { type Config, NETWORK_NAMES } from "./schema.ts";
import { closest } from "./suggest.ts";

/** Exit code for usage and configuration errors. */
export const EXIT_USAGE = 2;

/** The config file used when `--config` is not given. */
export const DEFAULT_CONFIG_PATH = "./config.toml";

/** The shipped example, used (with a warning) when the default config file is missing. */
export const EXAMPLE_CONFIG_PATH: string = fileURLToPath(
  new URL("../../config.example.toml", import.meta.url),
);

/** denopool's version, from deno.json. */
export const VERSION: string = denoJson.version;

/** What the command line asked for. */
export interface CliOptions {
  /** `--config PATH` (default `./config.toml`). */
  readonly configPath: string;
  /** True when `--config` was given (then a missing file is an error, not a fallback). */
  readonly configGiven: boolean;
  /** `--secrets PATH`; undefined means `secrets.toml` beside the config, if present. */
  readonly secretsPath: string | undefined;
  /** `--data-dir PATH`, overriding `server.data_dir`. */
  readonly dataDir: string | undefined;
  /** `--network NAME`, overriding `node.network`. */
  readonly network: NetworkName | undefined;
  /** `--no-json` / `-no-json`: serve no `/api/*` routes. */
  readonly noJson: boolean;
  /** `--check-config`: validate, print a summary, exit 0. */
  readonly checkConfig: boolean;
  /** `--help` / `-h`. */
  readonly help: boolean;
  /** `--version`. */
  readonly version: boolean;
}

/** A malformed command line; `message` is one line. */
export class UsageError extends Error {
  /** Creates the error with a one-line reason. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

type ValueFlag = "config" | "secrets" | "data-dir" | "network";
type SwitchFlag = "no-json" | "check-config" | "help" | "version";

const VALUE_FLAGS: readonly ValueFlag[] = ["config", "secrets", "data-dir", "network"];
const SWITCH_FLAGS: readonly SwitchFlag[] = ["no-json", "check-config", "help", "version"];
const ALL_FLAGS: readonly string[] = [...VALUE_FLAGS, ...SWITCH_FLAGS];

/** The `--help` text. */
export const HELP_TEXT: string = `denopool ${VERSION} — Bitcoin solo-mining pool

Usage: deno run -A main.ts [flags]

Flags (a single dash works too, e.g. -no-json):
  --config PATH      config file (default ${DEFAULT_CONFIG_PATH}; when it is missing,
                     config.example.toml is used with a warning)
  --secrets PATH     secrets file (default: secrets.toml beside the config file, optional)
  --data-dir PATH    data directory (overrides server.data_dir)
  --network NAME     ${NETWORK_NAMES.join("|")} (overrides node.network)
  --no-json          serve no JSON API (/api/*); pages only (overrides server.no_json)
  --check-config     validate the configuration, print a summary and exit
  --version          print the version and exit
  -h, --help         print this help and exit

Environment: every key can also be set as DENOPOOL_<SECTION>_<KEY> (e.g.
DENOPOOL_NODE_RPC_URL, DENOPOOL_SERVER_STATUS_LISTEN) and every secret as DENOPOOL_<KEY>
(DENOPOOL_RPC_USER, DENOPOOL_RPC_PASSWORD); they win over the files, flags win over them.
${ENV_CONFIG_PATH} and ${ENV_SECRETS_PATH} name the files when --config / --secrets are not given.

Bad flags or configuration: one line on stderr, exit code 2.
Every configuration key is documented in config.example.toml.`;

/** Parses the command line. Throws `UsageError` for anything it does not know. */
export function parseArgs(args: readonly string[]): CliOptions {
  const values = new Map<ValueFlag, string>();
  const switches = new Set<SwitchFlag>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "-h") {
      switches.add("help");
      continue;
    }
    const match = /^--?([a-z][a-z-]*)(?:=([\s\S]*))?$/.exec(arg);
    if (match === null) {
      if (arg.startsWith("-")) throw unknownFlag(arg);
      throw new UsageError(`unexpected argument ${JSON.stringify(arg)} (flags only; try --help)`);
    }
    const [, name, inline] = match;
    if ((VALUE_FLAGS as readonly string[]).includes(name)) {
      const flag = name as ValueFlag;
      if (values.has(flag)) throw new UsageError(`--${flag} given more than once`);
      const value = inline ?? args[++i];
      if (value === undefined) throw new UsageError(`--${flag} needs a value (try --help)`);
      if (value === "") throw new UsageError(`--${flag} needs a non-empty value`);
      values.set(flag, value);
    } else if ((SWITCH_FLAGS as readonly string[]).includes(name)) {
      const flag = name as SwitchFlag;
      // Go's flag package accepts -no-json=true; so do we, strictly.
      if (inline === undefined || inline === "true") switches.add(flag);
      else if (inline === "false") switches.delete(flag);
      else {throw new UsageError(
          `--${flag} takes no value (or =true/=false), found ${JSON.stringify(inline)}`,
        );}
    } else {
      throw unknownFlag(arg);
    }
  }

  const network = values.get("network");
  if (network !== undefined && !(NETWORK_NAMES as readonly string[]).includes(network)) {
    throw new UsageError(
      `--network: expected one of ${NETWORK_NAMES.join(", ")}, found ${JSON.stringify(network)}`,
    );
  }
  return {
    configPath: values.get("config") ?? DEFAULT_CONFIG_PATH,
    configGiven: values.has("config"),
    secretsPath: values.get("secrets"),
    dataDir: values.get("data-dir"),
    network: network as NetworkName | undefined,
    noJson: switches.has("no-json"),
    checkConfig: switches.has("check-config"),
    help: switches.has("help"),
    version: switches.has("version"),
  };
}

function unknownFlag(arg: string): UsageError {
  const name = arg.replace(/^--?/, "").replace(/=[\s\S]*$/, "");
  const guess = closest(name, ALL_FLAGS);
  const hint = guess === undefined ? "try --help" : `did you mean --${guess}?`;
  return new UsageError(`unknown flag ${arg.replace(/=[\s\S]*$/, "")} (${hint})`);
}

/** The overrides that the flags stand for. */
export function overridesFromOptions(options: CliOptions): ConfigOverrides {
  return {
    server: {
      ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
      ...(options.noJson ? { noJson: true } : {}),
    },
    node: options.network !== undefined ? { network: options.network } : {},
  };
}

/** Where the CLI writes; tests pass their own. */
export interface CliIo {
  /** Normal output (help, version, summary). */
  readonly stdout: (text: string) => void;
  /** Errors and warnings, one line each. */
  readonly stderr: (text: string) => void;
}

const CONSOLE_IO: CliIo = {
  stdout: (text) => console.log(text),
  stderr: (text) => console.error(text),
};

/** What `main.ts` should do next: exit with a code, or start the pool with a config. */
export type CliOutcome =
  | { readonly kind: "exit"; readonly code: number }
  | { readonly kind: "run"; readonly config: Config; readonly options: CliOptions };

/**
 * Runs the command-line part of `main.ts`: parses flags, answers `--help`/`--version`, loads and
 * validates the configuration (refusing bad input with one line and exit code 2) and answers
 * `--check-config`. Otherwise returns the config so the pool can start. The `DENOPOOL_*`
 * variables of `env` (default: the process's environment) set keys too.
 */
export async function runCli(
  args: readonly string[],
  io: CliIo = CONSOLE_IO,
  env: Readonly<Record<string, string>> = Deno.env.toObject(),
): Promise<CliOutcome> {
  let options: CliOptions;
  try {
    options = parseArgs(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`error: ${error.message}`);
    return { kind: "exit", code: EXIT_USAGE };
  }
  if (options.help) {
    io.stdout(HELP_TEXT);
    return { kind: "exit", code: 0 };
  }
  if (options.version) {
    io.stdout(`denopool ${VERSION}`);
    return { kind: "exit", code: 0 };
  }

  // DENOPOOL_CONFIG / DENOPOOL_SECRETS stand in for the flags ("" = not set).
  const envConfig = env[ENV_CONFIG_PATH] || undefined;
  const configGiven = options.configGiven || envConfig !== undefined;
  let configPath = options.configGiven ? options.configPath : envConfig ?? options.configPath;
  const secretsPath = options.secretsPath ?? (env[ENV_SECRETS_PATH] || undefined);
  if (!configGiven && !existsSync(configPath)) {
    io.stderr(
      `warning: ${configPath} not found; using ${EXAMPLE_CONFIG_PATH} ` +
        `(copy it to config.toml and edit it)`,
    );
    configPath = EXAMPLE_CONFIG_PATH;
  }

  let config: Config;
  try {
    config = await loadConfig({
      configPath,
      secretsPath,
      env,
      overrides: overridesFromOptions(options),
      warn: io.stderr,
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr(`error: ${error.message}`);
    return { kind: "exit", code: EXIT_USAGE };
  }

  if (options.checkConfig) {
    io.stdout(summarizeConfig(config));
    return { kind: "exit", code: 0 };
  }
  return { kind: "run", config, options };
}

/** A short human summary of a loaded config (never shows secret values). */
export function summarizeConfig(config: Config): string {
  const { server, stratum, node, mining, difficulty, secrets } = config;
  const off = (value: string) => value === "" ? "off" : value;
  const rpcAuth = secrets.rpcUser !== ""
    ? `user ${JSON.stringify(secrets.rpcUser)} from secrets`
    : node.rpcCookiePath === ""
    ? "cookie file, found automatically"
    : `cookie ${node.rpcCookiePath}`;
  const payout = mining.poolFeePercent > 0
    ? `pool fee ${mining.poolFeePercent}% to ${mining.payoutAddress}` +
      (mining.donationPercent > 0
        ? `, ${mining.donationPercent}% of it donated to ${mining.donationAddress}`
        : "")
    : "no pool fee (miners get the whole reward)";
  const lines: [string, string][] = [
    ["config", config.files.config],
    ["secrets", config.files.secrets ?? "none"],
    ["network", node.network],
    ["stratum", `${stratum.listen}, TLS ${off(stratum.tlsListen)}`],
    [
      "status",
      `${off(server.statusListen)}, TLS ${off(server.statusTlsListen)}, JSON API ${
        server.noJson ? "off" : "on"
      }`,
    ],
    ["node RPC", `${node.rpcUrl} (${rpcAuth})`],
    ["ZMQ", `hashblock ${off(node.zmqHashblock)}, rawblock ${off(node.zmqRawblock)}`],
    ["payout", payout],
    [
      "difficulty",
      `start ${difficulty.start}, min ${difficulty.min}, max ${
        difficulty.max === 0 ? "none" : difficulty.max
      }, vardiff ${difficulty.vardiff ? `on (${difficulty.targetSharesPerMinute}/min)` : "off"}`,
    ],
    ["data dir", server.dataDir],
  ];
  return ["configuration ok", ...lines.map(([k, v]) => `  ${k.padEnd(11)} ${v}`)].join("\n");
}
