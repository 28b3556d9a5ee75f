/**
 * Soak: many miners mining for minutes against a pool in its own process (the Stratum server with
 * the real Web Worker share pool), while jobs change under them and some miners reconnect.
 * Asserts that the pool process's RSS stays flat once warm, and that no share is lost or counted
 * twice: the pool's counters equal the sum of what the miners were told.
 *
 * Bounded for CI (500 miners, 120 s); `DENOPOOL_SOAK_SECONDS` and `DENOPOOL_SOAK_MINERS` run it
 * longer or wider.
 */

import assert from "node:assert/strict";
import { StratumClient } from "../stratum/client.ts";
import { findShare } from "../stratum/miner.ts";
import { TEST_ADDRESS } from "../stratum/testing.ts";
import type { SoakTotals } from "./helpers/soak_pool.ts";
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

/** The pool process (`helpers/soak_pool.ts`): its pid, port and a line-based command channel. */
class PoolProcess {
  readonly #child: Deno.ChildProcess;
  readonly #lines: ReadableStreamDefaultReader<string>;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #buffered = "";

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    this.#stdin = child.stdin.getWriter();
  }

  static start(): PoolProcess {
    return new PoolProcess(
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", new URL("./helpers/soak_pool.ts", import.meta.url).pathname],
        stdin: "piped",
        stdout: "piped",
        stderr: "inherit",
      }).spawn(),
    );
  }

  get pid(): number {
    return this.#child.pid;
  }

  /** The pool process's resident set, in bytes. */
  rss(): number {
    const status = Deno.readTextFileSync(`/proc/${this.pid}/status`);
    return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) * 1024;
  }

  async line<T>(): Promise<T> {
    for (;;) {
      const nl = this.#buffered.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buffered.slice(0, nl);
        this.#buffered = this.#buffered.slice(nl + 1);
        return JSON.parse(line) as T;
      }
      const { value, done } = await this.#lines.read();
      if (done) throw new Error("the soak pool process ended");
      this.#buffered += value;
    }
  }

  async send(command: string): Promise<void> {
    await this.#stdin.write(new TextEncoder().encode(command + "\n"));
  }

  async stop(): Promise<void> {
    try {
      await this.send("stop");
    } catch {
      // already gone
    }
    const status = await this.#child.status;
    await this.#lines.cancel().catch(() => {});
    assert.equal(status.code, 0, "the soak pool exits cleanly");
  }
}

Deno.test({
  name:
    `soak: ${MINERS} miners for ${SECONDS} s — pool RSS flat, its counters equal the miners' own`,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const pool = PoolProcess.start();
    const { port } = await pool.line<{ port: number }>();
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
          port,
          requestTimeoutMs: 30_000,
        });
        try {
          await client.subscribe("soak/1.0");
          await client.authorize(user, "x");
          await client.waitFor("mining.notify", () => true, 30_000);
          // Spread the miners over the interval.
          await sleep(Math.random() * SHARE_INTERVAL_MS);
          while (Date.now() < deadline && Date.now() < reconnectAt) {
            const share = findShare(client, {
              maxNonces: 1 << 16,
              extranonce2Start: ++extranonce2,
            });
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

    const rss: number[] = [];
    const sampler = setInterval(() => rss.push(pool.rss()), 1_000);
    let totals: SoakTotals;
    try {
      await Promise.all(Array.from({ length: MINERS }, (_, i) => runMiner(i)));
      clearInterval(sampler);
      await pool.send("totals");
      totals = await pool.line<SoakTotals>();
    } finally {
      clearInterval(sampler);
      await pool.stop();
    }

    assert.equal(tally.unanswered, 0, "every share got an answer");
    assert.ok(tally.accepted > MINERS * (SECONDS / (SHARE_INTERVAL_MS / 1000)) * 0.3, "mined");
    assert.equal(totals.accepted, tally.accepted, "accepted: pool = miners");
    assert.equal(totals.rejected, tally.rejected, "rejected: pool = miners");
    assert.equal(totals.blocks, 0, "no share met the (mainnet-like) network target");

    // Flat RSS: after a warm-up third, the last third's peak is within 16 MiB of the middle's
    // (the pool process alone; V8's young generation may take up to 16 MiB more at a moment).
    const third = Math.floor(rss.length / 3);
    const middle = Math.max(...rss.slice(third, 2 * third));
    const last = Math.max(...rss.slice(2 * third));
    const mib = (n: number) => (n / 2 ** 20).toFixed(1);
    const trend = Array.from(
      { length: 10 },
      (_, i) => mib(rss[Math.floor(((i + 1) * rss.length) / 10) - 1]),
    );
    console.log(
      `soak: ${tally.accepted} accepted, ${tally.rejected} rejected; pool RSS middle ${
        mib(middle)
      } MiB, last ${mib(last)} MiB; every tenth of the run: ${trend.join(" ")} MiB`,
    );
    assert.ok(last - middle < 16 * 2 ** 20, `RSS grew ${mib(last - middle)} MiB`);
  },
});
