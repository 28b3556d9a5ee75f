/**
 * HTTPS behind a reverse proxy: RFC 7239 `Forwarded` parsing, the one "is this request HTTPS"
 * decision (`isHttpsRequest`: TLS, or a trusted proxy's `Forwarded: proto=` /
 * `X-Forwarded-Proto`), and on real listeners (`serveStatus`) the `Secure` flag of every cookie
 * the pool sets — the Clerk session cookie and its clearing, the admin session cookie — set for
 * a trusted proxy's HTTPS and never for an untrusted peer sending the same header. Clients come
 * from 127.0.0.2 (the trusted proxy) and 127.0.0.3 (anyone else) through `node:net`.
 */

import assert from "node:assert/strict";
import { ClerkVerifier } from "../lib/auth/clerk.ts";
import { SessionReader } from "../lib/auth/session.ts";
import { hashPassword, MIN_ITERATIONS } from "../lib/admin/password.ts";
import type { AdminPort } from "../lib/admin/port.ts";
import { clientIp, isHttpsRequest, parseForwarded } from "../lib/status/client_ip.ts";
import { serveStatus, type StatusServer } from "../lib/status/server.ts";
import type { JsonSnapshots } from "../lib/status/snapshots.ts";
import { generateSelfSigned } from "../lib/tls/selfsigned.ts";
import { createAdminApp } from "../routes/admin/app.tsx";
import { createStatusApp } from "../routes/app.ts";
import { createAuthRoutes } from "../routes/auth.ts";
import { startClerkStandIn, TEST_ISSUER } from "./auth_fixture.ts";
import { type RawAnswer, rawRequest } from "./helpers/http_raw.ts";

const PROXY = "127.0.0.2";
const STRANGER = "127.0.0.3";
const LOCAL = { hostname: "127.0.0.1", port: 0 };

Deno.test("parseForwarded: elements, pairs, quoted values; malformed headers as a whole", () => {
  assert.deepEqual(parseForwarded("for=192.0.2.60;proto=http;by=203.0.113.43"), [
    { for: "192.0.2.60", proto: "http", by: "203.0.113.43" },
  ]);
  assert.deepEqual(parseForwarded('For="[2001:db8:cafe::17]:4711", for=198.51.100.17'), [
    { for: "[2001:db8:cafe::17]:4711" },
    { for: "198.51.100.17" },
  ]);
  assert.deepEqual(parseForwarded('for=_hidden ; PROTO=https , for="a\\"b"'), [
    { for: "_hidden", proto: "https" },
    { for: 'a"b' },
  ]);
  for (
    const bad of [
      "",
      "for",
      "for=",
      'for="unterminated',
      "for=1.2.3.4;;",
      "for=1.2.3.4,",
      "for=1.2.3.4 proto=https",
      "for=a;for=b",
      "for=[::1]",
    ]
  ) {
    assert.equal(parseForwarded(bad), undefined, bad);
  }
});

Deno.test("isHttpsRequest: TLS, or a trusted proxy's word; an untrusted peer's headers change nothing", () => {
  const trusted = ["10.0.0.0/8"];
  const h = (o: Record<string, string>) => new Headers(o);
  const https = (peer: string, o: Record<string, string>, tls = false) =>
    isHttpsRequest(peer, h(o), trusted, tls);
  assert.equal(https("192.0.2.1", {}, true), true, "TLS to the pool");
  assert.equal(https("10.0.0.5", { "x-forwarded-proto": "https" }), true);
  assert.equal(https("10.0.0.5", { "x-forwarded-proto": "HTTPS" }), true);
  assert.equal(https("10.0.0.5", { "x-forwarded-proto": "http" }), false);
  assert.equal(https("10.0.0.5", {}), false);
  assert.equal(
    https("10.0.0.5", { "x-forwarded-proto": "https, http" }),
    false,
    "the last value is the nearest proxy's: a client's own copy comes first",
  );
  assert.equal(https("192.0.2.1", { "x-forwarded-proto": "https" }), false, "untrusted peer");
  assert.equal(https("192.0.2.1", { forwarded: "proto=https" }), false, "untrusted peer");
  assert.equal(isHttpsRequest("10.0.0.5", h({ "x-forwarded-proto": "https" }), []), false);
  // Forwarded: the element of the client's hop, walking left over trusted proxies.
  assert.equal(https("10.0.0.5", { forwarded: "for=192.0.2.9;proto=https" }), true);
  assert.equal(
    https("10.0.0.5", { forwarded: "for=192.0.2.9;proto=https, for=10.0.0.7;proto=http" }),
    true,
    "an inner hop over http between trusted proxies",
  );
  assert.equal(
    https("10.0.0.5", { forwarded: "for=192.0.2.66;proto=https, for=192.0.2.9;proto=http" }),
    false,
    "a client's forged element left of its own hop is not believed",
  );
  assert.equal(
    https("10.0.0.5", { forwarded: "for=192.0.2.9", "x-forwarded-proto": "https" }),
    true,
    "no proto in the hop: X-Forwarded-Proto decides",
  );
  assert.equal(
    https("10.0.0.5", { forwarded: "proto=http", "x-forwarded-proto": "https" }),
    false,
    "Forwarded's proto wins",
  );
  assert.equal(
    https("10.0.0.5", { forwarded: "garbage", "x-forwarded-proto": "https" }),
    true,
    "a malformed Forwarded is ignored",
  );
});

Deno.test("clientIp reads Forwarded for= when there is no X-Forwarded-For", () => {
  const trusted = ["10.0.0.0/8"];
  const h = (o: Record<string, string>) => new Headers(o);
  assert.equal(
    clientIp("10.0.0.5", h({ forwarded: 'for="[2001:db8::9]:443"' }), trusted),
    "2001:db8::9",
  );
  assert.equal(
    clientIp("10.0.0.5", h({ forwarded: "for=192.0.2.1, for=192.0.2.9, for=10.0.0.7" }), trusted),
    "192.0.2.9",
  );
  assert.equal(clientIp("10.0.0.5", h({ forwarded: "for=unknown" }), trusted), "10.0.0.5");
  assert.equal(
    clientIp(
      "10.0.0.5",
      h({ forwarded: "for=192.0.2.1", "x-forwarded-for": "192.0.2.2" }),
      trusted,
    ),
    "192.0.2.2",
    "X-Forwarded-For first",
  );
  assert.equal(clientIp("192.0.2.7", h({ forwarded: "for=192.0.2.1" }), trusted), "192.0.2.7");
});

function cookieOf(answer: RawAnswer): string {
  const cookies = answer.headers.getSetCookie();
  assert.equal(cookies.length, 1, `one Set-Cookie, got ${JSON.stringify(cookies)}`);
  return cookies[0];
}
const secure = (cookie: string) => /;\s*Secure(?:;|$)/i.test(cookie);

function post(path: string, body: string, headers: Record<string, string> = {}): string {
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  return `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: https://127.0.0.1\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${
      new TextEncoder().encode(body).length
    }\r\n` +
    `${extra}Connection: close\r\n\r\n${body}`;
}

Deno.test("the Clerk session cookie is Secure for a trusted proxy's HTTPS, never for a stranger's header", async () => {
  const clerk = await startClerkStandIn();
  const sessions = new SessionReader({
    verifier: new ClerkVerifier({ jwksUrl: clerk.jwksUrl, issuer: TEST_ISSUER }),
    cookieName: "__session",
  });
  const app = createStatusApp({
    snapshots: { get: () => undefined } as unknown as JsonSnapshots,
    auth: createAuthRoutes({ sessions }),
  });
  const server = serveStatus({ listen: LOCAL, app, trustedProxies: [PROXY] });
  const port = server.http!.port;
  const refresh = async (from: string, headers: Record<string, string>) => {
    const body = JSON.stringify({ token: await clerk.sign("user_1") });
    const answer = await rawRequest(port, post("/api/auth/session-refresh", body, headers), from);
    assert.equal(answer.status, 200, answer.body);
    return cookieOf(answer);
  };
  try {
    assert.ok(secure(await refresh(PROXY, { "X-Forwarded-Proto": "https" })));
    assert.ok(secure(await refresh(PROXY, { Forwarded: "for=198.51.100.4;proto=https" })));
    assert.ok(!secure(await refresh(PROXY, {})), "the proxy says nothing: plain HTTP");
    assert.ok(!secure(await refresh(PROXY, { "X-Forwarded-Proto": "http" })));
    assert.ok(!secure(await refresh(STRANGER, { "X-Forwarded-Proto": "https" })), "untrusted");
    assert.ok(!secure(await refresh(STRANGER, { Forwarded: "proto=https" })), "untrusted");
    // Signing out clears the cookie with the same flag, so the browser honours the clear.
    const logout = (from: string, headers: Record<string, string>) =>
      rawRequest(port, post("/logout", "", headers), from);
    const cleared = await logout(PROXY, { "X-Forwarded-Proto": "https" });
    assert.equal(cleared.status, 303);
    assert.ok(secure(cookieOf(cleared)));
    assert.ok(/Max-Age=0/.test(cookieOf(cleared)));
    assert.ok(!secure(cookieOf(await logout(STRANGER, { "X-Forwarded-Proto": "https" }))));
  } finally {
    await server.shutdown();
    await clerk.close();
  }
});

Deno.test("the admin session cookie follows the same decision; TLS to the pool is HTTPS too", async () => {
  const password = "a long admin password";
  const port = { connections: () => [], audit: () => Promise.resolve() } as unknown as AdminPort;
  const app = createAdminApp({
    port,
    passwordHash: await hashPassword(password, MIN_ITERATIONS),
    sessionMinutes: 5,
  });
  const { certPem, keyPem } = await generateSelfSigned({ ipAddresses: ["127.0.0.1"] });
  const plain = serveStatus({ listen: LOCAL, app, trustedProxies: [PROXY] });
  const tls = serveStatus({ tlsListen: LOCAL, cert: certPem, key: keyPem, app });
  const client = Deno.createHttpClient({ caCerts: [certPem] });
  const body = JSON.stringify({ password });
  const login = (from: string, headers: Record<string, string>) =>
    rawRequest(plain.http!.port, post("/admin/api/login", body, headers), from);
  try {
    const viaProxy = await login(PROXY, { "X-Forwarded-Proto": "https" });
    assert.equal(viaProxy.status, 200, viaProxy.body);
    assert.ok(secure(cookieOf(viaProxy)));
    const stranger = await login(STRANGER, { "X-Forwarded-Proto": "https" });
    assert.equal(stranger.status, 200);
    assert.ok(!secure(cookieOf(stranger)));
    const direct = await fetch(`https://127.0.0.1:${tls.https!.port}/admin/api/login`, {
      client,
      method: "POST",
      headers: {
        "content-type": "application/json",
        origin: `https://127.0.0.1:${tls.https!.port}`,
      },
      body,
    });
    assert.equal(direct.status, 200);
    await direct.body?.cancel();
    assert.ok(secure(direct.headers.get("set-cookie") ?? ""));
  } finally {
    client.close();
    await Promise.all([plain.shutdown(), tls.shutdown()]);
  }
});

Deno.test("with HTTPS on, a trusted proxy's HTTPS request on the plain listener is served, not redirected", async () => {
  const { certPem, keyPem } = await generateSelfSigned({ ipAddresses: ["127.0.0.1"] });
  const app = {
    fetch: (request: Request, info: Deno.ServeHandlerInfo) =>
      Response.json({ url: request.url, peer: (info.remoteAddr as Deno.NetAddr).hostname }),
  };
  let server: StatusServer | undefined;
  try {
    server = serveStatus({
      listen: LOCAL,
      tlsListen: LOCAL,
      cert: certPem,
      key: keyPem,
      app,
      trustedProxies: [PROXY],
    });
    const port = server.http!.port;
    const get = (from: string, headers: string) =>
      rawRequest(
        port,
        `GET /a?b=1 HTTP/1.1\r\nHost: pool.example\r\n${headers}Connection: close\r\n\r\n`,
        from,
      );
    const served = await get(PROXY, "X-Forwarded-Proto: https\r\n");
    assert.equal(served.status, 200);
    assert.deepEqual(JSON.parse(served.body), { url: "https://pool.example/a?b=1", peer: PROXY });
    const redirected = await get(STRANGER, "X-Forwarded-Proto: https\r\n");
    assert.equal(redirected.status, 307);
    assert.equal(
      redirected.headers.get("location"),
      `https://pool.example:${server.https!.port}/a?b=1`,
    );
    assert.equal((await get(PROXY, "")).status, 307, "the proxy's plain HTTP still redirects");
  } finally {
    await server?.shutdown();
  }
});
