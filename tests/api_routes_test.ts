import assert from "node:assert/strict";
import {
  ManualClock,
  memorySources,
  SAMPLE_ADDRESS_BASE58,
  SAMPLE_ADDRESS_BECH32,
  sampleStatusData,
} from "../lib/status/memory.ts";
import { type EndpointPath, ENDPOINTS, parseBlocksLimit } from "../lib/status/endpoints.ts";
import { validate } from "../lib/status/schemas.ts";
import { SnapshotCache } from "../lib/status/snapshots.ts";
import type { StatusStatic } from "../lib/status/sources.ts";
import { createStatusApp } from "../routes/app.ts";

const START = Date.UTC(2026, 0, 31, 19, 55, 0);
const STATICS: StatusStatic = {
  poolTag: "/denopool/",
  genesisExpected: "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
  peerCleanup: { enabled: true, maxPingMs: 250, minPeers: 4 },
  retargetInterval: 2016,
  targetSpacingSec: 600,
};
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

async function setup(noJson = false) {
  const clock = new ManualClock(START);
  const data = sampleStatusData(START);
  const cache = new SnapshotCache({ sources: memorySources(data), statics: STATICS, clock });
  await cache.start();
  const app = createStatusApp({ snapshots: cache, noJson });
  const get = (path: string, init?: RequestInit) =>
    Promise.resolve(app.request(`http://pool.test${path}`, init));
  return { clock, data, cache, app, get };
}

Deno.test("every endpoint answers JSON that matches its schema, with the snapshot headers", async () => {
  const { get, cache } = await setup();
  for (const path of Object.keys(ENDPOINTS) as EndpointPath[]) {
    const res = await get(path);
    assert.equal(res.status, 200, path);
    assert.equal(res.headers.get("content-type"), "application/json", path);
    assert.equal(res.headers.get("cache-control"), "no-cache, no-store, must-revalidate", path);
    assert.match(res.headers.get("x-json-updated-at") ?? "", RFC3339, path);
    assert.match(res.headers.get("x-json-next-update-at") ?? "", RFC3339, path);
    const body = await res.json();
    assert.deepEqual(validate(ENDPOINTS[path].schema, body), [], path);
    if (!Array.isArray(body)) assert.equal(body.api_version, "1", path);
  }
  await cache.stop();
});

Deno.test("the X-JSON headers follow each endpoint's cadence", async () => {
  const { get, clock, cache } = await setup();
  const times = async (path: string) => {
    const res = await get(path);
    await res.body?.cancel();
    return [res.headers.get("x-json-updated-at"), res.headers.get("x-json-next-update-at")];
  };
  assert.deepEqual(await times("/api/overview"), ["2026-01-31T19:55:00Z", "2026-01-31T19:55:10Z"]);
  assert.deepEqual(await times("/api/pool-hashrate"), [
    "2026-01-31T19:55:00Z",
    "2026-01-31T19:55:05Z",
  ]);
  assert.deepEqual(await times("/api/blocks"), ["2026-01-31T19:55:00Z", "2026-01-31T19:55:03Z"]);
  await clock.advance(3_000);
  assert.deepEqual(await times("/api/blocks?limit=5"), [
    "2026-01-31T19:55:03Z",
    "2026-01-31T19:55:06Z",
  ]);
  assert.deepEqual(await times("/api/overview"), ["2026-01-31T19:55:00Z", "2026-01-31T19:55:10Z"]);
  await clock.advance(7_000);
  assert.deepEqual(await times("/api/server"), ["2026-01-31T19:55:10Z", "2026-01-31T19:55:20Z"]);
  await cache.stop();
});

Deno.test("no full address, worker name or found-block hash appears in any public body", async () => {
  const { get, data, cache } = await setup();
  const paths = [
    ...Object.keys(ENDPOINTS),
    "/api/pool-hashrate?include_history=1",
    "/api/blocks?limit=100",
  ];
  let all = "";
  for (const path of paths) all += await (await get(path)).text();
  const secrets = new Set<string>([SAMPLE_ADDRESS_BECH32, SAMPLE_ADDRESS_BASE58]);
  for (const w of data.workers) secrets.add(w.name);
  for (const b of data.bannedWorkers) secrets.add(b.name);
  for (const s of data.bestShares) {
    secrets.add(s.worker);
    if (s.hash) secrets.add(s.hash);
  }
  for (const b of data.foundBlocks) secrets.add(b.hash).add(b.worker);
  for (const secret of secrets) {
    if (secret.length <= 19) continue; // short names are not shortened (nothing to hide)
    assert.ok(!all.includes(secret), `leaked: ${secret}`);
  }
  assert.ok(!/wallet_script|last_share_detail/.test(all));
  assert.ok(all.includes("bc1qar0s...zzwf5mdq.rig1"), "censored forms are there");
  await cache.stop();
});

Deno.test("limit of /api/blocks: default 10, clamped to 1..100, 400 when not an integer", async () => {
  const { get, cache } = await setup();
  const count = async (query: string) => {
    const res = await get(`/api/blocks${query}`);
    assert.equal(res.status, 200, query);
    return ((await res.json()) as unknown[]).length;
  };
  assert.equal(await count(""), 10);
  assert.equal(await count("?limit="), 10);
  assert.equal(await count("?limit=1"), 1);
  assert.equal(await count("?limit=7"), 7);
  assert.equal(await count("?limit=100"), 12, "all 12 found blocks");
  assert.equal(await count("?limit=0"), 1);
  assert.equal(await count("?limit=-5"), 1);
  assert.equal(await count("?limit=1000"), 12);
  assert.equal(await count("?limit=99999999999999999999999"), 12);
  assert.equal(await count("?limit=%2B3"), 3);
  for (const bad of ["abc", "1.5", "10abc", "0x10", "1e3", "%2010"]) {
    const res = await get(`/api/blocks?limit=${bad}`);
    assert.equal(res.status, 400, bad);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
    assert.match(await res.text(), /limit/);
  }
  await cache.stop();
});

Deno.test("parseBlocksLimit clamps integers and refuses the rest", () => {
  assert.equal(parseBlocksLimit(undefined), 10);
  assert.equal(parseBlocksLimit("42"), 42);
  assert.equal(parseBlocksLimit("101"), 100);
  assert.equal(parseBlocksLimit("-0"), 1);
  assert.equal(parseBlocksLimit(" 5"), undefined);
  assert.equal(parseBlocksLimit("NaN"), undefined);
});

Deno.test("pool_hashrate_history only with include_history=1", async () => {
  const { get, cache } = await setup();
  const has = async (query: string) =>
    "pool_hashrate_history" in (await (await get(`/api/pool-hashrate${query}`)).json());
  assert.equal(await has(""), false);
  assert.equal(await has("?include_history=0"), false);
  assert.equal(await has("?include_history=true"), false);
  assert.equal(await has("?include_history=1"), true);
  await cache.stop();
});

Deno.test("errors are plain text: 404 unknown and removed paths, 405 with Allow", async () => {
  const { get, cache } = await setup();
  for (const path of ["/api/pool", "/api/nope", "/api/overview/", "/nothing"]) {
    const res = await get(path);
    assert.equal(res.status, 404, path);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain/, path);
    await res.body?.cancel();
  }
  for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
    const res = await get("/api/overview", { method });
    assert.equal(res.status, 405, method);
    assert.equal(res.headers.get("allow"), "GET, HEAD");
    assert.equal(await res.text(), "method not allowed\n");
  }
  await cache.stop();
});

Deno.test("HEAD answers like GET without a body", async () => {
  const { get, cache } = await setup();
  const head = await get("/api/overview", { method: "HEAD" });
  const full = await get("/api/overview");
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("content-type"), "application/json");
  assert.equal(head.headers.get("x-json-updated-at"), full.headers.get("x-json-updated-at"));
  assert.equal(await head.text(), "");
  assert.ok((await full.text()).length > 100);
  await cache.stop();
});

Deno.test("before the first snapshot: 503 plain text with Retry-After", async () => {
  const cache = new SnapshotCache({
    sources: memorySources(sampleStatusData(START)),
    statics: STATICS,
    clock: new ManualClock(START),
  });
  const app = createStatusApp({ snapshots: cache });
  const res = await app.request("/api/overview");
  assert.equal(res.status, 503);
  assert.equal(res.headers.get("retry-after"), "1");
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
  await res.body?.cancel();
});

Deno.test("--no-json turns every /api/* route off", async () => {
  const { get, cache } = await setup(true);
  for (const path of [...Object.keys(ENDPOINTS), "/api/openapi.json", "/api/blocks?limit=5"]) {
    const res = await get(path);
    assert.equal(res.status, 404, path);
    await res.body?.cancel();
  }
  await cache.stop();
});

Deno.test("GET /api/openapi.json describes the same endpoints", async () => {
  const { get, cache } = await setup();
  const res = await get("/api/openapi.json");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/json");
  const doc = await res.json();
  assert.equal(doc.openapi, "3.1.0");
  assert.deepEqual(Object.keys(doc.paths).sort(), Object.keys(ENDPOINTS).sort());
  await cache.stop();
});

Deno.test("/metrics is on the public app only when a metrics source is given", async () => {
  const { get, cache } = await setup();
  const res = await get("/metrics");
  assert.equal(res.status, 404);
  await res.body?.cancel();
  const app = createStatusApp({
    snapshots: cache,
    metrics: {
      metrics: () => ({
        sharesByResult: { accepted: 3 },
        blocksByResult: {},
        connectionsByTransport: { tcp: 1 },
        hashChecks: 3,
        hashChecksPerSecond: 0.5,
        rpcLatency: {},
      }),
    },
  });
  const metrics = await app.request("/metrics");
  assert.equal(metrics.status, 200);
  assert.match(await metrics.text(), /^denopool_shares_total\{result="accepted"\} 3$/m);
  await cache.stop();
});

Deno.test("mount points: auth routes under /api and pages at the root", async () => {
  const { cache } = await setup();
  const { Hono } = await import("hono");
  const auth = new Hono().post("/api/auth/session-refresh", (c) => c.json({ ok: true }));
  const pages = new Hono().get("/", (c) => c.html("<h1>pool</h1>"));
  const app = createStatusApp({ snapshots: cache, auth, pages });
  assert.deepEqual(
    await (await app.request("/api/auth/session-refresh", { method: "POST" })).json(),
    {
      ok: true,
    },
  );
  assert.equal(await (await app.request("/")).text(), "<h1>pool</h1>");
  assert.equal((await app.request("/api/overview")).status, 200);
  const off = createStatusApp({ snapshots: cache, auth, pages, noJson: true });
  assert.equal((await off.request("/api/auth/session-refresh", { method: "POST" })).status, 404);
  assert.equal((await off.request("/")).status, 200);
  await cache.stop();
});
