/**
 * The Stratum server over real TCP: handshake and first work, every reject reason, no poisoning,
 * malformed input, clean_jobs, stale tips, session resume, blocks, version rolling, hints,
 * readiness, graceful stop.
 */

import assert from "node:assert/strict";
import { InlineShareChecker } from "../lib/shares/check.ts";
import { StratumServer, type StratumServerOptions } from "../stratum/server.ts";
import {
  grindNonce,
  makeJob,
  type Message,
  prevhashOf,
  RecordingBlockSink,
  resolveRegtestPayout,
  TEST_ADDRESS,
  TestJobSource,
  TestMiner,
} from "../stratum/testing.ts";
import { addressToScript } from "../lib/bitcoin/address.ts";
import { NETWORKS } from "../lib/bitcoin/networks.ts";
import { sleep, waitUntil } from "./helpers/wait.ts";

const DIFF1 = 0xffffn << 208n;
/** Test difficulty 2^-30: a quarter of all hashes meet it, so grinding is instant. */
const TEST_DIFFICULTY = 2 ** -30;
const TEST_TARGET = DIFF1 << 30n;
const SCRIPT = addressToScript(TEST_ADDRESS, NETWORKS.regtest);
const NTIME = 1_750_000_000;

interface Pool {
  server: StratumServer;
  jobs: TestJobSource;
  blocks: RecordingBlockSink;
  logs: string[];
  connect(): Promise<TestMiner>;
  stop(): Promise<void>;
}

function startPool(
  overrides: Partial<StratumServerOptions> = {},
  publish = true,
): Pool {
  const jobs = new TestJobSource();
  if (publish) jobs.publish(makeJob({ seq: 1, prevhash: prevhashOf(1) }));
  const blocks = new RecordingBlockSink();
  const logs: string[] = [];
  const server = new StratumServer({
    hostname: "127.0.0.1",
    port: 0,
    jobs,
    checker: new InlineShareChecker("ts"),
    blocks,
    resolvePayout: resolveRegtestPayout,
    initialDifficulty: TEST_DIFFICULTY,
    vardiff: { minDifficulty: 2 ** -40, minRetargetMs: 1e9, windowMs: 1e9 },
    initialWorkDelayMs: 20,
    sweepIntervalMs: 50,
    log: (m) => logs.push(m),
    ...overrides,
  });
  server.start();
  const miners: TestMiner[] = [];
  return {
    server,
    jobs,
    blocks,
    logs,
    async connect() {
      const m = await TestMiner.connect(server.port!);
      miners.push(m);
      return m;
    },
    async stop() {
      await server.stop();
      for (const m of miners) m.close();
      await Promise.all(miners.map((m) => m.closed));
    },
  };
}

function errorOf(m: Message): [number, string] {
  const e = m.error as [number, string, null];
  assert.ok(Array.isArray(e), `expected an error, got ${JSON.stringify(m)}`);
  return [e[0], e[1]];
}

const hex8 = (n: number) => (n >>> 0).toString(16).padStart(8, "0");

/** Submits on `jobId` a share ground to satisfy `want` (default: meets the share target). */
async function submitGround(
  miner: TestMiner,
  pool: Pool,
  extranonce1: string,
  opts: {
    jobId?: string;
    jobSeq?: number;
    extranonce2?: string;
    ntime?: number;
    want?: (v: { meetsShareTarget: boolean; meetsNetworkTarget: boolean }) => boolean;
    target?: bigint;
    start?: number;
  } = {},
): Promise<{ reply: Message; nonce: number }> {
  const job = pool.jobs.get((opts.jobSeq ?? 1).toString(16))!;
  const extranonce2 = opts.extranonce2 ?? "00000001";
  const ntime = opts.ntime ?? NTIME;
  const nonce = grindNonce(
    {
      job,
      script: SCRIPT,
      extranonce1,
      extranonce2,
      ntime,
      shareTarget: opts.target ?? TEST_TARGET,
    },
    opts.want ?? ((v) => v.meetsShareTarget && !v.meetsNetworkTarget),
    opts.start ?? 0,
  );
  const reply = await miner.request("mining.submit", [
    TEST_ADDRESS + ".rig1",
    opts.jobId ?? job.id,
    extranonce2,
    hex8(ntime),
    hex8(nonce),
  ]);
  return { reply, nonce };
}

Deno.test("subscribe answers ckpool-style with a unique 4-byte extranonce1 per connection", async () => {
  const pool = startPool();
  try {
    const a = await pool.connect();
    const b = await pool.connect();
    const ra = await a.request("mining.subscribe", ["cgminer/4.11.1"]);
    const rb = await b.request("mining.subscribe", ["cgminer/4.11.1"]);
    const [tuples, en1a, en2Size] = ra.result as [unknown[][], string, number];
    assert.deepEqual(tuples, [["mining.notify", en1a]]);
    assert.match(en1a, /^[0-9a-f]{8}$/);
    assert.equal(en2Size, 4);
    const en1b = (rb.result as unknown[])[1];
    assert.notEqual(en1a, en1b);
    assert.equal(pool.server.counts().plain, 2);
  } finally {
    await pool.stop();
  }
});

Deno.test("set_difficulty and a clean notify arrive after authorize without the miner sending more", async () => {
  const pool = startPool();
  try {
    const m = await pool.connect();
    await m.request("mining.subscribe", ["testminer/1.0"]);
    const auth = await m.request("mining.authorize", [TEST_ADDRESS + ".rig1", "x"]);
    assert.equal(auth.result, true);
    // Nothing else is written by the miner from here on.
    const setDiff = await m.notification("mining.set_difficulty");
    assert.deepEqual(setDiff.params, [TEST_DIFFICULTY]);
    const notify = await m.notification("mining.notify");
    const job = pool.jobs.current()!;
    const cb = job.coinbaseFor(SCRIPT);
    assert.deepEqual(notify.params, [
      job.id,
      job.prevhashStratum,
      cb.coinb1Hex,
      cb.coinb2Hex,
      job.merkleBranchHex,
      "20000000",
      "1d00ffff",
      hex8(job.curtime),
      true,
    ]);
    assert.ok(m.received.indexOf(setDiff) < m.received.indexOf(notify), "difficulty first");
    assert.equal(pool.server.counts().authorized, 1);
  } finally {
    await pool.stop();
  }
});

Deno.test("authorize-before-subscribe works; invalid address and bad password are refused", async () => {
  const pool = startPool({ poolPassword: "sesame" });
  try {
    const a = await pool.connect();
    const early = await a.request("mining.authorize", [TEST_ADDRESS, "p=sesame,d=0.5"]);
    assert.equal(early.result, true);
    await a.request("mining.subscribe", []);
    const diff = await a.notification("mining.set_difficulty");
    assert.deepEqual(diff.params, [0.5], "d= in the password sets the difficulty");

    const b = await pool.connect();
    await b.request("mining.subscribe", []);
    const bad = await b.request("mining.authorize", ["bc1qnotanaddress.rig", "sesame"]);
    const [code, message] = errorOf(bad);
    assert.equal(code, 20);
    assert.match(message, /^invalid worker name: /);

    const c = await pool.connect();
    const wrong = await c.request("mining.authorize", [TEST_ADDRESS, "nope"]);
    assert.deepEqual(errorOf(wrong), [24, "invalid password"]);
    await c.closed;
  } finally {
    await pool.stop();
  }
});

Deno.test("a valid share is accepted; every reject reason answers its code and message", async () => {
  const pool = startPool({ recentJobs: 4 });
  try {
    const m = await pool.connect();
    const notSub = await m.request("mining.submit", [
      TEST_ADDRESS,
      "1",
      "00000000",
      hex8(NTIME),
      "00000000",
    ]);
    assert.deepEqual(errorOf(notSub), [25, "not subscribed"]);
    const sub = await m.request("mining.subscribe", []);
    const en1 = (sub.result as unknown[])[1] as string;
    const unauth = await m.request("mining.submit", [
      TEST_ADDRESS,
      "1",
      "00000000",
      hex8(NTIME),
      "00000000",
    ]);
    assert.deepEqual(errorOf(unauth), [24, "unauthorized"]);
    await m.request("mining.authorize", [TEST_ADDRESS + ".rig1", "x"]);
    await m.notification("mining.notify");

    const ok = await submitGround(m, pool, en1);
    assert.equal(ok.reply.result, true);
    assert.equal(ok.reply.error, null);

    const submit = (params: unknown[]) => m.request("mining.submit", params);
    const base = [TEST_ADDRESS + ".rig1", "1", "00000002", hex8(NTIME), "00000000"];
    const replace = (i: number, v: unknown) => base.map((x, j) => (j === i ? v : x));

    assert.deepEqual(errorOf(await submit(base.slice(0, 4))), [20, "invalid params"]);
    assert.deepEqual(errorOf(await submit([...base, "0", "extra"])), [20, "invalid params"]);
    assert.deepEqual(errorOf(await submit(replace(1, "ffff"))), [21, "job not found"]);
    assert.deepEqual(errorOf(await submit(replace(2, "0000000001"))), [
      20,
      "invalid extranonce2: expected 8 hex digits",
    ]);
    assert.deepEqual(errorOf(await submit(replace(2, "zz000000")))[0], 20);
    assert.deepEqual(errorOf(await submit(replace(3, "1234"))), [
      20,
      "invalid ntime: expected 8 hex digits",
    ]);
    assert.deepEqual(errorOf(await submit(replace(4, "xyz"))), [
      20,
      "invalid nonce: expected 8 hex digits",
    ]);
    assert.deepEqual(errorOf(await submit([...base, "00002000"])), [
      20,
      "version bits outside the negotiated mask",
    ]);

    // ntime window: far in the future.
    const future = await submitGround(m, pool, en1, {
      ntime: Math.floor(Date.now() / 1000) + 8000,
      extranonce2: "00000003",
    });
    assert.deepEqual(errorOf(future.reply), [20, "ntime out of range"]);
    // before mintime
    const past = await submitGround(m, pool, en1, { ntime: NTIME - 601, extranonce2: "00000003" });
    assert.deepEqual(errorOf(past.reply), [20, "ntime out of range"]);

    // duplicate, also with different hex case of extranonce2 and nonce
    const dup = await m.request("mining.submit", [
      TEST_ADDRESS + ".rig1",
      "1",
      "00000001",
      hex8(NTIME),
      hex8(ok.nonce).toUpperCase(),
    ]);
    assert.deepEqual(errorOf(dup), [22, "duplicate share"]);

    // low difficulty: a nonce whose hash misses the share target
    const low = await submitGround(m, pool, en1, {
      extranonce2: "0000000a",
      want: (v) => !v.meetsShareTarget,
    });
    const [lowCode, lowMessage] = errorOf(low.reply);
    assert.equal(lowCode, 23);
    assert.match(lowMessage, /^low difficulty share \(got [0-9.e-]+, expected 9\.313e-10\)$/);

    const stats = pool.server.registry.list(Date.now())[0];
    assert.equal(stats.accepted, 1);
    assert.equal(stats.rejectedByReason["duplicate"], 1);
    assert.equal(stats.rejectedByReason["low-difficulty"], 1);
    assert.equal(stats.rejectedByReason["stale"], 1);
    assert.equal(stats.rejectedByReason["invalid"], 9);
  } finally {
    await pool.stop();
  }
});

Deno.test("malformed submits do not poison the judging of a later valid share on the same job", async () => {
  const pool = startPool();
  try {
    const m = await pool.connect();
    const { extranonce1 } = await m.handshake();
    const job = pool.jobs.current()!;
    const nonce = grindNonce(
      {
        job,
        script: SCRIPT,
        extranonce1,
        extranonce2: "0000abcd",
        ntime: NTIME,
        shareTarget: TEST_TARGET,
      },
      (v) => v.meetsShareTarget,
    );
    const w = TEST_ADDRESS + ".rig1";
    // Same share with an over-long extranonce2, a bad ntime, a bad nonce, a short one, bad version.
    for (
      const params of [
        [w, job.id, "0000abcd00", hex8(NTIME), hex8(nonce)],
        [w, job.id, "0000abcd", "zzzzzzzz", hex8(nonce)],
        [w, job.id, "0000abcd", hex8(NTIME), "nonce!!!"],
        [w, job.id, "0000abcd", hex8(NTIME), hex8(nonce).slice(1)],
        [w, job.id, "0000abcd", hex8(NTIME), hex8(nonce), "ffffffff"],
        [w, job.id, "0000ABCD", hex8(Math.floor(Date.now() / 1000) + 1_000_000), hex8(nonce)],
      ]
    ) {
      const reply = await m.request("mining.submit", params);
      assert.equal(errorOf(reply)[0], 20, JSON.stringify(params));
    }
    const valid = await m.request("mining.submit", [
      w,
      job.id,
      "0000abcd",
      hex8(NTIME),
      hex8(nonce),
    ]);
    assert.equal(valid.result, true, JSON.stringify(valid.error));
  } finally {
    await pool.stop();
  }
});

Deno.test("bad JSON, oversize lines, unknown methods and bad params get the right error; others unaffected", async () => {
  const pool = startPool({ maxLineBytes: 1024 });
  try {
    const bystander = await pool.connect();
    const { extranonce1 } = await bystander.handshake();

    const unknown = await pool.connect();
    const r = await unknown.request("mining.frobnicate", [1]);
    assert.deepEqual(errorOf(r), [-32601, "method not found"]);
    const badConfigure = await unknown.request("mining.configure", ["not-a-list"]);
    assert.deepEqual(errorOf(badConfigure), [20, "invalid params"]);
    const badSuggest = await unknown.request("mining.suggest_difficulty", [-5]);
    assert.deepEqual(errorOf(badSuggest), [20, "invalid difficulty"]);
    const badTarget = await unknown.request("mining.suggest_target", ["xyz"]);
    assert.deepEqual(errorOf(badTarget), [20, "invalid target"]);
    const badAuth = await unknown.request("mining.authorize", [42]);
    assert.deepEqual(errorOf(badAuth), [20, "worker name required"]);
    assert.equal(unknown.isClosed, false, "bad params do not close");

    const broken = await pool.connect();
    await broken.writeRaw('{"id":7,"method":"mining.subscribe","params":[\n');
    const parseErr = await broken.waitFor((m) => m.id === 7);
    assert.deepEqual(errorOf(parseErr), [-32700, "parse error"]);
    await broken.closed;

    const notObject = await pool.connect();
    await notObject.writeRaw("[1,2,3]\n");
    assert.deepEqual(errorOf(await notObject.waitFor(() => true)), [-32600, "invalid request"]);
    await notObject.closed;

    const huge = await pool.connect();
    await huge.writeRaw(
      '{"id":99,"method":"mining.subscribe","params":["' + "a".repeat(5000) + '"]}\n',
    );
    const tooLong = await huge.waitFor((m) => m.id === 99);
    assert.deepEqual(errorOf(tooLong), [20, "message too long"]);
    await huge.closed;

    // A line split across many small writes is reassembled.
    const slow = await pool.connect();
    const line = JSON.stringify({ id: 5, method: "mining.ping", params: [] }) + "\r\n";
    for (const ch of line) await slow.writeRaw(ch);
    assert.equal((await slow.waitFor((m) => m.id === 5)).result, "pong");

    // The first miner still mines.
    const ok = await submitGround(bystander, pool, extranonce1);
    assert.equal(ok.reply.result, true);
  } finally {
    await pool.stop();
  }
});

Deno.test("clean_jobs is true on a new tip and false on a tx-only update; old-tip shares are stale (21)", async () => {
  const pool = startPool();
  try {
    const m = await pool.connect();
    const { extranonce1 } = await m.handshake();
    let from = m.received.length;
    pool.jobs.publish(makeJob({ seq: 2, prevhash: prevhashOf(1), clean: false }));
    const txOnly = await m.notification("mining.notify", from);
    assert.equal(txOnly.params![0], "2");
    assert.equal(txOnly.params![8], false);

    // A share on job 1 (same tip as the current job 2) is still fine.
    const sameTip = await submitGround(m, pool, extranonce1, { jobSeq: 1 });
    assert.equal(sameTip.reply.result, true);

    from = m.received.length;
    pool.jobs.publish(makeJob({ seq: 3, prevhash: prevhashOf(2), clean: true, height: 1001 }));
    const newTip = await m.notification("mining.notify", from);
    assert.equal(newTip.params![0], "3");
    assert.equal(newTip.params![8], true);

    const stale = await submitGround(m, pool, extranonce1, { jobSeq: 2, extranonce2: "00000005" });
    assert.deepEqual(errorOf(stale.reply), [21, "stale share: job is for an earlier block"]);
    const fresh = await submitGround(m, pool, extranonce1, { jobSeq: 3 });
    assert.equal(fresh.reply.result, true);
  } finally {
    await pool.stop();
  }
});

Deno.test("a share meeting the network target is submitted as a block even when policy rejects it", async () => {
  const pool = startPool();
  try {
    pool.jobs.publish(makeJob({ seq: 2, prevhash: prevhashOf(3), networkTarget: 1n << 254n }));
    const m = await pool.connect();
    const { extranonce1 } = await m.handshake();
    const block = await submitGround(m, pool, extranonce1, {
      jobSeq: 2,
      want: (v) => v.meetsNetworkTarget,
    });
    assert.equal(block.reply.result, true);
    assert.equal(pool.blocks.candidates.length, 1);
    const c = pool.blocks.candidates[0];
    assert.equal(c.job.id, "2");
    assert.equal(c.worker, TEST_ADDRESS + ".rig1");
    assert.equal(c.share.nonce, block.nonce);
    assert.ok(c.verdict.meetsNetworkTarget);

    // ntime far outside the window: still submitted, never lost.
    const far = Math.floor(Date.now() / 1000) + 9000;
    const outside = await submitGround(m, pool, extranonce1, {
      jobSeq: 2,
      ntime: far,
      want: (v) => v.meetsNetworkTarget,
    });
    assert.equal(outside.reply.result, true);
    assert.equal(pool.blocks.candidates.length, 2);
    assert.equal(pool.blocks.candidates[1].share.ntime, far);

    pool.blocks.rejectWith = "high-hash";
    const rejected = await submitGround(m, pool, extranonce1, {
      jobSeq: 2,
      extranonce2: "00000009",
      want: (v) => v.meetsNetworkTarget,
    });
    assert.deepEqual(errorOf(rejected.reply), [20, "block rejected: high-hash"]);
    assert.equal(pool.logs.filter((l) => l.startsWith("block ")).length, 3);
  } finally {
    await pool.stop();
  }
});

Deno.test("a closed session's extranonce1 comes back when the miner resumes with its session id", async () => {
  const pool = startPool();
  try {
    const a = await pool.connect();
    const first = await a.handshake();
    a.close();
    await a.closed;
    await waitUntil(() => pool.server.counts().plain === 0, "the server to see the close");
    const other = await pool.connect();
    const otherSub = await other.request("mining.subscribe", ["x"]);
    assert.notEqual((otherSub.result as unknown[])[1], first.extranonce1, "held for resumption");

    const b = await pool.connect();
    const sub = await b.request("mining.subscribe", ["testminer/1.0", first.extranonce1]);
    assert.equal((sub.result as unknown[])[1], first.extranonce1);
    // A second claim while in use gets a fresh one.
    const c = await pool.connect();
    const subC = await c.request("mining.subscribe", ["testminer/1.0", first.extranonce1]);
    assert.notEqual((subC.result as unknown[])[1], first.extranonce1);
  } finally {
    await pool.stop();
  }
});

Deno.test("resume within the extranonce window: the same extranonce1, and its old shares stay duplicates; later: a fresh one", async () => {
  let offset = 0;
  const pool = startPool({ now: () => Date.now() + offset, extranonceResumeWindowMs: 5_000 });
  try {
    const a = await pool.connect();
    const first = await a.handshake();
    const share = await submitGround(a, pool, first.extranonce1);
    assert.equal(share.reply.result, true);
    a.close();
    await a.closed;
    await waitUntil(() => pool.server.counts().plain === 0, "the server to see the close");

    const b = await pool.connect();
    const sub = await b.request("mining.subscribe", ["testminer/1.0", first.extranonce1]);
    assert.equal((sub.result as unknown[])[1], first.extranonce1);
    await b.request("mining.authorize", [TEST_ADDRESS + ".rig1", "x"]);
    await b.notification("mining.notify");
    const replay = await b.request("mining.submit", [
      TEST_ADDRESS + ".rig1",
      "1",
      "00000001",
      hex8(NTIME),
      hex8(share.nonce),
    ]);
    assert.equal(errorOf(replay)[0], 22, "a share sent before the reconnect is a duplicate");
    b.close();
    await b.closed;
    await waitUntil(() => pool.server.counts().plain === 0, "the server to see the close");

    // Past the window the keys of its shares are gone, so its extranonce1 is not handed back.
    offset = 6_000;
    await sleep(150); // sweeps run every 50 ms
    const c = await pool.connect();
    const late = await c.request("mining.subscribe", ["testminer/1.0", first.extranonce1]);
    assert.notEqual((late.result as unknown[])[1], first.extranonce1);
  } finally {
    await pool.stop();
  }
});

Deno.test("version rolling: configure negotiates the mask, set_version_mask follows, rolled shares count", async () => {
  const pool = startPool();
  try {
    const m = await pool.connect();
    const conf = await m.request("mining.configure", [
      ["version-rolling", "minimum-difficulty", "subscribe-extranonce", "weird-ext"],
      {
        "version-rolling.mask": "ffffffff",
        "version-rolling.min-bit-count": 2,
        "minimum-difficulty.value": TEST_DIFFICULTY,
      },
    ]);
    assert.deepEqual(conf.result, {
      "version-rolling": true,
      "version-rolling.mask": "1fffe000",
      "minimum-difficulty": true,
      "subscribe-extranonce": true,
      "weird-ext": false,
    });
    const mask = await m.notification("mining.set_version_mask");
    assert.deepEqual(mask.params, ["1fffe000"]);
    const sub = await m.request("mining.subscribe", []);
    const en1 = (sub.result as unknown[])[1] as string;
    const setEn = await m.notification("mining.set_extranonce");
    assert.deepEqual(setEn.params, [en1, 4]);
    await m.request("mining.authorize", [TEST_ADDRESS + ".rig1", "x"]);
    await m.notification("mining.notify");

    const job = pool.jobs.current()!;
    const rolledBits = 0x00006000;
    const version = (job.version | rolledBits) >>> 0;
    const nonce = grindNonce(
      {
        job,
        script: SCRIPT,
        extranonce1: en1,
        extranonce2: "00000001",
        ntime: NTIME,
        version,
        shareTarget: TEST_TARGET,
      },
      (v) => v.meetsShareTarget,
    );
    const w = TEST_ADDRESS + ".rig1";
    const ok = await m.request("mining.submit", [
      w,
      job.id,
      "00000001",
      hex8(NTIME),
      hex8(nonce),
      hex8(rolledBits),
    ]);
    assert.equal(ok.result, true, JSON.stringify(ok.error));
    // The same share sent as the full version is the same share: duplicate.
    const full = await m.request("mining.submit", [
      w,
      job.id,
      "00000001",
      hex8(NTIME),
      hex8(nonce),
      hex8(version),
    ]);
    assert.deepEqual(errorOf(full), [22, "duplicate share"]);
    const outside = await m.request("mining.submit", [
      w,
      job.id,
      "00000001",
      hex8(NTIME),
      hex8(nonce),
      "00000001",
    ]);
    assert.deepEqual(errorOf(outside), [20, "version bits outside the negotiated mask"]);
  } finally {
    await pool.stop();
  }
});

Deno.test("suggest_difficulty: new difficulty applies to the next job; shares on the older notify keep theirs", async () => {
  const pool = startPool();
  try {
    const m = await pool.connect();
    const { extranonce1 } = await m.handshake();
    const from = m.received.length;
    const higher = 2 ** -20; // 1024× harder
    assert.equal((await m.request("mining.suggest_difficulty", [higher])).result, true);
    const setDiff = await m.notification("mining.set_difficulty", from);
    assert.deepEqual(setDiff.params, [higher]);
    const notify = await m.notification("mining.notify", from);
    assert.equal(notify.params![0], "1.1", "same job, new difficulty, new id");
    assert.equal(notify.params![8], false);

    // On the old id, judged at the old difficulty (2^-30): accepted.
    const old = await submitGround(m, pool, extranonce1, {
      want: (v) => v.meetsShareTarget && !v.meetsNetworkTarget,
    });
    assert.equal(old.reply.result, true);
    // On the new id a share that meets only the old target is low difficulty …
    const newTarget = DIFF1 << 20n;
    const failsNew = await submitGround(m, pool, extranonce1, {
      jobId: "1.1",
      extranonce2: "00000002",
      target: newTarget,
      want: (v) => !v.meetsShareTarget,
    });
    const [code, message] = errorOf(failsNew.reply);
    assert.equal(code, 23);
    assert.match(message, /expected 9\.537e-7\)$/);
    // … and one that meets the new target is accepted.
    const meetsNew = await submitGround(m, pool, extranonce1, {
      jobId: "1.1",
      extranonce2: "00000003",
      target: newTarget,
      want: (v) => v.meetsShareTarget && !v.meetsNetworkTarget,
    });
    assert.equal(meetsNew.reply.result, true);
  } finally {
    await pool.stop();
  }
});

Deno.test("while the job source is not ready the miner gets show_message and no work, then resumes", async () => {
  const pool = startPool({}, false);
  try {
    pool.jobs.ready = false;
    pool.jobs.notReadyReason = "node is in initial block download";
    const m = await pool.connect();
    await m.request("mining.subscribe", []);
    await m.request("mining.authorize", [TEST_ADDRESS, "x"]);
    const msg = await m.notification("client.show_message");
    assert.deepEqual(msg.params, ["node is in initial block download"]);
    await sleep(150);
    assert.ok(!m.received.some((x) => x.method === "mining.notify"), "no work while not ready");

    pool.jobs.ready = true;
    pool.jobs.publish(makeJob({ seq: 7, prevhash: prevhashOf(7), clean: false }));
    const notify = await m.notification("mining.notify");
    assert.equal(notify.params![0], "7");
    assert.equal(notify.params![8], true, "first work is always clean");

    // Not ready again mid-way: a message, then work again by itself once ready.
    pool.jobs.ready = false;
    pool.jobs.notReadyReason = "template feed stale";
    const paused = await m.waitFor((x) =>
      x.method === "client.show_message" && x.params![0] === "template feed stale"
    );
    assert.ok(paused);
    const from = m.received.length;
    pool.jobs.ready = true;
    const resumed = await m.notification("mining.notify", from);
    assert.equal(resumed.params![8], true);
  } finally {
    await pool.stop();
  }
});

Deno.test("misc methods: ping, get_version, get_transactions, extranonce.subscribe, banned client", async () => {
  const pool = startPool({ clientBlacklist: ["badminer"] });
  try {
    const m = await pool.connect();
    assert.equal((await m.request("mining.ping")).result, "pong");
    assert.equal((await m.request("client.get_version")).result, "denopool/0.1.0");
    assert.deepEqual((await m.request("mining.get_transactions", ["1"])).result, []);
    const sub = await m.request("mining.subscribe", ["x"]);
    const from = m.received.length;
    assert.equal((await m.request("mining.extranonce.subscribe")).result, true);
    const setEn = await m.notification("mining.set_extranonce", from);
    assert.deepEqual(setEn.params, [(sub.result as unknown[])[1], 4]);

    const bad = await pool.connect();
    const refused = await bad.request("mining.subscribe", ["BadMiner/2.0"]);
    assert.deepEqual(errorOf(refused), [20, "banned miner type"]);
    await bad.closed;
  } finally {
    await pool.stop();
  }
});

Deno.test("too many invalid shares ban the worker (24) and a banned worker cannot authorize", async () => {
  const pool = startPool({ invalidShares: { threshold: 3 } });
  try {
    const m = await pool.connect();
    const { extranonce1 } = await m.handshake();
    const w = TEST_ADDRESS + ".rig1";
    for (let i = 0; i < 3; i++) {
      await m.request("mining.submit", [w, "1", "00000001", hex8(NTIME), "bad"]);
    }
    const banned = await m.waitFor((x) => x.method === "client.show_message");
    assert.match(banned.params![0] as string, /^Banned until .*: too many invalid shares$/);
    const after = await submitGround(m, pool, extranonce1);
    const [code, message] = errorOf(after.reply);
    assert.equal(code, 24);
    assert.match(message, /^banned until \d{4}-.*: too many invalid shares$/);

    const again = await pool.connect();
    await again.request("mining.subscribe", []);
    const auth = await again.request("mining.authorize", [w, "x"]);
    assert.equal(errorOf(auth)[0], 24);
    await again.closed;
  } finally {
    await pool.stop();
  }
});

Deno.test("admission: per-IP cap refuses extra connections; idle connections are closed", async () => {
  const pool = startPool({ admission: { maxPerIp: 2 }, idleTimeoutMs: 200 });
  try {
    const a = await pool.connect();
    const b = await pool.connect();
    const c = await pool.connect();
    await c.closed;
    assert.equal(pool.server.counts().refused["ip-limit"], 1);
    assert.equal((await a.request("mining.ping")).result, "pong");
    await Promise.all([a.closed, b.closed]); // idle timeout
    assert.equal(pool.server.counts().plain, 0);
  } finally {
    await pool.stop();
  }
});

Deno.test("stop sends client.show_message, then closes every connection", async () => {
  const pool = startPool();
  const m = await pool.connect();
  await m.handshake();
  await pool.server.stop("maintenance, back soon");
  await m.closed;
  const last = m.received[m.received.length - 1];
  assert.deepEqual(last, {
    id: null,
    method: "client.show_message",
    params: ["maintenance, back soon"],
  });
  await pool.stop();
});
