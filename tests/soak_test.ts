/**
 * Soak: many miners mining for minutes against the Stratum server while jobs change under them and
 * some miners reconnect. Asserts that RSS stays flat once warm, and that no share is lost or
 * counted twice: the pool's counters equal the sum of what the miners were told.
 *
 * Bounded for CI (500 miners, 120 s); `DENOPOOL_SOAK_SECONDS` and `DENOPOOL_SOAK_MINERS` run it
 * longer or wider.
 */

import assert from "node:assert/strict";
import { InlineShareChecker } from "../lib/shares/check.ts";
import { StratumServer } from "../stratum/server.ts";
import { StratumClient } from "../stratum/client.ts";
import {
  makeJob,
  prevhashOf,
  RecordingBlockSink,
  resolveRegtestPayout,
  TEST_ADDRESS,
  TestJobSource,
} from "../stratum/testing.ts";
import { sleep } from "./helpers/wait.ts";

const SECONDS = Number(Deno.env.get("DENOPOOL_SOAK_SECONDS") ?? "120");
const MINERS = Number(Deno.env.get("DENOPOOL_SOAK_MINERS") ?? "500");
/** Each miner submits about once per this many ms. */
const SHARE_INTERVAL_MS = 2_000;

interface Tally {
  accepted: number;
  rejected: number;
  /** Requests that got no answer (must stay 0). */
  unanswered: number;
}

Deno.test({
  name: `soak: ${MINERS} miners for ${SECONDS} s — RSS flat, pool counters equal the miners' own`,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const jobs = new TestJobSource();
    let seq = 1;
    let tip = 1;
    jobs.publish(makeJob({ seq, prevhash: prevhashOf(tip) }));
    const server = new StratumServer({
      hostname: "127.0.0.1",
      port: 0,
      jobs,
      checker: new InlineShareChecker("ts"),
      blocks: new RecordingBlockSink(),
      resolvePayout: resolveRegtestPayout,
      initialDifficulty: 2 ** -30,
      vardiff: { minDifficulty: 2 ** -40, minRetargetMs: 1e9, windowMs: 1e9 },
      admission: {
        maxPerIp: 100_000,
        acceptRatePerSecond: 100_000,
        acceptBurst: 100_000,
        churnMaxConnects: Infinity, // every miner comes from 127.0.0.1
      },
      log: () => {},
    });
    server.start();
    const tally: Tally = { accepted: 0, rejected: 0, unanswered: 0 };
    const deadline = Date.now() + SECONDS * 1000;
    let extranonce2 = 0;

    /** One miner: connect, mine until the deadline; a few hang up and come back midway. */
    const runMiner = async (index: number): Promise<void> => {
      const user = `${TEST_ADDRESS}.m${index}`;
      let reconnectAt = index % 10 === 0 ? Date.now() + (SECONDS * 1000) / 2 : Infinity;
      while (Date.now() < deadline) {
        const client = await StratumClient.connect({
          host: "127.0.0.1",
          port: server.port!,
          requestTimeoutMs: 30_000,
        });
        try {
          await client.subscribe("soak/1.0");
          await client.authorize(user, "x");
          await client.waitFor("mining.notify", () => true, 30_000);
          // Spread the miners over the interval.
          await sleep(Math.random() * SHARE_INTERVAL_MS);
          while (Date.now() < deadline && Date.now() < reconnectAt) {
            const share = client.findShare({ maxNonces: 1 << 16, extranonce2Start: ++extranonce2 });
            if (share !== undefined) {
              try {
                const reply = await client.submit(user, share);
                if (reply.result === true) tally.accepted++;
                else tally.rejected++;
              } catch {
                tally.unanswered++;
              }
            }
            await sleep(SHARE_INTERVAL_MS * (0.5 + Math.random()));
          }
        } finally {
          client.close();
          await client.closed;
        }
        reconnectAt = Infinity;
      }
    };

    // Jobs change under the miners: a tx update every 5 s, a new tip every 20 s.
    const churn = setInterval(() => {
      seq++;
      if (seq % 4 === 0) tip++;
      jobs.publish(makeJob({ seq, prevhash: prevhashOf(tip & 0xff), clean: seq % 4 === 0 }));
    }, 5_000);

    const rss: number[] = [];
    const sampler = setInterval(() => rss.push(Deno.memoryUsage().rss), 1_000);
    try {
      await Promise.all(Array.from({ length: MINERS }, (_, i) => runMiner(i)));
    } finally {
      clearInterval(churn);
      clearInterval(sampler);
      await server.stop();
    }

    const totals = server.registry.totals();
    const poolRejected = Object.values(totals.rejectedByReason).reduce((a, b) => a + b, 0);
    assert.equal(tally.unanswered, 0, "every share got an answer");
    assert.ok(tally.accepted > MINERS * (SECONDS / (SHARE_INTERVAL_MS / 1000)) * 0.3, "mined");
    assert.equal(totals.accepted, tally.accepted, "accepted: pool = miners");
    assert.equal(poolRejected, tally.rejected, "rejected: pool = miners");

    // Flat RSS: after a warm-up third, the last third's peak is within 64 MiB of the middle's.
    const third = Math.floor(rss.length / 3);
    const middle = Math.max(...rss.slice(third, 2 * third));
    const last = Math.max(...rss.slice(2 * third));
    const mib = (n: number) => (n / 2 ** 20).toFixed(1);
    console.log(
      `soak: ${tally.accepted} accepted, ${tally.rejected} rejected; RSS middle ${
        mib(middle)
      } MiB, last ${mib(last)} MiB`,
    );
    assert.ok(last - middle < 64 * 2 ** 20, `RSS grew ${mib(last - middle)} MiB`);
  },
});
