/**
 * What the Hono middleware adds or keeps: static files answer `304 Not Modified` to their own
 * ETag (`hono/etag`); the pages' CSP with Clerk configured is the string it always was; a body over 16 KiB is refused with 413 whether it declares its length or
 * streams (`hono/body-limit`), while a body at the limit is read; and the checks that answered
 * before the body was read still answer first (404 without Clerk, 403 from another site, 401
 * signed out), so the limit changes no other answer.
 */

import assert from "node:assert/strict";
import { Hono } from "hono";
import { MAX_BODY_BYTES } from "../lib/auth/request.ts";
import { ManualClock, memorySources, sampleStatusData } from "../lib/status/memory.ts";
import { SnapshotCache } from "../lib/status/snapshots.ts";
import { createStatusApp } from "../routes/app.ts";
import { pageContentSecurityPolicy } from "../routes/middleware.ts";
import { createPageRoutes } from "../routes/pages.ts";
import { TEST_SITE, withAuthRoutes } from "./auth_fixture.ts";

const JSON_TYPE = { "content-type": "application/json" };

/** A JSON body of exactly `bytes` bytes (`{"token":"…","pad":"xxx…"}`). */
function jsonOfSize(bytes: number, token = "t"): string {
  const head = JSON.stringify({ token, pad: "" });
  return head.slice(0, -2) + "x".repeat(bytes - head.length) + '"}';
}

/** A body that arrives in 1 KiB chunks with no Content-Length. */
function streamed(text: string): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + 1024));
      offset += 1024;
    },
  });
}

Deno.test("static files: 304 to their own ETag, 200 to another", async () => {
  const start = Date.UTC(2026, 0, 31, 19, 55, 0);
  const cache = new SnapshotCache({
    sources: memorySources(sampleStatusData(start)),
    statics: {
      poolTag: "/denopool/",
      genesisExpected: "00",
      peerCleanup: { enabled: false, maxPingMs: 250, minPeers: 4 },
      retargetInterval: 2016,
      targetSpacingSec: 600,
    },
    clock: new ManualClock(start),
  });
  const pages = await createPageRoutes({ snapshots: cache, site: { brandName: "pool" } });
  const app = createStatusApp({ snapshots: cache, pages });
  const first = await app.request("/static/app.js");
  assert.equal(first.status, 200);
  const tag = first.headers.get("etag");
  const body = await first.text();
  assert.ok(tag && body.length > 0);

  const again = await app.request("/static/app.js", { headers: { "if-none-match": tag } });
  assert.equal(again.status, 304);
  assert.equal(await again.text(), "");
  assert.equal(again.headers.get("etag"), tag);
  assert.equal(again.headers.get("cache-control"), "public, max-age=300");
  assert.equal(again.headers.get("x-content-type-options"), "nosniff");

  const other = await app.request("/static/app.js", { headers: { "if-none-match": '"0000"' } });
  assert.equal(other.status, 200);
  assert.equal(await other.text(), body);
  // A page is never revalidated: it has no ETag and is not to be stored.
  const page = await app.request("/help", { headers: { "if-none-match": "*" } });
  assert.equal(page.status, 200);
  assert.equal(page.headers.get("etag"), null);
  await page.body?.cancel();
});

Deno.test("pages' CSP with Clerk configured: its origin for scripts, connections and frames", async () => {
  const app = new Hono();
  app.get("/", pageContentSecurityPolicy("https://clerk.pool.example"), (c) => c.html("x"));
  assert.equal(
    (await app.request("/")).headers.get("content-security-policy"),
    "default-src 'none'; script-src 'self' https://clerk.pool.example; " +
      "style-src 'self' 'unsafe-inline'; img-src 'self' data: https://img.clerk.com; " +
      "connect-src 'self' https://clerk.pool.example; frame-src https://clerk.pool.example; " +
      "worker-src 'self' blob:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  );
});

Deno.test("a body over the limit is 413 whether declared or streamed; one at the limit is read", async () => {
  await withAuthRoutes(async ({ clerk, request }) => {
    const token = await clerk.sign("user_big");
    const refresh = (body: BodyInit, headers: Record<string, string> = {}) =>
      request("/api/auth/session-refresh", {
        method: "POST",
        headers: { ...JSON_TYPE, origin: TEST_SITE, ...headers },
        body,
        ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
      });
    const big = jsonOfSize(MAX_BODY_BYTES + 1, token);
    const declared = await refresh(big, { "content-length": String(big.length) });
    assert.equal(declared.status, 413);
    assert.equal(await declared.text(), "body too large\n");
    assert.equal(declared.headers.get("cache-control"), "private, no-store");
    const stream = await refresh(streamed(big));
    assert.equal(stream.status, 413);
    assert.equal(await stream.text(), "body too large\n");

    const atLimit = jsonOfSize(MAX_BODY_BYTES, token);
    assert.equal(atLimit.length, MAX_BODY_BYTES);
    for (const body of [atLimit, streamed(atLimit)]) {
      const ok = await refresh(body);
      assert.equal(ok.status, 200);
      assert.equal((await ok.json()).ok, true);
    }
  });
});

Deno.test("the checks before the body still answer first for an oversize body", async () => {
  const big = jsonOfSize(MAX_BODY_BYTES * 4);
  await withAuthRoutes(async ({ request }) => {
    const crossSite = await request("/api/auth/session-refresh", {
      method: "POST",
      headers: { ...JSON_TYPE, origin: "https://evil.example" },
      body: big,
    });
    assert.equal(crossSite.status, 403);
    assert.equal(await crossSite.text(), "forbidden\n");
    const signedOut = await request("/api/saved-workers/notify-enabled", {
      method: "POST",
      headers: { ...JSON_TYPE, origin: TEST_SITE },
      body: big,
    });
    assert.equal(signedOut.status, 401);
    assert.equal(await signedOut.text(), "unauthorized\n");
  });
  await withAuthRoutes(async ({ request }) => {
    for (const path of ["/api/auth/session-refresh", "/worker/save", "/logout"]) {
      const res = await request(path, { method: "POST", headers: JSON_TYPE, body: big });
      assert.equal(res.status, 404, path);
      assert.equal(await res.text(), "not found\n", path);
    }
  }, { withoutClerk: true });
});
