import assert from "node:assert/strict";
import { ManualClock, memorySources, sampleStatusData } from "../lib/status/memory.ts";
import { hostWithoutPort, httpsRedirect, serveStatus } from "../lib/status/server.ts";
import { SnapshotCache } from "../lib/status/snapshots.ts";
import type { StatusStatic } from "../lib/status/sources.ts";
import { generateSelfSigned } from "../lib/tls/selfsigned.ts";
import { createStatusApp } from "../routes/app.ts";

const START = Date.UTC(2026, 0, 31, 19, 55, 0);
const STATICS: StatusStatic = {
  peerCleanup: { enabled: false, maxPingMs: 0, minPeers: 0 },
  retargetInterval: 2016,
  targetSpacingSec: 600,
};
const LOCAL = { hostname: "127.0.0.1", port: 0 };

async function statusApp() {
  const cache = new SnapshotCache({
    sources: memorySources(sampleStatusData(START)),
    statics: STATICS,
    clock: new ManualClock(START),
  });
  await cache.start();
  return { cache, app: createStatusApp({ snapshots: cache }) };
}

Deno.test("hostWithoutPort takes the host of a Host header and refuses junk", () => {
  assert.equal(hostWithoutPort("pool.example.org:8080"), "pool.example.org");
  assert.equal(hostWithoutPort("pool.example.org"), "pool.example.org");
  assert.equal(hostWithoutPort("[::1]:8080"), "[::1]");
  assert.equal(hostWithoutPort("evil.com/x"), undefined);
  assert.equal(hostWithoutPort("a b"), undefined);
  assert.equal(hostWithoutPort(""), undefined);
  assert.equal(hostWithoutPort(":80"), undefined);
});

Deno.test("httpsRedirect keeps path and query and uses the TLS port", () => {
  const req = (host: string) =>
    new Request("http://ignored/api/blocks?limit=25&x=%20y", { headers: { host } });
  const to = (res: Response) => [res.status, res.headers.get("location")];
  assert.deepEqual(to(httpsRedirect(req("pool.test:8080"), 8443)), [
    307,
    "https://pool.test:8443/api/blocks?limit=25&x=%20y",
  ]);
  assert.deepEqual(to(httpsRedirect(req("pool.test"), 443)), [
    307,
    "https://pool.test/api/blocks?limit=25&x=%20y",
  ]);
  assert.deepEqual(to(httpsRedirect(req("[::1]:80"), 8443)), [
    307,
    "https://[::1]:8443/api/blocks?limit=25&x=%20y",
  ]);
  assert.deepEqual(to(httpsRedirect(req("anything"), 8443, "https://pool.example.org:9443/")), [
    307,
    "https://pool.example.org:9443/api/blocks?limit=25&x=%20y",
  ]);
  assert.deepEqual(to(httpsRedirect(req("evil.com/@x"), 8443)), [400, null]);
});

Deno.test("with TLS on, plain HTTP answers 307 to HTTPS and HTTPS serves the API", async () => {
  const { certPem, keyPem } = await generateSelfSigned({ ipAddresses: ["127.0.0.1"] });
  const { cache, app } = await statusApp();
  const server = serveStatus({ listen: LOCAL, tlsListen: LOCAL, cert: certPem, key: keyPem, app });
  const client = Deno.createHttpClient({ caCerts: [certPem] });
  try {
    assert.ok(server.http && server.https);
    const plain = await fetch(`http://127.0.0.1:${server.http.port}/api/blocks?limit=5`, {
      redirect: "manual",
    });
    assert.equal(plain.status, 307);
    const location = plain.headers.get("location");
    assert.equal(location, `https://127.0.0.1:${server.https.port}/api/blocks?limit=5`);
    await plain.body?.cancel();

    const secure = await fetch(location!, { client });
    assert.equal(secure.status, 200);
    assert.equal(secure.headers.get("content-type"), "application/json");
    assert.equal((await secure.json()).length, 5);

    const head = await fetch(`http://127.0.0.1:${server.http.port}/`, {
      method: "HEAD",
      redirect: "manual",
    });
    assert.equal(head.status, 307);
    await head.body?.cancel();
  } finally {
    client.close();
    await server.shutdown();
    await server.finished;
    await cache.stop();
  }
});

Deno.test("status_public_url decides the redirect host", async () => {
  const { certPem, keyPem } = await generateSelfSigned();
  const { cache, app } = await statusApp();
  const server = serveStatus({
    listen: LOCAL,
    tlsListen: LOCAL,
    cert: certPem,
    key: keyPem,
    publicUrl: "https://pool.example.org",
    app,
  });
  try {
    const res = await fetch(`http://127.0.0.1:${server.http!.port}/api/overview?a=1`, {
      redirect: "manual",
    });
    assert.equal(res.status, 307);
    assert.equal(res.headers.get("location"), "https://pool.example.org/api/overview?a=1");
    await res.body?.cancel();
  } finally {
    await server.shutdown();
    await cache.stop();
  }
});

Deno.test("without TLS, plain HTTP serves the app; an abort signal closes it", async () => {
  const { cache, app } = await statusApp();
  const abort = new AbortController();
  const server = serveStatus({ listen: LOCAL, app, signal: abort.signal });
  assert.equal(server.https, undefined);
  const res = await fetch(`http://127.0.0.1:${server.http!.port}/api/pool-page`);
  assert.equal(res.status, 200);
  assert.equal((await res.json()).api_version, "1");
  abort.abort();
  await server.finished;
  await cache.stop();
});

Deno.test("a TLS listener without cert and key is refused", async () => {
  const { cache, app } = await statusApp();
  assert.throws(() => serveStatus({ tlsListen: LOCAL, app }), /cert and key/);
  await cache.stop();
});
