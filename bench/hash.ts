/**
 * `deno task bench hash`: share-check throughput in process, the whole check (coinbase txid,
 * merkle branch, 80-byte header, both target compares) per share. TypeScript SHA-256 vs
 * WebCrypto, one share at a time and batched, on one thread and across the `SharePool` workers,
 * for a mainnet-shaped job (12-step merkle branch, ~200-byte coinbase: a ~3,000-transaction block)
 * and a regtest-shaped one (empty branch).
 *
 *   deno task bench hash [--seconds 1] [--workers N] [--json out.json]
 *   deno run -A bench/hash.ts [--seconds 1] [--workers N] [--json out.json]
 *
 * Every measurement runs for a fixed time after a half-second warm-up, so the whole run is bounded
 * (about 22 measurements × (seconds + 0.5 s)). Each reports the median and the best of 10 slices,
 * and the process CPU time (all threads, from `/proc/self/stat`) per check: on a machine shared
 * with other work the wall-clock rates fall with the load, the CPU time per check does not, so
 * that is the figure to compare runs by; `capacity` is what the worker pool would do with that
 * many free cores (cores × 1e6 / CPU µs per check). Random shares use a fixed seed; the first
 * verdict of each measurement is compared with the plain reference computation so a fast wrong
 * answer cannot win.
 *
 * @module
 */

import {
  type HashBackend,
  InlineShareChecker,
  jobSpecOf,
  prepareCoinbase,
  prepareJob,
  ShareHasher,
} from "../lib/shares/check.ts";
import { SharePool } from "../lib/shares/pool.ts";
import { sha256d64Into } from "../lib/bitcoin/sha256.ts";
import { targetToBytesLE } from "../lib/bitcoin/target.ts";
import { shareRecordBytes, VERDICT_BYTES, writeShareRecord } from "../lib/shares/record.ts";
import {
  MAINNET_SHAPE,
  REGTEST_SHAPE,
  SeededRandom,
  type SyntheticShape,
  syntheticShare,
  syntheticWork,
} from "../lib/shares/synthetic.ts";
import { refVerdict } from "../lib/shares/testing.ts";
import type { ShareInput, ShareVerdict } from "../lib/pool/types.ts";
import { processCpuMs, round } from "./stats.ts";

/** Settings of the hash benchmark. */
export interface HashOptions {
  /** Seconds per measurement. */
  readonly seconds: number;
  /** Worker pool size (default: one per core). */
  readonly workers?: number;
  /** Progress lines. */
  readonly log: (line: string) => void;
}

/** One measured row. */
export interface HashRow {
  /** Job shape ("any" for the machinery-only row). */
  readonly shape: string;
  /** Hash backend. */
  readonly backend: HashBackend;
  /** Where the hashing ran: "1 thread" or "pool ×N". */
  readonly where: string;
  /** How shares were fed. */
  readonly mode: string;
  /** Median over the measurement's slices, checks/s. */
  readonly checksPerSecond: number;
  /** Best slice: what the code does when the (shared) machine lets it run. */
  readonly bestPerSecond: number;
  /** Process CPU time (all threads) per check, µs. */
  readonly cpuMicrosPerCheck: number;
  /** Checks done while measuring. */
  readonly checks: number;
  /** Seconds measured. */
  readonly seconds: number;
}

/** The hash benchmark's figures. */
export interface HashResults {
  /** Worker pool size used. */
  readonly workers: number;
  /** Load average (1, 5, 15 min) at the start and at the end. */
  readonly loadavg: { readonly start: number[]; readonly end: number[] };
  /** Rows. */
  readonly rows: readonly HashRow[];
  /** `backend: "auto"` calibration result. */
  readonly calibration: Record<string, unknown>;
  /** One merkle step (`sha256d64Into`) on one thread, best slice, ns. */
  readonly merkleStepNanos: number;
  /**
   * Share checks/s of the TS worker pool on a mainnet-shaped job if its `workers` cores were
   * free: workers × 1e6 / (CPU µs per check of the batched pool row).
   */
  readonly mainnetPoolCapacity: number;
}

interface Measured {
  rate: number;
  best: number;
  checks: number;
  elapsed: number;
  cpuMs: number;
}

/** Shares cycled through per shape. */
const SHARES = 2048;
/** Measurement slices per row: the median resists noise from other processes. */
const SLICES = 10;

/**
 * Runs `round` (which checks some shares and returns how many) for a JIT warm-up of half a
 * second, then for `budget` seconds in `SLICES` slices; reports the median and the best slice and
 * the process CPU time spent.
 */
async function measure(round: () => number | Promise<number>, budget: number): Promise<Measured> {
  const warmEnd = performance.now() + 500;
  while (performance.now() < warmEnd) await round();
  const rates: number[] = [];
  let checks = 0;
  let elapsed = 0;
  const cpu0 = processCpuMs(Deno.pid);
  for (let slice = 0; slice < SLICES; slice++) {
    const start = performance.now();
    let done = 0;
    let sliceMs = 0;
    while (sliceMs < (budget * 1000) / SLICES) {
      done += await round();
      sliceMs = performance.now() - start;
    }
    rates.push(done / (sliceMs / 1000));
    checks += done;
    elapsed += sliceMs / 1000;
  }
  const cpuMs = processCpuMs(Deno.pid) - cpu0;
  rates.sort((a, b) => a - b);
  return { rate: rates[SLICES >> 1], best: rates[SLICES - 1], checks, elapsed, cpuMs };
}

/** `measure` for several rounds at once, their slices alternating (for A/B comparisons). */
function measureInterleaved(rounds: (() => number)[], budget: number): Measured[] {
  const warmEnd = performance.now() + 500;
  while (performance.now() < warmEnd) for (const round of rounds) round();
  const rates = rounds.map(() => [] as number[]);
  const totals = rounds.map(() => ({ checks: 0, elapsed: 0, cpuMs: 0 }));
  const sliceMs = (budget * 1000) / SLICES / rounds.length;
  for (let slice = 0; slice < SLICES; slice++) {
    rounds.forEach((round, r) => {
      const cpu0 = processCpuMs(Deno.pid);
      const start = performance.now();
      let done = 0;
      let ms = 0;
      while (ms < sliceMs) {
        done += round();
        ms = performance.now() - start;
      }
      rates[r].push(done / (ms / 1000));
      totals[r].checks += done;
      totals[r].elapsed += ms / 1000;
      totals[r].cpuMs += processCpuMs(Deno.pid) - cpu0;
    });
  }
  return rates.map((list, r) => {
    list.sort((a, b) => a - b);
    return { rate: list[SLICES >> 1], best: list[SLICES - 1], ...totals[r] };
  });
}

function same(a: ShareVerdict, b: ShareVerdict): boolean {
  return a.hash.every((x, i) => x === b.hash[i]) && a.meetsShareTarget === b.meetsShareTarget &&
    a.meetsNetworkTarget === b.meetsNetworkTarget;
}

/** A worker that answers every batch at once without hashing: the pool's own cost per share. */
const ECHO_WORKER = new URL(
  "data:application/javascript," + encodeURIComponent(
    "onmessage = (e) => { const m = e.data; if (m.type !== 'batch') return;" +
      ` const out = new ArrayBuffer(m.count * ${VERDICT_BYTES});` +
      " postMessage({ type: 'done', id: m.id, data: out }, [out]); };",
  ),
);

/** Runs the share-check benchmark. */
export async function runHash(options: HashOptions): Promise<HashResults> {
  const seconds = options.seconds;
  const workers = options.workers || navigator.hardwareConcurrency;
  const loadStart = Deno.loadavg();
  const rows: HashRow[] = [];
  const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
  const record = (
    shape: string,
    backend: HashBackend,
    mode: string,
    where: string,
    r: Measured,
  ): HashRow => {
    const row: HashRow = {
      shape,
      backend,
      where,
      mode,
      checksPerSecond: Math.round(r.rate),
      bestPerSecond: Math.round(r.best),
      cpuMicrosPerCheck: round((r.cpuMs * 1000) / r.checks, 2),
      checks: r.checks,
      seconds: round(r.elapsed, 3),
    };
    rows.push(row);
    options.log(
      `${shape.padEnd(8)} ${backend.padEnd(10)} ${where.padEnd(10)} ${mode.padEnd(24)} ${
        fmt(row.checksPerSecond).padStart(9)
      } checks/s (best ${fmt(row.bestPerSecond)}), ${row.cpuMicrosPerCheck} µs CPU/check`,
    );
    return row;
  };
  let mainnetPoolRow: HashRow | undefined;

  const shapes: [string, SyntheticShape][] = [["mainnet", MAINNET_SHAPE], [
    "regtest",
    REGTEST_SHAPE,
  ]];
  for (const [shapeName, shape] of shapes) {
    const random = new SeededRandom(0xbe7c4);
    const { job, coinbase } = syntheticWork(shape, random);
    const shares: ShareInput[] = Array.from(
      { length: SHARES },
      () => syntheticShare(shape, random),
    );
    const expected = refVerdict(job, coinbase, shares[0]);
    const verify = (v: ShareVerdict, what: string) => {
      if (!same(v, expected)) throw new Error(`${what}: verdict differs from the reference`);
    };

    // One thread, raw records: the hot loop the worker runs (midstate on and off).
    const prepared = prepareJob(jobSpecOf(job));
    const cb = prepareCoinbase(coinbase);
    const size = shareRecordBytes(shares[0]);
    const records = new Uint8Array(SHARES * size);
    const recordsView = new DataView(records.buffer);
    shares.forEach((s, i) =>
      writeShareRecord(
        records,
        recordsView,
        i * size,
        job.seq,
        coinbase.key,
        s,
        targetToBytesLE(s.shareTarget),
      )
    );
    const out = new Uint8Array(SHARES * VERDICT_BYTES);
    const outView = new DataView(out.buffer);
    // Midstate on and off measured in alternating slices, so load from other processes hits both.
    const rounds = [true, false].map((useMidstate) => {
      const hasher = new ShareHasher(useMidstate);
      return () => {
        for (let i = 0; i < SHARES; i++) {
          hasher.checkTs(prepared, cb, records, i * size, out, outView, i * VERDICT_BYTES);
        }
        return SHARES;
      };
    });
    const [withMidstate, withoutMidstate] = measureInterleaved(rounds, seconds);
    record(shapeName, "ts", "batched (records)", "1 thread", withMidstate);
    record(shapeName, "ts", "batched, no midstate", "1 thread", withoutMidstate);

    // One thread through the ShareChecker interface.
    for (const backend of ["ts", "webcrypto"] as HashBackend[]) {
      const inline = new InlineShareChecker(backend);
      verify(await inline.check(job, coinbase, shares[0]), `inline ${backend}`);
      let next = 0;
      record(
        shapeName,
        backend,
        "one at a time",
        "1 thread",
        await measure(async () => {
          for (let i = 0; i < 64; i++) await inline.check(job, coinbase, shares[next++ % SHARES]);
          return 64;
        }, seconds),
      );
      if (backend === "webcrypto") {
        record(
          shapeName,
          backend,
          "batched (256 at once)",
          "1 thread",
          await measure(async () => {
            await Promise.all(
              Array.from(
                { length: 256 },
                () => inline.check(job, coinbase, shares[next++ % SHARES]),
              ),
            );
            return 256;
          }, seconds),
        );
      }
    }

    // Across the worker pool.
    for (const backend of ["ts", "webcrypto"] as HashBackend[]) {
      const pool = await SharePool.create({ workers, backend });
      try {
        verify(await pool.check(job, coinbase, shares[0]), `pool ${backend}`);
        let next = 0;
        record(
          shapeName,
          backend,
          "one at a time",
          `pool ×${workers}`,
          await measure(async () => {
            for (let i = 0; i < 32; i++) await pool.check(job, coinbase, shares[next++ % SHARES]);
            return 32;
          }, seconds),
        );
        // Batched: keep a window of chunks in flight, as a busy pool sees them.
        const chunk = backend === "ts" ? 2048 : 256;
        const submit = () =>
          Promise.all(
            Array.from({ length: chunk }, () => pool.check(job, coinbase, shares[next++ % SHARES])),
          );
        const window: Promise<ShareVerdict[]>[] = [submit(), submit(), submit()];
        const row = record(
          shapeName,
          backend,
          `batched (${chunk}/chunk)`,
          `pool ×${workers}`,
          await measure(async () => {
            await window.shift();
            window.push(submit());
            return chunk;
          }, seconds),
        );
        if (shapeName === "mainnet" && backend === "ts") mainnetPoolRow = row;
        await Promise.all(window);
      } finally {
        pool.close();
      }
    }
  }

  // Where the time goes, part 1: the pool's own cost per share (promise, record, message, verdict)
  // with workers that answer every batch at once without hashing.
  {
    const random = new SeededRandom(0xec40);
    const { job, coinbase } = syntheticWork(MAINNET_SHAPE, random);
    const shares = Array.from({ length: SHARES }, () => syntheticShare(MAINNET_SHAPE, random));
    const pool = await SharePool.create({ workers, backend: "ts", workerUrl: ECHO_WORKER });
    try {
      let next = 0;
      const submit = () =>
        Promise.all(
          Array.from({ length: 2048 }, () => pool.check(job, coinbase, shares[next++ % SHARES])),
        );
      const window = [submit(), submit(), submit()];
      record(
        "any",
        "ts",
        "machinery only (no hash)",
        `pool ×${workers}`,
        await measure(async () => {
          await window.shift();
          window.push(submit());
          return 2048;
        }, seconds),
      );
      await Promise.all(window);
    } finally {
      pool.close();
    }
  }

  const auto = await SharePool.create({ workers, backend: "auto" });
  const calibration = { backend: auto.backend, ...auto.calibration };
  auto.close();
  options.log(`auto calibration: ${JSON.stringify(calibration)}`);

  // Where the time goes, part 2: one merkle step (sha256d of 64 bytes = 3 compressions).
  const left = new Uint8Array(32).fill(1);
  const right = new Uint8Array(32).fill(2);
  const merkleStep = await measure(() => {
    for (let i = 0; i < 4096; i++) sha256d64Into(left, right, left);
    return 4096;
  }, seconds);
  const merkleStepNanos = round(1e9 / merkleStep.best, 1);
  options.log(`merkle step (sha256d64Into): ${merkleStepNanos} ns (best slice)`);

  const mainnetPoolCapacity = mainnetPoolRow === undefined
    ? 0
    : Math.round((workers * 1e6) / mainnetPoolRow.cpuMicrosPerCheck);
  options.log(
    `mainnet TS pool capacity on ${workers} free cores: ${fmt(mainnetPoolCapacity)} checks/s ` +
      `(${mainnetPoolRow?.cpuMicrosPerCheck} µs CPU per check, all threads)`,
  );
  const loadEnd = Deno.loadavg();
  options.log(`load average: start ${loadStart.join(" ")}, end ${loadEnd.join(" ")}`);
  return {
    workers,
    loadavg: { start: loadStart, end: loadEnd },
    rows,
    calibration,
    merkleStepNanos,
    mainnetPoolCapacity,
  };
}

/** Parses the stand-alone command line. */
function parseArgs(args: string[]): { seconds: number; workers: number; json?: string } {
  const out: { seconds: number; workers: number; json?: string } = {
    seconds: 1,
    workers: navigator.hardwareConcurrency,
  };
  for (let i = 0; i < args.length; i++) {
    const value = args[i + 1];
    switch (args[i]) {
      case "--seconds":
        out.seconds = Number(value);
        i++;
        break;
      case "--workers":
        out.workers = Number(value);
        i++;
        break;
      case "--json":
        out.json = value;
        i++;
        break;
      default:
        throw new Error(`unknown argument ${args[i]}`);
    }
  }
  if (!(out.seconds > 0) || !(out.workers >= 1)) throw new Error("bad --seconds or --workers");
  return out;
}

if (import.meta.main) {
  const { seconds, workers, json } = parseArgs(Deno.args);
  const results = await runHash({ seconds, workers, log: (line) => console.error(line) });
  const fmt = (n: number) => n.toLocaleString("en-US");
  console.log(
    "\n| shape | backend | where | mode | checks/s (median) | best slice | CPU µs/check |",
  );
  console.log("| --- | --- | --- | --- | ---: | ---: | ---: |");
  for (const r of results.rows) {
    console.log(
      `| ${r.shape} | ${r.backend} | ${r.where} | ${r.mode} | ${fmt(r.checksPerSecond)} | ${
        fmt(r.bestPerSecond)
      } | ${r.cpuMicrosPerCheck} |`,
    );
  }
  if (json !== undefined) {
    const report = {
      when: new Date().toISOString(),
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      cpus: navigator.hardwareConcurrency,
      secondsPerMeasurement: seconds,
      ...results,
    };
    await Deno.writeTextFile(json, JSON.stringify(report, null, 2) + "\n");
    console.error(`wrote ${json}`);
  }
}
