/**
 * The HTTP guard in front of `Deno.serve` (`lib/status/http_front.ts`): the framing it follows,
 * the head, body and idle deadlines against trickling clients, the per-IP cap, the real peer
 * address handed to the handler, TLS, and a bounded shutdown. Clients come from several loopback
 * addresses (127.0.0.2, 127.0.0.3) through `node:net`.
 */

import assert from "node:assert/strict";
import type net from "node:net";
import { bodyFraming, type HttpFrontOptions, serveFront } from "../lib/status/http_front.ts";
import { generateSelfSigned } from "../lib/tls/selfsigned.ts";
import {
  closedWithin,
  connectFrom,
  getRequest,
  parseAnswer,
  rawRequest,
} from "./helpers/http_raw.ts";
import { sleep } from "./helpers/wait.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

/** A front whose handler echoes the method, the peer and the body it read. */
function echoFront(options: Partial<HttpFrontOptions> = {}) {
  return serveFront({
    hostname: "127.0.0.1",
    port: 0,
    handler: async (request, info) => {
      const url = new URL(request.url);
      if (url.pathname === "/slow") await sleep(Number(url.searchParams.get("ms") ?? "0"));
      // A client cut mid-body makes the read fail; the answer then goes nowhere anyway.
      const body = request.body ? await request.text().catch(() => "(cut)") : "";
      return Response.json({
        method: request.method,
        peer: info.remoteAddr.hostname,
        tls: info.tls,
        body,
      });
    },
    ...options,
  });
}

Deno.test("bodyFraming: length, chunked, and what the guard refuses to frame", () => {
  const head = (lines: string[]) => bytes(`POST / HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n`);
  assert.deepEqual(bodyFraming(head(["Host: a"])), { kind: "length", length: 0 });
  assert.deepEqual(bodyFraming(head(["Content-Length: 12"])), { kind: "length", length: 12 });
  assert.deepEqual(bodyFraming(head(["content-length:  7 "])), { kind: "length", length: 7 });
  assert.deepEqual(bodyFraming(head(["Content-Length: 5, 5"])), { kind: "length", length: 5 });
  assert.deepEqual(bodyFraming(head(["Transfer-Encoding: gzip, chunked"])), { kind: "chunked" });
  assert.deepEqual(bodyFraming(bytes("POST / HTTP/1.1\nTransfer-Encoding: chunked\n\n")), {
    kind: "chunked",
  });
  for (
    const lines of [
      ["Content-Length: 5", "Content-Length: 6"],
      ["Content-Length: -1"],
      ["Content-Length: 0x10"],
      ["Content-Length: 1234567890123456"],
      ["Transfer-Encoding: chunked, gzip"],
      ["Transfer-Encoding: chunked", "Content-Length: 3"],
      ["X-A: 1", " folded"],
    ]
  ) {
    assert.equal(bodyFraming(head(lines)).kind, "bad", lines.join(" | "));
  }
  assert.equal(bodyFraming(bytes("PRI * HTTP/2.0\r\n\r\n")).kind, "bad");
});

Deno.test("requests pass whole: keep-alive, pipelining, length and chunked bodies, the real peer", async () => {
  const front = echoFront();
  const socket = await connectFrom(front.addr.port, "127.0.0.2");
  try {
    let text = "";
    socket.on("data", (c: Buffer) => text += c.toString("latin1"));
    // Three pipelined requests in pieces that split heads, sizes and chunk data anywhere.
    const stream = "\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n" +
      "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" +
      "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
      "3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n" +
      "GET /d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    for (let i = 0; i < stream.length; i += 7) {
      socket.write(stream.slice(i, i + 7));
      await sleep(1);
    }
    assert.ok(await closedWithin(socket, 5_000), "Connection: close ends it");
    const answers = text.split(/(?=HTTP\/1\.1 )/).map(parseAnswer);
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200]);
    const docs = answers.map((a) => JSON.parse(a.body));
    assert.deepEqual(docs.map((d) => d.method), ["GET", "POST", "POST", "GET"]);
    assert.deepEqual(docs.map((d) => d.body), ["", "hello", "abc0123456789", ""]);
    for (const d of docs) {
      assert.equal(d.peer, "127.0.0.2", "the socket's peer, not the loopback hop");
    }
    for (const d of docs) assert.equal(d.tls, false);
    assert.equal(front.stats().timedOut, 0);
  } finally {
    socket.destroy();
    await front.shutdown();
  }
});

Deno.test("trickling heads are cut at the header deadline while a normal client is served", async () => {
  const headerTimeoutMs = 1_000;
  const front = echoFront({ headerTimeoutMs, maxConnectionsPerIp: 0 });
  const port = front.addr.port;
  const attackers: net.Socket[] = [];
  let trickling = true;
  try {
    for (let i = 0; i < 100; i++) attackers.push(await connectFrom(port, "127.0.0.2"));
    const started = performance.now();
    const closedAt: number[] = [];
    for (const s of attackers) s.once("close", () => closedAt.push(performance.now() - started));
    // One header byte every 100 ms from each, never the end of the head.
    const line = "GET / HTTP/1.1\r\nX-Slow: " + "a".repeat(1000);
    void (async () => {
      for (let i = 0; trickling && i < line.length; i++) {
        for (const s of attackers) if (!s.destroyed) s.write(line[i]);
        await sleep(100);
      }
    })();
    // Meanwhile another client keeps getting answers, well inside the deadline each time.
    let answered = 0;
    while (performance.now() - started < headerTimeoutMs + 300) {
      const t0 = performance.now();
      const r = await rawRequest(port, getRequest("/"), "127.0.0.3");
      assert.equal(r.status, 200);
      assert.ok(performance.now() - t0 < 500, "a normal request waits for no trickler");
      answered++;
      await sleep(50);
    }
    assert.ok(answered >= 10, `${answered} answers during the attack`);
    const allClosed = await Promise.all(attackers.map((s) => closedWithin(s, 2_000)));
    assert.ok(allClosed.every(Boolean), "every trickler is disconnected");
    closedAt.sort((a, b) => a - b);
    assert.ok(closedAt[0] >= headerTimeoutMs - 150, `first cut at ${closedAt[0]} ms, early`);
    assert.ok(closedAt.at(-1)! < headerTimeoutMs + 1_000, `last cut at ${closedAt.at(-1)} ms`);
    assert.equal(front.stats().timedOut, 100);
    assert.equal(front.stats().open, 0);
  } finally {
    trickling = false;
    for (const s of attackers) s.destroy();
    await front.shutdown();
  }
});

Deno.test("a trickling body is cut at the body deadline; a keep-alive connection at the idle one", async () => {
  const front = echoFront({ headerTimeoutMs: 2_000, bodyTimeoutMs: 600, idleTimeoutMs: 800 });
  const port = front.addr.port;
  try {
    const body = await connectFrom(port, "127.0.0.2");
    body.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n");
    const trickle = setInterval(() => body.destroyed || body.write("x"), 100);
    const t0 = performance.now();
    assert.ok(await closedWithin(body, 2_000), "the body trickler is cut");
    clearInterval(trickle);
    const took = performance.now() - t0;
    assert.ok(took >= 450 && took < 1_500, `cut after ${took.toFixed(0)} ms`);

    const chunked = await connectFrom(port, "127.0.0.2");
    chunked.write("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    const drip = setInterval(() => chunked.destroyed || chunked.write("1\r\nx\r\n"), 100);
    assert.ok(await closedWithin(chunked, 2_000), "a chunked trickler is cut too");
    clearInterval(drip);

    // Keep-alive: answered, then closed once idle for the idle deadline.
    const idle = await connectFrom(port, "127.0.0.2");
    let got = "";
    idle.on("data", (c: Buffer) => got += c.toString("latin1"));
    idle.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    const i0 = performance.now();
    assert.ok(await closedWithin(idle, 3_000), "the idle connection is closed");
    const idleFor = performance.now() - i0;
    assert.ok(idleFor >= 650 && idleFor < 2_000, `idle close after ${idleFor.toFixed(0)} ms`);
    assert.equal(parseAnswer(got).status, 200);
    assert.equal(front.stats().timedOut, 3);
  } finally {
    await front.shutdown();
  }
});

Deno.test("an answer in progress is not idle: a slow handler outlives the idle deadline", async () => {
  const front = echoFront({ idleTimeoutMs: 300 });
  try {
    const r = await rawRequest(front.addr.port, getRequest("/slow?ms=900"), "127.0.0.2");
    assert.equal(r.status, 200);
    assert.equal(front.stats().timedOut, 0);
  } finally {
    await front.shutdown();
  }
});

Deno.test("the per-IP cap closes the n+1-th connection at once; other addresses are not affected", async () => {
  const front = echoFront({ maxConnectionsPerIp: 3, uncapped: ["127.0.0.4"] });
  const port = front.addr.port;
  const held: net.Socket[] = [];
  try {
    for (let i = 0; i < 3; i++) held.push(await connectFrom(port, "127.0.0.2"));
    await sleep(50);
    const over = await connectFrom(port, "127.0.0.2");
    assert.ok(await closedWithin(over, 1_000), "the fourth connection from 127.0.0.2 is closed");
    assert.equal(front.stats().refusedPerIp, 1);
    // Another address has its own count, and the held ones still work.
    const other = await rawRequest(port, getRequest("/"), "127.0.0.3");
    assert.equal(other.status, 200);
    assert.equal(JSON.parse(other.body).peer, "127.0.0.3");
    let got = "";
    held[0].on("data", (c: Buffer) => got += c.toString("latin1"));
    held[0].write(getRequest("/"));
    assert.ok(await closedWithin(held[0], 2_000));
    assert.equal(parseAnswer(got).status, 200);
    // A closed one frees its place.
    await sleep(50);
    const again = await rawRequest(port, getRequest("/"), "127.0.0.2");
    assert.equal(again.status, 200);
    // An uncapped address (a trusted proxy) may open more.
    for (let i = 0; i < 5; i++) held.push(await connectFrom(port, "127.0.0.4"));
    await sleep(50);
    assert.equal(await closedWithin(held.at(-1)!, 300), false, "uncapped stays open");
    assert.equal(front.stats().refusedPerIp, 1);
  } finally {
    for (const s of held) s.destroy();
    await front.shutdown();
  }
});

Deno.test("an oversize head gets 431, an unframeable request 400; neither reaches the handler", async () => {
  let calls = 0;
  const front = serveFront({
    hostname: "127.0.0.1",
    port: 0,
    maxHeadBytes: 2_048,
    handler: () => {
      calls++;
      return new Response("ok");
    },
  });
  try {
    const big = await rawRequest(front.addr.port, getRequest("/", { "x-big": "a".repeat(4_000) }));
    assert.equal(big.status, 431);
    const both = await rawRequest(
      front.addr.port,
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    assert.equal(both.status, 400);
    const badChunk = await rawRequest(
      front.addr.port,
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    );
    assert.equal(badChunk.status, 400);
    assert.equal(calls, 0);
    assert.equal(front.stats().badRequests, 3);
  } finally {
    await front.shutdown();
  }
});

Deno.test("TLS: answered with tls=true; a client that never handshakes is cut at the deadline", async () => {
  const { certPem, keyPem } = await generateSelfSigned({ ipAddresses: ["127.0.0.1"] });
  const front = echoFront({ cert: certPem, key: keyPem, headerTimeoutMs: 700 });
  const client = Deno.createHttpClient({ caCerts: [certPem] });
  try {
    const res = await fetch(`https://127.0.0.1:${front.addr.port}/`, { client });
    assert.equal(res.status, 200);
    const doc = await res.json();
    assert.equal(doc.tls, true);
    assert.equal(doc.peer, "127.0.0.1");
    const silent = await connectFrom(front.addr.port, "127.0.0.2");
    silent.write("\x16\x03"); // the start of a ClientHello, then nothing
    const t0 = performance.now();
    assert.ok(await closedWithin(silent, 2_000), "the silent TLS client is cut");
    assert.ok(performance.now() - t0 < 1_500);
  } finally {
    client.close();
    await front.shutdown();
  }
});

Deno.test("shutdown is bounded: tricklers go at once, a stuck answer at the grace", async () => {
  const front = echoFront({ shutdownGraceMs: 500 });
  const port = front.addr.port;
  const trickler = await connectFrom(port, "127.0.0.2");
  trickler.write("GET / HTTP/1.1\r\nX-Slow: ");
  const stuck = await connectFrom(port, "127.0.0.3");
  stuck.write(getRequest("/slow?ms=2500"));
  const idle = await connectFrom(port, "127.0.0.2");
  idle.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  await sleep(200);
  const t0 = performance.now();
  await front.shutdown();
  const took = performance.now() - t0;
  assert.ok(took >= 400 && took < 1_200, `shutdown took ${took.toFixed(0)} ms`);
  for (const s of [trickler, stuck, idle]) assert.ok(await closedWithin(s, 100));
  // The listener is gone.
  await assert.rejects(connectFrom(port, "127.0.0.2"));
  // `finished` waits for the stuck handler itself, which nobody hears any more.
  await front.finished;
});
