import assert from "node:assert/strict";
import { join } from "node:path";
import { addressToScript, scriptToAddress } from "../lib/bitcoin/address.ts";
import { NETWORKS } from "../lib/bitcoin/networks.ts";
import { ConfigError } from "../lib/config/errors.ts";
import { type ConfigOverrides, loadConfig } from "../lib/config/load.ts";
import { CONFIG_DEFAULTS } from "../lib/config/schema.ts";

const EXAMPLE_PATH = new URL("../config.example.toml", import.meta.url).pathname;

/** BIP173's P2WPKH example (mainnet), and the same script as a regtest address. */
const MAINNET_ADDRESS = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4";
const REGTEST_ADDRESS = scriptToAddress(
  addressToScript(MAINNET_ADDRESS, NETWORKS.mainnet),
  NETWORKS.regtest,
)!;

interface Written {
  readonly dir: string;
  readonly configPath: string;
}

async function writeConfig(
  config: string,
  secrets?: string,
  secretsMode = 0o600,
): Promise<Written> {
  const dir = await Deno.makeTempDir({ prefix: "denopool_config_" });
  const configPath = join(dir, "config.toml");
  await Deno.writeTextFile(configPath, config);
  if (secrets !== undefined) {
    const secretsPath = join(dir, "secrets.toml");
    await Deno.writeTextFile(secretsPath, secrets);
    await Deno.chmod(secretsPath, secretsMode);
  }
  return { dir, configPath };
}

async function load(
  config: string,
  options: { secrets?: string; secretsMode?: number; overrides?: ConfigOverrides } = {},
) {
  const written = await writeConfig(config, options.secrets, options.secretsMode);
  const warnings: string[] = [];
  try {
    const loaded = await loadConfig({
      configPath: written.configPath,
      overrides: options.overrides,
      warn: (message) => warnings.push(message),
    });
    return { config: loaded, warnings, ...written };
  } finally {
    await Deno.remove(written.dir, { recursive: true });
  }
}

/** Loads `config` expecting a ConfigError; returns it. */
async function refused(config: string, options: { secrets?: string } = {}): Promise<ConfigError> {
  try {
    await load(config, options);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `not a ConfigError: ${error}`);
    assert.doesNotMatch(error.message, /\n/, "one line");
    return error;
  }
  assert.fail("the config was accepted");
}

Deno.test("loadConfig: the example config loads as is, with every default", async () => {
  const warnings: string[] = [];
  const config = await loadConfig({ configPath: EXAMPLE_PATH, warn: (m) => warnings.push(m) });
  assert.deepEqual(warnings, []);
  assert.equal(config.files.config, EXAMPLE_PATH);
  assert.equal(config.stratum.maxLineBytes, CONFIG_DEFAULTS.stratum.maxLineBytes);
  assert.deepEqual(config.difficulty, CONFIG_DEFAULTS.difficulty);
  assert.deepEqual(config.mining, CONFIG_DEFAULTS.mining);
  assert.equal(config.node.rpcUrl, "http://127.0.0.1:8332", "mainnet's RPC port");
  assert.equal(config.server.dataDir, join(EXAMPLE_PATH, "..", "data"));
});

Deno.test("loadConfig: an empty file means every default", async () => {
  const { config } = await load("");
  assert.deepEqual(config.stratum, CONFIG_DEFAULTS.stratum);
  assert.deepEqual(config.bans, CONFIG_DEFAULTS.bans);
  assert.equal(config.secrets.rpcUser, "");
  assert.equal(config.files.secrets, undefined);
});

Deno.test("loadConfig: the result is deeply frozen", async () => {
  const { config } = await load(`[server]\ntrusted_proxies = ["10.0.0.0/8"]\n`);
  assert.ok(Object.isFrozen(config));
  assert.ok(Object.isFrozen(config.server));
  assert.ok(Object.isFrozen(config.server.trustedProxies));
  assert.ok(Object.isFrozen(config.secrets));
  assert.throws(() => {
    (config.stratum as { maxLineBytes: number }).maxLineBytes = 1;
  }, TypeError);
});

Deno.test("loadConfig: file values are typed and converted", async () => {
  const { config } = await load(`
[stratum]
max_line_bytes = 4096
version_rolling_mask = "00ffe000"
[node]
network = "regtest"
[difficulty]
start = 0.5
min = 0.001
[mining]
pool_fee_percent = 1.5
payout_address = "${REGTEST_ADDRESS}"
`);
  assert.equal(config.stratum.maxLineBytes, 4096);
  assert.equal(config.stratum.versionRollingMask, 0x00ffe000);
  assert.equal(config.node.network, "regtest");
  assert.equal(config.node.rpcUrl, "http://127.0.0.1:18443", "regtest's RPC port");
  assert.equal(config.difficulty.min, 0.001);
  assert.equal(config.mining.poolFeePercent, 1.5);
  assert.equal(config.mining.payoutAddress, REGTEST_ADDRESS);
});

Deno.test("loadConfig: relative paths in the file are relative to the file", async () => {
  const { config, dir } = await load(
    `[server]\ndata_dir = "state"\n[node]\nrpc_cookie_path = "../c"\n`,
  );
  assert.equal(config.server.dataDir, join(dir, "state"));
  assert.equal(config.node.rpcCookiePath, join(dir, "..", "c"));
  assert.equal(config.node.rpcUrl, "http://127.0.0.1:8332");
});

Deno.test("loadConfig: overrides win over the file and are checked too", async () => {
  const { config } = await load(`[node]\nnetwork = "testnet"\n[server]\nno_json = false\n`, {
    overrides: { node: { network: "regtest" }, server: { noJson: true, dataDir: "rel" } },
  });
  assert.equal(config.node.network, "regtest");
  assert.equal(config.server.noJson, true);
  assert.equal(config.server.dataDir, join(Deno.cwd(), "rel"), "relative to the working dir");

  await assert.rejects(
    () => load("", { overrides: { stratum: { extranonce2Size: 9 } } }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.file, "command line");
      assert.equal(error.key, "stratum.extranonce2_size");
      return true;
    },
  );
});

Deno.test("loadConfig: addresses are checked against the network (after overrides)", async () => {
  const { config } = await load(
    `[mining]\npool_fee_percent = 1\npayout_address = "${REGTEST_ADDRESS}"\n`,
    { overrides: { node: { network: "regtest" } } },
  );
  assert.equal(config.mining.payoutAddress, REGTEST_ADDRESS);

  const error = await refused(
    `[node]\nnetwork = "regtest"\n[mining]\npool_fee_percent = 1\npayout_address = "${MAINNET_ADDRESS}"\n`,
  );
  assert.equal(error.key, "mining.payout_address");
  assert.match(
    error.message,
    /expected a valid regtest address, found "bc1q\w+" \(address is for mainnet/,
  );
});

Deno.test("loadConfig: a malformed address is refused with the reason", async () => {
  const error = await refused(`[mining]\ndonation_percent = 10\ndonation_address = "bc1qxyz"\n`);
  assert.equal(error.key, "mining.donation_address");
  assert.match(
    error.message,
    /^.*config\.toml: mining\.donation_address: expected a valid mainnet address, found "bc1qxyz" \(.+\)$/,
  );
});

Deno.test("loadConfig: required keys", async () => {
  const fee = await refused(`[mining]\npool_fee_percent = 2\n`);
  assert.equal(fee.key, "mining.payout_address");
  assert.match(
    fee.message,
    /expected a mainnet address \(required when mining.pool_fee_percent > 0\), found nothing$/,
  );
  const donation = await refused(`[mining]\ndonation_percent = 2\n`);
  assert.equal(donation.key, "mining.donation_address");
  const clerk = await refused(
    `[auth]\nclerk_jwks_url = "https://x.example/.well-known/jwks.json"\n`,
  );
  assert.equal(clerk.key, "auth.clerk_issuer");
  const discord = await refused(`[discord]\nchannel_id = "123456789012345678"\n`);
  assert.equal(discord.key, "discord.server_id");
  const cert = await refused(`[stratum]\ntls_listen = "0.0.0.0:3334"\ntls_key = "key.pem"\n`);
  assert.equal(cert.key, "stratum.tls_cert");
});

Deno.test("loadConfig: unknown keys name the closest known key", async () => {
  const typo = await refused(`[stratum]\nmax_line_byte = 100\n`);
  assert.equal(typo.key, "stratum.max_line_byte");
  assert.match(
    typo.message,
    /stratum\.max_line_byte: unknown key; did you mean stratum\.max_line_bytes\?$/,
  );
  const misplaced = await refused(`[server]\nextranonce2_size = 4\n`);
  assert.match(misplaced.message, /did you mean stratum\.extranonce2_size\?$/);
  const section = await refused(`[stratun]\nlisten = ":3333"\n`);
  assert.match(
    section.message,
    /stratun: unknown section \[stratun\]; did you mean \[stratum\]\?$/,
  );
  const topLevel = await refused(`network = "regtest"\n`);
  assert.match(topLevel.message, /network: unknown key; did you mean node\.network\?$/);
  const camel = await refused(`[stratum]\nmaxLineBytes = 100\n`);
  assert.equal(camel.key, "stratum.maxLineBytes");
  assert.match(camel.message, /keys are snake_case: did you mean stratum\.max_line_bytes\?$/);
  const secret = await refused(`[node]\nrpc_password = "hunter2"\n`);
  assert.match(secret.message, /node\.rpc_password: unknown key; secrets belong in secrets\.toml$/);
  assert.doesNotMatch(secret.message, /hunter2/, "never echo a secret");
});

Deno.test("loadConfig: wrong types and out-of-range values say what was expected and found", async () => {
  const cases: [string, string, RegExp][] = [
    [
      `[stratum]\nmax_line_bytes = "big"`,
      "stratum.max_line_bytes",
      /expected an integer from 1024 to 1048576, found "big"$/,
    ],
    [
      `[stratum]\nmax_line_bytes = 100`,
      "stratum.max_line_bytes",
      /expected an integer from 1024 to 1048576, found 100$/,
    ],
    [
      `[stratum]\nextranonce2_size = 1`,
      "stratum.extranonce2_size",
      /expected an integer from 2 to 8, found 1$/,
    ],
    [`[node]\nlongpoll = "yes"`, "node.longpoll", /expected true or false, found "yes"$/],
    [
      `[node]\nnetwork = "testnet3"`,
      "node.network",
      /expected one of "mainnet", "testnet", "testnet4", "signet", "regtest", found "testnet3"$/,
    ],
    [
      `[difficulty]\nmin = 0`,
      "difficulty.min",
      /expected a number greater than 0 and at most 1000000000000000, found 0$/,
    ],
    [
      `[difficulty]\nstart = 1\nmin = 2`,
      "difficulty.start",
      /expected at least difficulty\.min \(2\), found 1$/,
    ],
    [
      `[difficulty]\nmax = 10`,
      "difficulty.max",
      /expected 0 \(no limit\) or at least difficulty\.start \(1024\), found 10$/,
    ],
    [
      `[server]\nstatus_listen = "8080"`,
      "server.status_listen",
      /expected "host:port" .*, found "8080"$/,
    ],
    [
      `[server]\ntrusted_proxies = "10.0.0.1"`,
      "server.trusted_proxies",
      /expected an array of at most 1024 strings, each an IP address or CIDR range, found "10\.0\.0\.1"$/,
    ],
    [
      `[server]\ntrusted_proxies = ["10.0.0.1", "proxy"]`,
      "server.trusted_proxies[1]",
      /server\.trusted_proxies\[1\]: expected an IP address or CIDR range, found "proxy"$/,
    ],
    [`stratum = 5`, "stratum", /expected a table \[stratum\], found 5$/],
    [
      `[stratum]\ntls_listen = "0.0.0.0:3333"`,
      "stratum.tls_listen",
      /expected an address whose port differs from stratum\.listen/,
    ],
    [
      `[mining]\npool_tag = "${"x".repeat(41)}"`,
      "mining.pool_tag",
      /expected a string of at most 40 bytes/,
    ],
  ];
  for (const [toml, key, message] of cases) {
    const error = await refused(toml);
    assert.equal(error.key, key, toml);
    assert.match(error.message, message, toml);
    assert.ok(error.message.includes("config.toml: "), error.message);
  }
});

Deno.test("loadConfig: malformed TOML is reported with its line", async () => {
  const error = await refused(`[stratum]\nlisten = "0.0.0.0:3333"\nmax_line_bytes = = 4\n`);
  assert.equal(error.key, "");
  assert.equal(error.line, 3);
  assert.match(error.message, /config\.toml:3:\d+: malformed TOML: .+$/);
});

Deno.test("loadConfig: unreadable files are refused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denopool_config_" });
  try {
    await assert.rejects(
      () => loadConfig({ configPath: join(dir, "missing.toml") }),
      /missing\.toml: cannot read: file not found$/,
    );
    await assert.rejects(
      () => loadConfig({ configPath: dir }),
      /cannot read: is a directory, not a file$/,
    );
    await Deno.writeTextFile(join(dir, "config.toml"), "");
    await assert.rejects(
      () =>
        loadConfig({ configPath: join(dir, "config.toml"), secretsPath: join(dir, "nope.toml") }),
      (error: unknown) => error instanceof ConfigError && error.file.endsWith("nope.toml"),
      "an explicit secrets path must exist",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadConfig: secrets.toml beside the config is read", async () => {
  const { config, dir } = await load("", {
    secrets: `rpc_user = "pool"\nrpc_password = "s3cret"\ndiscord_bot_token = "tok"\n`,
  });
  assert.equal(config.secrets.rpcUser, "pool");
  assert.equal(config.secrets.rpcPassword, "s3cret");
  assert.equal(config.secrets.discordBotToken, "tok");
  assert.equal(config.secrets.clerkSecretKey, "");
  assert.equal(config.files.secrets, join(dir, "secrets.toml"));
});

Deno.test("loadConfig: an explicit secrets path is read from anywhere", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denopool_config_" });
  try {
    await Deno.writeTextFile(join(dir, "config.toml"), "");
    const secretsPath = join(dir, "elsewhere.toml");
    await Deno.writeTextFile(secretsPath, `clerk_publishable_key = "pk_test_x"\n`, { mode: 0o600 });
    const config = await loadConfig({ configPath: join(dir, "config.toml"), secretsPath });
    assert.equal(config.secrets.clerkPublishableKey, "pk_test_x");
    assert.equal(config.files.secrets, secretsPath);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadConfig: bad secrets name secrets.toml and the key, never the value", async () => {
  const typo = await refused("", { secrets: `rpc_pasword = "hunter2"\n` });
  assert.ok(typo.file.endsWith("secrets.toml"));
  assert.match(
    typo.message,
    /secrets\.toml: rpc_pasword: unknown key; did you mean rpc_password\?$/,
  );
  const half = await refused("", { secrets: `rpc_user = "pool"\n` });
  assert.equal(half.key, "rpc_password");
  const misplaced = await refused("", { secrets: `payout_address = "x"\n` });
  assert.match(misplaced.message, /mining\.payout_address belongs in the config file$/);
});

Deno.test("loadConfig: warns when secrets.toml is readable by group or others", async () => {
  const open = await load("", {
    secrets: `rpc_user = "a"\nrpc_password = "b"\n`,
    secretsMode: 0o644,
  });
  assert.equal(open.warnings.length, 1);
  assert.match(
    open.warnings[0],
    /^warning: .*secrets\.toml: secrets are readable by group or others \(mode 0644\); run: chmod 600 /,
  );
  const closed = await load("", {
    secrets: `rpc_user = "a"\nrpc_password = "b"\n`,
    secretsMode: 0o600,
  });
  assert.deepEqual(closed.warnings, []);
});

Deno.test("loadConfig: [notify.*] sub-tables are checked key by key; their secrets are required", async () => {
  const { config } = await load(
    `[notify]\nqueue_size = 20\n[notify.ntfy]\nenabled = true\ntopic_url = "https://ntfy.sh/pool"\n` +
      `[notify.telegram]\nenabled = true\nchat_id = "-1001234567890"\n` +
      `[notify.webhook]\nenabled = true\nurl = "https://hooks.example/pool"\n`,
    { secrets: `telegram_bot_token = "123:abc"\nwebhook_secret = "s3cret"\nntfy_token = "tk"\n` },
  );
  assert.equal(config.notify.queueSize, 20);
  assert.equal(config.notify.ntfy.topicUrl, "https://ntfy.sh/pool");
  assert.equal(config.notify.ntfy.minIntervalMs, 1000, "absent keys take their defaults");
  assert.equal(config.notify.telegram.apiBaseUrl, "https://api.telegram.org");
  assert.equal(config.secrets.ntfyToken, "tk");
  assert.ok(Object.isFrozen(config.notify.webhook));

  const badUrl = await refused(`[notify.ntfy]\ntopic_url = "ftp://x.example/t"\n`);
  assert.equal(badUrl.key, "notify.ntfy.topic_url");
  assert.match(badUrl.message, /found "ftp:\/\/x\.example\/t"/);
  const unknown = await refused(`[notify.webhook]\nsecret = "inline"\n`);
  assert.equal(unknown.key, "notify.webhook.secret");
  const chat = await refused(`[notify.telegram]\nchat_id = "my chat"\n`);
  assert.equal(chat.key, "notify.telegram.chat_id");
  const token = await refused(`[notify.telegram]\nenabled = true\n`);
  assert.equal(token.key, "telegram_bot_token");
  const secret = await refused(`[notify.webhook]\nenabled = true\nurl = "https://h.example/"\n`);
  assert.equal(secret.key, "webhook_secret");
});
