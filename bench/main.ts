/**
 * `deno task bench <load|hash|api|fanout|newtip|status|sockets|soak|rest|sv2|all> [flags]`: runs a benchmark, prints its figures and writes a
 * JSON report (`--json PATH`, default `artifacts/bench/<bench>-<time>.json`). Every run is bounded
 * and stops by itself; everything listens on loopback.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { runLoad } from "./load.ts";
import { runHash } from "./hash.ts";
import { runApi } from "./api.ts";
import { runFanout } from "./fanout.ts";
import { runNewTip } from "./newtip.ts";
import { runStatus } from "./status.ts";
import { runSockets } from "./sockets.ts";
import { runSoak } from "./soak.ts";
import { runRest } from "./rest.ts";
import { runSv2Bench } from "./sv2.ts";
import { defaultReportPath, makeReport, writeReport } from "./stats.ts";

const USAGE =
  `usage: deno task bench <load|hash|api|fanout|newtip|status|sockets|soak|rest|sv2|all> [flags]

load   Stratum miners against a pool (ours on a regtest node, or --url)
  --connections N      connections to open (1000)
  --ramp N             connections opened per second (2000)
  --rate R[,R...]      aggregate submits/s, one phase each (5000,20000)
  --inflight N         instead of rates: every miner keeps N submits unanswered (pipelining)
  --max-in-flight N    our pool's stratum.max_shares_in_flight (default 20000)
  --duration S         seconds per phase (10)
  --drain S            seconds to wait for late answers (5)
  --blocks N           new-block fan-out rounds, own pool only (3)
  --version-rolling    negotiate BIP310 version rolling and roll bits
  --generators N       generator processes (1 per 4000 connections)
  --difficulty D       share difficulty of our pool (1e-10: every hash is a share)
  --hash-workers N     share worker threads of our pool (0 = one per core)
  --hash-backend B     auto | ts | webcrypto (auto)
  --url HOST:PORT      a running pool instead of our own (needs --address)
  --address A          payout address for the workers
  --pid N              pid of the pool at --url, for its RSS and CPU
hash   share checks in process (TS vs WebCrypto, single vs batched, worker pool; CPU µs/check)
  --seconds S          seconds per measurement (1)
  --workers N          worker pool size (one per core)
api    HTTP requests/s and latency on /api/overview and /api/pool-hashrate
  --seconds S          seconds per endpoint and concurrency (3)
  --concurrency C[,C]  requests in flight (1,32)
  --miners N           idle miners connected meanwhile (100)
fanout new-block fan-out alone: server in process, miners in a child process
  --connections N      miners (1000)
  --blocks N           new blocks (10)
  --addresses N        distinct payout addresses among the miners (1)
  --steps N            merkle branch steps of the job (12)
newtip node event (ZMQ rawblock) → clean notify at every miner: pool with empty-first work,
       pool without it, and the harness floor; a real regtest node behind a slow-GBT proxy
  --miners N[,N]       miner counts, one set of rounds each (1000,8000,10000)
  --blocks N           new blocks per mode and count (5)
  --gbt-ms MS          getblocktemplate answer delay (300)
  --addresses N        distinct payout addresses among the miners (100)
  --big                also 2 rounds with a 2,000-transaction template (first count only)
status status snapshot rebuilds (/api/overview, /api/pool-page) over synthetic workers, in process
  --workers N[,N]      registered workers, one measurement each (1000,8000)
  --runs N             timed rebuilds after the first (30)
sockets  Deno's own memory per idle TCP connection (bare server, no pool code)
  --connections N      connections held (8000)
sv2    Stratum V2 encryption in process: responder handshakes/s, encrypted frames/s
  --seconds S          seconds per measurement (2)
rest   the pool at rest (main.ts, default config, regtest node up, no miner): RSS and its parts
  --seconds S          settle time before measuring (10)
soak   workers come and go (a new set each round); the pool's memory after each round and idle
  --rounds N           rounds, each with new workers (10)
  --connections N      workers per round (1000)
  --rate R             submits/s during a round (20000)
  --duration S         seconds of load per round (30)
  --idle S             seconds idle after the last round (60)
  --hash-workers N     share worker threads of our pool (0 = one per core)
all    hash, api and load with their defaults
common
  --json PATH          report path (artifacts/bench/<bench>-<time>.json)
`;

function numberList(text: string): number[] {
  return text.split(",").map((s) => {
    const n = Number(s.trim());
    if (!Number.isFinite(n) || n <= 0) throw new Error(`not a positive number: ${s}`);
    return n;
  });
}

function positive(text: string | undefined, fallback: number, name: string): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: not a number: ${text}`);
  return n;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      connections: { type: "string" },
      ramp: { type: "string" },
      rate: { type: "string" },
      duration: { type: "string" },
      drain: { type: "string" },
      blocks: { type: "string" },
      "version-rolling": { type: "boolean", default: false },
      generators: { type: "string" },
      difficulty: { type: "string" },
      "hash-workers": { type: "string" },
      "hash-backend": { type: "string" },
      url: { type: "string" },
      address: { type: "string" },
      pid: { type: "string" },
      "gbt-ms": { type: "string" },
      big: { type: "boolean", default: false },
      seconds: { type: "string" },
      workers: { type: "string" },
      runs: { type: "string" },
      concurrency: { type: "string" },
      miners: { type: "string" },
      addresses: { type: "string" },
      steps: { type: "string" },
      rounds: { type: "string" },
      inflight: { type: "string" },
      "max-in-flight": { type: "string" },
      idle: { type: "string" },
      json: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const which = positionals[0];
  if (
    values.help || which === undefined ||
    !["load", "hash", "api", "fanout", "newtip", "status", "sockets", "soak", "rest", "sv2", "all"]
      .includes(which)
  ) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const command = `deno task bench ${Deno.args.join(" ")}`;
  const log = (line: string) => console.log(line);
  const results: Record<string, unknown> = {};

  if (which === "hash" || which === "all") {
    results.hash = await runHash({
      seconds: positive(values.seconds, 1, "seconds"),
      workers: values.workers === undefined ? undefined : positive(values.workers, 0, "workers"),
      log,
    });
  }
  if (which === "api" || which === "all") {
    results.api = await runApi({
      seconds: positive(values.seconds, 3, "seconds"),
      concurrency: numberList(values.concurrency ?? "1,32"),
      miners: positive(values.miners, 100, "miners"),
      log,
    });
  }
  if (which === "fanout") {
    results.fanout = await runFanout({
      connections: positive(values.connections, 1000, "connections"),
      blocks: positive(values.blocks, 10, "blocks"),
      addresses: positive(values.addresses, 1, "addresses"),
      steps: positive(values.steps, 12, "steps"),
      log,
    });
  }
  if (which === "newtip") {
    results.newtip = await runNewTip({
      miners: numberList(values.miners ?? "1000,8000,10000"),
      blocks: positive(values.blocks, 5, "blocks"),
      gbtMs: positive(values["gbt-ms"], 300, "gbt-ms"),
      addresses: positive(values.addresses, 100, "addresses"),
      big: values.big,
      log,
    });
  }
  if (which === "status") {
    results.status = runStatus({
      workers: numberList(values.workers ?? "1000,8000"),
      runs: positive(values.runs, 30, "runs"),
      log,
    });
  }
  if (which === "sockets") {
    results.sockets = await runSockets({
      connections: positive(values.connections, 8000, "connections"),
      log,
    });
  }
  if (which === "sv2") {
    results.sv2 = runSv2Bench({ seconds: positive(values.seconds, 2, "seconds"), log });
  }
  if (which === "rest") {
    results.rest = await runRest({ settleSeconds: positive(values.seconds, 10, "seconds"), log });
  }
  if (which === "soak") {
    results.soak = await runSoak({
      rounds: positive(values.rounds, 10, "rounds"),
      connections: positive(values.connections, 1000, "connections"),
      rate: positive(values.rate, 20000, "rate"),
      durationSeconds: positive(values.duration, 30, "duration"),
      idleSeconds: positive(values.idle, 60, "idle"),
      hashWorkers: positive(values["hash-workers"], 0, "hash-workers"),
      log,
    });
  }
  if (which === "load" || which === "all") {
    const backend = values["hash-backend"] ?? "auto";
    if (backend !== "auto" && backend !== "ts" && backend !== "webcrypto") {
      throw new Error(`--hash-backend: auto, ts or webcrypto, not ${backend}`);
    }
    results.load = await runLoad({
      url: values.url,
      pid: values.pid === undefined ? undefined : positive(values.pid, 0, "pid"),
      address: values.address,
      connections: positive(values.connections, 1000, "connections"),
      rampPerSecond: positive(values.ramp, 2000, "ramp"),
      rates: numberList(values.rate ?? "5000,20000"),
      inflight: positive(values.inflight, 0, "inflight"),
      maxSharesInFlight: positive(values["max-in-flight"], 0, "max-in-flight") || undefined,
      durationSeconds: positive(values.duration, 10, "duration"),
      drainSeconds: positive(values.drain, 5, "drain"),
      blocks: positive(values.blocks, 3, "blocks"),
      versionRolling: values["version-rolling"],
      generators: values.generators === undefined
        ? undefined
        : positive(values.generators, 1, "generators"),
      shareDifficulty: positive(values.difficulty, 1e-10, "difficulty"),
      hashWorkers: positive(values["hash-workers"], 0, "hash-workers"),
      hashBackend: backend,
      log,
    });
  }
  const name = which;
  const path = await writeReport(
    values.json ?? defaultReportPath(name),
    makeReport(name, command, which === "all" ? results : results[which]),
  );
  console.log(`report: ${path}`);
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    Deno.exit(1);
  }
}
