/**
 * Clerk sessions end to end: tokens signed with an RSA key pair made here, the JWKS served by a
 * local `Deno.serve`, and the real routes answering `POST /api/auth/session-refresh` and
 * `GET /api/saved-workers`. Every forged or out-of-date token is a 401 and sets no cookie.
 */

import assert from "node:assert/strict";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { ClerkVerifier } from "../lib/auth/clerk.ts";
import { SessionReader } from "../lib/auth/session.ts";
import { isSameOriginRequest } from "../lib/auth/request.ts";
import { createAuthRoutes } from "../routes/auth.ts";
import { createStatusApp } from "../routes/app.ts";
import { openStore, type PoolStore } from "../lib/store/store.ts";
import type { JsonSnapshots } from "../lib/status/snapshots.ts";

const ISSUER = "https://clerk.pool.example";
const AUDIENCE = "denopool";
const SITE = "http://pool.test";

interface Fixture {
  readonly jwksUrl: string;
  readonly keys: JWK[];
  readonly jwksRequests: () => number;
  sign(
    claims?: Record<string, unknown>,
    header?: { kid?: string; key?: CryptoKey },
  ): Promise<string>;
  readonly otherKey: CryptoKey;
  close(): Promise<void>;
}

async function fixture(): Promise<Fixture> {
  const main = await generateKeyPair("RS256", { extractable: true });
  const other = await generateKeyPair("RS256", { extractable: true });
  const keys: JWK[] = [{
    ...(await exportJWK(main.publicKey)),
    kid: "main",
    alg: "RS256",
    use: "sig",
  }];
  let requests = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    requests++;
    return Response.json({ keys });
  });
  return {
    jwksUrl: `http://127.0.0.1:${server.addr.port}/.well-known/jwks.json`,
    keys,
    jwksRequests: () => requests,
    otherKey: other.privateKey as CryptoKey,
    async sign(claims = {}, header = {}) {
      const now = Math.floor(Date.now() / 1000);
      return await new SignJWT({
        iss: ISSUER,
        aud: AUDIENCE,
        sub: "user_1",
        sid: "sess_1",
        azp: SITE,
        iat: now,
        nbf: now - 1,
        exp: now + 600,
        ...claims,
      })
        .setProtectedHeader({ alg: "RS256", kid: header.kid ?? "main" })
        .sign(header.key ?? main.privateKey);
    },
    async close() {
      await server.shutdown();
    },
  };
}

const b64url = (v: unknown) =>
  btoa(typeof v === "string" ? v : JSON.stringify(v)).replace(/=+$/, "").replace(/\+/g, "-")
    .replace(/\//g, "_");

async function hs256(secret: Uint8Array<ArrayBuffer>, header: unknown, payload: unknown) {
  const input = `${b64url(header)}.${b64url(payload)}`;
  const key = await crypto.subtle.importKey(
    "raw",
    secret,
    { name: "HMAC", hash: "SHA-256" },
    false,
    [
      "sign",
    ],
  );
  const sig = new Uint8Array(
    await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(input)),
  );
  return `${input}.${b64url(String.fromCharCode(...sig))}`;
}

async function withApp(
  fn: (ctx: {
    f: Fixture;
    store: PoolStore;
    verifier: ClerkVerifier;
    request: (path: string, init?: RequestInit) => Promise<Response>;
  }) => Promise<void>,
  publicUrl = "",
) {
  const f = await fixture();
  const dir = await Deno.makeTempDir({ prefix: "denopool-auth-" });
  const store = await openStore(`${dir}/kv`);
  const verifier = new ClerkVerifier({
    jwksUrl: f.jwksUrl,
    issuer: ISSUER,
    audience: AUDIENCE,
    authorizedParties: [SITE],
  });
  const app = createAuthRoutes({
    sessions: new SessionReader({ verifier, cookieName: "__session" }),
    publicUrl,
    savedWorkers: { store, liveWorkers: () => [], discordEnabled: false },
  });
  try {
    await fn({
      f,
      store,
      verifier,
      request: async (path, init) => await app.request(`${SITE}${path}`, init),
    });
  } finally {
    store.close();
    await f.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function refresh(token: unknown, headers: Record<string, string> = {}): RequestInit {
  return {
    method: "POST",
    headers: { "content-type": "application/json", origin: SITE, ...headers },
    body: JSON.stringify(token === undefined ? {} : { token }),
  };
}

Deno.test("a valid token sets the session cookie and /api/saved-workers answers", async () => {
  await withApp(async ({ f, request }) => {
    const token = await f.sign();
    const res = await request("/api/auth/session-refresh", refresh(token));
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.ok, true);
    const exp = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).exp;
    assert.equal(body.expires_at, new Date(exp * 1000).toISOString());
    const cookie = res.headers.get("set-cookie") ?? "";
    assert.match(cookie, new RegExp(`^__session=${token.replace(/\./g, "\\.")}; Path=/;`));
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; SameSite=Lax/);
    assert.ok(cookie.includes(`Expires=${new Date(exp * 1000).toUTCString()}`));
    assert.ok(!cookie.includes("Secure"), "plain HTTP without an https public URL");
    assert.match(res.headers.get("cache-control") ?? "", /no-store/);

    assert.equal((await request("/api/saved-workers")).status, 401, "no cookie");
    const saved = await request("/api/saved-workers", {
      headers: { cookie: `__session=${token}` },
    });
    assert.equal(saved.status, 200);
    const list = await saved.json();
    assert.deepEqual(Object.keys(list).sort(), [
      "best_difficulty",
      "offline_workers",
      "online_count",
      "online_workers",
      "saved_count",
      "saved_max",
      "updated_at",
    ]);
    assert.equal(list.saved_max, 64);
  });
});

Deno.test("the cookie is Secure when the public URL is https or the request is TLS", async () => {
  await withApp(async ({ f, request }) => {
    const res = await request(
      "/api/auth/session-refresh",
      refresh(await f.sign(), { origin: "https://pool.example" }),
    );
    assert.equal(res.status, 200);
    assert.match(res.headers.get("set-cookie") ?? "", /; Secure/);
  }, "https://pool.example");
});

Deno.test("forged and out-of-date tokens are 401 and set no cookie", async () => {
  await withApp(async ({ f, request }) => {
    const now = Math.floor(Date.now() / 1000);
    const good = await f.sign();
    const [h, p, s] = good.split(".");
    const payload = JSON.parse(atob(p.replace(/-/g, "+").replace(/_/g, "/")));
    const publicJwk = new TextEncoder().encode(JSON.stringify(f.keys[0]));
    const cases: Record<string, string> = {
      "expired": await f.sign({ exp: now - 60 }),
      "not yet valid": await f.sign({ nbf: now + 120 }),
      "wrong issuer": await f.sign({ iss: "https://evil.example" }),
      "wrong audience": await f.sign({ aud: "someone-else" }),
      "azp not authorized": await f.sign({ azp: "https://evil.example" }),
      "unknown kid": await f.sign({}, { kid: "rotated-away", key: f.otherKey }),
      "known kid, other key": await f.sign({}, { key: f.otherKey }),
      "alg none": `${b64url({ alg: "none", kid: "main" })}.${p}.`,
      "HS256 signed with the public key": await hs256(
        publicJwk,
        { alg: "HS256", kid: "main" },
        payload,
      ),
      "tampered payload": `${h}.${b64url({ ...payload, sub: "user_admin" })}.${s}`,
      "no sub": await f.sign({ sub: "" }),
      "garbage": "not.a.jwt",
    };
    for (const [what, token] of Object.entries(cases)) {
      const res = await request("/api/auth/session-refresh", refresh(token));
      assert.equal(res.status, 401, what);
      assert.equal(await res.text(), "invalid token\n", what);
      assert.equal(res.headers.get("set-cookie"), null, what);
      const saved = await request("/api/saved-workers", {
        headers: { cookie: `__session=${token}` },
      });
      assert.equal(saved.status, 401, `${what}: cookie refused too`);
    }
  });
});

Deno.test("exp and nbf allow a few seconds of clock skew", async () => {
  await withApp(async ({ f, request }) => {
    const now = Math.floor(Date.now() / 1000);
    assert.equal(
      (await request("/api/auth/session-refresh", refresh(await f.sign({ exp: now - 2 })))).status,
      200,
    );
    assert.equal(
      (await request("/api/auth/session-refresh", refresh(await f.sign({ nbf: now + 2 })))).status,
      200,
    );
  });
});

Deno.test("cross-site refreshes are 403 and set no cookie", async () => {
  await withApp(async ({ f, request }) => {
    const token = await f.sign();
    const cases: Record<string, Record<string, string>> = {
      "Sec-Fetch-Site: cross-site": { "sec-fetch-site": "cross-site" },
      "foreign Origin": { origin: "https://evil.example" },
      "foreign Referer": { origin: SITE, referer: "https://evil.example/page" },
      "Origin: null": { origin: "null" },
    };
    for (const [what, headers] of Object.entries(cases)) {
      const res = await request("/api/auth/session-refresh", refresh(token, headers));
      assert.equal(res.status, 403, what);
      assert.equal(await res.text(), "forbidden\n");
      assert.equal(res.headers.get("set-cookie"), null, what);
    }
    const sameSite = await request(
      "/api/auth/session-refresh",
      refresh(token, { "sec-fetch-site": "same-origin", referer: `${SITE}/saved-workers` }),
    );
    assert.equal(sameSite.status, 200);
  });
});

Deno.test("the token comes from JSON or a form; none is 400", async () => {
  await withApp(async ({ f, request }) => {
    const token = await f.sign();
    const form = await request("/api/auth/session-refresh", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: SITE },
      body: new URLSearchParams({ token }).toString(),
    });
    assert.equal(form.status, 200);
    const multipart = new FormData();
    multipart.set("token", token);
    const mp = await request("/api/auth/session-refresh", {
      method: "POST",
      headers: { origin: SITE },
      body: multipart,
    });
    assert.equal(mp.status, 200);
    for (const body of [refresh(undefined), refresh(""), { ...refresh(1), body: "{not json" }]) {
      const res = await request("/api/auth/session-refresh", body);
      assert.equal(res.status, 400);
      assert.equal(await res.text(), "missing token\n");
    }
  });
});

Deno.test("without Clerk configured every authenticated route is 404", async () => {
  const dir = await Deno.makeTempDir();
  const store = await openStore(`${dir}/kv`);
  try {
    const app = createAuthRoutes({
      savedWorkers: { store, liveWorkers: () => [], discordEnabled: true },
    });
    for (const path of ["/api/auth/session-refresh", "/api/saved-workers/one-time-code"]) {
      assert.equal((await app.request(path, refresh("x"))).status, 404, path);
    }
    assert.equal((await app.request("/api/saved-workers")).status, 404);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an unknown kid refetches the JWKS at most once per cooldown; rotation is picked up", async () => {
  const f = await fixture();
  const clock = { now: Date.now() };
  const verifier = new ClerkVerifier({
    jwksUrl: f.jwksUrl,
    issuer: ISSUER,
    refetchCooldownMs: 60_000,
    now: () => clock.now,
  });
  try {
    await verifier.verify(await f.sign());
    assert.equal(f.jwksRequests(), 1);
    const rotated = await f.sign({}, { kid: "next", key: f.otherKey });
    for (let i = 0; i < 20; i++) await assert.rejects(verifier.verify(rotated));
    assert.equal(f.jwksRequests(), 1, "made-up kids within the cooldown fetch nothing");
    // The issuer rotates its key; after the cooldown one refetch finds it.
    const exported = await exportJWK(
      await crypto.subtle.importKey(
        "jwk",
        { ...(await exportJWK(f.otherKey)) } as JsonWebKey,
        { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
        true,
        ["sign"],
      ),
    );
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = exported;
    f.keys.push({ ...pub, kid: "next" });
    clock.now += 60_000;
    const session = await verifier.verify(rotated);
    assert.equal(session.userId, "user_1");
    assert.equal(f.jwksRequests(), 2);
  } finally {
    await f.close();
  }
});

Deno.test("same-origin check: hosts compare with their ports, malformed headers fail", () => {
  const h = (o: Record<string, string>) => new Headers(o);
  assert.equal(isSameOriginRequest(h({ origin: "http://a.example:8080" }), "a.example:8080"), true);
  assert.equal(isSameOriginRequest(h({ origin: "http://a.example" }), "a.example:8080"), false);
  assert.equal(isSameOriginRequest(h({ referer: "::bad" }), "a.example"), false);
  assert.equal(isSameOriginRequest(h({}), "a.example"), true, "no headers: a same-site form");
  assert.equal(isSameOriginRequest(h({ "sec-fetch-site": "same-site" }), "a.example"), true);
});

Deno.test("the status app serves the auth routes over real HTTP", async () => {
  await withApp(async ({ f, store, verifier }) => {
    const snapshots = { get: () => undefined } as unknown as JsonSnapshots;
    const app = createStatusApp({
      snapshots,
      auth: createAuthRoutes({
        sessions: new SessionReader({ verifier, cookieName: "__session" }),
        savedWorkers: { store, liveWorkers: () => [], discordEnabled: false },
      }),
    });
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
    try {
      const base = `http://127.0.0.1:${server.addr.port}`;
      const res = await fetch(`${base}/api/auth/session-refresh`, {
        ...refresh(await f.sign()),
        headers: { "content-type": "application/json", origin: base },
      });
      assert.equal(res.status, 200);
      const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0];
      await res.body?.cancel();
      const saved = await fetch(`${base}/api/saved-workers`, { headers: { cookie } });
      assert.equal(saved.status, 200);
      assert.equal((await saved.json()).saved_count, 0);
    } finally {
      await server.shutdown();
    }
  });
});
