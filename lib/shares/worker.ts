/**
 * Share-checking Web Worker: keeps the jobs and coinbases the pool sent it, checks batches of
 * share records and posts the verdict records back (transferred, not copied). Started by
 * `SharePool`; speaks the messages of `protocol.ts`.
 *
 * @module
 */

import {
  type HashBackend,
  prepareCoinbase,
  type PreparedCoinbase,
  type PreparedJob,
  prepareJob,
  recordCoinbaseKey,
  recordJobSeq,
  ShareHasher,
} from "./check.ts";
import type { FaultMode, FromWorker, ToWorker } from "./protocol.ts";
import { SHARE_HEADER_BYTES, shareRecordLength, VERDICT_BYTES } from "./record.ts";
import { calibrate } from "./calibrate.ts";

/** The parts of the worker global scope this module uses. */
interface WorkerScope {
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  close(): void;
}

const scope = globalThis as unknown as WorkerScope;
const hasher = new ShareHasher();
const jobs = new Map<number, PreparedJob>();
const coinbases = new Map<number, PreparedCoinbase>();
/** How many WebCrypto share checks one batch keeps in flight at once. */
const WEBCRYPTO_CONCURRENCY = 64;
let backend: HashBackend = "ts";
let fault: { mode: FaultMode; remaining: number } | undefined;

/**
 * Applies an injected fault once its countdown reaches zero (tests only). Returns true when the
 * worker closed itself and the batch must be abandoned without an answer.
 */
function faultDue(): boolean {
  if (fault === undefined || fault.remaining-- > 0) return false;
  const mode = fault.mode;
  fault = undefined;
  if (mode === "throw") throw new Error("share worker: injected fault");
  scope.close();
  return true;
}

/** Resolves the job and coinbase of every record up front, so retire messages cannot race. */
function resolve(
  data: Uint8Array,
  count: number,
): { offsets: Int32Array; jobsOf: PreparedJob[]; coinbasesOf: PreparedCoinbase[] } {
  const offsets = new Int32Array(count);
  const jobsOf: PreparedJob[] = new Array(count);
  const coinbasesOf: PreparedCoinbase[] = new Array(count);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    if (
      offset + SHARE_HEADER_BYTES > data.length ||
      offset + shareRecordLength(data, offset) > data.length
    ) {
      throw new Error(`batch truncated at share ${i}`);
    }
    const job = jobs.get(recordJobSeq(data, offset));
    const cb = coinbases.get(recordCoinbaseKey(data, offset));
    if (job === undefined || cb === undefined) {
      throw new Error(`share ${i}: unknown job ${recordJobSeq(data, offset)} or coinbase`);
    }
    offsets[i] = offset;
    jobsOf[i] = job;
    coinbasesOf[i] = cb;
    offset += shareRecordLength(data, offset);
  }
  return { offsets, jobsOf, coinbasesOf };
}

/** Checks one batch and posts its verdicts. */
async function checkBatch(message: Extract<ToWorker, { type: "batch" }>): Promise<void> {
  for (const spec of message.jobs) jobs.set(spec.seq, prepareJob(spec));
  for (const spec of message.coinbases) coinbases.set(spec.key, prepareCoinbase(spec));
  const data = new Uint8Array(message.data);
  const count = message.count;
  let resolved;
  try {
    resolved = resolve(data, count);
  } catch (error) {
    scope.postMessage({ type: "failed", id: message.id, message: String(error) });
    return;
  } finally {
    for (const seq of message.dropJobs) jobs.delete(seq);
    for (const key of message.dropCoinbases) coinbases.delete(key);
  }
  const { offsets, jobsOf, coinbasesOf } = resolved;
  const out = new Uint8Array(count * VERDICT_BYTES);
  const outView = new DataView(out.buffer);
  if (backend === "ts") {
    for (let i = 0; i < count; i++) {
      if (fault !== undefined && faultDue()) return;
      hasher.checkTs(jobsOf[i], coinbasesOf[i], data, offsets[i], out, outView, i * VERDICT_BYTES);
    }
  } else {
    let next = 0;
    let abandoned = false;
    const lane = async () => {
      while (next < count && !abandoned) {
        const i = next++;
        if (fault !== undefined && faultDue()) {
          abandoned = true;
          return;
        }
        await hasher.checkWebCrypto(
          jobsOf[i],
          coinbasesOf[i],
          data,
          offsets[i],
          out,
          outView,
          i * VERDICT_BYTES,
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(WEBCRYPTO_CONCURRENCY, count) }, lane));
    if (abandoned) return;
  }
  scope.postMessage({ type: "done", id: message.id, data: out.buffer }, [out.buffer]);
}

scope.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  switch (message.type) {
    case "batch":
      // A rejection here is an uncaught error in the worker: the pool replaces it.
      void checkBatch(message);
      return;
    case "retire":
      for (const seq of message.jobs) jobs.delete(seq);
      for (const key of message.coinbases) coinbases.delete(key);
      return;
    case "backend":
      backend = message.backend;
      return;
    case "calibrate":
      void calibrate(message.ms).then((rates) => scope.postMessage({ type: "calibrated", rates }));
      return;
    case "fault":
      fault = { mode: message.mode, remaining: message.afterShares };
      return;
  }
};
