/**
 * The exact response headers (and plain-text bodies) of the status app, one request of each kind:
 * a page, a static file, a redirect, a 404, each JSON answer (snapshot, OpenAPI, 400, 404, 405,
 * 503), the worker lookup, `/metrics`, and the authenticated routes (403, 413, 200, 401, 303).
 * Written down from the hand-written header code before the security headers, the body limit and
 * the same-origin guard became Hono middleware, so that move could not change a byte of them.
 */

import assert from "node:assert/strict";
import { ManualClock, memorySources, sampleStatusData } from "../lib/status/memory.ts";
import { SnapshotCache } from "../lib/status/snapshots.ts";
import type { StatusStatic } from "../lib/status/sources.ts";
import { ClerkVerifier } from "../lib/auth/clerk.ts";
import { SessionReader } from "../lib/auth/session.ts";
import { openStore } from "../lib/store/store.ts";
import { createStatusApp } from "../routes/app.ts";
import { createAuthRoutes } from "../routes/auth.ts";
import { createPageRoutes } from "../routes/pages.ts";
import { startClerkStandIn, TEST_ISSUER } from "./auth_fixture.ts";

const START = Date.UTC(2026, 0, 31, 19, 55, 0);
const STATICS: StatusStatic = {
  poolTag: "/denopool/",
  genesisExpected: "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
  peerCleanup: { enabled: true, maxPingMs: 250, minPeers: 4 },
  retargetInterval: 2016,
  targetSpacingSec: 600,
};
const SITE = "http://pool.test";

type HeaderMap = Record<string, string>;

/** What one request got: status, every header but `Date`, and the body when it is plain text. */
interface Answer {
  readonly status: number;
  readonly headers: HeaderMap;
  readonly text?: string;
}

/** Sent on everything the page routes answer (pages, static files, their 404s). */
const PAGE_HEADERS: HeaderMap = {
  "cross-origin-opener-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
};

const EXPECTED: [string, Answer][] = [
  ["GET /", {
    status: 200,
    headers: {
      ...PAGE_HEADERS,
      "cache-control": "no-cache, no-store, must-revalidate",
      "content-security-policy":
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      "content-type": "text/html; charset=utf-8",
    },
  }],
  ["GET /static/app.css", {
    status: 200,
    headers: {
      ...PAGE_HEADERS,
      "cache-control": "public, max-age=300",
      "content-type": "text/css; charset=utf-8",
      "etag": '"…"',
    },
  }],
  ["GET /favicon.ico", {
    status: 301,
    headers: { ...PAGE_HEADERS, "location": "/static/favicon.svg?v=…" },
  }],
  ["GET /nope", {
    status: 404,
    headers: { ...PAGE_HEADERS, "content-type": "text/plain; charset=UTF-8" },
    text: "not found\n",
  }],
  ["GET /api/overview", {
    status: 200,
    headers: {
      "cache-control": "no-cache, no-store, must-revalidate",
      "content-type": "application/json",
      "x-content-type-options": "nosniff",
      "x-json-next-update-at": "2026-01-31T19:55:10Z",
      "x-json-updated-at": "2026-01-31T19:55:00Z",
    },
  }],
  ["GET /api/blocks?limit=x", {
    status: 400,
    headers: {
      "cache-control": "no-cache, no-store, must-revalidate",
      "content-type": "text/plain; charset=UTF-8",
      "x-content-type-options": "nosniff",
    },
    text: "limit must be an integer from 1 to 100\n",
  }],
  ["GET /api/openapi.json", {
    status: 200,
    headers: {
      "cache-control": "no-cache, no-store, must-revalidate",
      "content-type": "application/json",
      "x-content-type-options": "nosniff",
    },
  }],
  ["GET /api/pool", {
    status: 404,
    headers: { ...PAGE_HEADERS, "content-type": "text/plain; charset=UTF-8" },
    text: "not found\n",
  }],
  ["POST /api/overview", {
    status: 405,
    headers: {
      "allow": "GET, HEAD",
      "cache-control": "no-cache, no-store, must-revalidate",
      "content-type": "text/plain; charset=UTF-8",
      "x-content-type-options": "nosniff",
    },
    text: "method not allowed\n",
  }],
  ["GET /api/overview", {
    status: 503,
    headers: {
      "cache-control": "no-cache, no-store, must-revalidate",
      "content-type": "text/plain; charset=UTF-8",
      "retry-after": "1",
      "x-content-type-options": "nosniff",
    },
    text: "snapshot not ready\n",
  }],
  ["GET /api/worker-lookup?hash=abababababababababababababababababababababababababababababababab", {
    status: 503,
    headers: {
      ...PAGE_HEADERS,
      "cache-control": "no-cache, no-store, must-revalidate",
      "content-type": "text/plain; charset=UTF-8",
      "retry-after": "5",
    },
    text: "worker list not available\n",
  }],
  ["GET /metrics", {
    status: 200,
    headers: {
      "cache-control": "no-store",
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
      "x-content-type-options": "nosniff",
    },
  }],
  ["POST /api/auth/session-refresh", {
    status: 403,
    headers: {
      "cache-control": "private, no-store",
      "content-type": "text/plain; charset=UTF-8",
      "x-content-type-options": "nosniff",
    },
    text: "forbidden\n",
  }],
  ["POST /api/auth/session-refresh", {
    status: 413,
    headers: {
      "cache-control": "private, no-store",
      "content-type": "text/plain; charset=UTF-8",
      "x-content-type-options": "nosniff",
    },
    text: "body too large\n",
  }],
  ["POST /api/auth/session-refresh", {
    status: 200,
    headers: {
      "cache-control": "private, no-store",
      "content-type": "application/json",
      "set-cookie":
        "__session=\u2026; Path=/; Expires=\u2026; Max-Age=\u2026; HttpOnly; SameSite=Lax",
      "x-content-type-options": "nosniff",
    },
  }],
  ["GET /api/saved-workers", {
    status: 401,
    headers: {
      "cache-control": "private, no-store",
      "content-type": "text/plain; charset=UTF-8",
      "x-content-type-options": "nosniff",
    },
    text: "unauthorized\n",
  }],
  ["POST /logout", {
    status: 303,
    headers: {
      "cache-control": "private, no-store",
      "location": "/",
      "set-cookie": "__session=; Path=/; Expires=\u2026; Max-Age=\u2026; HttpOnly; SameSite=Lax",
      "x-content-type-options": "nosniff",
    },
  }],
];

/**
 * The headers of `res` without `Date`; values that depend on the moment or on the static files'
 * bytes (a session token, cookie times, a file's version) replaced by `…`.
 */
function headersOf(res: Response): HeaderMap {
  const out: HeaderMap = {};
  for (const [k, v] of res.headers) {
    if (k === "date") continue;
    if (k === "set-cookie") {
      out[k] = v.replace(/^(\w+)=[^;]+;/, "$1=…;").replace(/Expires=[^;]+;/, "Expires=…;")
        .replace(/Max-Age=\d+;/, "Max-Age=…;");
    } else if (k === "etag") {
      out[k] = v.replace(/^"[0-9a-f]{10}"$/, '"…"');
    } else {
      out[k] = v.replace(/\?v=[0-9a-f]{10}$/, "?v=…");
    }
  }
  return out;
}

Deno.test("status app: every kind of answer carries exactly its headers", async () => {
  const clock = new ManualClock(START);
  const sources = memorySources(sampleStatusData(START));
  const cache = new SnapshotCache({ sources, statics: STATICS, clock });
  const clerk = await startClerkStandIn();
  const dir = await Deno.makeTempDir({ prefix: "denopool-headers-" });
  const store = await openStore(`${dir}/kv`);
  try {
    await cache.start();
    const pages = await createPageRoutes({
      snapshots: cache,
      site: { brandName: "pool", stratumPort: 3333 },
      workers: { lookup: () => Promise.reject(new Error("down")) },
      now: () => clock.now(),
    });
    const auth = createAuthRoutes({
      sessions: new SessionReader({
        verifier: new ClerkVerifier({ jwksUrl: clerk.jwksUrl, issuer: TEST_ISSUER }),
        cookieName: "__session",
      }),
      savedWorkers: { store, liveWorkers: () => [], discordEnabled: false },
    });
    const metrics = {
      metrics: () => ({
        sharesByResult: { accepted: 1 },
        blocksByResult: {},
        connectionsByTransport: {},
        hashChecks: 1,
        hashChecksPerSecond: 0,
        rpcLatency: {},
      }),
    };
    const app = createStatusApp({ snapshots: cache, pages, auth, metrics });
    const cold = createStatusApp({
      snapshots: new SnapshotCache({ sources, statics: STATICS, clock }),
    });
    const token = await clerk.sign("user_h");
    const json = { "content-type": "application/json", origin: SITE };
    const post = (headers: HeaderMap, body?: string): RequestInit => ({
      method: "POST",
      headers,
      body,
    });
    const requests: [string, RequestInit | undefined, typeof app][] = [
      ["/", undefined, app],
      ["/static/app.css", undefined, app],
      ["/favicon.ico", undefined, app],
      ["/nope", undefined, app],
      ["/api/overview", undefined, app],
      ["/api/blocks?limit=x", undefined, app],
      ["/api/openapi.json", undefined, app],
      ["/api/pool", undefined, app],
      ["/api/overview", post({}), app],
      ["/api/overview", undefined, cold],
      ["/api/worker-lookup?hash=" + "ab".repeat(32), undefined, app],
      ["/metrics", undefined, app],
      ["/api/auth/session-refresh", post({ ...json, origin: "https://evil.example" }, "{}"), app],
      [
        "/api/auth/session-refresh",
        post(json, JSON.stringify({ token, pad: "x".repeat(20_000) })),
        app,
      ],
      ["/api/auth/session-refresh", post(json, JSON.stringify({ token })), app],
      ["/api/saved-workers", undefined, app],
      ["/logout", post({ origin: SITE }), app],
    ];
    assert.equal(requests.length, EXPECTED.length);
    for (const [i, [path, init, target]] of requests.entries()) {
      const what = `${init?.method ?? "GET"} ${path}`;
      const res = await target.request(`${SITE}${path}`, init);
      const headers = headersOf(res);
      const plain = (headers["content-type"] ?? "").startsWith("text/plain");
      const text = plain && !path.startsWith("/metrics") ? await res.text() : undefined;
      if (text === undefined) await res.body?.cancel();
      const got: Answer = text === undefined
        ? { status: res.status, headers }
        : { status: res.status, headers, text };
      assert.deepEqual([what, got], EXPECTED[i]);
    }
  } finally {
    await cache.stop();
    store.close();
    await clerk.close();
    await Deno.remove(dir, { recursive: true });
  }
});
