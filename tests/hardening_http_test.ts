/**
 * The status server under hostile HTTP: path traversal (raw, unnormalised request lines), oversize
 * and malformed bodies, slow clients holding connections, trickling heads cut at the header
 * deadline, the per-IP connection cap, the real client address behind the guard, and the
 * security headers of the pages. Runs the real pool (status side included) against a regtest
 * node; other clients come from 127.0.0.2 and 127.0.0.3 through `node:net`.
 */

import assert from "node:assert/strict";
import type net from "node:net";
import { type ConfigPatch, startTestPool, type TestPool } from "./helpers/pool.ts";
import { startRegtestNode } from "./helpers/regtest.ts";
import { closedWithin, connectFrom, getRequest, rawRequest } from "./helpers/http_raw.ts";
import { sleep } from "./helpers/wait.ts";

const sanitize = { sanitizeOps: false, sanitizeResources: false } as const;

/** Sends a raw HTTP/1.1 request (no URL normalisation) and returns the status line and body. */
async function raw(port: number, request: string): Promise<{ status: number; text: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(request));
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(65536);
    for (;;) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
    const text = new TextDecoder().decode(
      chunks.reduce((a, b) => new Uint8Array([...a, ...b]), new Uint8Array()),
    );
    return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text };
  } finally {
    conn.close();
  }
}

async function withPool(
  body: (tp: TestPool, port: number) => Promise<void>,
  server: ConfigPatch[string] = {},
): Promise<void> {
  const node = await startRegtestNode();
  const tp = await startTestPool(node, { status: { overview_refresh_seconds: 1 }, server });
  try {
    await body(tp, tp.pool.status.http!.port);
  } finally {
    await tp.stop();
    await node.stop();
  }
}

Deno.test({
  name: "path traversal in raw request lines never leaves the static file list",
  ...sanitize,
  async fn() {
    await withPool(async (_tp, port) => {
      const secret = await Deno.readTextFile(new URL("../deno.json", import.meta.url));
      for (
        const path of [
          "/static/../deno.json",
          "/static/../../../../etc/passwd",
          "/static/%2e%2e/deno.json",
          "/static/..%2fdeno.json",
          "/static/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
          "/static/....//deno.json",
          "/static/%00",
          "/..%5c..%5cdeno.json",
          "//etc/passwd",
        ]
      ) {
        const r = await raw(
          port,
          `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
        );
        assert.ok(r.status === 404 || r.status === 400, `${path}: HTTP ${r.status}`);
        assert.ok(!r.text.includes("root:x:0:0"), `${path} leaked /etc/passwd`);
        assert.ok(!r.text.includes(secret.slice(0, 40)), `${path} leaked deno.json`);
      }
    });
  },
});

Deno.test({
  name: "oversize and malformed bodies get a quick 4xx; the server keeps answering",
  ...sanitize,
  async fn() {
    await withPool(async (_tp, port) => {
      const base = `http://127.0.0.1:${port}`;
      const big = new Uint8Array(8 * 1024 * 1024).fill(0x7b); // 8 MiB of "{"
      const posted = await fetch(`${base}/api/overview`, { method: "POST", body: big });
      assert.equal(posted.status, 405);
      await posted.body?.cancel();
      for (
        const [type, body] of [
          ["application/json", "{not json"],
          ["application/json", '{"a":'.repeat(10_000)],
          ["application/x-www-form-urlencoded", "a=%zz&&&=%"],
          ["multipart/form-data; boundary=x", "--x\r\nbroken"],
        ]
      ) {
        for (const path of ["/api/overview", "/worker", "/api/worker-lookup", "/"]) {
          const r = await fetch(`${base}${path}`, {
            method: "POST",
            headers: { "content-type": type },
            body,
          });
          assert.ok(r.status >= 400 && r.status < 500, `POST ${path} (${type}): ${r.status}`);
          await r.body?.cancel();
        }
      }
      // A lying Content-Length must not hang the server for others.
      const lying = await Deno.connect({ hostname: "127.0.0.1", port });
      await lying.write(new TextEncoder().encode(
        "POST /api/overview HTTP/1.1\r\nHost: x\r\nContent-Length: 999999\r\n\r\nab",
      ));
      const ok = await fetch(`${base}/api/overview`);
      assert.equal(ok.status, 200);
      await ok.body?.cancel();
      lying.close();
    });
  },
});

Deno.test({
  name: "slow clients holding half-sent requests do not delay others",
  ...sanitize,
  async fn() {
    await withPool(async (_tp, port) => {
      // From another address: past the per-IP cap they are refused, and the rest are held.
      const slow: net.Socket[] = [];
      for (let i = 0; i < 100; i++) {
        const c = await connectFrom(port, "127.0.0.2");
        c.write("GET /api/overview HTTP/1.1\r\nHost: x\r\nX-Slow: ");
        slow.push(c);
      }
      const samples: number[] = [];
      for (let i = 0; i < 10; i++) {
        const t0 = performance.now();
        const r = await fetch(`http://127.0.0.1:${port}/api/overview`);
        assert.equal(r.status, 200);
        await r.body?.cancel();
        samples.push(performance.now() - t0);
      }
      samples.sort((a, b) => a - b);
      assert.ok(samples[5] < 250, `median ${samples[5].toFixed(1)} ms with 100 slow clients`);
      for (const c of slow) c.destroy();
    });
  },
});

Deno.test({
  name: "a live pool: trickling heads are cut at the header deadline, the per-IP cap holds, " +
    "and the rate gate still sees each client's own address",
  ...sanitize,
  async fn() {
    const cap = 12;
    const headerMs = 1_500;
    await withPool(async (_tp, port) => {
      // The attack: as many connections as 127.0.0.2 may open, each one header byte per 200 ms.
      const attackers: net.Socket[] = [];
      for (let i = 0; i < cap; i++) attackers.push(await connectFrom(port, "127.0.0.2"));
      const started = performance.now();
      const line = "GET /api/overview HTTP/1.1\r\nX-Slow: " + "a".repeat(200);
      let trickling = true;
      const trickle = (async () => {
        for (let i = 0; trickling && i < line.length; i++) {
          for (const s of attackers) if (!s.destroyed) s.write(line[i]);
          await sleep(200);
        }
      })();
      // One more from the same address is refused at once; another address is served throughout.
      const over = await connectFrom(port, "127.0.0.2");
      assert.ok(await closedWithin(over, 1_000), "the n+1-th connection from 127.0.0.2 is closed");
      let answered = 0;
      while (performance.now() - started < headerMs) {
        const r = await rawRequest(port, getRequest("/api/overview"), "127.0.0.3");
        assert.equal(r.status, 200);
        answered++;
        await sleep(100);
      }
      assert.ok(answered >= 5, `${answered} answers for 127.0.0.3 during the attack`);
      const cut = await Promise.all(attackers.map((s) => closedWithin(s, 2_500)));
      trickling = false;
      await trickle;
      assert.ok(cut.every(Boolean), "every trickler is cut");
      const took = performance.now() - started;
      assert.ok(took < headerMs + 2_500, `cut by ${took.toFixed(0)} ms`);
      // Their places are free again.
      const back = await rawRequest(port, getRequest("/api/overview"), "127.0.0.2");
      assert.equal(back.status, 200);

      // The lookup limit counts per client address, the socket's peer, not the guard's hop.
      const lookup = getRequest("/api/worker-lookup?worker_sha256=" + "0".repeat(64));
      let limited = false;
      for (let i = 0; i < 40 && !limited; i++) {
        limited = (await rawRequest(port, lookup, "127.0.0.2")).status === 429;
      }
      assert.ok(limited, "127.0.0.2 runs out of lookups");
      const other = await rawRequest(port, lookup, "127.0.0.3");
      assert.notEqual(other.status, 429, "127.0.0.3 has its own allowance");
      for (const s of attackers) s.destroy();
    }, {
      http_header_timeout_ms: headerMs,
      http_max_connections_per_ip: cap,
    });
  },
});

Deno.test({
  name:
    "pages carry CSP with frame-ancestors, nosniff and a referrer policy; the API carries nosniff",
  ...sanitize,
  async fn() {
    await withPool(async (_tp, port) => {
      for (const path of ["/", "/pool", "/server", "/help", "/worker"]) {
        const r = await fetch(`http://127.0.0.1:${port}${path}`);
        await r.body?.cancel();
        assert.equal(r.status, 200, path);
        const csp = r.headers.get("content-security-policy") ?? "";
        assert.match(csp, /frame-ancestors 'none'/, `${path} CSP: ${csp}`);
        assert.match(csp, /default-src/, path);
        assert.doesNotMatch(csp, /unsafe-eval/, path);
        assert.equal(r.headers.get("x-content-type-options"), "nosniff", path);
        assert.ok(r.headers.get("referrer-policy"), `${path} has a Referrer-Policy`);
      }
      const api = await fetch(`http://127.0.0.1:${port}/api/overview`);
      await api.body?.cancel();
      assert.equal(api.headers.get("x-content-type-options"), "nosniff");
    });
  },
});

Deno.test({
  name: "a client holding a half-sent request does not hold up the pool's stop",
  ...sanitize,
  async fn() {
    const node = await startRegtestNode();
    const tp = await startTestPool(node);
    const held = await Deno.connect({ hostname: "127.0.0.1", port: tp.pool.status.http!.port });
    try {
      await held.write(new TextEncoder().encode(
        "POST /api/overview HTTP/1.1\r\nHost: x\r\nContent-Length: 999999\r\n\r\nab",
      ));
      await sleep(200);
      const t0 = performance.now();
      await tp.stop();
      const ms = performance.now() - t0;
      // Deno.serve's own shutdown would wait for this request for ever.
      assert.ok(ms < 5_000, `stop took ${ms.toFixed(0)} ms`);
    } finally {
      held.close();
      await node.stop();
    }
  },
});
