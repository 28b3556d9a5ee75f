import assert from "node:assert/strict";
import { SharePool, SharePoolBusyError } from "../lib/shares/pool.ts";
import type { HashBackend } from "../lib/shares/check.ts";
import {
  MAINNET_SHAPE,
  REGTEST_SHAPE,
  SeededRandom,
  type SyntheticShape,
  syntheticShare,
  type SyntheticWork,
  syntheticWork,
} from "../lib/shares/synthetic.ts";
import { block100000, genesisBlock, refVerdict, rev, toHex } from "../lib/shares/testing.ts";
import type { ShareInput, ShareVerdict } from "../lib/pool/types.ts";
import { sleep, waitUntil } from "./helpers/wait.ts";

/** A share with the work it belongs to and its expected verdict. */
interface Case {
  readonly work: SyntheticWork;
  readonly share: ShareInput;
  readonly expected: ShareVerdict;
}

/** `count` random shares spread over `jobs` jobs of `shape`, each with its reference verdict. */
function cases(seed: number, shape: SyntheticShape, jobs: number, count: number): Case[] {
  const random = new SeededRandom(seed);
  const works = Array.from(
    { length: jobs },
    () => syntheticWork(shape, random, { networkTarget: random.bigint(256) }),
  );
  return Array.from({ length: count }, (_, i) => {
    const work = works[i % jobs];
    const share = syntheticShare(shape, random, random.bigint(256));
    return { work, share, expected: refVerdict(work.job, work.coinbase, share) };
  });
}

function assertVerdict(actual: ShareVerdict, expected: ShareVerdict, what: string): void {
  assert.equal(toHex(actual.hash), toHex(expected.hash), `${what}: hash`);
  assert.equal(actual.meetsShareTarget, expected.meetsShareTarget, `${what}: share flag`);
  assert.equal(actual.meetsNetworkTarget, expected.meetsNetworkTarget, `${what}: network flag`);
  const relative = Math.abs(actual.difficulty - expected.difficulty) / expected.difficulty;
  assert.ok(relative < 1e-12, `${what}: difficulty`);
}

/** Submits every case at once and checks each verdict against its reference. */
async function checkAll(pool: SharePool, all: Case[]): Promise<void> {
  const verdicts = await Promise.all(
    all.map((c) => pool.check(c.work.job, c.work.coinbase, c.share)),
  );
  verdicts.forEach((v, i) => assertVerdict(v, all[i].expected, `share ${i}`));
}

for (const backend of ["ts", "webcrypto"] as HashBackend[]) {
  Deno.test(`pool (${backend}): random shares on several jobs match the reference`, async () => {
    using pool = await SharePool.create({ workers: 2, backend });
    assert.equal(pool.backend, backend);
    await checkAll(pool, cases(1, MAINNET_SHAPE, 3, 300));
    await checkAll(pool, cases(2, REGTEST_SHAPE, 2, 200));
    const stats = pool.stats();
    assert.equal(stats.checksDone, 500);
    assert.equal(stats.queueDepth, 0);
    assert.deepEqual(stats.inFlight, [0, 0]);
    assert.equal(stats.backend, backend);
  });
}

Deno.test("pool: real blocks (genesis, block 100000) come back as blocks", async () => {
  using pool = await SharePool.create({ workers: 2, backend: "ts" });
  for (const block of [genesisBlock(10), block100000(11)]) {
    const verdict = await pool.check(block.job, block.coinbase, block.share);
    assert.equal(toHex(rev(verdict.hash)), block.hashHex);
    assert.equal(verdict.meetsNetworkTarget, true);
  }
});

Deno.test("pool: thousands of concurrent checks resolve correctly, in few batches", async () => {
  using pool = await SharePool.create({ workers: 2, backend: "ts", maxBatch: 512 });
  const all = cases(3, MAINNET_SHAPE, 4, 5000);
  await checkAll(pool, all);
  const stats = pool.stats();
  assert.equal(stats.checksDone, 5000);
  // Submitted in one tick: batches are as large as maxBatch allows.
  assert.ok(stats.batchesSent <= Math.ceil(5000 / 512) + 2, `${stats.batchesSent} batches`);
  assert.equal(stats.workerRestarts, 0);
});

Deno.test("pool: shares trickling in while the workers are busy join the next batch", async () => {
  using pool = await SharePool.create({ workers: 2, backend: "ts", maxBatch: 256 });
  const backlog = cases(4, MAINNET_SHAPE, 2, 6000);
  const trickle = cases(5, MAINNET_SHAPE, 2, 500);
  const pending = backlog.map((c) => pool.check(c.work.job, c.work.coinbase, c.share));
  // 50 ticks of 10 shares; count the ticks that found the workers still busy (queue not empty).
  let busyTicks = 0;
  for (let i = 0; i < trickle.length; i += 10) {
    if (pool.stats().queueDepth > 0) busyTicks++;
    for (const c of trickle.slice(i, i + 10)) {
      pending.push(pool.check(c.work.job, c.work.coinbase, c.share));
    }
    await sleep(0);
  }
  const all = [...backlog, ...trickle];
  const verdicts = await Promise.all(pending);
  verdicts.forEach((v, i) => assertVerdict(v, all[i].expected, `share ${i}`));
  const stats = pool.stats();
  assert.equal(stats.checksDone, 6500);
  assert.ok(busyTicks > 0, "the backlog outlasted no tick: machine too fast for this test");
  // Full batches for everything, plus at most one batch per tick that found the workers idle.
  const idleTicks = 50 - busyTicks;
  assert.ok(
    stats.batchesSent <= Math.ceil(6500 / 256) + idleTicks + 4,
    `${stats.batchesSent} batches, ${busyTicks} busy ticks`,
  );
});

Deno.test("pool: a small burst goes to one worker whole", async () => {
  using pool = await SharePool.create({ workers: 2, backend: "ts" });
  await checkAll(pool, cases(12, MAINNET_SHAPE, 1, 20));
  assert.equal(pool.stats().batchesSent, 1);
});

Deno.test("pool: light load stays on the first worker; a backlog spreads over all", async () => {
  using pool = await SharePool.create({ workers: 2, backend: "ts" });
  // One share at a time, each answered before the next: the first worker is always idle again.
  for (const c of cases(14, MAINNET_SHAPE, 1, 40)) {
    assertVerdict(await pool.check(c.work.job, c.work.coinbase, c.share), c.expected, "single");
  }
  assert.deepEqual(pool.stats().checksPerWorker, [40, 0]);
  // A burst far larger than one batch is split between the idle workers.
  await checkAll(pool, cases(15, MAINNET_SHAPE, 2, 4000));
  const [first, second] = pool.stats().checksPerWorker;
  assert.equal(first + second, 4040);
  assert.ok(second >= 1000, `second worker answered ${second} of 4000`);
});

Deno.test("pool: sized to the load: one worker at rest, more under a backlog, parked again when idle", async () => {
  using pool = await SharePool.create({
    workers: 3,
    minWorkers: 1,
    idleStopMs: 1500,
    backend: "auto",
    calibrationMs: 20,
  });
  assert.equal(pool.stats().running, 1, "at rest: one worker");
  for (const c of cases(21, MAINNET_SHAPE, 1, 20)) {
    assertVerdict(await pool.check(c.work.job, c.work.coinbase, c.share), c.expected, "single");
  }
  assert.equal(pool.stats().running, 1, "light load stays on one");
  await checkAll(pool, cases(22, MAINNET_SHAPE, 2, 6000));
  const grown = pool.stats();
  assert.ok(grown.checksPerWorker[1] > 0 && grown.checksPerWorker[2] > 0, "a backlog starts them");
  // Idle: the extra workers stop (1.5 s without a batch), the first one stays.
  await waitUntil(() => pool.stats().running === 1, "the extra workers to park", 10_000);
  // And they start again, with the jobs and coinbases sent afresh.
  await checkAll(pool, cases(23, MAINNET_SHAPE, 2, 6000));
  assert.ok(pool.stats().running > 1);
  assert.equal(pool.stats().checksDone, 12020);
});

Deno.test("pool: a warm-up runs before create resolves and leaves no trace in the stats", async () => {
  using pool = await SharePool.create({ workers: 2, backend: "ts", warmUpChecks: 3000 });
  const stats = pool.stats();
  assert.equal(stats.checksDone, 0);
  assert.equal(stats.batchesSent, 0);
  assert.equal(stats.checksPerSecond, 0);
  assert.deepEqual(stats.checksPerWorker, [0, 0]);
  assert.equal(stats.queueDepth, 0);
  // Real checks after it are judged as ever and counted from zero.
  await checkAll(pool, cases(16, REGTEST_SHAPE, 2, 100));
  assert.equal(pool.stats().checksDone, 100);
});

// "throw" is seen by the error event; "close" only by the stall watchdog.
for (const mode of ["throw", "close"] as const) {
  Deno.test(`pool: a worker that dies mid-batch (${mode}) is replaced; no share lost or doubled`, async () => {
    using pool = await SharePool.create({
      workers: 2,
      backend: "ts",
      maxBatch: 400,
      stallTimeoutMs: mode === "close" ? 1000 : 60_000,
    });
    const all = cases(5, MAINNET_SHAPE, 3, 2000);
    pool.injectFault(0, mode, 150);
    let answers = 0;
    const verdicts = await Promise.all(
      all.map((c) =>
        pool.check(c.work.job, c.work.coinbase, c.share).then((v) => {
          answers++;
          return v;
        })
      ),
    );
    verdicts.forEach((v, i) => assertVerdict(v, all[i].expected, `share ${i}`));
    const stats = pool.stats();
    assert.equal(answers, 2000);
    // Every verdict the workers sent was used exactly once: none for the lost batch.
    assert.equal(stats.checksDone, 2000);
    // Exactly one death; a slow, loaded machine may add a false stall alarm in "close" mode,
    // which costs a restart but never a share.
    if (mode === "throw") assert.equal(stats.workerRestarts, 1);
    else assert.ok(stats.workerRestarts >= 1);
    // The replacement worker is in service: more shares go through both workers.
    await checkAll(pool, cases(6, MAINNET_SHAPE, 1, 500));
    assert.deepEqual(pool.stats().inFlight, [0, 0]);
  });
}

Deno.test("pool: a share that kills its worker maxAttempts times is rejected, the rest answered", async () => {
  using pool = await SharePool.create({ workers: 1, backend: "ts", maxAttempts: 1, maxBatch: 100 });
  const all = cases(7, REGTEST_SHAPE, 1, 300);
  pool.injectFault(0, "throw", 50);
  const results = await Promise.allSettled(
    all.map((c) => pool.check(c.work.job, c.work.coinbase, c.share)),
  );
  const rejected = results.filter((r) => r.status === "rejected");
  // The first batch (100 shares) was in the dying worker; the other two batches were queued
  // behind it in the same worker and are lost with it too, so up to 200 shares fail.
  assert.ok(rejected.length >= 100 && rejected.length <= 200, `${rejected.length} rejected`);
  results.forEach((r, i) => {
    if (r.status === "fulfilled") assertVerdict(r.value, all[i].expected, `share ${i}`);
  });
});

Deno.test("pool: retired jobs are forgotten, late shares on them are still judged", async () => {
  using pool = await SharePool.create({ workers: 2, backend: "ts" });
  const all = cases(8, MAINNET_SHAPE, 2, 100);
  await checkAll(pool, all);
  assert.equal(pool.liveJobs, 2);
  pool.retireJob(all[0].work.job.seq);
  assert.equal(pool.liveJobs, 1);
  // A late share on the retired job: correct verdict, and the job is not registered again.
  const late = all.filter((c) => c.work === all[0].work);
  await checkAll(pool, late);
  assert.equal(pool.liveJobs, 1);
  pool.retireJob(all[1].work.job.seq);
  pool.retireJob(all[1].work.job.seq);
  assert.equal(pool.liveJobs, 0);
});

Deno.test("pool: backend auto calibrates both backends and takes the faster", async () => {
  using pool = await SharePool.create({ workers: 2, backend: "auto", calibrationMs: 40 });
  const calibration = pool.calibration;
  assert.ok(calibration !== undefined);
  assert.ok(calibration.ts > 0 && calibration.webcrypto > 0);
  assert.equal(pool.backend, calibration.ts >= calibration.webcrypto ? "ts" : "webcrypto");
  assert.deepEqual(pool.stats().calibration, calibration);
  await checkAll(pool, cases(9, MAINNET_SHAPE, 1, 100));
});

Deno.test("pool: close rejects pending and later checks", async () => {
  const pool = await SharePool.create({ workers: 1, backend: "ts" });
  const all = cases(10, MAINNET_SHAPE, 1, 200);
  const pending = all.map((c) => pool.check(c.work.job, c.work.coinbase, c.share));
  pool.close();
  const results = await Promise.allSettled(pending);
  assert.ok(results.every((r) => r.status === "rejected"));
  await assert.rejects(pool.check(all[0].work.job, all[0].work.coinbase, all[0].share), /closed/);
  pool.close();
});

Deno.test("pool: an extranonce longer than a record can carry is rejected up front", async () => {
  using pool = await SharePool.create({ workers: 1, backend: "ts" });
  const [c] = cases(11, REGTEST_SHAPE, 1, 1);
  await assert.rejects(
    pool.check(c.work.job, c.work.coinbase, { ...c.share, extranonce2: new Uint8Array(256) }),
    RangeError,
  );
});

Deno.test("pool: a worker that cannot start is respawned with back-off, not in a loop", async () => {
  const broken = new URL("data:application/javascript,throw new Error('cannot start')");
  const started = performance.now();
  const pool = await SharePool.create({ workers: 1, backend: "ts", workerUrl: broken });
  const [c] = cases(13, REGTEST_SHAPE, 1, 1);
  // The share goes down with three workers in turn, then is given up (never silently lost).
  const given = assert.rejects(
    pool.check(c.work.job, c.work.coinbase, c.share),
    /gave up after 3 attempts/,
  );
  await sleep(1500);
  await given;
  // Two immediate respawns, then 200, 400, 800 ms … apart: the n-th delayed restart cannot come
  // before 200 * (2^n - 1) ms. Bound by the time that really passed (a loaded machine runs late).
  const restarts = pool.stats().workerRestarts;
  const elapsed = performance.now() - started;
  const delayed = Math.floor(Math.log2(elapsed / 200 + 1));
  assert.ok(restarts >= 3 && restarts <= 3 + delayed, `${restarts} restarts in ${elapsed} ms`);
  pool.close();
});

Deno.test("pool: auto falls back to the TypeScript backend when calibration cannot run", async () => {
  const broken = new URL("data:application/javascript,throw new Error('cannot start')");
  const pool = await SharePool.create({ workers: 2, backend: "auto", workerUrl: broken });
  assert.equal(pool.backend, "ts");
  assert.equal(pool.calibration, undefined);
  pool.close();
});

Deno.test("pool: beyond maxQueue waiting shares, check refuses with SharePoolBusyError", async () => {
  using pool = await SharePool.create({ workers: 1, backend: "ts", maxQueue: 100, maxBatch: 50 });
  const all = cases(14, REGTEST_SHAPE, 1, 300);
  const results = await Promise.allSettled(
    all.map((c) => pool.check(c.work.job, c.work.coinbase, c.share)),
  );
  // All 300 arrive in one tick, before any batch leaves: the first 100 wait, the rest are refused.
  results.forEach((r, i) => {
    if (i < 100) {
      assert.equal(r.status, "fulfilled");
      if (r.status === "fulfilled") assertVerdict(r.value, all[i].expected, `share ${i}`);
    } else {
      assert.equal(r.status, "rejected");
      if (r.status === "rejected") assert.ok(r.reason instanceof SharePoolBusyError);
    }
  });
  // Once the queue drains, shares are accepted again.
  await checkAll(pool, all.slice(100, 110));
});
