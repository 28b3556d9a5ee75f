/**
 * Back-pressure: shares waiting for a hash are bounded per connection and pool-wide. A miner that
 * pipelines many submits is read only as fast as it is answered; every submit is still answered,
 * in order; other miners are not held up by one connection's backlog.
 */

import assert from "node:assert/strict";
import { StratumServer } from "../stratum/server.ts";
import { ShareGate } from "../stratum/backpressure.ts";
import {
  makeJob,
  prevhashOf,
  RecordingBlockSink,
  resolveRegtestPayout,
  TEST_ADDRESS,
  TestJobSource,
  TestMiner,
} from "../stratum/testing.ts";
import { InlineShareChecker } from "../lib/shares/mod.ts";
import type {
  CoinbaseParts,
  Job,
  ShareChecker,
  ShareInput,
  ShareVerdict,
} from "../lib/pool/types.ts";
import { waitUntil } from "./helpers/wait.ts";

/** A checker that holds every share until the test lets it go. */
class HeldChecker implements ShareChecker {
  readonly #inner = new InlineShareChecker("ts");
  readonly #held: (() => void)[] = [];
  concurrent = 0;
  peak = 0;

  check(job: Job, coinbase: CoinbaseParts, share: ShareInput): Promise<ShareVerdict> {
    this.concurrent++;
    this.peak = Math.max(this.peak, this.concurrent);
    return new Promise((resolve, reject) => {
      this.#held.push(() => {
        this.concurrent--;
        this.#inner.check(job, coinbase, share).then(resolve, reject);
      });
    });
  }

  get held(): number {
    return this.#held.length;
  }

  release(n = Infinity): void {
    for (let i = 0; i < n && this.#held.length > 0; i++) this.#held.shift()!();
  }
}

function startServer(checker: ShareChecker, perConnection: number, poolWide: number) {
  const jobs = new TestJobSource();
  jobs.publish(makeJob({ seq: 1, prevhash: prevhashOf(1) }));
  const server = new StratumServer({
    hostname: "127.0.0.1",
    port: 0,
    jobs,
    checker,
    blocks: new RecordingBlockSink(),
    resolvePayout: resolveRegtestPayout,
    initialDifficulty: 2 ** -40,
    vardiff: { minDifficulty: 2 ** -40, minRetargetMs: 1e9, windowMs: 1e9 },
    initialWorkDelayMs: 5,
    maxSharesInFlightPerConnection: perConnection,
    maxSharesInFlight: poolWide,
    log: () => {},
  });
  server.start();
  return server;
}

const hex8 = (n: number) => (n >>> 0).toString(16).padStart(8, "0");

function submits(first: number, count: number, ntime: string): string {
  let text = "";
  for (let i = 0; i < count; i++) {
    const id = first + i;
    text += JSON.stringify({
      id,
      method: "mining.submit",
      params: [TEST_ADDRESS + ".rig1", "1", "00000000", ntime, hex8(id)],
    }) + "\n";
  }
  return text;
}

Deno.test("gate: a connection over its limit waits, and wakes at half", async () => {
  const gate = new ShareGate({ maxInFlight: 100, maxInFlightPerConnection: 4 });
  const c = gate.connection();
  for (let i = 0; i < 4; i++) c.take();
  assert.equal(c.mustWait, true);
  let woke = false;
  const wait = c.drained().then(() => woke = true);
  c.give();
  await Promise.resolve();
  assert.equal(woke, false, "3 in flight is above half of 4");
  c.give();
  await wait;
  assert.equal(woke, true);
  assert.equal(gate.inFlight, 2);
  assert.equal(gate.pauses, 1);
  c.close();
  assert.equal(gate.inFlight, 0, "a closed connection gives back what it held");
});

Deno.test("a miner pipelining 200 submits is read as it is answered; all are answered in order", async () => {
  const checker = new HeldChecker();
  const server = startServer(checker, 8, 10_000);
  const miner = await TestMiner.connect(server.port!);
  const bystander = await TestMiner.connect(server.port!);
  try {
    const { notify } = await miner.handshake();
    const ntime = notify.params![7] as string;
    await bystander.handshake(TEST_ADDRESS + ".other");
    await miner.writeRaw(submits(1000, 200, ntime));
    await waitUntil(() => checker.held >= 8, "the first shares to reach the checker");
    // The pool stopped reading: at most the limit plus the lines of one read are waiting.
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(checker.held <= 8 + 4, `${checker.held} shares held`);
    // A bystander's share goes through while the pipeliner waits.
    const reply = bystander.request("mining.submit", [
      TEST_ADDRESS + ".other",
      "1",
      "00000000",
      ntime,
      hex8(7),
    ]);
    await waitUntil(() => checker.held > 0 && checker.concurrent > 0, "the bystander's share");
    // Release everything as it comes, until all 201 shares are answered.
    const done = (async () => {
      while (miner.received.filter((m) => typeof m.id === "number" && m.id >= 1000).length < 200) {
        checker.release();
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    checker.release();
    assert.equal((await reply).result, true);
    await done;
    const answers = miner.received.filter((m) => typeof m.id === "number" && m.id >= 1000);
    assert.deepEqual(answers.map((m) => m.id), Array.from({ length: 200 }, (_, i) => 1000 + i));
    assert.ok(answers.every((m) => m.result === true), "every share accepted");
    assert.ok(checker.peak <= 8 + 4 + 1, `peak ${checker.peak}`);
    assert.ok(server.shareGate.pauses > 0);
    assert.equal(server.shareGate.inFlight, 0);
  } finally {
    await server.stop();
    miner.close();
    bystander.close();
    await Promise.all([miner.closed, bystander.closed]);
  }
});

Deno.test("pool-wide: many connections together stay near the pool's limit", async () => {
  const checker = new HeldChecker();
  const server = startServer(checker, 64, 12);
  const miners: TestMiner[] = [];
  try {
    for (let i = 0; i < 4; i++) miners.push(await TestMiner.connect(server.port!));
    const ntimes: string[] = [];
    for (const [i, m] of miners.entries()) {
      const { notify } = await m.handshake(`${TEST_ADDRESS}.m${i}`);
      ntimes.push(notify.params![7] as string);
    }
    for (const [i, m] of miners.entries()) {
      await m.writeRaw(
        submits(1000, 50, ntimes[i]).replaceAll(".rig1", `.m${i}`),
      );
    }
    await waitUntil(() => checker.held >= 12, "the pool's limit reached");
    await new Promise((r) => setTimeout(r, 100));
    // Over the limit by at most one read per connection.
    assert.ok(checker.held <= 12 + 4 * 4, `${checker.held} held`);
    const answered = () =>
      miners.reduce(
        (n, m) => n + m.received.filter((x) => typeof x.id === "number" && x.id >= 1000).length,
        0,
      );
    while (answered() < 200) {
      checker.release();
      await new Promise((r) => setTimeout(r, 2));
    }
    assert.ok(checker.peak <= 12 + 4 * 4, `peak ${checker.peak}`);
    assert.equal(server.shareGate.inFlight, 0);
  } finally {
    await server.stop();
    for (const m of miners) m.close();
    await Promise.all(miners.map((m) => m.closed));
  }
});
