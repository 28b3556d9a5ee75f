/**
 * The pool side of the soak test, in its own process so its RSS is the pool's alone: a Stratum
 * server with the real Web Worker share pool, fed jobs that change under the miners (a transaction
 * update every 5 s, a new tip every 20 s).
 *
 * Protocol: prints `{"port":N}` once listening; then reads commands from stdin, one per line:
 * `totals` prints the pool's share counters as one JSON line, `stop` stops the server and exits.
 *
 * @module
 */

import { SharePool } from "../../lib/shares/pool.ts";
import { StratumServer } from "../../stratum/server.ts";
import {
  makeJob,
  prevhashOf,
  RecordingBlockSink,
  resolveRegtestPayout,
  TestJobSource,
} from "../../stratum/testing.ts";

/** What `totals` answers. */
export interface SoakTotals {
  readonly accepted: number;
  readonly rejected: number;
  readonly blocks: number;
}

const jobs = new TestJobSource();
let seq = 1;
let tip = 1;
jobs.publish(makeJob({ seq, prevhash: prevhashOf(tip) }));
const checker = await SharePool.create({ workers: 2, backend: "ts" });
const blocks = new RecordingBlockSink();
const server = new StratumServer({
  hostname: "127.0.0.1",
  port: 0,
  jobs,
  checker,
  blocks,
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
const churn = setInterval(() => {
  seq++;
  if (seq % 4 === 0) tip++;
  jobs.publish(makeJob({ seq, prevhash: prevhashOf(tip & 0xff), clean: seq % 4 === 0 }));
}, 5_000);

const encoder = new TextEncoder();
const say = (value: unknown) => Deno.stdout.writeSync(encoder.encode(JSON.stringify(value) + "\n"));
say({ port: server.port });

let pending = "";
for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  pending += chunk;
  let nl: number;
  while ((nl = pending.indexOf("\n")) >= 0) {
    const command = pending.slice(0, nl).trim();
    pending = pending.slice(nl + 1);
    if (command === "totals") {
      const totals = server.registry.totals();
      const rejected = Object.values(totals.rejectedByReason).reduce((a, b) => a + b, 0);
      say({ accepted: totals.accepted, rejected, blocks: blocks.candidates.length } as SoakTotals);
    } else if (command === "stop") {
      clearInterval(churn);
      await server.stop();
      checker.close();
      Deno.exit(0);
    }
  }
}
