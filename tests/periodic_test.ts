/**
 * The periodic-task helper on a manual clock: a pass now and one an interval after each pass
 * ends, never two at once, an early pass restarting the wait, failures reported without stopping
 * the task, and a stop that waits for the pass in flight.
 */

import assert from "node:assert/strict";
import { Periodic } from "../lib/periodic.ts";
import { ManualClock } from "../lib/status/memory.ts";

/** What the tasks that must not fail reported (each test checks it stays empty). */
const failures: unknown[] = [];

/** The `onError` of tasks that must not fail. */
function unexpected(error: unknown): void {
  failures.push(error);
}

/** A pass that takes `ms` on `clock` (0 = settles at once), counting passes and overlaps. */
function passes(clock: ManualClock, ms = 0) {
  const stats = { runs: 0, running: 0, most: 0, starts: [] as number[] };
  const run = async (): Promise<number> => {
    stats.runs++;
    stats.running++;
    stats.most = Math.max(stats.most, stats.running);
    stats.starts.push(clock.now());
    if (ms > 0) await new Promise<void>((resolve) => clock.setTimeout(resolve, ms));
    stats.running--;
    return stats.runs;
  };
  return { stats, run };
}

Deno.test("start: a pass now, then one an interval after each pass ends", async () => {
  const clock = new ManualClock(0);
  const { stats, run } = passes(clock, 200);
  const task = new Periodic({ run, intervalMs: 1_000, timers: clock, onError: unexpected });
  const first = task.start();
  assert.equal(task.busy, true);
  await clock.advance(200);
  assert.equal(await first, 1);
  assert.equal(task.busy, false);
  await clock.advance(3_600);
  // Starts at 0, 1200, 2400, 3600: the wait counts from the end of the 200 ms pass.
  assert.deepEqual(stats.starts, [0, 1_200, 2_400, 3_600]);
  assert.equal(stats.most, 1);
  await clock.advance(200);
  await task.stop();
  assert.equal(clock.pending, 0);
  assert.deepEqual(failures, []);
});

Deno.test("trigger: joins the pass in flight and restarts the wait after it", async () => {
  const clock = new ManualClock(0);
  const { stats, run } = passes(clock, 100);
  const task = new Periodic({ run, intervalMs: 1_000, timers: clock, onError: unexpected });
  const started = task.start();
  const joined = task.trigger();
  await clock.advance(100);
  assert.equal(await started, 1);
  assert.equal(await joined, 1, "the second caller got the same pass");
  assert.equal(stats.runs, 1);
  await clock.advance(500); // t = 600; the next pass is due at 1100
  const early = task.trigger();
  await clock.advance(100);
  assert.equal(await early, 2);
  await clock.advance(900); // t = 1600: the old 1100 wait was cancelled, the new one ends at 1700
  assert.equal(stats.runs, 2);
  await clock.advance(100);
  assert.equal(stats.runs, 3);
  assert.deepEqual(stats.starts, [0, 600, 1_700]);
  assert.equal(stats.most, 1, "never two passes at once");
  await clock.advance(100);
  await task.stop();
  assert.deepEqual(failures, []);
});

Deno.test("stop: waits for the pass in flight, then nothing runs again", async () => {
  const clock = new ManualClock(0);
  const { stats, run } = passes(clock, 500);
  const task = new Periodic({ run, intervalMs: 1_000, timers: clock, onError: unexpected });
  void task.start();
  await clock.advance(100);
  let stopped = false;
  const stopping = task.stop().then(() => stopped = true);
  await clock.advance(300);
  assert.equal(stopped, false, "the pass still runs");
  await clock.advance(100);
  await stopping;
  assert.equal(stats.running, 0);
  assert.equal(task.started, false);
  assert.equal(clock.pending, 0, "no wait scheduled after the stopped pass");
  await clock.advance(10_000);
  assert.equal(stats.runs, 1);
  // A stopped task still runs a pass on request, and schedules nothing after it.
  const once = task.trigger();
  await clock.advance(500);
  assert.equal(await once, 2);
  assert.equal(clock.pending, 0);
  assert.deepEqual(failures, []);
});

Deno.test("a failing pass is reported, resolves undefined, and the task keeps going", async () => {
  const clock = new ManualClock(0);
  const errors: unknown[] = [];
  let n = 0;
  const task = new Periodic<number>({
    run: () => {
      n++;
      if (n === 2) throw new Error("boom");
      if (n === 3) return Promise.reject(new Error("rejected"));
      return n;
    },
    intervalMs: 1_000,
    timers: clock,
    onError: (error) => {
      errors.push(error);
      throw new Error("a failing reporter is survived too");
    },
  });
  assert.equal(await task.start(), 1);
  await clock.advance(2_000);
  assert.deepEqual(errors.map((e) => (e as Error).message), ["boom", "rejected"]);
  await clock.advance(1_000);
  assert.equal(n, 4, "still running after two failures");
  assert.equal(await task.trigger(), 5);
  await task.stop();
});

Deno.test("a computed interval is asked after every pass; a trigger from inside a pass joins it", async () => {
  const clock = new ManualClock(0);
  const waits = [300, 700, 50];
  const starts: number[] = [];
  const task: Periodic<void> = new Periodic<void>({
    run: () => {
      starts.push(clock.now());
      void task.trigger(); // from inside the pass: joins it, starts no second one
    },
    intervalMs: () => waits.shift() ?? 10_000,
    timers: clock,
    onError: unexpected,
  });
  await task.start();
  await clock.advance(1_100);
  assert.deepEqual(starts, [0, 300, 1_000, 1_050]);
  await task.stop();
  assert.deepEqual(failures, []);
});
