/**
 * `deno task demo`: the pool's main job on one machine with nothing installed. Starts an
 * in-process regtest node (bcoin), the pool on a demo config (Stratum 127.0.0.1:3333, status
 * 127.0.0.1:8080) and the built-in CPU miner against it. Blocks are found within seconds; Ctrl-C
 * stops all of it cleanly. Outside miners may join, e.g.
 * `minerd -a sha256d -o stratum+tcp://127.0.0.1:3333 -u <regtest address>.rig1 -p x`.
 *
 * The admin panel runs too, on `--admin-port N` (8081), with a password made up for this run and
 * printed at start.
 *
 * Flags: `--stratum-port N` (3333), `--status-port N` (8080), `--threads N` (1),
 * `--duration S` (run S seconds, then stop; default until Ctrl-C), `--data-dir PATH` (./data/demo).
 *
 * @module
 */

import { hashPassword } from "../lib/admin/password.ts";
import { parseArgs } from "node:util";
import { stringify } from "smol-toml";
import { startRegtestNode } from "../tests/helpers/regtest.ts";
import { loadConfig } from "../lib/config/load.ts";
import { startPool } from "../app/pool.ts";
import { encodeSegwitAddress } from "../lib/bitcoin/bech32.ts";
import { sha256 } from "../lib/bitcoin/sha256.ts";
import { formatProgress, runMiner } from "./miner.ts";

/** A fixed, recognisable regtest address (P2WPKH of a made-up key hash) for a demo role. */
function demoAddress(role: string): string {
  return encodeSegwitAddress("bcrt", 0, sha256(new TextEncoder().encode(role)).subarray(0, 20));
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      "stratum-port": { type: "string", default: "3333" },
      "status-port": { type: "string", default: "8080" },
      "admin-port": { type: "string", default: "8081" },
      threads: { type: "string", default: "1" },
      duration: { type: "string" },
      "data-dir": { type: "string", default: "./data/demo" },
    },
    strict: true,
  });
  const dataDir = values["data-dir"]!;
  const say = (line: string) => console.log(`demo: ${line}`);

  say("starting a regtest node (bcoin, in memory)…");
  const node = await startRegtestNode();
  // The chain is new on every run, so blocks journaled by an earlier demo are of no use.
  await Deno.remove(`${dataDir}/blocks`, { recursive: true }).catch(() => {});
  await Deno.mkdir(dataDir, { recursive: true });
  const minerAddress = demoAddress("denopool demo miner");
  const configPath = `${dataDir}/config.toml`;
  const secretsPath = `${dataDir}/secrets.toml`;
  await Deno.writeTextFile(
    configPath,
    stringify({
      server: { data_dir: ".", status_listen: `127.0.0.1:${values["status-port"]}` },
      stratum: { listen: `127.0.0.1:${values["stratum-port"]}` },
      node: {
        network: "regtest",
        rpc_url: node.rpcUrl,
        zmq_hashblock: "",
        zmq_rawblock: "",
      },
      mining: {
        payout_address: demoAddress("denopool demo pool"),
        pool_fee_percent: 1,
        pool_tag: "/denopool-demo/",
      },
      // A CPU miner makes a few MH/s at best: start tiny and let vardiff find ~15 shares/min.
      difficulty: { start: 0.00002, min: 0.000001 },
      admin: { enabled: true, listen: `127.0.0.1:${values["admin-port"]}` },
    }),
  );
  // A password for this run only: 12 random bytes, base64url.
  const adminPassword = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(12))))
    .replace(/\+/g, "-").replace(/\//g, "_");
  await Deno.writeTextFile(
    secretsPath,
    stringify({
      rpc_user: "denopool",
      rpc_password: node.apiKey,
      admin_password_hash: await hashPassword(adminPassword),
    }),
  );
  await Deno.chmod(secretsPath, 0o600);
  const config = await loadConfig({ configPath, secretsPath });
  const pool = await startPool(config, { log: (m) => say(m) });

  const stratumUrl = `stratum+tcp://127.0.0.1:${pool.stratum.port}`;
  say(`regtest node RPC   ${node.rpcUrl}`);
  say(`pool Stratum       ${stratumUrl}`);
  say(
    `pool status/API    http://${config.server.statusListen}/  (try: curl -sS ` +
      `http://${config.server.statusListen}/api/overview | jq .)`,
  );
  const adminAt = pool.admin?.address;
  if (adminAt) {
    say(
      `admin panel        http://${adminAt.hostname}:${adminAt.port}/admin  (password: ${adminPassword})`,
    );
  }
  say(`built-in miner     ${values.threads} thread(s) paying ${minerAddress}.demo`);
  say(
    `join with your own miner: minerd -a sha256d -o ${stratumUrl} -u <regtest address>.rig1 -p x`,
  );
  say("Ctrl-C stops everything.");

  const stop = new AbortController();
  const onSignal = () => stop.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const duration = values.duration ? Number(values.duration) : undefined;
  const isTty = Deno.stdout.isTerminal();
  const stats = await runMiner({
    url: stratumUrl,
    user: `${minerAddress}.demo`,
    threads: Number(values.threads),
    durationSeconds: duration,
    signal: stop.signal,
    onProgress: (s) => {
      const line = `miner: ${formatProgress(s)}`;
      if (isTty) Deno.stdout.writeSync(new TextEncoder().encode(`\r${line}\x1b[K`));
    },
    log: (line) => {
      if (isTty) Deno.stdout.writeSync(new TextEncoder().encode("\r\x1b[K"));
      say(`miner: ${line}`);
    },
  });
  if (isTty) console.log();
  Deno.removeSignalListener("SIGINT", onSignal);
  Deno.removeSignalListener("SIGTERM", onSignal);

  const height = await node.height();
  // Count what the node's main chain holds: two blocks found at once at one height both reach
  // the node, but only one of them can stay.
  let accepted = 0;
  for (const r of pool.blocks.records()) {
    if (r.status !== "accepted") continue;
    if (await node.rpc<string>("getblockhash", [r.height]).catch(() => "") === r.hash) accepted++;
  }
  say(
    `stopping: miner sent ${stats.accepted} accepted / ${stats.rejected} rejected shares; ` +
      `the pool found ${accepted} block(s); node height ${height}`,
  );
  await pool.stop("Demo stopping; bye.");
  await node.stop();
  say("stopped cleanly");
  return accepted > 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());
