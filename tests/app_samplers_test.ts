/**
 * The two samplers of the composition layer on a manual clock, both {@linkcode Periodic} tasks:
 * the persistence's history sampler (first sample a period after start, one at a time even when
 * the store is slower than the period, a stop that waits for the sample in flight before its last
 * one) and the status's hashrate sampler (a sample at start, one per period, none after stop).
 */

import assert from "node:assert/strict";
import { CONFIG_DEFAULTS } from "../lib/config/schema.ts";
import type { Config } from "../lib/config/schema.ts";
import { startPersistence } from "../app/persistence.ts";
import { LiveStatusSources, type StatusParts } from "../app/status_sources.ts";
import { BanList } from "../lib/pool/bans.ts";
import { WorkerRegistry } from "../lib/pool/worker_stats.ts";
import type { PoolStore } from "../lib/store/store.ts";
import { ManualClock } from "../lib/status/memory.ts";

/** The defaults, Discord and Clerk off (the samplers read nothing else of it). */
const CONFIG = {
  ...CONFIG_DEFAULTS,
  secrets: { discordBotToken: "" },
  files: {},
} as unknown as Config;

/**
 * An in-memory store whose pool-history write takes `writeMs` on `clock`, counting writes and
 * overlaps; only the members persistence reads are there.
 */
function slowStore(clock: ManualClock, writeMs: number) {
  const stats = { starts: [] as number[], running: 0, most: 0, closed: false };
  const store = {
    bestShares: { list: () => Promise.resolve([]), put: () => Promise.resolve() },
    history: {
      putPool: async () => {
        stats.starts.push(clock.now());
        stats.running++;
        stats.most = Math.max(stats.most, stats.running);
        await new Promise<void>((resolve) => clock.setTimeout(resolve, writeMs));
        stats.running--;
      },
    },
    savedWorkers: { usersWhoSaved: () => Promise.resolve([]) },
    flush: () => Promise.resolve(),
    close: () => void (stats.closed = true),
  } as unknown as PoolStore;
  return { stats, store };
}

Deno.test("persistence sampler: first sample a period after start, never two at once, stop waits for the one in flight", async () => {
  const clock = new ManualClock(0);
  // Writing one sample takes 90 s, longer than the 60 s period.
  const { stats, store } = slowStore(clock, 90_000);
  const persistence = await startPersistence(
    { config: CONFIG, store, registry: new WorkerRegistry() },
    { timers: clock },
  );
  await clock.advance(59_999);
  assert.deepEqual(stats.starts, [], "no sample at boot (it would record an empty pool)");
  await clock.advance(1);
  assert.deepEqual(stats.starts, [60_000]);
  await clock.advance(200_000);
  // 60–150 s, then 210 s: the next sample comes a period after the last one ended.
  assert.deepEqual(stats.starts, [60_000, 210_000]);
  assert.equal(stats.most, 1, "a slow store does not pile samples up");

  // Stopped at 260 s while the sample of 210 s is in flight (until 300 s): it waits for it, then
  // takes the last sample, then closes the store.
  let stopped = false;
  const stopping = persistence.stop().then(() => stopped = true);
  await clock.advance(39_999);
  assert.equal(stopped, false);
  assert.deepEqual(stats.starts, [60_000, 210_000], "the last sample waits for the one in flight");
  await clock.advance(1);
  assert.deepEqual(stats.starts, [60_000, 210_000, 300_000]);
  await clock.advance(90_000);
  await stopping;
  assert.equal(stats.closed, true);
  assert.equal(stats.most, 1);
  assert.equal(clock.pending, 0, "nothing scheduled after stop");
});

/** Status sources over an empty pool, with the clock as their clock and the sampler's timers. */
function statusSources(clock: ManualClock, sampleIntervalMs: number): LiveStatusSources {
  const parts = {
    config: CONFIG,
    rpc: { health: {} },
    feed: {
      onTemplate: () => () => {},
      status: () => ({ errorHistory: [] }),
      current: () => undefined,
    },
    blocks: { records: () => [] },
    stratum: { registry: new WorkerRegistry(), bans: new BanList() },
  } as unknown as StatusParts;
  return new LiveStatusSources(parts, { now: () => clock.now(), timers: clock, sampleIntervalMs });
}

Deno.test("status hashrate sampler: a sample at start, then one per period, none after stop", async () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const sources = statusSources(clock, 10_000);
  sources.start();
  sources.start(); // a second start changes nothing
  await clock.advance(0);
  assert.equal(sources.hashrateHistory().length, 1, "the first sample is taken at start");
  await clock.advance(30_000);
  assert.equal(sources.hashrateHistory().length, 4);
  await sources.stop();
  assert.equal(clock.pending, 0);
  await clock.advance(60_000);
  assert.equal(sources.hashrateHistory().length, 4, "no sample after stop");

  sources.start(); // started again: a sample now, then the period again
  await clock.advance(10_000);
  assert.equal(sources.hashrateHistory().length, 6);
  await sources.stop();
});
