/**
 * Share-check throughput, in process: TypeScript SHA-256 vs WebCrypto, one share at a time and
 * batched, on one thread and across the `SharePool` workers, for a mainnet-shaped job (12-step
 * merkle branch, ~200-byte coinbase) and a regtest-shaped job (empty branch).
 *
 *   deno run -A bench/hash.ts [--seconds 1] [--workers N] [--json out.json]
 *
 * Every measurement runs for a fixed time after a half-second warm-up, so the whole run is bounded
 * (20 measurements × (seconds + 0.5 s), about 40 s with the default). Each reports the median and
 * the best of 10 slices: on a shared machine the median shows what you get, the best what the
 * code does when it gets the cores. Random shares use a fixed seed; the first verdict of each
 * measurement is compared with the plain reference computation so a fast wrong answer cannot win.
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

interface Row {
  shape: string;
  backend: HashBackend;
  mode: string;
  where: string;
  /** Median over the measurement's slices. */
  checksPerSecond: number;
  /** Best slice: what the code does when the (shared) machine lets it run. */
  bestPerSecond: number;
  checks: number;
  seconds: number;
}

interface Measured {
  rate: number;
  best: number;
  checks: number;
  elapsed: number;
}

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

const { seconds, workers, json } = parseArgs(Deno.args);
const SHARES = 2048;
const rows: Row[] = [];

/** Measurement slices per row: the median resists noise from other processes. */
const SLICES = 10;

/**
 * Runs `round` (which checks some shares and returns how many) for a JIT warm-up of half a
 * second, then for `budget` seconds in `SLICES` slices; reports the median and the best slice.
 */
async function measure(round: () => number | Promise<number>, budget: number): Promise<Measured> {
  const warmEnd = performance.now() + 500;
  while (performance.now() < warmEnd) await round();
  const rates: number[] = [];
  let checks = 0;
  let elapsed = 0;
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
  rates.sort((a, b) => a - b);
  return { rate: rates[SLICES >> 1], best: rates[SLICES - 1], checks, elapsed };
}

/** `measure` for several rounds at once, their slices alternating (for A/B comparisons). */
function measureInterleaved(rounds: (() => number)[], budget: number): Measured[] {
  const warmEnd = performance.now() + 500;
  while (performance.now() < warmEnd) for (const round of rounds) round();
  const rates = rounds.map(() => [] as number[]);
  const totals = rounds.map(() => ({ checks: 0, elapsed: 0 }));
  const sliceMs = (budget * 1000) / SLICES / rounds.length;
  for (let slice = 0; slice < SLICES; slice++) {
    rounds.forEach((round, r) => {
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

function record(
  shape: string,
  backend: HashBackend,
  mode: string,
  where: string,
  r: Measured,
): void {
  const row = {
    shape,
    backend,
    mode,
    where,
    checksPerSecond: Math.round(r.rate),
    bestPerSecond: Math.round(r.best),
    checks: r.checks,
    seconds: r.elapsed,
  };
  rows.push(row);
  console.error(
    `${shape.padEnd(8)} ${backend.padEnd(10)} ${where.padEnd(14)} ${mode.padEnd(22)} ${
      row.checksPerSecond.toLocaleString("en-US").padStart(10)
    } checks/s (best ${row.bestPerSecond.toLocaleString("en-US")})`,
  );
}

for (
  const [shapeName, shape] of [["mainnet", MAINNET_SHAPE], ["regtest", REGTEST_SHAPE]] as [
    string,
    SyntheticShape,
  ][]
) {
  const random = new SeededRandom(0xbe7c4);
  const { job, coinbase } = syntheticWork(shape, random);
  const shares: ShareInput[] = Array.from({ length: SHARES }, () => syntheticShare(shape, random));
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
            Array.from({ length: 256 }, () => inline.check(job, coinbase, shares[next++ % SHARES])),
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
      record(
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
      await Promise.all(window);
    } finally {
      pool.close();
    }
  }
}

// Where the time goes, part 1: the pool's own cost per share (promise, record, message, verdict)
// with workers that answer every batch at once without hashing.
const echoWorker = new URL(
  "data:application/javascript," + encodeURIComponent(
    "onmessage = (e) => { const m = e.data; if (m.type !== 'batch') return;" +
      " const out = new ArrayBuffer(m.count * 48);" +
      " postMessage({ type: 'done', id: m.id, data: out }, [out]); };",
  ),
);
{
  const random = new SeededRandom(0xec40);
  const { job, coinbase } = syntheticWork(MAINNET_SHAPE, random);
  const shares = Array.from({ length: SHARES }, () => syntheticShare(MAINNET_SHAPE, random));
  const pool = await SharePool.create({ workers, backend: "ts", workerUrl: echoWorker });
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
console.error(`auto calibration: ${JSON.stringify(calibration)}`);

// Where the time goes, part 2: one merkle step (sha256d of 64 bytes = 3 compressions) on this thread.
const left = new Uint8Array(32).fill(1);
const right = new Uint8Array(32).fill(2);
const merkleStep = await measure(() => {
  for (let i = 0; i < 4096; i++) sha256d64Into(left, right, left);
  return 4096;
}, seconds);
console.error(
  `merkle step (sha256d64Into): ${Math.round(merkleStep.rate).toLocaleString("en-US")}/s, ` +
    `${(1e9 / merkleStep.rate).toFixed(0)} ns each`,
);

const fmt = (n: number) => n.toLocaleString("en-US");
console.log(`\nload average at end: ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
console.log("\n| shape | backend | where | mode | checks/s (median) | best slice |");
console.log("| --- | --- | --- | --- | ---: | ---: |");
for (const r of rows) {
  console.log(
    `| ${r.shape} | ${r.backend} | ${r.where} | ${r.mode} | ${fmt(r.checksPerSecond)} | ${
      fmt(r.bestPerSecond)
    } |`,
  );
}

if (json !== undefined) {
  const report = {
    when: new Date().toISOString(),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    cpus: navigator.hardwareConcurrency,
    loadavg: Deno.loadavg(),
    workers,
    secondsPerMeasurement: seconds,
    calibration,
    merkleStepsPerSecond: Math.round(merkleStep.rate),
    rows,
  };
  await Deno.writeTextFile(json, JSON.stringify(report, null, 2) + "\n");
  console.error(`wrote ${json}`);
}
