/**
 * The Stratum client and the miner against the real Stratum server (stratum/server.ts) over real
 * TCP and TLS, with the in-memory job source and block sink of stratum/testing.ts.
 */

import assert from "node:assert/strict";
import { StratumClient } from "../stratum/client.ts";
import { findShare, type FoundShare } from "../stratum/miner.ts";
import { StratumServer, type StratumServerOptions } from "../stratum/server.ts";
import {
  makeJob,
  prevhashOf,
  RecordingBlockSink,
  resolveRegtestPayout,
  TEST_ADDRESS,
  TestJobSource,
} from "../stratum/testing.ts";
import { InlineShareChecker } from "../lib/shares/check.ts";
import { generateSelfSigned } from "../lib/tls/selfsigned.ts";
import { difficultyToTarget, hashToBigInt } from "../lib/bitcoin/target.ts";
import { sha256d } from "../lib/bitcoin/sha256.ts";
import { formatProgress, type MinerStats, runMiner } from "../tools/miner.ts";
import { waitUntil } from "./helpers/wait.ts";

const DIFF1 = 0xffffn << 208n;
const USER = `${TEST_ADDRESS}.rig1`;

function startPool(overrides: Partial<StratumServerOptions> = {}, networkTarget?: bigint) {
  const jobs = new TestJobSource();
  jobs.publish(makeJob({ seq: 1, prevhash: prevhashOf(1), networkTarget }));
  const blocks = new RecordingBlockSink();
  const server = new StratumServer({
    hostname: "127.0.0.1",
    port: 0,
    jobs,
    checker: new InlineShareChecker("ts"),
    blocks,
    resolvePayout: resolveRegtestPayout,
    initialDifficulty: 2 ** -20,
    vardiff: { minDifficulty: 2 ** -40, minRetargetMs: 1e9, windowMs: 1e9 },
    initialWorkDelayMs: 10,
    log: () => {},
    ...overrides,
  });
  server.start();
  return { server, jobs, blocks };
}

Deno.test("client ↔ server: handshake, version rolling, a found share is accepted once", async () => {
  const { server } = startPool();
  const client = await StratumClient.connect({ host: "127.0.0.1", port: server.port! });
  try {
    assert.equal((await client.subscribe("denopool-test/1")).error, null);
    assert.match(client.extranonce1 ?? "", /^[0-9a-f]+$/);
    assert.equal(client.extranonce2Size, 4);
    await client.configure(["version-rolling"], { "version-rolling.mask": "ffffffff" });
    assert.equal(client.versionMask, 0x1fffe000);
    assert.equal((await client.authorize(USER, "x")).result, true);
    await client.waitFor("mining.notify");
    assert.equal(client.difficulty, 2 ** -20);
    assert.equal(client.job?.jobId !== undefined, true);

    const share = findShare(client, { rollVersionBits: true });
    assert.ok(share);
    assert.ok(hashToBigInt(sha256d(share.header)) <= difficultyToTarget(2 ** -20));
    const accepted = await client.submit(USER, share);
    assert.deepEqual([accepted.result, accepted.error], [true, null]);
    // The same share again is a duplicate (code 22).
    const again = await client.submit(USER, share);
    assert.equal((again.error as unknown[])[0], 22);
    // A share the client did not mine is judged on its hash, not accepted.
    const wrong = await client.submit(USER, { ...share, nonce: "00000000" });
    assert.notEqual(wrong.result, true);
  } finally {
    client.close();
    await server.stop();
  }
});

Deno.test("client ↔ server: a share that meets the network target becomes a block", async () => {
  // Network target 2^-19: a share at difficulty 2^-20 is a block about half the time.
  const networkTarget = DIFF1 << 19n;
  const { server, blocks } = startPool({}, networkTarget);
  const client = await StratumClient.connect({ host: "127.0.0.1", port: server.port! });
  try {
    await client.subscribe("denopool-test/1");
    await client.authorize(USER, "x");
    await client.waitFor("mining.notify");
    const share = findShare(client, { target: networkTarget });
    assert.ok(share);
    const reply = await client.submit(USER, share);
    assert.equal(reply.result, true);
    assert.equal(blocks.candidates.length, 1);
    assert.deepEqual(blocks.candidates[0].verdict.hash, share.hash);
    assert.equal(blocks.candidates[0].verdict.meetsNetworkTarget, true);
  } finally {
    client.close();
    await server.stop();
  }
});

Deno.test("client ↔ server: garbage from the client gets a parse error, then the pool hangs up", async () => {
  const { server } = startPool();
  const client = await StratumClient.connect({ host: "127.0.0.1", port: server.port! });
  try {
    await client.subscribe("denopool-test/1");
    await client.sendRaw('{"id": 5, "method": "mining.authorize", "params": [\n');
    // The server answers the sniffed id with -32700, then closes the connection.
    await client.closed;
    assert.equal(client.closeReason, "closed by pool");
    const answer = JSON.parse(client.invalidLines.at(-1)!);
    assert.equal(answer.id, 5);
    assert.equal(answer.error[0], -32700);
  } finally {
    client.close();
    await server.stop();
  }
});

Deno.test("runMiner: two hashing workers mine on the real server; shares accepted, none rejected", async () => {
  const networkTarget = DIFF1 << 12n;
  const { server, blocks } = startPool({ initialDifficulty: 2 ** -14 }, networkTarget);
  const progress: MinerStats[] = [];
  const enough = new AbortController();
  try {
    const stats = await runMiner({
      url: `stratum+tcp://127.0.0.1:${server.port}`,
      user: USER,
      threads: 2,
      versionRolling: true,
      signal: enough.signal,
      durationSeconds: 120, // a safety net only: the test stops once shares are in
      progressIntervalMs: 100,
      onProgress: (p) => {
        progress.push(p);
        if (p.accepted >= 5 && p.hashrate > 0) enough.abort();
      },
    });
    assert.ok(stats.hashes > 0);
    assert.ok(stats.accepted >= 5, `too few accepted shares: ${JSON.stringify(stats)}`);
    assert.equal(stats.rejected, 0, JSON.stringify(stats.rejectReasons));
    assert.equal(stats.sessions, 1);
    assert.equal(stats.connected, false);
    assert.ok(progress.some((p) => p.connected && p.hashrate > 0));
    assert.match(formatProgress(progress.at(-1)!), /H\/s \| accepted \d+ \| rejected 0 \| blocks/);
    // Each block candidate the pool saw was a share the miner sent (network target 2^-12 diff).
    for (const candidate of blocks.candidates) {
      assert.ok(hashToBigInt(candidate.verdict.hash) <= networkTarget);
    }
    // The miner closed its connection; the server sees it go.
    await waitUntil(() => server.counts().plain === 0, "the server to see the miner go");
  } finally {
    await server.stop();
  }
});

Deno.test("runMiner over stratum+ssl with the pool's self-signed certificate as CA", async () => {
  const { certPem, keyPem } = await generateSelfSigned({ dnsNames: ["localhost"] });
  const { server } = startPool({
    port: undefined,
    tls: { port: 0, cert: certPem, key: keyPem },
    initialDifficulty: 2 ** -14,
  });
  const enough = new AbortController();
  try {
    const stats = await runMiner({
      url: `stratum+ssl://localhost:${server.tlsPort}`,
      user: USER,
      caCerts: [certPem],
      signal: enough.signal,
      durationSeconds: 120, // a safety net only
      progressIntervalMs: 100,
      onProgress: (p) => p.accepted >= 2 && enough.abort(),
    });
    assert.ok(stats.accepted >= 2, JSON.stringify(stats));
    assert.equal(stats.rejected, 0);
  } finally {
    await server.stop();
  }
});

Deno.test("runMiner stops on abort and refuses a bad worker name", async () => {
  const { server } = startPool({ initialDifficulty: 2 ** -14 });
  try {
    const controller = new AbortController();
    const running = runMiner({
      url: `stratum+tcp://127.0.0.1:${server.port}`,
      user: USER,
      signal: controller.signal,
      onProgress: (p) => p.hashes > 0 && controller.abort(),
      progressIntervalMs: 100,
    });
    const stats = await running;
    assert.ok(stats.hashes > 0);

    await assert.rejects(
      runMiner({ url: `stratum+tcp://127.0.0.1:${server.port}`, user: "notanaddress.rig" }),
      /authorization refused/,
    );
  } finally {
    await server.stop();
  }
});

// The client's share finder (`findShare`, via lib/bitcoin/target.ts) and the server's share
// judgment use one difficulty → target function: each share's own hash picks its boundary
// difficulty (the largest double whose target the hash still meets); at it the client finds the
// share and the server accepts it, one double above both refuse it.

/** The next double above (step 1) or below (step -1) a positive finite `d`. */
function stepDouble(d: number, step: 1 | -1): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, d);
  view.setBigUint64(0, view.getBigUint64(0) + BigInt(step));
  return view.getFloat64(0);
}

/**
 * The largest double d whose target `hash` meets: difficultyToTarget(d) ≥ hash and
 * difficultyToTarget(next double) < hash. Found by stepping from diff1 / hash.
 */
function boundaryDifficulty(hash: bigint): number {
  let d = Number(DIFF1) / Number(hash);
  while (difficultyToTarget(d) < hash) d = stepDouble(d, -1);
  while (difficultyToTarget(stepDouble(d, 1)) >= hash) d = stepDouble(d, 1);
  return d;
}

/** `findShare(client)` on the current job, at exactly the nonce and extranonce2 of `share`. */
function refind(client: StratumClient, share: FoundShare): FoundShare | undefined {
  return findShare(client, {
    extranonce2Start: parseInt(share.extranonce2, 16),
    startNonce: parseInt(share.nonce, 16),
    maxNonces: 1,
  });
}

/**
 * Raises the connection's difficulty to exactly `difficulty` (the `minimum-difficulty` extension
 * sets a floor as given; hints and vardiff round to their grid) and waits for the new
 * `set_difficulty` and the job re-sent under a new id.
 */
async function raiseDifficulty(client: StratumClient, difficulty: number): Promise<void> {
  const before = client.job?.jobId;
  const reply = await client.configure(["minimum-difficulty"], {
    "minimum-difficulty.value": difficulty,
  });
  assert.equal((reply.result as Record<string, unknown>)["minimum-difficulty"], true);
  await waitUntil(
    () => client.difficulty === difficulty && client.job?.jobId !== before,
    `set_difficulty ${difficulty} and a new notify`,
  );
}

Deno.test("client ↔ server: the finder and the share judgment agree on a difficulty to the last double", async () => {
  const { server } = startPool(); // difficulty 2^-20, no vardiff moves
  const client = await StratumClient.connect({ host: "127.0.0.1", port: server.port! });
  try {
    assert.equal((await client.subscribe("denopool-test/1")).error, null);
    assert.equal((await client.authorize(USER, "x")).result, true);
    await waitUntil(() => client.job !== undefined, "the first notify");
    assert.equal(client.difficulty, 2 ** -20);

    // Two different shares at the starting difficulty (a share is submitted once: the second
    // submit of the same header would be a duplicate, whatever its difficulty).
    const first = findShare(client);
    assert.ok(first);
    const second = findShare(client, {
      extranonce2Start: parseInt(first.extranonce2, 16),
      startNonce: parseInt(first.nonce, 16) + 1,
    });
    assert.ok(second);
    assert.notEqual(second.nonce + second.extranonce2, first.nonce + first.extranonce2);

    // Exactly at the lower boundary, the client finds its share again and the server accepts it;
    // one double above the higher boundary, the client does not find its share and the server
    // judges it low difficulty. (The difficulty only goes up: the floor does not lower it.)
    const [low, high] = [first, second]
      .map((share) => ({ share, at: boundaryDifficulty(hashToBigInt(share.hash)) }))
      .sort((a, b) => a.at - b.at);
    assert.ok(low.at >= 2 ** -20);
    for (const { share, at } of [low, high]) {
      const hash = hashToBigInt(share.hash);
      assert.ok(difficultyToTarget(at) >= hash && difficultyToTarget(stepDouble(at, 1)) < hash);
    }

    await raiseDifficulty(client, low.at);
    const atBoundary = refind(client, low.share);
    assert.ok(atBoundary, "the finder finds it at its boundary difficulty");
    assert.equal(atBoundary.target, difficultyToTarget(low.at));
    assert.deepEqual(atBoundary.hash, low.share.hash);
    const accepted = await client.submit(USER, atBoundary);
    assert.deepEqual([accepted.result, accepted.error], [true, null], "accepted at the boundary");

    const above = stepDouble(high.at, 1);
    await raiseDifficulty(client, above);
    assert.equal(refind(client, high.share), undefined, "the finder refuses it one double above");
    const refused = await client.submit(USER, { ...high.share, jobId: client.job!.jobId });
    assert.equal(refused.result, null);
    assert.equal((refused.error as unknown[])[0], 23, "low difficulty one double above");
  } finally {
    client.close();
    await server.stop();
  }
});
