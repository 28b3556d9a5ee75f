/**
 * `deno task install [--config PATH] [--secrets PATH]`: checks that this machine can run the pool
 * with that configuration, and says what to do next. Each check prints one line (`ok`, `FAIL` or
 * `note`); the exit code is 0 when none failed, 1 otherwise, 2 for a configuration that does not
 * load.
 *
 * Checks: the Deno version, the configuration (the same loader `deno task start` uses), the data
 * directory (writable), the node (RPC answers `getblockchaininfo`, on the configured network, not
 * in initial block download), and every listener of the config (the address is free to bind).
 *
 * @module
 */

import { runCli } from "../lib/config/cli.ts";
import { type Config, parseHostPort } from "../lib/config/mod.ts";
import { NETWORKS } from "../lib/bitcoin/mod.ts";
import { defaultCookiePath, RpcClient } from "../lib/node/mod.ts";

/** Oldest Deno the project is tested on. */
export const MIN_DENO = [2, 9, 0] as const;

/** One check's outcome. */
export interface CheckLine {
  /** `ok`, `FAIL` or `note`. */
  readonly status: "ok" | "FAIL" | "note";
  /** What was checked and what was found. */
  readonly text: string;
}

/** True when `version` ("2.9.6") is at least `min`. */
export function versionAtLeast(version: string, min: readonly number[]): boolean {
  const parts = version.split(/[.-]/).slice(0, 3).map((p) => Number(p));
  for (let i = 0; i < min.length; i++) {
    const v = parts[i] ?? 0;
    if (!Number.isFinite(v)) return false;
    if (v !== min[i]) return v > min[i];
  }
  return true;
}

/** The listeners a config opens: `[key, "host:port"]`, the ones switched off left out. */
export function listenersOf(config: Config): [string, string][] {
  const all: [string, string][] = [
    ["stratum.listen", config.stratum.listen],
    ["stratum.tls_listen", config.stratum.tlsListen],
    ["server.status_listen", config.server.statusListen],
    ["server.status_tls_listen", config.server.statusTlsListen],
    ["server.metrics_listen", config.server.metricsListen],
    ["admin.listen", config.admin.enabled ? config.admin.listen : ""],
  ];
  return all.filter(([, address]) => address !== "");
}

/** Whether `address` can be bound now (it is free), and the error when not. */
function tryBind(address: string): string | undefined {
  const hp = parseHostPort(address);
  if (hp === undefined) return "not host:port";
  try {
    const listener = Deno.listen({ hostname: hp.hostname, port: hp.port, transport: "tcp" });
    listener.close();
    return undefined;
  } catch (error) {
    return error instanceof Deno.errors.AddrInUse
      ? "in use (another pool or program listens there)"
      : error instanceof Error
      ? error.message
      : String(error);
  }
}

/** Runs every check on `config`. */
export async function checkMachine(config: Config): Promise<CheckLine[]> {
  const lines: CheckLine[] = [];
  const ok = (text: string) => lines.push({ status: "ok", text });
  const fail = (text: string) => lines.push({ status: "FAIL", text });
  const note = (text: string) => lines.push({ status: "note", text });

  if (versionAtLeast(Deno.version.deno, MIN_DENO)) ok(`Deno ${Deno.version.deno}`);
  else fail(`Deno ${Deno.version.deno}: needs ${MIN_DENO.join(".")} or later`);
  if (Deno.build.os !== "linux") {
    note(`${Deno.build.os}: the pool runs here, but it is tested on Linux only`);
  }

  const dataDir = config.server.dataDir;
  try {
    await Deno.mkdir(dataDir, { recursive: true });
    const probe = `${dataDir}/.install-check-${Deno.pid}`;
    await Deno.writeTextFile(probe, "ok");
    await Deno.remove(probe);
    ok(`data dir ${dataDir} is writable`);
  } catch (error) {
    fail(`data dir ${dataDir}: ${error instanceof Error ? error.message : error}`);
  }

  const network = NETWORKS[config.node.network];
  const hasPassword = config.secrets.rpcUser !== "" && config.secrets.rpcPassword !== "";
  const cookieFile = config.node.rpcCookiePath ||
    defaultCookiePath({ cookieSubdir: network.cookieSubdir });
  const rpc = new RpcClient({
    url: config.node.rpcUrl,
    timeoutMs: Math.min(10_000, config.node.rpcTimeoutSeconds * 1000),
    ...(hasPassword
      ? { user: config.secrets.rpcUser, password: config.secrets.rpcPassword }
      : { cookieFile }),
  });
  try {
    const info = await rpc.call<{ chain: string; blocks: number; initialblockdownload?: boolean }>(
      "getblockchaininfo",
      [],
    );
    const expected = network.chain;
    if (info.chain !== expected) {
      fail(`node at ${config.node.rpcUrl} is on ${info.chain}, the config says ${expected}`);
    } else if (info.initialblockdownload) {
      note(`node at ${config.node.rpcUrl}: ${info.chain}, still syncing (height ${info.blocks})`);
    } else {
      ok(`node at ${config.node.rpcUrl}: ${info.chain}, height ${info.blocks}`);
    }
  } catch (error) {
    const how = hasPassword ? "rpc_user/rpc_password from secrets.toml" : `cookie ${cookieFile}`;
    fail(
      `node at ${config.node.rpcUrl} (${how}): ${error instanceof Error ? error.message : error}`,
    );
  }
  rpc.close();
  if (config.node.zmqHashblock === "" && config.node.zmqRawblock === "") {
    note("no ZMQ: new blocks are seen by longpoll and polling only (slower to the new tip)");
  }

  for (const [key, address] of listenersOf(config)) {
    const problem = tryBind(address);
    if (problem === undefined) ok(`${key} ${address} is free`);
    else fail(`${key} ${address}: ${problem}`);
  }
  return lines;
}

/** What to do next, after the checks. */
export function nextSteps(configPath: string, failed: boolean): string {
  if (failed) return "Fix the FAIL lines above, then run `deno task install` again.";
  return [
    "Ready. Next:",
    `  deno task start --config ${configPath}          # run it now`,
    "  # or as a systemd service: the steps are at the top of packaging/systemd/denopool.service",
    "  sudo cp packaging/systemd/denopool.service /etc/systemd/system/",
    "  sudo systemctl daemon-reload && sudo systemctl enable --now denopool",
    "  journalctl -u denopool -f",
  ].join("\n");
}

if (import.meta.main) {
  const outcome = await runCli(Deno.args);
  if (outcome.kind === "exit") Deno.exit(outcome.code);
  const lines = await checkMachine(outcome.config);
  for (const l of lines) console.log(`${l.status.padEnd(4)}  ${l.text}`);
  const failed = lines.some((l) => l.status === "FAIL");
  console.log("");
  console.log(nextSteps(outcome.options.configPath, failed));
  Deno.exit(failed ? 1 : 0);
}
