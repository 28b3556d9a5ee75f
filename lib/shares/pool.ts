/**
 * `SharePool`: the `ShareChecker` the pool runs on, a set of Web Workers (`worker.ts`) that hash
 * shares in batches.
 *
 * - Jobs and coinbase parts go to each worker once, inside the first batch that needs them, and
 *   are dropped from the workers by `retireJob(seq)`.
 * - Shares submitted in the same tick are collected and sent as one message per worker, their
 *   records packed in one transferred `ArrayBuffer`. While every worker already has
 *   `batchesInFlight` batches, new shares wait in the queue and leave with the next batch: batches
 *   grow with load, latency stays low when idle.
 * - A worker that dies (error event) or stalls (no answer for `stallTimeoutMs` while it has work)
 *   is terminated and replaced; its unanswered shares go back to the front of the queue. A share
 *   is answered exactly once; one that kills `maxAttempts` workers is rejected.
 * - `backend: "auto"` calibrates both hash backends in the workers at start-up and keeps the faster.
 *
 * @module
 */

import type { CoinbaseParts, Job, ShareChecker, ShareInput, ShareVerdict } from "../pool/mod.ts";
import {
  type CoinbaseSpec,
  coinbaseSpecOf,
  type HashBackend,
  type JobSpec,
  jobSpecOf,
  TargetCache,
} from "./check.ts";
import type { FaultMode, FromWorker, ToWorker } from "./protocol.ts";
import { MAINNET_SHAPE, SeededRandom, syntheticShare, syntheticWork } from "./synthetic.ts";
import {
  MAX_EXTRANONCE_BYTES,
  readVerdict,
  shareRecordBytes,
  VERDICT_BYTES,
  writeShareRecord,
} from "./record.ts";

/** Options of `SharePool.create`. */
export interface SharePoolOptions {
  /** Most workers (default `navigator.hardwareConcurrency`). */
  readonly workers?: number;
  /**
   * Workers kept running when idle (default: all of `workers`). Above it, a worker starts when
   * every running one is busy, and stops after `idleStopMs` without a batch: the pool at rest pays
   * for `minWorkers` threads (each a V8 isolate of ~12 MB), not for one per core.
   */
  readonly minWorkers?: number;
  /** Idle time after which a worker above `minWorkers` stops, ms (default 60,000). */
  readonly idleStopMs?: number;
  /** Hash backend, or "auto" to measure both at start-up and take the faster. */
  readonly backend: "auto" | HashBackend;
  /** Calibration time per backend for "auto", in ms (default 100). */
  readonly calibrationMs?: number;
  /** Most shares in one batch message (default 1024). */
  readonly maxBatch?: number;
  /** Batches a worker may have outstanding at once (default 2: one hashing, one waiting). */
  readonly batchesInFlight?: number;
  /** A worker with work that has not answered for this long is replaced (default 10,000 ms). */
  readonly stallTimeoutMs?: number;
  /** Workers a single share may see die before it is rejected (default 3). */
  readonly maxAttempts?: number;
  /** Shares that may wait for a batch before `check` refuses with `SharePoolBusyError` (200,000). */
  readonly maxQueue?: number;
  /** Worker module (default `./worker.ts`); tests point it at a broken module. */
  readonly workerUrl?: URL;
  /**
   * Synthetic share checks run through the whole batch path before `create` resolves (default 0),
   * so the first real load finds the code compiled instead of paying for it in answer latency.
   * They are not counted in `stats()`.
   */
  readonly warmUpChecks?: number;
}

/** `check` was refused because too many shares already wait (the workers cannot keep up). */
export class SharePoolBusyError extends Error {
  /** An error naming the queue limit that was hit. */
  constructor(limit: number) {
    super(`share checker overloaded: ${limit} shares already waiting`);
    this.name = "SharePoolBusyError";
  }
}

/** Share checks/s each backend reached during calibration (summed over the workers). */
export interface CalibrationRates {
  /** TypeScript SHA-256. */
  readonly ts: number;
  /** WebCrypto. */
  readonly webcrypto: number;
}

/** A snapshot of the pool for the status API and metrics. */
export interface SharePoolStats {
  /** Backend in use. */
  readonly backend: HashBackend;
  /** Calibration result, when the backend was chosen by "auto". */
  readonly calibration: CalibrationRates | undefined;
  /** Number of worker slots (the most workers). */
  readonly workers: number;
  /** Workers running now (the others are parked until load needs them). */
  readonly running: number;
  /** Share checks answered since start. */
  readonly checksDone: number;
  /** Share checks answered per second over the last 10 s (or since start, when shorter). */
  readonly checksPerSecond: number;
  /** Shares waiting for a batch. */
  readonly queueDepth: number;
  /** Shares sent to each worker and not answered yet. */
  readonly inFlight: readonly number[];
  /** Shares each worker slot has answered (light load stays on the first: see `#flush`). */
  readonly checksPerWorker: readonly number[];
  /** Workers replaced after dying or stalling. */
  readonly workerRestarts: number;
  /** Batch messages sent to workers since start (checksDone / batchesSent ≈ mean batch size). */
  readonly batchesSent: number;
}

/** One submitted share and its promise. */
interface Pending {
  readonly job: Job;
  readonly coinbase: CoinbaseParts;
  readonly share: ShareInput;
  readonly resolve: (verdict: ShareVerdict) => void;
  readonly reject: (error: Error) => void;
  /** Workers that died holding this share. */
  attempts: number;
}

/** A batch posted to a worker and not answered yet. */
interface Batch {
  readonly id: number;
  readonly entries: Pending[];
}

/** One worker and the bookkeeping about it. */
interface Slot {
  readonly index: number;
  /** The worker; undefined while a respawn waits out its back-off. */
  worker: Worker | undefined;
  /** Deaths since this slot last answered a batch. */
  failures: number;
  checksDone: number;
  respawnTimer?: ReturnType<typeof setTimeout>;
  readonly batches: Map<number, Batch>;
  inFlight: number;
  readonly knownJobs: Set<number>;
  readonly knownCoinbases: Set<number>;
  /** Last time the worker showed progress (answered, or got work while idle). */
  lastProgress: number;
  /** Stopped for want of work (a slot above `minWorkers`); started again when all others are busy. */
  parked: boolean;
  /** Pending calibration answer (undefined when the worker died instead). */
  calibrated?: (rates: CalibrationRates | undefined) => void;
}

/** What the pool keeps about a live job. */
interface JobEntry {
  readonly spec: JobSpec;
  readonly coinbases: Map<number, CoinbaseSpec>;
}

/** A queue shorter than this goes to one worker whole: a message costs more than it saves. */
const MIN_SPLIT = 32;
/** Deaths in a row after which respawning a slot backs off (a worker that cannot even start). */
const FAILURES_BEFORE_BACKOFF = 2;
/** Longest respawn back-off, in ms. */
const MAX_BACKOFF_MS = 10_000;
/** Retired job seqs remembered, so late shares on them do not re-register the job. */
const RETIRED_MEMORY = 4096;
/** Rate window for `checksPerSecond`, in 1-second buckets. */
const RATE_SECONDS = 10;

/** The Web Worker share checker. Create with `SharePool.create`; `close()` when done. */
export class SharePool implements ShareChecker {
  readonly #slots: Slot[] = [];
  readonly #queue: Pending[] = [];
  readonly #jobs = new Map<number, JobEntry>();
  readonly #retired = new Set<number>();
  readonly #targets = new TargetCache();
  readonly #maxBatch: number;
  readonly #batchesInFlight: number;
  readonly #stallTimeoutMs: number;
  readonly #maxAttempts: number;
  readonly #maxQueue: number;
  readonly #workerUrl: URL;
  readonly #idleStopMs: number;
  /** Slots that may be parked (those above `minWorkers`). */
  #parkable = 0;
  /** True during the warm-up: it warms the running workers and must not start parked ones. */
  #warming = false;
  #idleTimer: ReturnType<typeof setInterval> | undefined;
  #backend: HashBackend = "ts";
  #calibration: CalibrationRates | undefined;
  #flushScheduled = false;
  #watchdog: ReturnType<typeof setTimeout> | undefined;
  #nextBatchId = 1;
  /** Batches the warm-up sent (left out of `batchesSent`). */
  #warmUpBatches = 0;
  #checksDone = 0;
  #restarts = 0;
  #closed = false;
  #startedAt = Date.now();
  readonly #rateBuckets = new Float64Array(RATE_SECONDS);
  readonly #rateSeconds = new Float64Array(RATE_SECONDS);

  private constructor(options: SharePoolOptions) {
    this.#maxBatch = Math.max(1, options.maxBatch ?? 1024);
    this.#batchesInFlight = Math.max(1, options.batchesInFlight ?? 2);
    this.#stallTimeoutMs = options.stallTimeoutMs ?? 10_000;
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 3);
    this.#maxQueue = Math.max(1, options.maxQueue ?? 200_000);
    this.#workerUrl = options.workerUrl ?? new URL("./worker.ts", import.meta.url);
    this.#idleStopMs = Math.max(1, options.idleStopMs ?? 60_000);
  }

  /** Starts the workers (and, for "auto", calibrates); resolves when the pool is ready. */
  static async create(options: SharePoolOptions): Promise<SharePool> {
    const pool = new SharePool(options);
    const count = Math.max(1, Math.floor(options.workers ?? navigator.hardwareConcurrency ?? 1));
    const running = Math.min(count, Math.max(1, Math.floor(options.minWorkers ?? count)));
    for (let i = 0; i < count; i++) {
      const slot: Slot = {
        index: i,
        worker: undefined,
        failures: 0,
        checksDone: 0,
        batches: new Map(),
        inFlight: 0,
        knownJobs: new Set(),
        knownCoinbases: new Set(),
        lastProgress: Date.now(),
        parked: i >= running,
      };
      pool.#slots.push(slot);
      if (!slot.parked) pool.#start(slot);
    }
    pool.#parkable = count - running;
    if (running < count) {
      pool.#idleTimer = setInterval(() => pool.#parkIdle(), Math.min(pool.#idleStopMs, 10_000));
      Deno.unrefTimer(pool.#idleTimer);
    }
    if (options.backend === "auto") {
      const calibration = await pool.#calibrate(options.calibrationMs ?? 100);
      pool.#calibration = calibration;
      pool.#backend = calibration !== undefined && calibration.webcrypto > calibration.ts
        ? "webcrypto"
        : "ts";
    } else {
      pool.#backend = options.backend;
    }
    for (const slot of pool.#slots) pool.#post(slot, { type: "backend", backend: pool.#backend });
    if ((options.warmUpChecks ?? 0) > 0) await pool.#warmUp(options.warmUpChecks!);
    return pool;
  }

  /** Runs `count` synthetic checks (mainnet-shaped job) in waves, then forgets they happened. */
  async #warmUp(count: number): Promise<void> {
    const random = new SeededRandom(0x5eed);
    const { job, coinbase } = syntheticWork(MAINNET_SHAPE, random);
    const wave = Math.min(count, 2048);
    this.#warming = true;
    try {
      for (let done = 0; done < count; done += wave) {
        const checks: Promise<ShareVerdict>[] = [];
        for (let i = 0; i < wave; i++) {
          checks.push(this.check(job, coinbase, syntheticShare(MAINNET_SHAPE, random)));
        }
        await Promise.all(checks);
      }
    } catch {
      // a worker that cannot check: the pool replaces it; the warm-up is only an optimisation
    } finally {
      this.#warming = false;
    }
    this.retireJob(job.seq);
    this.#checksDone = 0;
    this.#warmUpBatches = this.#nextBatchId - 1;
    this.#rateBuckets.fill(0);
    this.#rateSeconds.fill(0);
    this.#startedAt = Date.now();
    for (const slot of this.#slots) slot.checksDone = 0;
  }

  /** The backend the workers hash with. */
  get backend(): HashBackend {
    return this.#backend;
  }

  /** Calibration rates, when the backend was chosen by "auto" (undefined if calibration failed). */
  get calibration(): CalibrationRates | undefined {
    return this.#calibration;
  }

  /** Hashes one share of `job` with `coinbase` and judges it against both targets. */
  check(job: Job, coinbase: CoinbaseParts, share: ShareInput): Promise<ShareVerdict> {
    if (this.#closed) return Promise.reject(new Error("share pool is closed"));
    if (this.#queue.length >= this.#maxQueue) {
      return Promise.reject(new SharePoolBusyError(this.#maxQueue));
    }
    if (
      share.extranonce1.length > MAX_EXTRANONCE_BYTES ||
      share.extranonce2.length > MAX_EXTRANONCE_BYTES
    ) {
      return Promise.reject(new RangeError("extranonce longer than 255 bytes"));
    }
    if (!this.#jobs.has(job.seq) && !this.#retired.has(job.seq)) {
      try {
        this.#jobs.set(job.seq, { spec: jobSpecOf(job), coinbases: new Map() });
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return new Promise<ShareVerdict>((resolve, reject) => {
      this.#queue.push({ job, coinbase, share, resolve, reject, attempts: 0 });
      this.#scheduleFlush();
    });
  }

  /** Forgets job `seq` and its coinbases, here and in every worker that has them. */
  retireJob(seq: number): void {
    this.#retired.add(seq);
    if (this.#retired.size > RETIRED_MEMORY) {
      this.#retired.delete(this.#retired.values().next().value as number);
    }
    const entry = this.#jobs.get(seq);
    if (entry === undefined) return;
    this.#jobs.delete(seq);
    for (const slot of this.#slots) {
      if (!slot.knownJobs.delete(seq)) continue;
      const keys: number[] = [];
      for (const key of entry.coinbases.keys()) if (slot.knownCoinbases.delete(key)) keys.push(key);
      this.#post(slot, { type: "retire", jobs: [seq], coinbases: keys });
    }
  }

  /** Number of live (not retired) jobs the pool holds. */
  get liveJobs(): number {
    return this.#jobs.size;
  }

  /** A snapshot for the status API and metrics. */
  stats(): SharePoolStats {
    const nowSecond = Math.floor(Date.now() / 1000);
    let recent = 0;
    for (let i = 0; i < RATE_SECONDS; i++) {
      if (nowSecond - this.#rateSeconds[i] < RATE_SECONDS) recent += this.#rateBuckets[i];
    }
    const window = Math.min(RATE_SECONDS, Math.max(1, (Date.now() - this.#startedAt) / 1000));
    return {
      backend: this.#backend,
      calibration: this.#calibration,
      workers: this.#slots.length,
      running: this.#slots.filter((slot) => slot.worker !== undefined).length,
      checksDone: this.#checksDone,
      checksPerSecond: recent / window,
      queueDepth: this.#queue.length,
      inFlight: this.#slots.map((slot) => slot.inFlight),
      checksPerWorker: this.#slots.map((slot) => slot.checksDone),
      workerRestarts: this.#restarts,
      batchesSent: this.#nextBatchId - 1 - this.#warmUpBatches,
    };
  }

  /**
   * Test hook: makes worker `index` fail (`mode`) after it has checked `afterShares` more shares.
   * Exists to prove worker replacement; never used by the pool itself.
   */
  injectFault(index: number, mode: FaultMode, afterShares: number): void {
    const slot = this.#slots[index];
    if (slot === undefined) throw new RangeError(`no worker ${index}`);
    this.#post(slot, { type: "fault", mode, afterShares });
  }

  /** Terminates the workers; pending and queued checks reject. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#watchdog !== undefined) clearTimeout(this.#watchdog);
    this.#watchdog = undefined;
    clearInterval(this.#idleTimer);
    const error = new Error("share pool is closed");
    for (const slot of this.#slots) {
      clearTimeout(slot.respawnTimer);
      this.#stop(slot);
      for (const batch of slot.batches.values()) {
        for (const entry of batch.entries) entry.reject(error);
      }
      slot.batches.clear();
      slot.inFlight = 0;
    }
    for (const entry of this.#queue.splice(0)) entry.reject(error);
  }

  /** `close()` for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Starts the worker of a parked slot, on the backend the pool chose. */
  #unpark(slot: Slot): void {
    slot.parked = false;
    slot.failures = 0;
    this.#start(slot);
    this.#post(slot, { type: "backend", backend: this.#backend });
  }

  /** Stops the workers above `minWorkers` that had no batch for `idleStopMs`. */
  #parkIdle(): void {
    const now = Date.now();
    // The highest slots go first: light load packs onto the lowest (see `#flush`).
    for (let i = this.#slots.length - 1; i >= 0; i--) {
      const slot = this.#slots[i];
      if (slot.parked || slot.worker === undefined || slot.batches.size > 0) continue;
      if (slot.respawnTimer !== undefined || now - slot.lastProgress < this.#idleStopMs) continue;
      if (this.#slots.filter((s) => !s.parked).length <= this.#minRunning()) return;
      this.#stop(slot);
      slot.parked = true;
      slot.knownJobs.clear();
      slot.knownCoinbases.clear();
    }
  }

  #minRunning(): number {
    return this.#slots.length - this.#parkable;
  }

  /** Starts a fresh worker in `slot` (which must have none). */
  #start(slot: Slot): void {
    slot.respawnTimer = undefined;
    const worker = new Worker(this.#workerUrl, {
      type: "module",
      name: `share-worker-${slot.index}`,
    });
    slot.worker = worker;
    slot.lastProgress = Date.now();
    this.#attach(slot, worker);
  }

  /** Detaches and terminates the worker of `slot`, if any. */
  #stop(slot: Slot): void {
    const worker = slot.worker;
    if (worker === undefined) return;
    slot.worker = undefined;
    worker.onmessage = null;
    worker.onerror = null;
    worker.onmessageerror = null;
    worker.terminate();
  }

  /** Routes the events of `worker` (while it is still the one in `slot`). */
  #attach(slot: Slot, worker: Worker): void {
    worker.onmessage = (event: MessageEvent<FromWorker>) => {
      if (slot.worker === worker) this.#onMessage(slot, event.data);
    };
    worker.onerror = (event: ErrorEvent) => {
      // Handled here: without preventDefault the error would take the whole process down.
      event.preventDefault();
      if (slot.worker === worker) this.#replace(slot);
    };
    worker.onmessageerror = () => {
      if (slot.worker === worker) this.#replace(slot);
    };
  }

  #post(slot: Slot, message: ToWorker, transfer: Transferable[] = []): void {
    slot.worker?.postMessage(message, transfer);
  }

  #onMessage(slot: Slot, message: FromWorker): void {
    switch (message.type) {
      case "done": {
        const batch = slot.batches.get(message.id);
        if (batch === undefined) return;
        slot.batches.delete(message.id);
        slot.inFlight -= batch.entries.length;
        slot.lastProgress = Date.now();
        slot.failures = 0;
        slot.checksDone += batch.entries.length;
        const data = new Uint8Array(message.data);
        const view = new DataView(message.data);
        const entries = batch.entries;
        for (let i = 0; i < entries.length; i++) {
          entries[i].resolve(readVerdict(data, view, i * VERDICT_BYTES));
        }
        this.#countDone(entries.length);
        this.#scheduleFlush();
        return;
      }
      case "failed": {
        // The worker's view of jobs and coinbases disagrees with ours: forget what we think it
        // knows (definitions are re-sent) and give the shares another try.
        const batch = slot.batches.get(message.id);
        if (batch === undefined) return;
        slot.batches.delete(message.id);
        slot.inFlight -= batch.entries.length;
        slot.lastProgress = Date.now();
        slot.knownJobs.clear();
        slot.knownCoinbases.clear();
        for (const entry of batch.entries) entry.attempts++;
        this.#requeue(batch.entries, message.message);
        this.#scheduleFlush();
        return;
      }
      case "calibrated":
        slot.calibrated?.(message.rates);
        slot.calibrated = undefined;
        return;
    }
  }

  /**
   * Terminates the worker of `slot`, starts a new one, and re-queues its unanswered shares. A slot
   * whose workers keep dying before answering anything respawns with exponential back-off, so a
   * worker that cannot start does not turn into a spawn loop.
   */
  #replace(slot: Slot): void {
    if (this.#closed) return;
    this.#stop(slot);
    this.#restarts++;
    slot.calibrated?.(undefined);
    slot.calibrated = undefined;
    slot.failures++;
    const entries: Pending[] = [];
    for (const id of [...slot.batches.keys()].sort((a, b) => a - b)) {
      entries.push(...slot.batches.get(id)!.entries);
    }
    slot.batches.clear();
    slot.inFlight = 0;
    slot.knownJobs.clear();
    slot.knownCoinbases.clear();
    const respawn = () => {
      this.#start(slot);
      this.#post(slot, { type: "backend", backend: this.#backend });
      this.#scheduleFlush();
    };
    if (slot.failures <= FAILURES_BEFORE_BACKOFF) {
      respawn();
    } else {
      const delay = Math.min(MAX_BACKOFF_MS, 100 * 2 ** (slot.failures - FAILURES_BEFORE_BACKOFF));
      slot.respawnTimer = setTimeout(respawn, delay);
    }
    for (const entry of entries) entry.attempts++;
    this.#requeue(entries, "share worker died");
    this.#scheduleFlush();
  }

  /** Puts `entries` back at the front of the queue, rejecting those out of attempts. */
  #requeue(entries: Pending[], reason: string): void {
    const retry: Pending[] = [];
    for (const entry of entries) {
      if (entry.attempts >= this.#maxAttempts) {
        entry.reject(new Error(`${reason}; gave up after ${entry.attempts} attempts`));
      } else {
        retry.push(entry);
      }
    }
    this.#queue.unshift(...retry);
  }

  #countDone(n: number): void {
    this.#checksDone += n;
    const second = Math.floor(Date.now() / 1000);
    const i = second % RATE_SECONDS;
    if (this.#rateSeconds[i] !== second) {
      this.#rateSeconds[i] = second;
      this.#rateBuckets[i] = 0;
    }
    this.#rateBuckets[i] += n;
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#closed) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  /** Sends queued shares to workers with room, in batches: the first idle worker first. */
  #flush(): void {
    while (this.#queue.length > 0) {
      // Pack, do not spread: the first idle worker (in slot order) takes the batch, a busy one
      // only when none is idle. Light load then stays on one thread: every batch sent to another
      // worker is one more thread to wake, and on a machine with few cores those wake-ups are
      // what sets the answer latency's tail (bench: p99 at 5,000 submits/s on 2 cores).
      let idle = 0;
      let firstIdle: Slot | undefined;
      let leastBusy: Slot | undefined;
      for (const slot of this.#slots) {
        if (slot.worker === undefined || slot.batches.size >= this.#batchesInFlight) continue;
        if (slot.batches.size === 0) {
          idle++;
          firstIdle ??= slot;
        } else if (leastBusy === undefined || slot.inFlight < leastBusy.inFlight) {
          leastBusy = slot;
        }
      }
      let best = firstIdle ?? leastBusy;
      if (firstIdle === undefined && !this.#warming) {
        // Every running worker is busy: one more starts, as if it had been idle all along.
        const parked = this.#slots.find((slot) => slot.parked);
        if (parked !== undefined) {
          this.#unpark(parked);
          best = parked;
          idle = 1;
        }
      }
      if (best === undefined) break;
      const share = Math.max(Math.ceil(this.#queue.length / Math.max(1, idle)), MIN_SPLIT);
      const size = Math.min(this.#maxBatch, share, this.#queue.length);
      this.#send(best, this.#queue.splice(0, size));
    }
    this.#armWatchdog();
  }

  /** Packs `entries` into one batch message for `slot`, with the definitions it lacks. */
  #send(slot: Slot, entries: Pending[]): void {
    let bytes = 0;
    for (const entry of entries) bytes += shareRecordBytes(entry.share);
    const buffer = new ArrayBuffer(bytes);
    const data = new Uint8Array(buffer);
    const view = new DataView(buffer);
    const jobs: JobSpec[] = [];
    const coinbases: CoinbaseSpec[] = [];
    const dropJobs: number[] = [];
    const dropCoinbases: number[] = [];
    // Definitions of retired jobs travel with the batch and are dropped right after it.
    let ephemeral: Map<number, JobSpec> | undefined;
    let ephemeralCoinbases: Set<number> | undefined;
    let offset = 0;
    for (const entry of entries) {
      const { job, coinbase } = entry;
      const live = this.#jobs.get(job.seq);
      if (live !== undefined) {
        if (!slot.knownJobs.has(job.seq)) {
          slot.knownJobs.add(job.seq);
          jobs.push(live.spec);
        }
        let spec = live.coinbases.get(coinbase.key);
        if (spec === undefined) {
          spec = coinbaseSpecOf(coinbase);
          live.coinbases.set(coinbase.key, spec);
        }
        if (!slot.knownCoinbases.has(coinbase.key)) {
          slot.knownCoinbases.add(coinbase.key);
          coinbases.push(spec);
        }
      } else {
        ephemeral ??= new Map();
        ephemeralCoinbases ??= new Set();
        if (!ephemeral.has(job.seq) && !slot.knownJobs.has(job.seq)) {
          const spec = jobSpecOf(job);
          ephemeral.set(job.seq, spec);
          jobs.push(spec);
          dropJobs.push(job.seq);
        }
        if (!ephemeralCoinbases.has(coinbase.key) && !slot.knownCoinbases.has(coinbase.key)) {
          ephemeralCoinbases.add(coinbase.key);
          coinbases.push(coinbaseSpecOf(coinbase));
          dropCoinbases.push(coinbase.key);
        }
      }
      const target = this.#targets.get(entry.share.shareTarget);
      offset = writeShareRecord(data, view, offset, job.seq, coinbase.key, entry.share, target);
    }
    const id = this.#nextBatchId++;
    if (slot.batches.size === 0) slot.lastProgress = Date.now();
    slot.batches.set(id, { id, entries });
    slot.inFlight += entries.length;
    this.#post(slot, {
      type: "batch",
      id,
      count: entries.length,
      data: buffer,
      jobs,
      coinbases,
      dropJobs,
      dropCoinbases,
    }, [buffer]);
  }

  /** Keeps a stall check running while any worker has work. */
  #armWatchdog(): void {
    if (this.#watchdog !== undefined || this.#closed) return;
    if (!this.#slots.some((slot) => slot.batches.size > 0)) return;
    const interval = Math.max(10, Math.min(1000, this.#stallTimeoutMs / 4));
    this.#watchdog = setTimeout(() => {
      this.#watchdog = undefined;
      const now = Date.now();
      for (const slot of this.#slots) {
        if (slot.batches.size > 0 && now - slot.lastProgress > this.#stallTimeoutMs) {
          this.#replace(slot);
        }
      }
      this.#armWatchdog();
    }, interval);
  }

  /**
   * Runs the calibration in every worker at once and sums the rates. Undefined when a worker died
   * or took too long (the caller then keeps the TypeScript backend).
   */
  async #calibrate(ms: number): Promise<CalibrationRates | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), Math.max(10_000, ms * 20));
    });
    const all = Promise.all(
      this.#slots.filter((slot) => !slot.parked).map((slot) =>
        new Promise<CalibrationRates | undefined>((resolve) => {
          slot.calibrated = resolve;
          this.#post(slot, { type: "calibrate", ms });
        })
      ),
    );
    try {
      const results = await Promise.race([all, timeout]);
      if (results === undefined || results.some((r) => r === undefined)) return undefined;
      const rates = results as CalibrationRates[];
      return {
        ts: rates.reduce((sum, r) => sum + r.ts, 0),
        webcrypto: rates.reduce((sum, r) => sum + r.webcrypto, 0),
      };
    } finally {
      clearTimeout(timer);
      for (const slot of this.#slots) slot.calibrated = undefined;
    }
  }
}
