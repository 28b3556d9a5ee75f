import assert from "node:assert/strict";
import {
  ManualClock,
  memorySources,
  sampleStatusData,
  type StatusData,
} from "../lib/status/memory.ts";
import { FoundBlocksSchema, PoolHashrateResponseSchema, validate } from "../lib/status/schemas.ts";
import {
  SnapshotCache,
  type SnapshotCacheOptions,
  type SnapshotName,
} from "../lib/status/snapshots.ts";
import type { NodeInfo, StatusSources, StatusStatic } from "../lib/status/sources.ts";
import type { SystemMetrics } from "../lib/status/system.ts";

const START = Date.UTC(2026, 0, 31, 19, 55, 0);
const STATICS: StatusStatic = {
  peerCleanup: { enabled: false, maxPingMs: 0, minPeers: 0 },
  retargetInterval: 2016,
  targetSpacingSec: 600,
};
const SYSTEM: SystemMetrics = {
  uptimeNs: 1,
  activeResources: 1,
  cpuPercent: 0,
  heapUsedBytes: 1,
  heapReservedBytes: 1,
  rssBytes: 1,
  memTotalBytes: 2,
  memAvailableBytes: 1,
  load: [0, 0, 0],
};
const decoder = new TextDecoder();

interface Harness {
  clock: ManualClock;
  data: StatusData;
  cache: SnapshotCache;
  /** JSON texts passed to the serialiser, in order. */
  serialized: string[];
  errors: [SnapshotName, unknown][];
}

function harness(
  options: Partial<SnapshotCacheOptions> = {},
  wrap: (s: StatusSources) => StatusSources = (s) => s,
): Harness {
  const clock = new ManualClock(START);
  const data = sampleStatusData(START);
  const serialized: string[] = [];
  const errors: [SnapshotName, unknown][] = [];
  const cache = new SnapshotCache({
    sources: wrap(memorySources(data)),
    statics: STATICS,
    clock,
    system: () => SYSTEM,
    serialize: (value) => {
      const text = JSON.stringify(value);
      serialized.push(text);
      return text;
    },
    onError: (name, error) => errors.push([name, error]),
    ...options,
  });
  return { clock, data, cache, serialized, errors };
}

function json(body: Uint8Array | undefined): unknown {
  assert.ok(body, "snapshot present");
  return JSON.parse(decoder.decode(body));
}

Deno.test("nothing is served before the first build", () => {
  const { cache } = harness();
  assert.equal(cache.overview(), undefined);
  assert.equal(cache.blocks(10), undefined);
  assert.equal(cache.poolHashrate(true), undefined);
});

Deno.test("start builds every snapshot and stamps updatedAt / nextUpdateAt per cadence", async () => {
  const { cache, clock } = harness();
  await cache.start();
  const cadence: [string, { updatedAt: number; nextUpdateAt: number } | undefined, number][] = [
    ["overview", cache.overview(), 10_000],
    ["pool-page", cache.poolPage(), 10_000],
    ["node", cache.node(), 10_000],
    ["server", cache.server(), 10_000],
    ["pool-hashrate", cache.poolHashrate(false), 5_000],
    ["blocks", cache.blocks(10), 3_000],
    ["widget", cache.widget(), 10_000],
  ];
  for (const [name, snapshot, interval] of cadence) {
    assert.equal(snapshot?.updatedAt, START, name);
    assert.equal(snapshot?.nextUpdateAt, START + interval, name);
  }
  assert.equal(clock.pending, 7, "one timer per snapshot");
  await cache.stop();
  assert.equal(clock.pending, 0);
});

Deno.test("each snapshot refreshes on its own timer", async () => {
  const { cache, clock } = harness();
  await cache.start();
  await clock.advance(3_000);
  assert.equal(cache.blocks(10)?.updatedAt, START + 3_000);
  assert.equal(cache.blocks(10)?.nextUpdateAt, START + 6_000);
  assert.equal(cache.poolHashrate(false)?.updatedAt, START);
  await clock.advance(2_000);
  assert.equal(cache.poolHashrate(false)?.updatedAt, START + 5_000);
  assert.equal(cache.overview()?.updatedAt, START);
  await clock.advance(5_000);
  for (const s of [cache.overview(), cache.poolPage(), cache.node(), cache.server()]) {
    assert.equal(s?.updatedAt, START + 10_000);
    assert.equal(s?.nextUpdateAt, START + 20_000);
  }
  assert.equal(cache.blocks(10)?.updatedAt, START + 9_000);
  await cache.stop();
});

Deno.test("custom intervals are honoured", async () => {
  const { cache, clock } = harness({ intervals: { overview: 1_000 } });
  await cache.start();
  await clock.advance(1_000);
  assert.equal(cache.overview()?.updatedAt, START + 1_000);
  assert.equal(cache.overview()?.nextUpdateAt, START + 2_000);
  await cache.stop();
});

Deno.test("a snapshot is serialised once per refresh and its bytes reused for every read", async () => {
  const { cache, clock, serialized } = harness();
  await cache.start();
  const afterStart = serialized.length;
  const first = cache.overview()?.body;
  for (let i = 0; i < 1000; i++) {
    assert.equal(cache.overview()?.body, first, "same bytes object");
    cache.poolPage();
    cache.node();
    cache.server();
    cache.poolHashrate(false);
  }
  assert.equal(serialized.length, afterStart, "reads serialise nothing");
  await clock.advance(10_000);
  // overview, pool-page, node, server, widget once; pool-hashrate twice (t=5 s, 10 s); blocks 3×
  // 12 items.
  assert.equal(serialized.length - afterStart, 5 + 2 + 3 * 12);
  assert.notEqual(cache.overview()?.body, first);
  await cache.stop();
});

Deno.test("source changes show up at the next refresh, not before", async () => {
  const { cache, clock, data } = harness();
  await cache.start();
  data.counters = { ...data.counters, blocksAccepted: 99 };
  assert.equal((json(cache.poolPage()?.body) as { blocks_accepted: number }).blocks_accepted, 2);
  await clock.advance(10_000);
  assert.equal((json(cache.poolPage()?.body) as { blocks_accepted: number }).blocks_accepted, 99);
  await cache.stop();
});

Deno.test("refresh(name) rebuilds at once, restarts the timer and joins a build in flight", async () => {
  let nodeCalls = 0;
  const { cache, clock } = harness({}, (s) => ({
    ...s,
    nodeInfo: () => {
      nodeCalls++;
      return s.nodeInfo();
    },
  }));
  await cache.start();
  assert.equal(nodeCalls, 1);
  await clock.advance(4_000);
  await Promise.all([cache.refresh("node"), cache.refresh("node")]);
  assert.equal(nodeCalls, 2);
  assert.equal(cache.node()?.updatedAt, START + 4_000);
  assert.equal(cache.node()?.nextUpdateAt, START + 14_000);
  await clock.advance(6_000); // the old 10 s timer was replaced
  assert.equal(nodeCalls, 2);
  await clock.advance(4_000);
  assert.equal(nodeCalls, 3);
  await cache.stop();
});

Deno.test("an unreachable node: no snapshot until it answers, then the last good one is kept", async () => {
  const { cache, clock, data, errors } = harness();
  const info = data.nodeInfo as NodeInfo;
  data.nodeInfo = undefined;
  await cache.start();
  assert.equal(cache.node(), undefined);
  assert.deepEqual(errors.map(([name]) => name), ["node"]);
  data.nodeInfo = info;
  await clock.advance(10_000);
  const good = cache.node();
  assert.equal(good?.updatedAt, START + 10_000);
  data.nodeInfo = undefined;
  await clock.advance(10_000);
  const kept = cache.node();
  assert.equal(kept?.body, good?.body);
  assert.equal(kept?.updatedAt, START + 10_000, "age stays visible");
  assert.equal(kept?.nextUpdateAt, START + 30_000, "next try is announced");
  assert.equal(errors.length, 2);
  await cache.stop();
});

Deno.test("a node that never answers times out and the refresh goes on", async () => {
  const { cache, clock, errors } = harness({ buildTimeoutMs: 2_000 }, (s) => ({
    ...s,
    nodeInfo: () => new Promise<NodeInfo>(() => {}),
  }));
  const started = cache.start();
  await clock.advance(2_000);
  await started;
  assert.equal(cache.node(), undefined);
  assert.match(String(errors[0][1]), /no answer within 2000 ms/);
  assert.ok(cache.overview(), "other snapshots are not held up");
  await cache.stop();
});

Deno.test("pool hashrate history: sampled each refresh, bounded, serialised once when asked", async () => {
  const { cache, clock, serialized } = harness({ historySlots: 3 });
  await cache.start();
  const plain = json(cache.poolHashrate(false)?.body) as Record<string, unknown>;
  assert.ok(!("pool_hashrate_history" in plain));
  await clock.advance(20_000); // 4 more samples; only the last 3 are kept
  const before = serialized.length;
  const withHistory = cache.poolHashrate(true);
  assert.equal(serialized.length, before + 1);
  assert.equal(cache.poolHashrate(true)?.body, withHistory?.body);
  assert.equal(serialized.length, before + 1, "the history variant is serialised once");
  const body = json(withHistory?.body) as { pool_hashrate_history: { at: string }[] };
  assert.deepEqual(validate(PoolHashrateResponseSchema, body), []);
  assert.deepEqual(body.pool_hashrate_history.map((p) => p.at), [
    "2026-01-31T19:55:10Z",
    "2026-01-31T19:55:15Z",
    "2026-01-31T19:55:20Z",
  ]);
  assert.equal(withHistory?.updatedAt, cache.poolHashrate(false)?.updatedAt);
  // Same snapshot as the plain variant, plus the history.
  const { pool_hashrate_history: _history, ...rest } = body;
  assert.deepEqual(rest, json(cache.poolHashrate(false)?.body));
  await cache.stop();
});

Deno.test("pool hashrate history comes from the sources when they keep one", async () => {
  const data = sampleStatusData(START);
  data.hashrateHistory = [{ at: START - 60_000, hashrate: 5, blockHeight: 7 }];
  const { cache } = harness({ sources: memorySources(data) });
  await cache.start();
  const body = json(cache.poolHashrate(true)?.body) as Record<string, unknown>;
  assert.deepEqual(body.pool_hashrate_history, [
    { at: "2026-01-31T19:54:00Z", hashrate: 5, block_height: 7 },
  ]);
  await cache.stop();
});

Deno.test("blocks: one list per refresh, sliced per limit without serialising again", async () => {
  const { cache, serialized } = harness();
  await cache.start();
  const before = serialized.length;
  const ten = json(cache.blocks(10)?.body) as { height: number }[];
  const three = json(cache.blocks(3)?.body) as { height: number }[];
  const all = json(cache.blocks(100)?.body) as { height: number }[];
  assert.equal(serialized.length, before);
  assert.equal(ten.length, 10);
  assert.deepEqual(three, ten.slice(0, 3));
  assert.equal(all.length, 12, "only as many as were found");
  assert.deepEqual(validate(FoundBlocksSchema, all), []);
  assert.equal(cache.blocks(3)?.body, cache.blocks(3)?.body, "each limit is joined once");
  assert.deepEqual(json(cache.blocks(0)?.body), three.slice(0, 1), "clamped to at least 1");
  await cache.stop();
});

Deno.test("blocks asks the sources for at most maxBlocks", async () => {
  const limits: number[] = [];
  const { cache } = harness({ maxBlocks: 5 }, (s) => ({
    ...s,
    foundBlocks: (limit) => {
      limits.push(limit);
      return s.foundBlocks(limit);
    },
  }));
  await cache.start();
  assert.deepEqual(limits, [5]);
  assert.equal((json(cache.blocks(100)?.body) as unknown[]).length, 5);
  await cache.stop();
});

Deno.test("no pool with no found blocks answers an empty list", async () => {
  const { cache, data } = harness();
  data.foundBlocks = [];
  await cache.start();
  assert.equal(decoder.decode(cache.blocks(10)?.body), "[]");
  await cache.stop();
});
