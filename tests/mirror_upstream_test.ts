/**
 * The status mirror against a real upstream status server (sample pool data on `Deno.serve`):
 * same JSON bytes and cache headers for every public endpoint, keeps serving the last good data
 * after the upstream stops, marks the pages stale, and never exposes authenticated routes.
 */

import assert from "node:assert/strict";
import { Hono } from "hono";
import { createStatusApp } from "../routes/app.ts";
import { createPageRoutes, sourcesWorkerLookup } from "../routes/pages.ts";
import { workerNameHash } from "../lib/status/worker_hash.ts";
import {
  ManualClock,
  memorySources,
  SAMPLE_ADDRESS_BECH32,
  sampleStatusData,
} from "../lib/status/memory.ts";
import { SnapshotCache } from "../lib/status/snapshots.ts";
import type { StatusStatic } from "../lib/status/sources.ts";
import { createMirror, mirrorConfigFromEnv } from "../app/mirror.ts";
import { UpstreamPuller } from "../lib/mirror/upstream.ts";

const STATICS: StatusStatic = {
  poolTag: "denopool",
  peerCleanup: { enabled: false, maxPingMs: 250, minPeers: 30 },
  retargetInterval: 2016,
  targetSpacingSec: 600,
};

/** Every public endpoint, with the query variants the mirror derives. */
const PUBLIC_PATHS = [
  "/api/overview",
  "/api/pool-page",
  "/api/node",
  "/api/server",
  "/api/pool-hashrate",
  "/api/pool-hashrate?include_history=1",
  "/api/blocks",
  "/api/blocks?limit=1",
  "/api/blocks?limit=3",
  "/api/blocks?limit=100",
  "/api/openapi.json",
];

/** Routes that need a signed-in user (or the operator) on the pool: absent on a mirror. */
const PRIVATE_REQUESTS: readonly [string, string][] = [
  ["GET", "/api/saved-workers"],
  ["GET", "/api/saved-workers/history?hash=pool"],
  ["POST", "/api/auth/session-refresh"],
  ["POST", "/api/saved-workers/notify-enabled"],
  ["POST", "/worker/save"],
  ["GET", "/metrics"],
  ["GET", "/admin"],
];

/** A status server like the pool's: sample data, a manual clock (no refresh mid-test), auth. */
async function startUpstream() {
  // Real time, so the pages judge freshness as they would live; the manual clock only keeps the
  // upstream from rebuilding between the two requests of a comparison.
  const now = Date.now();
  const clock = new ManualClock(now);
  const data = sampleStatusData(now);
  data.hashrateHistory = Array.from({ length: 30 }, (_, i) => ({
    at: now - (30 - i) * 60_000,
    hashrate: 1e12 + i * 1e10,
    blockHeight: 880_000,
  }));
  const sources = memorySources(data);
  const cache = new SnapshotCache({ sources, statics: STATICS, clock });
  await cache.refresh();
  const auth = new Hono();
  auth.get("/api/saved-workers", (c) => c.json({ secret: true }));
  auth.post("/api/auth/session-refresh", (c) => c.json({ ok: true }));
  const pages = await createPageRoutes({
    snapshots: cache,
    site: { brandName: "upstream", stratumPort: 3333 },
    workers: sourcesWorkerLookup(sources),
  });
  // Titled as a pool with the default brand titles it (`startStatusService`).
  const app = createStatusApp({
    snapshots: cache,
    auth,
    pages,
    openApi: { title: "denopool JSON API" },
  });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    cache,
    stop: () => server.shutdown(),
  };
}

async function fetchBoth(
  upstream: string,
  mirror: { fetch(r: Request): Response | Promise<Response> },
  path: string,
) {
  const a = await fetch(upstream + path);
  const b = await mirror.fetch(new Request("http://mirror.test" + path));
  return {
    up: { status: a.status, headers: a.headers, body: new Uint8Array(await a.arrayBuffer()) },
    mirror: { status: b.status, headers: b.headers, body: new Uint8Array(await b.arrayBuffer()) },
  };
}

Deno.test("mirror serves the upstream's bytes and X-JSON-* headers for every public endpoint", async () => {
  const upstream = await startUpstream();
  const mirror = await createMirror(
    mirrorConfigFromEnv((n) => ({ UPSTREAM_URL: upstream.url })[n]),
  );
  try {
    await mirror.start();
    for (const path of PUBLIC_PATHS) {
      const { up, mirror: m } = await fetchBoth(upstream.url, mirror.app, path);
      assert.equal(up.status, 200, path);
      assert.equal(m.status, 200, path);
      assert.deepEqual(m.body, up.body, `${path}: same bytes`);
      assert.equal(m.headers.get("Content-Type"), "application/json", path);
      for (const h of ["X-JSON-Updated-At", "X-JSON-Next-Update-At", "Cache-Control"]) {
        assert.equal(m.headers.get(h), up.headers.get(h), `${path}: ${h}`);
      }
    }
  } finally {
    await mirror.stop();
    await upstream.stop();
  }
});

Deno.test("mirror keeps serving the last good snapshots after the upstream stops, and says so", async () => {
  const upstream = await startUpstream();
  const puller = new UpstreamPuller({ upstreamUrl: upstream.url, timeoutMs: 2_000 });
  const pages = await createPageRoutes({
    snapshots: puller.store,
    site: { brandName: "mirror", mirrorOf: upstream.url },
    stale: () => puller.stale(),
  });
  const app = createStatusApp({ snapshots: puller.store, pages });
  try {
    assert.equal(await puller.pull(), true);
    const before = new Map<string, { body: Uint8Array; updated: string | null }>();
    for (const path of PUBLIC_PATHS.slice(0, -1)) {
      const r = await app.fetch(new Request("http://m" + path));
      before.set(path, {
        body: new Uint8Array(await r.arrayBuffer()),
        updated: r.headers.get("X-JSON-Updated-At"),
      });
    }
    const fresh = await (await app.fetch(new Request("http://m/"))).text();
    assert.match(fresh, /class="banner hidden" id="stale"/);

    await upstream.stop();
    assert.equal(await puller.pull(), false, "pulls fail once the upstream is gone");
    assert.equal(puller.stale(), true);

    for (const [path, old] of before) {
      const r = await app.fetch(new Request("http://m" + path));
      assert.equal(r.status, 200, path);
      assert.deepEqual(new Uint8Array(await r.arrayBuffer()), old.body, `${path}: same bytes`);
      assert.equal(r.headers.get("X-JSON-Updated-At"), old.updated, `${path}: original time`);
    }
    const html = await (await app.fetch(new Request("http://m/"))).text();
    assert.match(html, /class="banner" id="stale"/, "the overview shows the stale banner");
    assert.match(html, /mirrored pool is not answering/);
  } finally {
    await puller.stop();
  }
});

Deno.test("mirror never exposes authenticated endpoints", async () => {
  const upstream = await startUpstream();
  const mirror = await createMirror(
    mirrorConfigFromEnv((n) => ({ UPSTREAM_URL: upstream.url })[n]),
  );
  try {
    await mirror.start();
    for (const [method, path] of PRIVATE_REQUESTS) {
      const r = await mirror.app.fetch(new Request("http://m" + path, { method }));
      await r.body?.cancel();
      assert.equal(r.status, 404, `${method} ${path}`);
    }
    // The upstream does have them: the 404s are the mirror's doing.
    const up = await fetch(upstream.url + "/api/saved-workers");
    assert.equal(up.status, 200);
    await up.body?.cancel();
  } finally {
    await mirror.stop();
    await upstream.stop();
  }
});

Deno.test("mirror pages render the upstream's numbers and look workers up through it", async () => {
  const upstream = await startUpstream();
  const mirror = await createMirror(
    mirrorConfigFromEnv((n) =>
      ({ UPSTREAM_URL: upstream.url, BRAND_NAME: "Mirror Pool", STRATUM_PORT: "4444" })[n]
    ),
  );
  try {
    await mirror.start();
    const html = await (await mirror.app.fetch(new Request("http://m/"))).text();
    assert.match(html, /Mirror Pool/);
    assert.match(html, /data-k="overview:active_miners" data-f="integer">7</);
    assert.match(html, /stratum\+tcp:\/\/127\.0\.0\.1:4444/);
    assert.match(html, /status mirror of http:\/\/127\.0\.0\.1/);

    const hash = workerNameHash(`${SAMPLE_ADDRESS_BECH32}.rig1`);
    const page = await mirror.app.fetch(new Request(`http://m/worker/sha256?hash=${hash}`));
    assert.equal(page.status, 200);
    const body = await page.text();
    assert.match(body, /Online: the pool is receiving work/);
    assert.match(body, /bc1qar0s\.\.\.zzwf5mdq\.rig1/);
    assert.doesNotMatch(body, new RegExp(SAMPLE_ADDRESS_BECH32), "never the full address");
  } finally {
    await mirror.stop();
    await upstream.stop();
  }
});

Deno.test("mirror configuration comes from the environment and rejects nonsense", () => {
  const env = (vars: Record<string, string>) => (n: string) => vars[n];
  const c = mirrorConfigFromEnv(env({ UPSTREAM_URL: "https://pool.example/", PORT: "9000" }));
  assert.deepEqual(c.source, { kind: "upstream", url: "https://pool.example" });
  assert.equal(c.port, 9000);
  assert.equal(c.site.stratumHost, "pool.example");
  assert.equal(c.site.stratumPort, 3333);
  assert.equal(c.hostname, "0.0.0.0");
  // HOSTNAME is the machine's own name in shells and containers: never a listen address.
  const listen = (vars: Record<string, string>) =>
    mirrorConfigFromEnv(env({ UPSTREAM_URL: "https://p.example", ...vars })).hostname;
  assert.equal(listen({ HOSTNAME: "a1b2c3d4" }), "0.0.0.0");
  assert.equal(listen({ HOSTNAME: "a1b2c3d4", LISTEN_HOST: "127.0.0.1" }), "127.0.0.1");
  assert.deepEqual(mirrorConfigFromEnv(env({ KV_URL: "default" })).source, {
    kind: "kv",
    url: "default",
  });
  assert.throws(() => mirrorConfigFromEnv(env({})), /UPSTREAM_URL/);
  assert.throws(() => mirrorConfigFromEnv(env({ UPSTREAM_URL: "ftp://x" })), /http/);
  assert.throws(
    () => mirrorConfigFromEnv(env({ UPSTREAM_URL: "https://x", PORT: "70000" })),
    /PORT/,
  );
});
