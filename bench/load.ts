/**
 * `deno task bench load`: many Stratum miners against a pool, in separate processes.
 *
 * Processes: this one (the orchestrator, and the bcoin regtest node when the pool is our own), the
 * pool (`bench/load_pool.ts`, started here unless `--url` names a running one) and one or more
 * generators (`bench/load_generator.ts`, at most `MAX_CONNECTIONS_PER_GENERATOR` connections each,
 * so every process stays far under the 20,000 open-files limit).
 *
 * Phases: start → baseline RSS → ramp the connections up → idle RSS (→ per idle connection) →
 * new-block fan-out rounds (mine a block on the node; time from the node's answer to the first and
 * to the last connection's clean `mining.notify`) → one load phase per rate (shares at that
 * aggregate rate for the duration; answers, latency, rejects by reason, pool CPU) → stop.
 *
 * Shares: every submit is well-formed (current job, its ntime, a nonce counting up per
 * connection, version bits within the negotiated mask) and unique. With our own pool the network
 * target is rewritten to difficulty 1 (see `load_pool.ts`) and the share difficulty is 1e-10
 * (≤ 2^-32), so every share is hashed by the worker pool and accepted, and none is a block.
 *
 * @module
 */

import { stringify } from "smol-toml";
import { base58CheckEncode } from "../lib/bitcoin/base58.ts";
import { NETWORKS } from "../lib/bitcoin/networks.ts";
import { type RegtestNode, startRegtestNode } from "../tests/helpers/regtest.ts";
import { JsonLineChild } from "./child.ts";
import type { GeneratorEvent, GeneratorSettings } from "./load_generator.ts";
import type { PoolEvent } from "./load_pool.ts";
import {
  CpuSampler,
  epochMs,
  LatencyHistogram,
  type LatencySummary,
  processCpuMs,
  processRssBytes,
  round,
  roundSummary,
} from "./stats.ts";

/** Most connections one generator process holds. */
export const MAX_CONNECTIONS_PER_GENERATOR = 4000;

/** Settings of a load run. */
export interface LoadOptions {
  /** `host:port` (or `stratum+tcp://host:port`) of a running pool; default: start our own. */
  readonly url?: string;
  /** Process id of the pool at `url`, to read its RSS and CPU (optional). */
  readonly pid?: number;
  /** Payout address for the workers (required with `url`; ours uses the node's). */
  readonly address?: string;
  /** Connections to open. */
  readonly connections: number;
  /** Connections opened per second, all generators together. */
  readonly rampPerSecond: number;
  /** Aggregate submit rates, one load phase each. */
  readonly rates: readonly number[];
  /**
   * Closed loop instead of rates: every miner keeps this many submits unanswered (one phase;
   * `rates` is then ignored). 0 or absent: rates.
   */
  readonly inflight?: number;
  /** Our pool's `stratum.max_shares_in_flight` (default: the pool's default). */
  readonly maxSharesInFlight?: number;
  /** Length of each load phase, seconds. */
  readonly durationSeconds: number;
  /** Wait for late answers after a phase, seconds. */
  readonly drainSeconds: number;
  /** Negotiate version rolling. */
  readonly versionRolling: boolean;
  /** Generator processes (default: enough for `MAX_CONNECTIONS_PER_GENERATOR` each). */
  readonly generators?: number;
  /** New-block fan-out rounds (our own pool only). */
  readonly blocks: number;
  /** Share difficulty of our pool (default 1e-10: every hash is a share). */
  readonly shareDifficulty: number;
  /** Share worker threads of our pool (0 = one per core). */
  readonly hashWorkers: number;
  /** Hash backend of our pool. */
  readonly hashBackend: "auto" | "ts" | "webcrypto";
  /** Progress lines. */
  readonly log: (line: string) => void;
}

/** One new-block fan-out round. */
export interface FanoutRound {
  /** Height of the block mined. */
  readonly height: number;
  /** How long the node took to answer `generatetoaddress` (the tip moved within it). */
  readonly mineRpcMs: number;
  /** Node's answer → the pool built the clean job. */
  readonly toPoolJobMs: number | undefined;
  /** Node's answer → first connection's clean notify. */
  readonly toFirstMs: number;
  /** Node's answer → last connection's clean notify. */
  readonly toLastMs: number;
  /** Connections notified / connections held. */
  readonly notified: number;
  /** Connections held when the block was mined. */
  readonly of: number;
  /**
   * Pool CPU time from the block to the last notify, per connection notified, µs (10 ms clock
   * ticks: coarse for small rounds). Unlike the wall-clock figures it does not grow when other
   * work on the machine takes the CPU away.
   */
  readonly poolCpuMicrosPerNotify: number | undefined;
}

/** One load phase. */
export interface LoadPhase {
  /** Offered aggregate rate, submits/s. */
  readonly offeredRate: number;
  /** Submits sent. */
  readonly sent: number;
  /** Answers received in the phase window, per second. */
  readonly answeredPerSecond: number;
  /** Answers received in all (window + drain). */
  readonly answered: number;
  /** Submits never answered. */
  readonly unanswered: number;
  /** Accepted shares. */
  readonly accepted: number;
  /** Rejected shares by "code message". */
  readonly rejected: Record<string, number>;
  /** Submit → answer latency, ms. */
  readonly latency: LatencySummary;
  /** Connections still open at the end of the phase. */
  readonly held: number;
  /** Pool CPU in the window, % of one core (when the pool's pid is known). */
  readonly poolCpuPercent: number | undefined;
  /**
   * Pool CPU time per answered share, µs (window + drain): the cost of a share whatever else
   * the machine is doing; 2 cores / this = the pool's ceiling on this machine when idle.
   */
  readonly poolCpuMicrosPerShare: number | undefined;
  /** Shares per batch message to the hash workers (own pool): how well the pool batches. */
  readonly sharesPerBatch: number | undefined;
  /** Each generator's own CPU, % of one core (a saturated generator would skew the figures). */
  readonly generatorCpuPercent: readonly number[];
  /** Longest gap between generator ticks, ms (scheduling stalls show here). */
  readonly generatorLagMaxMs: number;
  /** Pool RSS at the end of the phase, MiB. */
  readonly poolRssMiB: number | undefined;
  /** Highest pool RSS sampled during the phase (every 200 ms), MiB. */
  readonly poolPeakRssMiB: number | undefined;
}

/** Everything a load run measured. */
export interface LoadResults {
  /** The settings used. */
  readonly settings: Omit<LoadOptions, "log">;
  /** Pool hash backend (our own pool). */
  readonly hashBackend: string | undefined;
  /** Connections asked for. */
  readonly connectionsAsked: number;
  /** Connections that got work. */
  readonly connectionsHeld: number;
  /** Connection failures by reason. */
  readonly connectErrors: Record<string, number>;
  /** Time to open all connections, ms. */
  readonly rampMs: number;
  /** Pool RSS before any connection, MiB. */
  readonly baselineRssMiB: number | undefined;
  /** Pool RSS with every connection idle, MiB. */
  readonly idleRssMiB: number | undefined;
  /** (idle − baseline) / connections, KiB. */
  readonly rssPerIdleConnectionKiB: number | undefined;
  /** Of that, JS heap and external (ArrayBuffer) memory per connection, KiB (own pool). */
  readonly heapPerIdleConnection: { heapUsedKiB: number; externalKiB: number } | undefined;
  /** Fan-out rounds. */
  readonly fanout: readonly FanoutRound[];
  /** Load phases. */
  readonly phases: readonly LoadPhase[];
}

type PoolChild = JsonLineChild<PoolEvent>;
type GeneratorChild = JsonLineChild<GeneratorEvent>;

const here = new URL(".", import.meta.url);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function parseUrl(url: string): { host: string; port: number } {
  const match = /^(?:stratum\+tcp:\/\/)?\[?([^\]]+?)\]?:(\d+)\/?$/.exec(url);
  if (match === null) throw new Error(`--url: expected host:port, got ${url}`);
  return { host: match[1], port: Number(match[2]) };
}

/**
 * A Bitcoin Core regtest P2PKH address for a made-up key hash (bcoin's own regtest addresses use
 * other version bytes, which the pool rightly refuses for Core's regtest).
 */
function coreRegtestAddress(): string {
  const payload = new Uint8Array(21).fill(0x42);
  payload[0] = NETWORKS.regtest.p2pkhVersion;
  return base58CheckEncode(payload);
}

/** Runs a load benchmark and returns its figures. Stops every process it started. */
export async function runLoad(options: LoadOptions): Promise<LoadResults> {
  const log = options.log;
  const cleanups: (() => Promise<void>)[] = [];
  try {
    let host: string, port: number, address: string;
    let pool: PoolChild | undefined;
    let node: RegtestNode | undefined;
    let poolPid = options.pid;
    let hashBackend: string | undefined;
    if (options.url !== undefined) {
      ({ host, port } = parseUrl(options.url));
      if (options.address === undefined) throw new Error("--address is required with --url");
      address = options.address;
    } else {
      const own = await startBenchPool(options);
      cleanups.push(() => own.stop());
      node = own.node;
      pool = own.pool;
      address = options.address ?? own.address;
      host = "127.0.0.1";
      port = own.ready.port;
      poolPid = own.ready.pid;
      hashBackend = own.ready.backend;
      const ready = own.ready;
      log(`pool pid ${ready.pid} on port ${port}, hash backend ${ready.backend}`);
    }

    const heap: { heapUsed: number; external: number }[] = [];
    const memory = async (): Promise<number | undefined> => {
      if (pool !== undefined) {
        await pool.send({ cmd: "mem" });
        const m = await pool.next("mem", 30_000);
        heap.push(m);
        return m.rss;
      }
      return poolPid === undefined ? undefined : processRssBytes(poolPid);
    };
    /** The pool's share checks and worker batches so far (own pool only). */
    const poolBatchCounts = async (): Promise<{ checks: number; batches: number } | undefined> => {
      if (pool === undefined) return undefined;
      await pool.send({ cmd: "stats" });
      const s = await pool.next("stats", 30_000);
      return { checks: s.checksDone, batches: s.batchesSent };
    };
    await sleep(500);
    const baseline = await memory();

    // Connections.
    const generatorCount = Math.max(
      1,
      options.generators ?? Math.ceil(options.connections / MAX_CONNECTIONS_PER_GENERATOR),
    );
    const generators: GeneratorChild[] = [];
    for (let g = 0; g < generatorCount; g++) {
      const share = Math.floor(options.connections / generatorCount) +
        (g < options.connections % generatorCount ? 1 : 0);
      const settings: GeneratorSettings = {
        index: g,
        host,
        port,
        connections: share,
        rampPerSecond: options.rampPerSecond / generatorCount,
        address,
        versionRolling: options.versionRolling,
        readyTimeoutMs: 30_000,
      };
      const child = startGenerator(settings);
      generators.push(child);
      cleanups.unshift(async () => {
        await child.send({ cmd: "stop" }).catch(() => {});
        await Promise.race([child.status, sleep(5000)]);
        await child.kill();
      });
    }
    log(`opening ${options.connections} connections from ${generatorCount} generator(s)`);
    const rampBudget = 60_000 + (options.connections / options.rampPerSecond) * 2000;
    const connected = await Promise.all(generators.map((g) => g.next("connected", rampBudget)));
    const held = connected.reduce((n, c) => n + c.ready, 0);
    const connectErrors: Record<string, number> = {};
    for (const c of connected) {
      for (const [k, v] of Object.entries(c.errors)) connectErrors[k] = (connectErrors[k] ?? 0) + v;
    }
    const rampMs = Math.max(...connected.map((c) => c.rampMs));
    log(
      `${held} connections have work (${JSON.stringify(connectErrors)}), ramp ${round(rampMs)} ms`,
    );

    await sleep(1000);
    const idle = await memory();
    const perConnection = baseline !== undefined && idle !== undefined && held > 0
      ? (idle - baseline) / held / 1024
      : undefined;
    const heapPerConnection = heap.length === 2 && held > 0
      ? {
        heapUsedKiB: round((heap[1].heapUsed - heap[0].heapUsed) / held / 1024),
        externalKiB: round((heap[1].external - heap[0].external) / held / 1024),
      }
      : undefined;
    if (perConnection !== undefined) {
      log(
        `idle RSS per connection ${round(perConnection)} KiB` +
          (heapPerConnection
            ? ` (JS heap ${heapPerConnection.heapUsedKiB} KiB, external ${heapPerConnection.externalKiB} KiB)`
            : ""),
      );
    }

    // Fan-out.
    const fanout: FanoutRound[] = [];
    if (node !== undefined) {
      for (let round_ = 0; round_ < options.blocks; round_++) {
        for (const g of generators) await g.send({ cmd: "arm" });
        pool?.drain("job");
        await sleep(200);
        const cpuBefore = poolPid === undefined ? undefined : processCpuMs(poolPid);
        const mineStart = epochMs();
        await node.mine(1);
        const tip = epochMs();
        const height = await node.height();
        const reports = await Promise.all(generators.map(async (g) => {
          try {
            return await g.next("fanout", 10_000);
          } catch {
            await g.send({ cmd: "collect" });
            return await g.next("fanout", 5_000);
          }
        }));
        const fanoutCpuMs = cpuBefore === undefined
          ? undefined
          : processCpuMs(poolPid!) - cpuBefore;
        const jobs = pool?.drain("job") ?? [];
        const cleanJob = jobs.find((j) => j.clean && j.height === height + 1);
        const notified = reports.reduce((n, r) => n + r.count, 0);
        const of = reports.reduce((n, r) => n + r.of, 0);
        const reached = reports.filter((r) => r.count > 0);
        const first = reached.length ? Math.min(...reached.map((r) => r.first)) : NaN;
        const last = reached.length ? Math.max(...reached.map((r) => r.last)) : NaN;
        const r: FanoutRound = {
          height,
          mineRpcMs: round(tip - mineStart, 3),
          toPoolJobMs: cleanJob ? round(cleanJob.at - tip, 3) : undefined,
          toFirstMs: round(first - tip, 3),
          toLastMs: round(last - tip, 3),
          notified,
          of,
          poolCpuMicrosPerNotify: fanoutCpuMs === undefined || notified === 0
            ? undefined
            : round((fanoutCpuMs * 1000) / notified, 1),
        };
        fanout.push(r);
        log(
          `block ${height}: node answered in ${r.mineRpcMs} ms; then pool job +${r.toPoolJobMs} ms, ` +
            `first notify +${r.toFirstMs} ms, last +${r.toLastMs} ms (${notified}/${of}); ` +
            `pool CPU ${r.poolCpuMicrosPerNotify} µs per notify`,
        );
        await sleep(500);
      }
    }

    // Load phases.
    const phases: LoadPhase[] = [];
    const inflight = options.inflight ?? 0;
    for (const rate of inflight > 0 ? [0] : options.rates) {
      log(
        inflight > 0
          ? `load: every miner keeps ${inflight} submits unanswered, ${options.durationSeconds} s`
          : `load: ${rate} submits/s for ${options.durationSeconds} s`,
      );
      const cpu = poolPid === undefined ? undefined : new CpuSampler(poolPid);
      let peakRss = 0;
      const rssTimer = poolPid === undefined ? undefined : setInterval(() => {
        try {
          peakRss = Math.max(peakRss, processRssBytes(poolPid!));
        } catch {
          // the pool exited: the phase will say so
        }
      }, 200);
      const batches0 = await poolBatchCounts();
      cpu?.start();
      for (const g of generators) {
        await g.send({
          cmd: "load",
          rate: rate / generatorCount,
          inflight,
          durationMs: options.durationSeconds * 1000,
          drainMs: options.drainSeconds * 1000,
        });
      }
      const budget = (options.durationSeconds + options.drainSeconds) * 1000 + 30_000;
      const results = await Promise.all(generators.map((g) => g.next("load", budget)));
      clearInterval(rssTimer);
      const cpuMs = cpu?.cpuMs();
      const cpuPercent = cpu?.stop();
      const batches1 = await poolBatchCounts();
      const latency = new LatencyHistogram();
      const rejected: Record<string, number> = {};
      let sent = 0, answered = 0, inWindow = 0, accepted = 0, unanswered = 0, heldNow = 0;
      let windowMs = 0, lagMax = 0;
      for (const r of results) {
        latency.merge(r.latency);
        sent += r.sent;
        answered += r.answered;
        inWindow += r.answeredInWindow;
        accepted += r.accepted;
        unanswered += r.unanswered;
        heldNow += r.held;
        windowMs = Math.max(windowMs, r.windowMs);
        lagMax = Math.max(lagMax, r.lagMaxMs);
        for (const [k, v] of Object.entries(r.rejected)) rejected[k] = (rejected[k] ?? 0) + v;
      }
      const phase: LoadPhase = {
        offeredRate: rate,
        sent,
        answeredPerSecond: round(inWindow / (windowMs / 1000), 1),
        answered,
        unanswered,
        accepted,
        rejected,
        latency: roundSummary(latency.summary()),
        held: heldNow,
        poolCpuPercent: cpuPercent === undefined ? undefined : round(cpuPercent, 1),
        // CPU time over window and drain (which ends as soon as every answer is in) per answer.
        poolCpuMicrosPerShare: cpuMs === undefined || answered === 0
          ? undefined
          : round(cpuMs * 1000 / answered, 1),
        sharesPerBatch: batches0 === undefined || batches1 === undefined ||
            batches1.batches === batches0.batches
          ? undefined
          : round((batches1.checks - batches0.checks) / (batches1.batches - batches0.batches), 2),
        generatorCpuPercent: results.map((r) => round(r.generatorCpuPercent, 1)),
        generatorLagMaxMs: round(lagMax, 1),
        poolRssMiB: poolPid === undefined
          ? undefined
          : round(processRssBytes(poolPid) / 1048576, 1),
        poolPeakRssMiB: poolPid === undefined ? undefined : round(peakRss / 1048576, 1),
      };
      phases.push(phase);
      log(
        `  answered ${phase.answeredPerSecond}/s, accepted ${accepted}, rejected ${
          JSON.stringify(rejected)
        }, unanswered ${unanswered}; latency p50 ${phase.latency.p50} p95 ${phase.latency.p95} ` +
          `p99 ${phase.latency.p99} max ${phase.latency.max} ms; pool CPU ${phase.poolCpuPercent}% ` +
          `(${phase.poolCpuMicrosPerShare} µs per share), ${phase.sharesPerBatch} shares per batch; ` +
          `pool RSS peak ${phase.poolPeakRssMiB} MiB`,
      );
      await sleep(1000);
    }

    return {
      settings: { ...options, log: undefined } as Omit<LoadOptions, "log">,
      hashBackend,
      connectionsAsked: options.connections,
      connectionsHeld: held,
      connectErrors,
      rampMs: round(rampMs, 1),
      baselineRssMiB: baseline === undefined ? undefined : round(baseline / 1048576, 1),
      idleRssMiB: idle === undefined ? undefined : round(idle / 1048576, 1),
      rssPerIdleConnectionKiB: perConnection === undefined ? undefined : round(perConnection, 2),
      heapPerIdleConnection: heapPerConnection,
      fanout,
      phases,
    };
  } finally {
    for (const cleanup of cleanups) {
      try {
        await cleanup();
      } catch (error) {
        log(`cleanup: ${error instanceof Error ? error.message : error}`);
      }
    }
  }
}

/** A generator process (`load_generator.ts`) with `settings`. */
export function startGenerator(settings: GeneratorSettings): JsonLineChild<GeneratorEvent> {
  return new JsonLineChild<GeneratorEvent>(
    [
      "run",
      "-A",
      // BENCH_GENERATOR_V8_FLAGS: V8 flags for the generators alone (e.g. `--trace-gc`).
      ...(Deno.env.get("BENCH_GENERATOR_V8_FLAGS")
        ? [`--v8-flags=${Deno.env.get("BENCH_GENERATOR_V8_FLAGS")}`]
        : []),
      new URL("load_generator.ts", here).pathname,
      JSON.stringify(settings),
    ],
    `generator ${settings.index}`,
  );
}

/** Our own pool for a benchmark: a regtest node here, the pool in its own process. */
export interface BenchPool {
  /** The regtest node (in this process). */
  readonly node: RegtestNode;
  /** The pool process. */
  readonly pool: JsonLineChild<PoolEvent>;
  /** Its ports and pid. */
  readonly ready: Extract<PoolEvent, { type: "ready" }>;
  /** A Core regtest address the pool accepts for workers. */
  readonly address: string;
  /** Stops the pool process and the node; removes the temp dir. */
  stop(): Promise<void>;
}

/** Pool settings a benchmark may choose. */
export type BenchPoolOptions = Pick<
  LoadOptions,
  "shareDifficulty" | "hashWorkers" | "hashBackend" | "log" | "maxSharesInFlight"
>;

/** Starts a regtest node and our pool (in its own process) on it, tuned for load. */
export async function startBenchPool(options: BenchPoolOptions): Promise<BenchPool> {
  options.log("starting the regtest node");
  const node = await startRegtestNode();
  let dir: string | undefined;
  let pool: JsonLineChild<PoolEvent> | undefined;
  const stop = async () => {
    if (pool !== undefined) {
      const child = pool;
      await child.send({ cmd: "stop" }).catch(() => {});
      await Promise.race([child.status, sleep(10_000)]);
      await child.kill();
    }
    await node.stop();
    if (dir !== undefined) await Deno.remove(dir, { recursive: true });
  };
  try {
    await node.mine(1);
    dir = await Deno.makeTempDir({ prefix: "denopool-bench-" });
    pool = await startPoolProcess(dir, node.rpcUrl, node.apiKey, options);
    const ready = await pool.next("ready", 60_000);
    return { node, pool, ready, address: coreRegtestAddress(), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function startPoolProcess(
  dir: string,
  rpcUrl: string,
  apiKey: string,
  options: BenchPoolOptions,
): Promise<PoolChild> {
  const config = {
    server: { data_dir: `${dir}/data`, status_listen: "127.0.0.1:0" },
    stratum: {
      listen: "127.0.0.1:0",
      max_connections: 1_000_000,
      max_connections_per_ip: 1_000_000,
      accept_rate_per_second: 1_000_000,
      accept_burst: 1_000_000,
      idle_timeout_seconds: 3600,
      messages_per_minute: 0,
      ...(options.maxSharesInFlight ? { max_shares_in_flight: options.maxSharesInFlight } : {}),
    },
    node: {
      network: "regtest",
      rpc_url: rpcUrl,
      zmq_hashblock: "",
      zmq_rawblock: "",
      refresh_interval_seconds: 60,
      min_refresh_interval_ms: 0,
    },
    mining: { hash_workers: options.hashWorkers, hash_backend: options.hashBackend },
    difficulty: {
      start: options.shareDifficulty,
      min: options.shareDifficulty,
      vardiff: false,
    },
    // Thousands of connections from one address are the point here, not an attack.
    bans: { reconnect_threshold: 0, invalid_threshold: 0 },
  };
  const configPath = `${dir}/config.toml`;
  const secretsPath = `${dir}/secrets.toml`;
  await Deno.writeTextFile(configPath, stringify(config));
  await Deno.writeTextFile(secretsPath, stringify({ rpc_user: "bench", rpc_password: apiKey }));
  await Deno.chmod(secretsPath, 0o600);
  return new JsonLineChild<PoolEvent>([
    "run",
    "-A",
    // For seeing where the pool's time goes under load, flags for the pool process alone:
    // BENCH_POOL_V8_FLAGS (e.g. `--prof,--logfile=/tmp/pool.log`, or `--trace-gc`: its lines share
    // stdout with the events and are passed on to stderr) and BENCH_POOL_DENO_FLAGS (e.g.
    // `--inspect=127.0.0.1:9229`).
    `--v8-flags=${["--expose-gc", Deno.env.get("BENCH_POOL_V8_FLAGS") ?? ""].filter((f) => f)}`,
    ...(Deno.env.get("BENCH_POOL_DENO_FLAGS") ?? "").split(" ").filter((f) => f),
    new URL("load_pool.ts", here).pathname,
    "--config",
    configPath,
    "--secrets",
    secretsPath,
    "--mainnet-target",
  ], "pool");
}
