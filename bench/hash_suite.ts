/**
 * `deno task bench hash`: share checks in process, the way the pool makes them: the whole check
 * (coinbase txid, merkle branch, 80-byte header, both target compares) per share.
 *
 * Rows, for a mainnet-shaped job (12-step branch, ~200-byte coinbase: a ~3,000-transaction block)
 * and a regtest-shaped one (empty branch):
 * - one thread, TypeScript SHA-256, synchronous (`InlineShareChecker.checkSync`);
 * - one thread, WebCrypto, awaited one by one, and 64 in flight;
 * - the worker pool (`SharePool`, both backends): one share at a time (a lone miner's latency)
 *   and 4,096 in flight (throughput; the pool batches them).
 *
 * The raw sha256d figures (header, merkle node) are in `bench/hash_micro.ts`.
 *
 * @module
 */

import type { CoinbaseParts, Job, ShareInput } from "../lib/pool/types.ts";
import { InlineShareChecker } from "../lib/shares/check.ts";
import { SharePool } from "../lib/shares/pool.ts";
import {
  MAINNET_SHAPE,
  REGTEST_SHAPE,
  SeededRandom,
  type SyntheticShape,
  syntheticShare,
  syntheticWork,
} from "../lib/shares/synthetic.ts";
import { round } from "./stats.ts";

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
  /** Job shape. */
  readonly shape: "mainnet" | "regtest";
  /** What was measured. */
  readonly method: string;
  /** Share checks per second. */
  readonly checksPerSecond: number;
  /** Mean time per check as seen by the caller, µs (for one-at-a-time rows). */
  readonly meanMicros: number;
}

/** The hash benchmark's figures. */
export interface HashResults {
  /** Worker pool size used. */
  readonly workers: number;
  /** Rows. */
  readonly rows: readonly HashRow[];
}

const SHARES = 4096;
const IN_FLIGHT = 4096;

interface Work {
  readonly job: Job;
  readonly coinbase: CoinbaseParts;
  readonly shares: readonly ShareInput[];
}

function makeWork(shape: SyntheticShape, seed: number): Work {
  const random = new SeededRandom(seed);
  const { job, coinbase } = syntheticWork(shape, random);
  const shares = Array.from({ length: SHARES }, () => syntheticShare(shape, random));
  return { job, coinbase, shares };
}

/** Runs `step(i)` (which checks `batch` shares) until `ms` pass; returns checks/s. */
async function measure(
  ms: number,
  batch: number,
  step: (i: number) => void | Promise<unknown>,
): Promise<number> {
  // Warm-up: a tenth of the time, so the JIT and the workers are at speed.
  const warmEnd = performance.now() + ms / 10;
  for (let i = 0; performance.now() < warmEnd; i++) await step(i);
  let done = 0;
  const start = performance.now();
  let now = start;
  for (let i = 0; now - start < ms; i++) {
    const r = step(i);
    if (r !== undefined) await r;
    done += batch;
    now = performance.now();
  }
  return (done * 1000) / (now - start);
}

/** Runs the share-check benchmark. */
export async function runHash(options: HashOptions): Promise<HashResults> {
  const ms = options.seconds * 1000;
  const workers = options.workers || navigator.hardwareConcurrency;
  const rows: HashRow[] = [];
  const add = (shape: HashRow["shape"], method: string, rate: number) => {
    const row = {
      shape,
      method,
      checksPerSecond: Math.round(rate),
      meanMicros: round(1e6 / rate, 2),
    };
    rows.push(row);
    options.log(
      `${shape.padEnd(8)} ${method.padEnd(44)} ${
        row.checksPerSecond.toLocaleString("en-US").padStart(10)
      } checks/s`,
    );
  };

  for (const [shape, spec] of [["mainnet", MAINNET_SHAPE], ["regtest", REGTEST_SHAPE]] as const) {
    const { job, coinbase, shares } = makeWork(spec, shape === "mainnet" ? 1 : 2);
    const share = (i: number) => shares[i % SHARES];

    const inline = new InlineShareChecker("ts");
    add(
      shape,
      "1 thread, TS, synchronous",
      await measure(ms, 256, (i) => {
        for (let k = 0; k < 256; k++) inline.checkSync(job, coinbase, share(i * 256 + k));
      }),
    );

    const subtle = new InlineShareChecker("webcrypto");
    add(
      shape,
      "1 thread, WebCrypto, awaited one by one",
      await measure(ms, 1, (i) => subtle.check(job, coinbase, share(i))),
    );
    add(
      shape,
      "1 thread, WebCrypto, 64 in flight",
      await measure(
        ms,
        64,
        (i) =>
          Promise.all(
            Array.from({ length: 64 }, (_, k) => subtle.check(job, coinbase, share(i * 64 + k))),
          ),
      ),
    );

    for (const backend of ["ts", "webcrypto"] as const) {
      const pool = await SharePool.create({ workers, backend });
      try {
        add(
          shape,
          `${workers} workers, ${backend}, one at a time`,
          await measure(ms, 1, (i) => pool.check(job, coinbase, share(i))),
        );
        add(
          shape,
          `${workers} workers, ${backend}, ${IN_FLIGHT} in flight (batched)`,
          await measure(
            ms,
            IN_FLIGHT,
            (i) =>
              Promise.all(
                Array.from(
                  { length: IN_FLIGHT },
                  (_, k) => pool.check(job, coinbase, share(i * IN_FLIGHT + k)),
                ),
              ),
          ),
        );
      } finally {
        pool.close();
      }
    }
  }
  return { workers, rows };
}
