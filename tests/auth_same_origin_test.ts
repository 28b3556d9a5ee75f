/**
 * The same-origin guard as browsers really call it. The pages send `Referrer-Policy: no-referrer`,
 * so a browser's own POSTs from them carry `Origin: null` and no `Referer`, with
 * `Sec-Fetch-Site: same-origin`: those pass. `Origin: null` without that vouching, or from a
 * sibling site, stays refused.
 */

import assert from "node:assert/strict";
import { withAuthRoutes } from "./auth_fixture.ts";
import { isSameOriginRequest } from "../lib/auth/request.ts";
import { workerNameHash } from "../lib/store/store.ts";

const HOST = "pool.test";
const WORKER = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080.rig-7";

Deno.test("isSameOriginRequest: Origin null passes only when the browser says same-origin", () => {
  const check = (h: Record<string, string>) => isSameOriginRequest(new Headers(h), HOST);
  assert.equal(check({ origin: "null", "sec-fetch-site": "same-origin" }), true);
  assert.equal(check({ origin: "null", "sec-fetch-site": "SAME-ORIGIN" }), true);
  assert.equal(check({ origin: "null" }), false, "no vouching");
  assert.equal(check({ origin: "null", "sec-fetch-site": "same-site" }), false, "a sibling");
  assert.equal(check({ origin: "null", "sec-fetch-site": "cross-site" }), false);
  assert.equal(check({ origin: "null", "sec-fetch-site": "none" }), false);
  assert.equal(
    check({ origin: "null", "sec-fetch-site": "same-origin", referer: "https://evil.example/" }),
    false,
    "a Referer of another host still refuses",
  );
  // Unchanged cases of the underlying guard.
  assert.equal(check({ origin: `http://${HOST}` }), true);
  assert.equal(check({ origin: "http://evil.example", "sec-fetch-site": "same-origin" }), false);
  assert.equal(check({ "sec-fetch-site": "cross-site" }), false);
  assert.equal(check({}), true, "no browser headers at all (curl with a cookie)");
});

Deno.test("a no-referrer page's own POSTs (Origin null, same-origin) refresh, save and switch", async () => {
  await withAuthRoutes(async ({ clerk, store, request }) => {
    const browserHeaders = { origin: "null", "sec-fetch-site": "same-origin" };
    const refreshed = await request("/api/auth/session-refresh", {
      method: "POST",
      headers: { ...browserHeaders, "content-type": "application/json" },
      body: JSON.stringify({ token: await clerk.sign("user_nr") }),
    });
    assert.equal(refreshed.status, 200);
    const cookie = refreshed.headers.get("set-cookie")!.split(";")[0];

    const saved = await request("/worker/save", {
      method: "POST",
      headers: { ...browserHeaders, cookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ worker: WORKER }).toString(),
    });
    assert.equal(saved.status, 303);
    assert.equal((await store.savedWorkers.list("user_nr")).length, 1);

    const hash = workerNameHash(WORKER);
    const off = await request("/api/saved-workers/notify-enabled", {
      method: "POST",
      headers: { ...browserHeaders, cookie, "content-type": "application/json" },
      body: JSON.stringify({ hash, enabled: false }),
    });
    assert.deepEqual(await off.json(), { ok: true, enabled: false });

    // The same request from a sibling site is still refused, and changes nothing.
    const sibling = await request("/worker/remove", {
      method: "POST",
      headers: {
        origin: "null",
        "sec-fetch-site": "same-site",
        cookie,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({ hash }).toString(),
    });
    assert.equal(sibling.status, 403);
    assert.equal((await store.savedWorkers.list("user_nr")).length, 1);
  });
});
