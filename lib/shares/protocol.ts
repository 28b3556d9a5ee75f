/**
 * Messages between `SharePool` and its workers (`worker.ts`). Shares and verdicts travel as
 * binary records (`record.ts`) in one transferable `ArrayBuffer` per batch; jobs and coinbases are
 * sent once per worker, inside the first batch that needs them.
 *
 * @module
 */

import type { CoinbaseSpec, HashBackend, JobSpec } from "./check.ts";

/**
 * How a worker should fail on purpose (tests of worker replacement only): throw from the batch
 * (an error event), or close itself silently (found by the stall watchdog). There is no "hang":
 * Deno's `Worker.terminate()` does not stop a worker spinning in a loop, so a hung test worker
 * would outlive the test.
 */
export type FaultMode = "throw" | "close";

/** Pool → worker. */
export type ToWorker =
  | {
    /** Hash with this backend from now on. */
    readonly type: "backend";
    readonly backend: HashBackend;
  }
  | {
    /** Check `count` share records in `data`; install `jobs`/`coinbases` first. */
    readonly type: "batch";
    readonly id: number;
    readonly count: number;
    readonly data: ArrayBuffer;
    readonly jobs: readonly JobSpec[];
    readonly coinbases: readonly CoinbaseSpec[];
    /** Job seqs and coinbase keys to drop after this batch (work on already retired jobs). */
    readonly dropJobs: readonly number[];
    readonly dropCoinbases: readonly number[];
  }
  | {
    /** Forget these jobs and coinbases. */
    readonly type: "retire";
    readonly jobs: readonly number[];
    readonly coinbases: readonly number[];
  }
  | {
    /** Measure share checks/s of each backend for about `ms` milliseconds each. */
    readonly type: "calibrate";
    readonly ms: number;
  }
  | {
    /** Fail (see `FaultMode`) after checking `afterShares` more shares. */
    readonly type: "fault";
    readonly mode: FaultMode;
    readonly afterShares: number;
  };

/** Worker → pool. */
export type FromWorker =
  | {
    /** Verdict records for batch `id`, in share order. */
    readonly type: "done";
    readonly id: number;
    readonly data: ArrayBuffer;
  }
  | {
    /** Batch `id` could not be checked at all (a protocol error, not a hashing result). */
    readonly type: "failed";
    readonly id: number;
    readonly message: string;
  }
  | {
    /** Calibration result: share checks/s per backend on a mainnet-shaped job. */
    readonly type: "calibrated";
    readonly rates: Readonly<Record<HashBackend, number>>;
  };
