/**
 * `DENOPOOL_*` environment variables: the settings a container or an app store passes (network,
 * node RPC URL, cookie, RPC user and password, ZMQ, listen addresses, data dir) and every other
 * scalar key; they win over the files and lose to flags; a bad value names the variable.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ENV_VARIABLES, envName, envTargetKey, readEnv } from "../lib/config/env.ts";
import { ConfigError } from "../lib/config/errors.ts";
import { type ConfigOverrides, loadConfig } from "../lib/config/load.ts";
import { CONFIG_SCHEMA, SECRETS_SCHEMA, tomlKey } from "../lib/config/schema.ts";
import { regtestP2pkh } from "./helpers/miners.ts";

const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));
const DENO_JSON = fileURLToPath(new URL("../deno.json", import.meta.url));
const EXAMPLE = fileURLToPath(new URL("../config.example.toml", import.meta.url));

async function withConfig<T>(
  config: string,
  fn: (dir: string, configPath: string) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "denopool_env_" });
  try {
    await Deno.writeTextFile(join(dir, "config.toml"), config);
    return await fn(dir, join(dir, "config.toml"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function load(
  config: string,
  env: Record<string, string>,
  overrides?: ConfigOverrides,
) {
  return withConfig(
    config,
    (_dir, configPath) => loadConfig({ configPath, env, overrides, warn: () => {} }),
  );
}

async function refused(env: Record<string, string>, config = ""): Promise<ConfigError> {
  try {
    await load(config, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `not a ConfigError: ${error}`);
    assert.doesNotMatch(error.message, /\n/, "one line");
    return error;
  }
  assert.fail(`accepted: ${JSON.stringify(env)}`);
}

Deno.test("env: every scalar key and every secret has a DENOPOOL_ variable", () => {
  const names = [...ENV_VARIABLES.keys()];
  assert.equal(new Set(names).size, names.length);
  for (const [section, fields] of Object.entries(CONFIG_SCHEMA)) {
    for (const key of Object.keys(fields)) {
      const name = `DENOPOOL_${section}_${tomlKey(key)}`.toUpperCase();
      const field = (fields as Record<string, { fromText?: unknown }>)[key];
      if (field.fromText === undefined) {
        // Tables ([[node.tip_sources]], [notify.ntfy], …) stay in the file.
        assert.equal(ENV_VARIABLES.get(name), undefined, `${name}: tables stay in the file`);
        continue;
      }
      const target = ENV_VARIABLES.get(name);
      assert.ok(target, name);
      assert.equal(envName(target), name);
      assert.equal(envTargetKey(target), `${section}.${tomlKey(key)}`);
    }
  }
  for (const key of Object.keys(SECRETS_SCHEMA)) {
    const name = `DENOPOOL_${tomlKey(key)}`.toUpperCase();
    assert.deepEqual(ENV_VARIABLES.get(name), { kind: "secret", key });
  }
  // The names an app store writes, spelled out.
  for (
    const name of [
      "DENOPOOL_NODE_NETWORK",
      "DENOPOOL_NODE_RPC_URL",
      "DENOPOOL_NODE_RPC_COOKIE_PATH",
      "DENOPOOL_RPC_USER",
      "DENOPOOL_RPC_PASSWORD",
      "DENOPOOL_NODE_ZMQ_HASHBLOCK",
      "DENOPOOL_NODE_ZMQ_RAWBLOCK",
      "DENOPOOL_STRATUM_LISTEN",
      "DENOPOOL_SERVER_STATUS_LISTEN",
      "DENOPOOL_SERVER_DATA_DIR",
    ]
  ) assert.ok(ENV_VARIABLES.has(name), name);
});

Deno.test("env: the app-store settings are read, typed and paths resolved", async () => {
  const cwd = Deno.cwd();
  const config = await load("", {
    DENOPOOL_NODE_NETWORK: "regtest",
    DENOPOOL_NODE_RPC_URL: "http://bitcoind:18443/",
    DENOPOOL_NODE_RPC_COOKIE_PATH: "/bitcoin/regtest/.cookie",
    DENOPOOL_NODE_ZMQ_HASHBLOCK: "tcp://bitcoind:28332",
    DENOPOOL_NODE_ZMQ_RAWBLOCK: "tcp://bitcoind:28333",
    DENOPOOL_STRATUM_LISTEN: "0.0.0.0:3333",
    DENOPOOL_SERVER_STATUS_LISTEN: "0.0.0.0:8080",
    DENOPOOL_SERVER_DATA_DIR: "relative/data",
    DENOPOOL_RPC_USER: "pool",
    DENOPOOL_RPC_PASSWORD: "s3cret with spaces",
    // Other types: booleans, numbers, lists, hex masks.
    DENOPOOL_NODE_LONGPOLL: "false",
    DENOPOOL_NODE_REFRESH_INTERVAL_SECONDS: "2.5",
    DENOPOOL_DIFFICULTY_START: "1e3",
    DENOPOOL_BANS_EXEMPT: "10.0.0.0/8, ::1",
    DENOPOOL_STRATUM_CLIENT_BLACKLIST: "",
    DENOPOOL_STRATUM_VERSION_ROLLING_MASK: "20000000",
    DENOPOOL_MINING_PAYOUT_ADDRESS: regtestP2pkh(7),
    DENOPOOL_MINING_POOL_FEE_PERCENT: "1",
    // Not ours: ignored.
    HOME: "/nowhere",
    DENOPOOLX: "ignored",
  });
  assert.equal(config.node.network, "regtest");
  assert.equal(config.node.rpcUrl, "http://bitcoind:18443/");
  assert.equal(config.node.rpcCookiePath, "/bitcoin/regtest/.cookie");
  assert.equal(config.node.zmqHashblock, "tcp://bitcoind:28332");
  assert.equal(config.node.zmqRawblock, "tcp://bitcoind:28333");
  assert.equal(config.stratum.listen, "0.0.0.0:3333");
  assert.equal(config.server.statusListen, "0.0.0.0:8080");
  assert.equal(config.server.dataDir, join(cwd, "relative/data"), "relative to the working dir");
  assert.equal(config.secrets.rpcUser, "pool");
  assert.equal(config.secrets.rpcPassword, "s3cret with spaces");
  assert.equal(config.node.longpoll, false);
  assert.equal(config.node.refreshIntervalSeconds, 2.5);
  assert.equal(config.difficulty.start, 1000);
  assert.deepEqual(config.bans.exempt, ["10.0.0.0/8", "::1"]);
  assert.deepEqual(config.stratum.clientBlacklist, []);
  assert.equal(config.stratum.versionRollingMask, 0x20000000, "hex, not decimal");
  assert.equal(config.mining.poolFeePercent, 1);
});

Deno.test("env: the variables win over the files, flags win over them", async () => {
  await withConfig(
    `[node]\nnetwork = "testnet"\nrpc_url = "http://file:1/"\n` +
      `[server]\nstatus_listen = "127.0.0.1:9000"\n`,
    async (dir, configPath) => {
      await Deno.writeTextFile(join(dir, "secrets.toml"), `rpc_user = "f"\nrpc_password = "f"\n`);
      await Deno.chmod(join(dir, "secrets.toml"), 0o600);
      const config = await loadConfig({
        configPath,
        env: { DENOPOOL_NODE_NETWORK: "signet", DENOPOOL_NODE_RPC_URL: "http://env:2/" },
        overrides: { node: { network: "regtest" } },
        warn: () => {},
      });
      assert.equal(config.node.network, "regtest", "the flag");
      assert.equal(config.node.rpcUrl, "http://env:2/", "the variable");
      assert.equal(config.server.statusListen, "127.0.0.1:9000", "the file");
      const secrets = await loadConfig({
        configPath,
        env: { DENOPOOL_RPC_PASSWORD: "e" },
        warn: () => {},
      });
      assert.equal(secrets.secrets.rpcUser, "f", "the file");
      assert.equal(secrets.secrets.rpcPassword, "e", "the variable");
    },
  );
});

Deno.test("env: a bad value is one line naming the variable, its key and what was expected", async () => {
  const cases: [Record<string, string>, RegExp][] = [
    [
      { DENOPOOL_NODE_NETWORK: "mainnett" },
      /^environment: DENOPOOL_NODE_NETWORK \(node\.network\): expected one of "mainnet", .*found "mainnett"$/,
    ],
    [
      { DENOPOOL_STRATUM_LISTEN: "3333" },
      /^environment: DENOPOOL_STRATUM_LISTEN \(stratum\.listen\): expected "host:port".*found "3333"$/,
    ],
    [
      { DENOPOOL_NODE_LONGPOLL: "yes" },
      /^environment: DENOPOOL_NODE_LONGPOLL \(node\.longpoll\): expected true or false, found "yes"$/,
    ],
    [
      { DENOPOOL_NODE_RPC_TIMEOUT_SECONDS: "ten" },
      /DENOPOOL_NODE_RPC_TIMEOUT_SECONDS \(node\.rpc_timeout_seconds\): expected a number .*found "ten"$/,
    ],
    [
      { DENOPOOL_STRATUM_EXTRANONCE2_SIZE: "9" },
      /DENOPOOL_STRATUM_EXTRANONCE2_SIZE \(stratum\.extranonce2_size\): expected an integer from 2 to 8, found "9"$/,
    ],
    [
      { DENOPOOL_BANS_EXEMPT: "10.0.0.0/8,nonsense" },
      /DENOPOOL_BANS_EXEMPT \(bans\.exempt\)\[1\]: expected an IP address or CIDR range/,
    ],
    [
      { DENOPOOL_NODE_RPC_URL: "bitcoind:8332" },
      /DENOPOOL_NODE_RPC_URL \(node\.rpc_url\): expected a http or https URL or "", found "bitcoind:8332"$/,
    ],
    [
      { DENOPOOL_NODE_RPC_UR: "http://x:1/" },
      /^environment: DENOPOOL_NODE_RPC_UR: unknown variable; did you mean DENOPOOL_NODE_RPC_URL\?/,
    ],
    [
      { DENOPOOL_NODE_TIP_SOURCES: "[]" },
      /DENOPOOL_NODE_TIP_SOURCES: unknown variable/,
    ],
    [
      { DENOPOOL_RPC_USER: "pool" },
      /or the environment: DENOPOOL_RPC_PASSWORD \(rpc_password\): expected a string \(required when DENOPOOL_RPC_USER \(rpc_user\) is set\), found nothing$/,
    ],
    [
      { DENOPOOL_MINING_POOL_FEE_PERCENT: "2" },
      /mining\.payout_address: expected a mainnet address \(required when mining\.pool_fee_percent > 0\)/,
    ],
  ];
  for (const [env, pattern] of cases) {
    const error = await refused(env);
    assert.match(error.message, pattern, JSON.stringify(env));
  }
  // A secret's value is never echoed.
  const secret = await refused({ DENOPOOL_RPC_PASSWORD: "tab\there" });
  assert.match(secret.message, /DENOPOOL_RPC_PASSWORD \(rpc_password\): expected a string without/);
  assert.doesNotMatch(secret.message, /tab/);
});

Deno.test("env: readEnv alone ignores other variables and types what it reads", () => {
  const values = readEnv({ PATH: "/bin", DENOPOOL_ADMIN_ENABLED: "true" });
  assert.deepEqual(values, { config: { admin: { enabled: true } }, secrets: {} });
  assert.deepEqual(readEnv({}), { config: {}, secrets: {} });
});

/** Runs `main.ts --check-config` in a fresh process with `env` added to its environment. */
function checkConfig(env: Record<string, string>) {
  return checkConfigArgs(["--config", EXAMPLE], env);
}

/** Runs `main.ts ARGS --check-config` in a temp dir, with `env` added to its environment. */
async function checkConfigArgs(args: readonly string[], env: Record<string, string>) {
  const cwd = await Deno.makeTempDir({ prefix: "denopool_env_cwd_" });
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", DENO_JSON, MAIN, ...args, "--check-config"],
    cwd,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  await Deno.remove(cwd, { recursive: true });
  const text = new TextDecoder();
  return {
    code: output.code,
    stdout: text.decode(output.stdout),
    stderr: text.decode(output.stderr),
  };
}

Deno.test("env: main.ts reads the process environment; a bad variable exits 2 with one line", async () => {
  const good = await checkConfig({
    DENOPOOL_NODE_NETWORK: "regtest",
    DENOPOOL_SERVER_STATUS_LISTEN: "0.0.0.0:8088",
    DENOPOOL_SERVER_DATA_DIR: "/data",
    DENOPOOL_RPC_USER: "pool",
    DENOPOOL_RPC_PASSWORD: "p",
  });
  assert.equal(good.code, 0, good.stderr);
  assert.match(good.stdout, /network +regtest\n/);
  assert.match(good.stdout, /status +0\.0\.0\.0:8088,/);
  assert.match(good.stdout, /node RPC +http:\/\/127\.0\.0\.1:18443 \(user "pool" from secrets\)/);
  assert.match(good.stdout, /data dir +\/data$/m);
  assert.doesNotMatch(good.stdout, /"p"/, "the password is not shown");

  const bad = await checkConfig({ DENOPOOL_SERVER_STATUS_LISTEN: "everywhere" });
  assert.equal(bad.code, 2, bad.stderr);
  assert.equal(bad.stdout, "");
  const lines = bad.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, bad.stderr);
  assert.match(
    lines[0],
    /^error: environment: DENOPOOL_SERVER_STATUS_LISTEN \(server\.status_listen\): expected /,
  );
});

Deno.test("env: DENOPOOL_CONFIG and DENOPOOL_SECRETS name the files unless the flags do", async () => {
  await withConfig(`[node]\nnetwork = "signet"\n`, async (dir, configPath) => {
    const secretsPath = join(dir, "elsewhere.toml");
    await Deno.writeTextFile(secretsPath, `rpc_user = "u"\nrpc_password = "p"\n`);
    await Deno.chmod(secretsPath, 0o600);
    const fromEnv = await checkConfigArgs([], {
      DENOPOOL_CONFIG: configPath,
      DENOPOOL_SECRETS: secretsPath,
    });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    assert.equal(fromEnv.stderr, "", "no fallback warning");
    assert.match(fromEnv.stdout, new RegExp(`config +${configPath}\n`));
    assert.match(fromEnv.stdout, new RegExp(`secrets +${secretsPath}\n`));
    assert.match(fromEnv.stdout, /network +signet\n/);

    const flag = await checkConfigArgs(["--config", EXAMPLE], { DENOPOOL_CONFIG: configPath });
    assert.equal(flag.code, 0, flag.stderr);
    assert.match(flag.stdout, /network +mainnet\n/, "--config wins");

    // Named by the variable, a missing file is an error (no fallback to the example).
    const missing = await checkConfigArgs([], { DENOPOOL_CONFIG: join(dir, "nope.toml") });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^error: .*nope\.toml: cannot read: file not found\n$/);
  });
});
