/**
 * Micro benchmark of the status snapshots the pool rebuilds on its main thread: `/api/overview`
 * (every 10 s) and `/api/pool-page`, built by {@linkcode LiveStatusSources} over a worker registry
 * of synthetic workers, then serialised and encoded as the snapshot cache does. Every rebuild blocks
 * share answers for its whole duration, so the figure that matters is the time of one rebuild:
 * reported as the first (cold) run, the best and the median of N.
 *
 * Run: `deno task bench status [--workers 1000,8000] [--runs 30]`
 *
 * @module
 */

import { CONFIG_DEFAULTS } from "../lib/config/schema.ts";
import type { Config } from "../lib/config/schema.ts";
import { BanList } from "../lib/pool/bans.ts";
import { LiveStatusSources, type StatusParts, statusStaticFrom } from "../app/status_sources.ts";
import { WorkerRegistry, WorkerStats } from "../lib/pool/worker_stats.ts";
import { buildOverview, buildPoolPage } from "../lib/status/views.ts";
import { round } from "./stats.ts";

/** Options of {@linkcode runStatus}. */
export interface StatusBenchOptions {
  /** Registry sizes to measure (one measurement each). */
  readonly workers: readonly number[];
  /** Timed rebuilds per size (after one cold run). */
  readonly runs: number;
  /** Progress lines. */
  readonly log: (line: string) => void;
}

/** Timing of one snapshot at one registry size (ms). */
export interface SnapshotTiming {
  /** The first rebuild (JIT cold, as after a quiet stretch). */
  readonly firstMs: number;
  /** Fastest of the runs. */
  readonly bestMs: number;
  /** Median of the runs. */
  readonly medianMs: number;
  /** Serialised size (bytes). */
  readonly bytes: number;
}

/** Figures of one registry size. */
export interface StatusBenchResult {
  /** Registered (authorized) workers. */
  readonly workers: number;
  /** `/api/overview`: build, stringify, encode. */
  readonly overview: SnapshotTiming;
  /** `/api/pool-page` with pool errors to censor (so every worker name is a secret). */
  readonly poolPage: SnapshotTiming;
}

const AGENTS = [
  "cgminer/4.12.1",
  "bmminer/2.0.0",
  "NerdMiner/V1.6.3",
  "bitaxe/BM1366/v2.1.8",
  "cpuminer/2.5.1",
  "",
  "Antminer S19j Pro/Tue Jun 22 2021",
  "whatsminer/v1.1",
];

/** A bech32-looking 42-character address, distinct per `i` (never checked, only shown). */
function fakeAddress(i: number): string {
  const charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
  let body = "";
  let x = (i + 1) * 2_654_435_761;
  for (let k = 0; k < 38; k++) {
    body += charset[x % 32];
    x = Math.floor(x / 32) + (k + 1) * 40_503 * (i + 3);
  }
  return "bc1q" + body;
}

/**
 * Parts of a pool whose status reads `workers` synthetic workers: 90 % with a share in the last
 * 30 minutes, 30 % over TLS, eight user agents, 40 latency samples each; 40 bans (30 of workers,
 * 10 of IPs), 20 best-share offers, pool errors when `errors` (to exercise censoring).
 */
export function syntheticParts(workers: number, now: number, errors: boolean): StatusParts {
  const registry = new WorkerRegistry();
  for (let i = 0; i < workers; i++) {
    const address = fakeAddress(i % Math.max(1, Math.floor(workers / 4)));
    const stats = new WorkerStats(
      `c${i}`,
      `127.0.${i >> 8}.${i & 255}`,
      i % 10 < 3,
      now - 3_600_000,
    );
    stats.name = `${address}.rig${i}`;
    stats.address = address;
    stats.worker = `rig${i}`;
    stats.userAgent = AGENTS[i % AGENTS.length];
    stats.difficulty = 1024 * (1 + (i % 7));
    const last = i % 10 === 9 ? now - 45 * 60_000 : now - (i % 600) * 1000;
    for (let s = 0; s < 40; s++) {
      const at = last - (39 - s) * 30_000;
      stats.noteNotify(at - 5 - (s % 9));
      stats.noteAccepted(stats.difficulty, stats.difficulty * (1 + ((i * 7 + s) % 13)), at);
    }
    if (i % 5 === 0) stats.noteRejected("stale", last);
    registry.add(stats);
    const hash = new Uint8Array(32).map((_, k) => (i * 13 + k) & 0xff);
    if (i % Math.max(1, Math.floor(workers / 20)) === 0) {
      registry.bestShares.offer(stats.name, 1e6 + i, hash, last);
    }
  }
  const bans = new BanList();
  for (let i = 0; i < 30; i++) {
    const name = `${fakeAddress(100_000 + i)}.rig${i}`;
    bans.ban(name, `invalid shares from ${name}: 51 of 60`, 600_000 + i * 1000, now);
  }
  for (let i = 0; i < 10; i++) bans.ban(`ip:10.0.0.${i}`, "churn", 600_000, now);
  const rpcErrorAt = now - 60_000;
  const rpc = {
    latency: { snapshot: () => ({}), methods: () => [], histogram: () => ({}) },
    health: errors
      ? {
        rpcHealthy: false,
        errors: 1,
        disconnects: 1,
        reconnects: 0,
        lastError: `submitblock for ${fakeAddress(1)}.rig1: connection refused`,
        lastErrorAt: rpcErrorAt,
      }
      : { rpcHealthy: true, errors: 0, disconnects: 0, reconnects: 0 },
  };
  const feed = {
    status: () => ({
      errorHistory: errors ? [{ at: now - 30_000, message: "getblocktemplate: timeout" }] : [],
    }),
  };
  const blocks = { records: () => [], journalError: undefined, journalErrors: 0 };
  const config = { ...CONFIG_DEFAULTS, secrets: {}, files: {} };
  // The status reads only these members of the live parts; the rest of each class is not needed.
  return {
    config: config as unknown as Config,
    rpc,
    feed,
    blocks,
    stratum: { registry, bans },
  } as unknown as StatusParts;
}

function time(build: () => Uint8Array, runs: number): SnapshotTiming {
  let start = performance.now();
  const bytes = build().length;
  const firstMs = performance.now() - start;
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    start = performance.now();
    build();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return {
    firstMs: round(firstMs, 3),
    bestMs: round(samples[0], 3),
    medianMs: round(samples[Math.floor(samples.length / 2)], 3),
    bytes,
  };
}

/** Measures the overview and pool-page rebuilds at each registry size. */
export function runStatus(options: StatusBenchOptions): StatusBenchResult[] {
  const encoder = new TextEncoder();
  const results: StatusBenchResult[] = [];
  // The first localeCompare of a process sets up ICU's collator (≈ 8-10 ms, once per process, not
  // per rebuild): done here so that "first" is the cold rebuild, not the process start.
  "a".localeCompare("b");
  for (const n of options.workers) {
    const now = Date.now();
    const parts = syntheticParts(n, now, false);
    const sources = new LiveStatusSources(parts, { now: () => now });
    const statics = statusStaticFrom(parts.config);
    const overview = time(() => {
      const started = performance.now();
      const view = buildOverview(sources, statics, now);
      view.render_duration = Math.round((performance.now() - started) * 1e6);
      return encoder.encode(JSON.stringify(view));
    }, options.runs);
    const erring = new LiveStatusSources(syntheticParts(n, now, true), { now: () => now });
    const poolPage = time(
      () => encoder.encode(JSON.stringify(buildPoolPage(erring))),
      options.runs,
    );
    const line = (name: string, t: SnapshotTiming) =>
      `${name} ${n} workers: first ${t.firstMs} ms, best ${t.bestMs} ms, median ${t.medianMs} ms ` +
      `(${options.runs} runs, ${t.bytes} B)`;
    options.log(line("overview ", overview));
    options.log(line("pool-page", poolPage));
    results.push({ workers: n, overview, poolPage });
  }
  return results;
}
