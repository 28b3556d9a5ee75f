/**
 * The endpoint table (`lib/status/endpoints.ts`) and what derives from it: one row per snapshot
 * with a unique path, the default cadences equal to the `[status]` defaults, the mirror's upstream
 * paths and KV names, the widest variant each publishes, and the paths the browser polls.
 */

import assert from "node:assert/strict";
import {
  DEFAULT_INTERVALS,
  ENDPOINTS,
  SNAPSHOT_ENDPOINT,
  SNAPSHOT_ENDPOINTS,
  SNAPSHOT_NAMES,
  widestSnapshot,
} from "../lib/status/endpoints.ts";
import { ManualClock, memorySources, sampleStatusData } from "../lib/status/memory.ts";
import { SnapshotCache } from "../lib/status/snapshots.ts";
import { KV_NAMES } from "../lib/mirror/kv.ts";
import { UPSTREAM_PATHS } from "../lib/mirror/upstream.ts";
import { CONFIG_DEFAULTS } from "../lib/config/schema.ts";
import { snapshotIntervals } from "../app/status_service.ts";
import { API_PATHS } from "../routes/pages/types.ts";

const START = Date.UTC(2026, 0, 31, 19, 55, 0);

Deno.test("the table: one row per snapshot name, each path once, all under /api/", () => {
  assert.deepEqual(SNAPSHOT_NAMES, [
    "overview",
    "poolPage",
    "node",
    "server",
    "poolHashrate",
    "blocks",
    "widget",
  ]);
  for (const [name, row] of Object.entries(SNAPSHOT_ENDPOINT)) assert.equal(row.name, name);
  const paths = SNAPSHOT_ENDPOINTS.map((e) => e.path);
  assert.equal(new Set(paths).size, paths.length);
  assert.deepEqual(Object.keys(ENDPOINTS), paths);
  for (const path of paths) assert.match(path, /^\/api\/[a-z-]+$/);
});

Deno.test("the cadences: the table's defaults are the [status] defaults", () => {
  assert.deepEqual(snapshotIntervals({ status: CONFIG_DEFAULTS.status }), DEFAULT_INTERVALS);
  assert.deepEqual(DEFAULT_INTERVALS, {
    overview: 10_000,
    poolPage: 10_000,
    node: 10_000,
    server: 10_000,
    poolHashrate: 5_000,
    blocks: 3_000,
    widget: 10_000,
  });
});

Deno.test("the mirror pulls and publishes each row's widest variant", async () => {
  assert.deepEqual(KV_NAMES, SNAPSHOT_NAMES);
  assert.deepEqual(UPSTREAM_PATHS, {
    overview: "/api/overview",
    poolPage: "/api/pool-page",
    node: "/api/node",
    server: "/api/server",
    poolHashrate: "/api/pool-hashrate?include_history=1",
    blocks: "/api/blocks?limit=100",
    widget: "/api/widget",
  });
  const clock = new ManualClock(START);
  const cache = new SnapshotCache({
    sources: memorySources(sampleStatusData(START)),
    statics: {
      poolTag: "/denopool/",
      genesisExpected: "00",
      peerCleanup: { enabled: false, maxPingMs: 250, minPeers: 4 },
      retargetInterval: 2016,
      targetSpacingSec: 600,
    },
    clock,
  });
  try {
    await cache.start();
    assert.equal(widestSnapshot(SNAPSHOT_ENDPOINT.overview, cache), cache.overview());
    assert.deepEqual(
      widestSnapshot(SNAPSHOT_ENDPOINT.poolHashrate, cache)?.body,
      cache.poolHashrate(true)?.body,
    );
    assert.deepEqual(
      widestSnapshot(SNAPSHOT_ENDPOINT.blocks, cache)?.body,
      cache.blocks(100)?.body,
    );
  } finally {
    await cache.stop();
  }
});

Deno.test("the browser polls the table's paths (static/app.js PATHS = API_PATHS)", async () => {
  const source = await Deno.readTextFile(new URL("../static/app.js", import.meta.url));
  const block = /const PATHS = \{([^}]*)\};/.exec(source);
  assert.ok(block, "static/app.js has its PATHS table");
  const paths = Object.fromEntries(
    [...block[1].matchAll(/(\w+): "([^"]+)"/g)].map((m) => [m[1], m[2]]),
  );
  assert.deepEqual(paths, API_PATHS);
});
