/**
 * Start-up calibration: how many mainnet-shaped share checks per second each backend manages on
 * the current thread. `SharePool` runs it in its workers when asked for `backend: "auto"`.
 *
 * @module
 */

import { type HashBackend, jobSpecOf, prepareCoinbase, prepareJob, ShareHasher } from "./check.ts";
import { targetToBytesLE } from "../bitcoin/mod.ts";
import { shareRecordBytes, VERDICT_BYTES, writeShareRecord } from "./record.ts";
import { MAINNET_SHAPE, SeededRandom, syntheticShare, syntheticWork } from "./synthetic.ts";

/** Shares in the calibration set (cycled through). */
const SAMPLE_SHARES = 256;
/** WebCrypto checks kept in flight, as the worker does. */
const WEBCRYPTO_CONCURRENCY = 64;

/**
 * Measures share checks/s of both backends for about `ms` milliseconds each on a mainnet-shaped
 * job (12-step branch, ~200-byte coinbase), after a short warm-up.
 */
export async function calibrate(ms: number): Promise<Record<HashBackend, number>> {
  const random = new SeededRandom(0xca11b);
  const { job, coinbase } = syntheticWork(MAINNET_SHAPE, random);
  const prepared = prepareJob(jobSpecOf(job));
  const cb = prepareCoinbase(coinbase);
  const shares = Array.from({ length: SAMPLE_SHARES }, () => syntheticShare(MAINNET_SHAPE, random));
  const recordBytes = shareRecordBytes(shares[0]);
  const records = new Uint8Array(SAMPLE_SHARES * recordBytes);
  const view = new DataView(records.buffer);
  shares.forEach((share, i) => {
    writeShareRecord(
      records,
      view,
      i * recordBytes,
      job.seq,
      coinbase.key,
      share,
      targetToBytesLE(share.shareTarget),
    );
  });
  const out = new Uint8Array(SAMPLE_SHARES * VERDICT_BYTES);
  const outView = new DataView(out.buffer);
  const hasher = new ShareHasher();

  const runTs = (budgetMs: number): number => {
    const start = performance.now();
    let done = 0;
    let elapsed = 0;
    while (elapsed < budgetMs) {
      for (let i = 0; i < SAMPLE_SHARES; i++) {
        hasher.checkTs(prepared, cb, records, i * recordBytes, out, outView, i * VERDICT_BYTES);
      }
      done += SAMPLE_SHARES;
      elapsed = performance.now() - start;
    }
    return done / (elapsed / 1000);
  };

  const runWebCrypto = async (budgetMs: number): Promise<number> => {
    const start = performance.now();
    let done = 0;
    let elapsed = 0;
    while (elapsed < budgetMs) {
      let next = 0;
      const lane = async () => {
        while (next < SAMPLE_SHARES) {
          const i = next++;
          await hasher.checkWebCrypto(
            prepared,
            cb,
            records,
            i * recordBytes,
            out,
            outView,
            i * VERDICT_BYTES,
          );
          done++;
        }
      };
      await Promise.all(Array.from({ length: WEBCRYPTO_CONCURRENCY }, lane));
      elapsed = performance.now() - start;
    }
    return done / (elapsed / 1000);
  };

  runTs(Math.min(20, ms));
  const ts = runTs(ms);
  await runWebCrypto(Math.min(10, ms));
  const webcrypto = await runWebCrypto(ms);
  return { ts, webcrypto };
}
