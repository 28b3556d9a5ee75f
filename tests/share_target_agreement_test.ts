/**
 * The client's share finder and the server's share judgment use one difficulty → target function:
 * a share found by `StratumClient.findShare` at difficulty d is accepted by the real server at d,
 * down to the last double. Each share's own hash picks the boundary difficulty (the largest double
 * whose target the hash still meets); one double above it, both sides refuse the same share.
 */

import assert from "node:assert/strict";
import { type FoundShare, StratumClient } from "../stratum/client.ts";
import { StratumServer } from "../stratum/server.ts";
import {
  makeJob,
  prevhashOf,
  RecordingBlockSink,
  resolveRegtestPayout,
  TEST_ADDRESS,
  TestJobSource,
} from "../stratum/testing.ts";
import { InlineShareChecker } from "../lib/shares/check.ts";
import { difficultyToTarget, hashToBigInt } from "../lib/bitcoin/target.ts";
import { waitUntil } from "./helpers/wait.ts";

const USER = `${TEST_ADDRESS}.rig1`;
const START_DIFFICULTY = 2 ** -20;

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
  let d = Number(0xffffn << 208n) / Number(hash);
  while (difficultyToTarget(d) < hash) d = stepDouble(d, -1);
  while (difficultyToTarget(stepDouble(d, 1)) >= hash) d = stepDouble(d, 1);
  return d;
}

/** `client.findShare` on the current job, at exactly the nonce and extranonce2 of `share`. */
function refind(client: StratumClient, share: FoundShare): FoundShare | undefined {
  return client.findShare({
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

Deno.test("client finder and server judgment agree on a share's difficulty to the last double", async () => {
  const jobs = new TestJobSource();
  jobs.publish(makeJob({ seq: 1, prevhash: prevhashOf(1) }));
  const server = new StratumServer({
    hostname: "127.0.0.1",
    port: 0,
    jobs,
    checker: new InlineShareChecker("ts"),
    blocks: new RecordingBlockSink(),
    resolvePayout: resolveRegtestPayout,
    initialDifficulty: START_DIFFICULTY,
    vardiff: { minDifficulty: 2 ** -40, minRetargetMs: 1e9, windowMs: 1e9 },
    initialWorkDelayMs: 10,
    log: () => {},
  });
  server.start();
  const client = await StratumClient.connect({ host: "127.0.0.1", port: server.port! });
  try {
    assert.equal((await client.subscribe("denopool-test/1")).error, null);
    assert.equal((await client.authorize(USER, "x")).result, true);
    await waitUntil(() => client.job !== undefined, "the first notify");
    assert.equal(client.difficulty, START_DIFFICULTY);

    // Two different shares at the starting difficulty (a share is submitted once: the second
    // submit of the same header would be a duplicate, whatever its difficulty).
    const first = client.findShare();
    assert.ok(first);
    const second = client.findShare({
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
    assert.ok(low.at >= START_DIFFICULTY);
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
