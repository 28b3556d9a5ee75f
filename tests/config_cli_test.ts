import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { addressToScript, scriptToAddress } from "../lib/bitcoin/address.ts";
import { NETWORKS } from "../lib/bitcoin/networks.ts";
import { parseArgs, UsageError } from "../lib/config/cli.ts";
import denoJson from "../deno.json" with { type: "json" };

const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));
const DENO_JSON = fileURLToPath(new URL("../deno.json", import.meta.url));

/** BIP173's P2WPKH example (mainnet), and the same script as a testnet address. */
const MAINNET_ADDRESS = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4";
const TESTNET_ADDRESS = scriptToAddress(
  addressToScript(MAINNET_ADDRESS, NETWORKS.mainnet),
  NETWORKS.testnet,
)!;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `main.ts` in a fresh process, as an operator would. */
async function runMain(args: readonly string[], cwd?: string): Promise<Run> {
  const output = await new Deno.Command(Deno.execPath(), {
    // --config makes the import map work from any working directory.
    args: ["run", "-A", "--config", DENO_JSON, MAIN, ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder();
  return {
    code: output.code,
    stdout: text.decode(output.stdout),
    stderr: text.decode(output.stderr),
  };
}

/** A temp dir holding `config.toml` (and `secrets.toml` when given). */
async function tempConfig(config: string, secrets?: string, secretsMode = 0o600) {
  const dir = await Deno.makeTempDir({ prefix: "denopool_cli_" });
  const configPath = join(dir, "config.toml");
  await Deno.writeTextFile(configPath, config);
  if (secrets !== undefined) {
    await Deno.writeTextFile(join(dir, "secrets.toml"), secrets);
    await Deno.chmod(join(dir, "secrets.toml"), secretsMode);
  }
  return {
    dir,
    configPath,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

/** Asserts the run was refused with exactly one `error:` line on stderr and exit code 2. */
function assertRefused(run: Run, pattern: RegExp): void {
  assert.equal(run.code, 2, run.stderr);
  assert.equal(run.stdout, "");
  const lines = run.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `one line expected, got:\n${run.stderr}`);
  assert.match(lines[0], /^error: /);
  assert.match(lines[0], pattern);
}

Deno.test("cli: --check-config on the example prints a summary and exits 0", async () => {
  const run = await runMain(
    ["--config", "config.example.toml", "--check-config"],
    join(MAIN, ".."),
  );
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, "");
  assert.match(run.stdout, /^configuration ok\n/);
  assert.match(run.stdout, /network +mainnet/);
  assert.match(run.stdout, /stratum +0\.0\.0\.0:3333/);
});

Deno.test("cli: without --config and no ./config.toml, the example is used with a warning", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denopool_cli_" });
  try {
    const run = await runMain(["--check-config"], dir);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /^warning: \.\/config\.toml not found; using .*config\.example\.toml/);
    assert.match(run.stdout, /config +.*config\.example\.toml/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: flags override the file", async () => {
  await using files = await tempConfig(
    `[node]\nnetwork = "regtest"\n[server]\nno_json = false\ndata_dir = "filedir"\n` +
      `[mining]\npool_fee_percent = 1\npayout_address = "${TESTNET_ADDRESS}"\n`,
  );
  const run = await runMain(
    ["--config", files.configPath, "--network", "testnet", "--data-dir=flagdir", "--check-config"],
    files.dir,
  );
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /network +testnet\n/);
  assert.match(run.stdout, /node RPC +http:\/\/127\.0\.0\.1:18332 /, "testnet's RPC port");
  assert.match(run.stdout, new RegExp(`data dir +${join(files.dir, "flagdir")}$`, "m"));
  assert.match(run.stdout, /JSON API on/);
});

Deno.test("cli: goPool's single-dash -no-json is accepted, as is --no-json", async () => {
  await using files = await tempConfig("");
  for (const flag of ["-no-json", "--no-json", "-no-json=true"]) {
    const run = await runMain(["-config", files.configPath, flag, "-check-config"]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /JSON API off/, flag);
  }
});

Deno.test("cli: --help and --version", async () => {
  const help = await runMain(["--help"]);
  assert.equal(help.code, 0);
  for (
    const flag of [
      "--config",
      "--secrets",
      "--data-dir",
      "--network",
      "--no-json",
      "--check-config",
      "--version",
    ]
  ) {
    assert.ok(help.stdout.includes(flag), flag);
  }
  const version = await runMain(["--version"]);
  assert.equal(version.code, 0);
  assert.equal(version.stdout, `denopool ${denoJson.version}\n`);
});

Deno.test("cli: bad flags are refused with one line and exit code 2", async () => {
  assertRefused(
    await runMain(["--confg", "x.toml"]),
    /unknown flag --confg \(did you mean --config\?\)$/,
  );
  assertRefused(
    await runMain(["--network", "mainet"]),
    /--network: expected one of mainnet, .*found "mainet"$/,
  );
  assertRefused(await runMain(["--config"]), /--config needs a value/);
  assertRefused(await runMain(["serve"]), /unexpected argument "serve"/);
});

Deno.test("cli: each kind of bad config is one line on stderr and exit code 2", async () => {
  const cases: [string, RegExp][] = [
    [
      `[stratum]\nmax_line_byte = 1`,
      /config\.toml: stratum\.max_line_byte: unknown key; did you mean stratum\.max_line_bytes\?$/,
    ],
    [
      `[stratum]\nmax_line_bytes = "lots"`,
      /config\.toml: stratum\.max_line_bytes: expected an integer from 1024 to 1048576, found "lots"$/,
    ],
    [
      `[stratum]\nmax_line_bytes = 99`,
      /config\.toml: stratum\.max_line_bytes: expected an integer from 1024 to 1048576, found 99$/,
    ],
    [
      `[mining]\npool_fee_percent = 1\npayout_address = "1notanaddress"`,
      /config\.toml: mining\.payout_address: expected a valid mainnet address, found "1notanaddress" \(.+\)$/,
    ],
    [
      `[node]\nnetwork = "testnet"\n[mining]\ndonation_percent = 5\ndonation_address = "${MAINNET_ADDRESS}"`,
      /config\.toml: mining\.donation_address: expected a valid testnet address, found "bc1q\w+" \(address is for mainnet/,
    ],
    [
      `[mining]\npool_fee_percent = 1`,
      /config\.toml: mining\.payout_address: expected a mainnet address \(required when mining\.pool_fee_percent > 0\), found nothing$/,
    ],
    [`[stratum\nlisten = ":3333"`, /config\.toml:1:\d+: malformed TOML: /],
  ];
  for (const [toml, pattern] of cases) {
    await using files = await tempConfig(toml);
    assertRefused(await runMain(["--config", files.configPath, "--check-config"]), pattern);
  }
});

Deno.test("cli: an unreadable or missing config file is refused", async () => {
  await using files = await tempConfig("");
  assertRefused(
    await runMain(["--config", join(files.dir, "absent.toml"), "--check-config"]),
    /absent\.toml: cannot read: file not found$/,
  );
  assertRefused(
    await runMain(["--config", files.dir, "--check-config"]),
    /cannot read: is a directory, not a file$/,
  );
  assertRefused(
    await runMain(["--config", files.configPath, "--secrets", join(files.dir, "s.toml")]),
    /s\.toml: cannot read: file not found$/,
  );
});

Deno.test("cli: a secrets.toml readable by others gets a warning, the run goes on", async () => {
  await using exposed = await tempConfig("", `rpc_user = "u"\nrpc_password = "p"\n`, 0o640);
  const run = await runMain(["--config", exposed.configPath, "--check-config"]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stderr,
    /^warning: .*secrets\.toml: secrets are readable by group or others \(mode 0640\); run: chmod 600 /,
  );
  assert.match(run.stdout, /user "u" from secrets/);
  assert.doesNotMatch(run.stdout + run.stderr, /"p"/, "the password is never printed");

  await using privateFiles = await tempConfig("", `rpc_user = "u"\nrpc_password = "p"\n`, 0o600);
  const quiet = await runMain(["--config", privateFiles.configPath, "--check-config"]);
  assert.equal(quiet.code, 0);
  assert.equal(quiet.stderr, "");
});

Deno.test("parseArgs: defaults, both flag spellings, repeated flags", () => {
  const none = parseArgs([]);
  assert.equal(none.configPath, "./config.toml");
  assert.equal(none.configGiven, false);
  assert.equal(none.secretsPath, undefined);
  assert.equal(none.noJson, false);
  const all = parseArgs([
    "-config=a.toml",
    "--secrets",
    "s.toml",
    "--data-dir",
    "d",
    "-network",
    "signet",
    "-no-json",
    "--check-config",
  ]);
  assert.deepEqual(all, {
    configPath: "a.toml",
    configGiven: true,
    secretsPath: "s.toml",
    dataDir: "d",
    network: "signet",
    noJson: true,
    checkConfig: true,
    help: false,
    version: false,
  });
  assert.equal(parseArgs(["-h"]).help, true);
  assert.equal(parseArgs(["--no-json", "--no-json=false"]).noJson, false);
  assert.throws(() => parseArgs(["--config", "a", "--config", "b"]), UsageError);
  assert.throws(() => parseArgs(["--no-json=yes"]), UsageError);
  assert.throws(() => parseArgs(["--data-dir="]), UsageError);
});
