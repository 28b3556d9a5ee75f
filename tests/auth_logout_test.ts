/**
 * Signing out: `GET /logout` (the page's link) and `POST /logout` clear the session cookie and send
 * the browser home; the cleared cookie no longer opens the saved-worker routes; another site cannot
 * sign a user out; without Clerk there is nothing to sign out of.
 */

import assert from "node:assert/strict";
import { TEST_SITE, withAuthRoutes } from "./auth_fixture.ts";
import { clearedSessionCookie } from "../routes/auth.ts";

/** The `name=value` part of a `Set-Cookie` header, as a browser would send it back. */
function cookiePair(setCookie: string | null): string {
  assert.ok(setCookie, "a Set-Cookie header");
  return setCookie.split(";")[0];
}

async function signIn(
  request: (path: string, init?: RequestInit) => Promise<Response>,
  token: string,
): Promise<string> {
  const res = await request("/api/auth/session-refresh", {
    method: "POST",
    headers: { "content-type": "application/json", origin: TEST_SITE },
    body: JSON.stringify({ token }),
  });
  assert.equal(res.status, 200);
  return cookiePair(res.headers.get("set-cookie"));
}

for (const method of ["GET", "POST"] as const) {
  Deno.test(`${method} /logout clears the session cookie and answers 303 to /`, async () => {
    await withAuthRoutes(async ({ clerk, request }) => {
      const cookie = await signIn(request, await clerk.sign("user_out"));
      assert.equal((await request("/api/saved-workers", { headers: { cookie } })).status, 200);

      const res = await request("/logout", { method, headers: { cookie } });
      assert.equal(res.status, 303);
      assert.equal(res.headers.get("location"), "/");
      assert.match(res.headers.get("cache-control") ?? "", /no-store/);
      const cleared = res.headers.get("set-cookie") ?? "";
      assert.match(cleared, /^__session=; Path=\/;/);
      assert.match(cleared, /; Max-Age=0;/);
      assert.match(cleared, /; Expires=Thu, 01 Jan 1970 00:00:00 GMT;/);
      assert.match(cleared, /; HttpOnly; SameSite=Lax$/);

      // The browser now sends the emptied cookie: signed out.
      const after = await request("/api/saved-workers", {
        headers: { cookie: cookiePair(cleared) },
      });
      assert.equal(after.status, 401);
    });
  });
}

Deno.test("/logout clears the configured cookie name, Secure behind an https public URL", async () => {
  await withAuthRoutes(async ({ request }) => {
    const res = await request("/logout", { headers: { host: "pool.example" } });
    assert.equal(res.status, 303);
    assert.match(res.headers.get("set-cookie") ?? "", /^pool_session=; .*; Secure$/);
  }, { cookieName: "pool_session", publicUrl: "https://pool.example" });
});

Deno.test("a cross-site sign-out is refused with 403 and clears nothing", async () => {
  await withAuthRoutes(async ({ request }) => {
    for (
      const headers of [
        { "sec-fetch-site": "cross-site" } as Record<string, string>,
        { origin: "https://evil.example" },
        { referer: "https://evil.example/page" },
      ]
    ) {
      for (const method of ["GET", "POST"]) {
        const res = await request("/logout", { method, headers });
        assert.equal(res.status, 403, `${method} ${JSON.stringify(headers)}`);
        assert.equal(res.headers.get("set-cookie"), null);
        await res.body?.cancel();
      }
    }
    // The site's own pages may link and post to it.
    const own = await request("/logout", {
      method: "POST",
      headers: { origin: TEST_SITE, "sec-fetch-site": "same-origin" },
    });
    assert.equal(own.status, 303);
  });
});

Deno.test("without Clerk configured /logout is 404", async () => {
  await withAuthRoutes(async ({ request }) => {
    for (const method of ["GET", "POST"]) {
      const res = await request("/logout", { method });
      assert.equal(res.status, 404);
      assert.equal(res.headers.get("set-cookie"), null);
      await res.body?.cancel();
    }
  }, { withoutClerk: true });
});

Deno.test("clearedSessionCookie names the cookie and mirrors Secure", () => {
  assert.equal(
    clearedSessionCookie({ name: "__session", secure: false }),
    "__session=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; SameSite=Lax",
  );
  assert.ok(clearedSessionCookie({ name: "s", secure: true }).endsWith("; SameSite=Lax; Secure"));
});
