/**
 * Stratum abuse over real sockets: garbage, oversize lines, TLS on the wrong port, half-open and
 * slowloris connections, connection and message floods, invalid-share bans and their expiry.
 *
 * Throughout, a well-behaved miner keeps mining from another address (`::1`, while the abuse comes
 * from `127.0.0.1` — the server listens on `::`, so the two are different IPs to admission
 * control). Its answer latency is measured before and during the abuse and must stay within a
 * generous bound: this checks that abuse does not starve others, it is not a benchmark.
 */

import assert from "node:assert/strict";
import { InlineShareChecker } from "../lib/shares/check.ts";
import { generateSelfSigned } from "../lib/tls/selfsigned.ts";
import { StratumServer, type StratumServerOptions } from "../stratum/server.ts";
import { StratumClient } from "../stratum/client.ts";
import { findShare } from "../stratum/miner.ts";
import {
  makeJob,
  prevhashOf,
  RecordingBlockSink,
  resolveRegtestPayout,
  TEST_ADDRESS,
  TestJobSource,
  TestMiner,
} from "../stratum/testing.ts";
import { Rng } from "../tools/fuzz.ts";
import { sleep, waitUntil } from "./helpers/wait.ts";

/** Share difficulty 2^-30: a quarter of all hashes meet it, so in-process mining is instant. */
const TEST_DIFFICULTY = 2 ** -30;
const USER = `${TEST_ADDRESS}.steady`;
/** Median answer latency a steady miner must keep under abuse (a bound, not a benchmark). */
const LATENCY_BOUND_MS = 250;

interface Harness {
  server: StratumServer;
  jobs: TestJobSource;
  /** A settable clock (ms); starts at the real time. */
  clock: { now: number };
  /** Connects a raw line-level client from 127.0.0.1. */
  raw(): Promise<TestMiner>;
  /** Connects, subscribes and authorizes a miner from ::1 and waits for its first job. */
  steady(user?: string): Promise<StratumClient>;
  stop(): Promise<void>;
}

function start(overrides: Partial<StratumServerOptions> = {}, fakeClock = false): Harness {
  const jobs = new TestJobSource();
  jobs.publish(makeJob({ seq: 1, prevhash: prevhashOf(1) }));
  const clock = { now: Date.now() };
  const server = new StratumServer({
    hostname: "::",
    port: 0,
    jobs,
    checker: new InlineShareChecker("ts"),
    blocks: new RecordingBlockSink(),
    resolvePayout: resolveRegtestPayout,
    initialDifficulty: TEST_DIFFICULTY,
    vardiff: { minDifficulty: 2 ** -40, minRetargetMs: 1e9, windowMs: 1e9 },
    initialWorkDelayMs: 10,
    sweepIntervalMs: 50,
    log: () => {},
    ...(fakeClock ? { now: () => clock.now } : {}),
    ...overrides,
  });
  server.start();
  const raws: TestMiner[] = [];
  const clients: StratumClient[] = [];
  return {
    server,
    jobs,
    clock,
    async raw() {
      const m = await TestMiner.connect(server.port!);
      raws.push(m);
      return m;
    },
    async steady(user = USER) {
      const c = await StratumClient.connect({ host: "::1", port: server.port! });
      clients.push(c);
      assert.equal((await c.subscribe("steady/1.0")).error, null);
      assert.equal((await c.authorize(user, "x")).result, true);
      await c.waitFor("mining.notify");
      return c;
    },
    async stop() {
      await server.stop();
      for (const m of raws) m.close();
      for (const c of clients) c.close();
      await Promise.all(raws.map((m) => m.closed));
    },
  };
}

/** Median ms of `rounds` answers (ping, then a mined share every third round); all must be answered. */
let nextExtranonce2 = 0;

async function medianLatency(client: StratumClient, rounds = 15): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    if (i % 3 === 2) {
      const share = findShare(client, { maxNonces: 1 << 16, extranonce2Start: ++nextExtranonce2 });
      assert.ok(share, "a share within the nonce budget");
      const reply = await client.submit(USER, share);
      assert.equal(reply.result, true, `share answered ${JSON.stringify(reply.error)}`);
    } else {
      assert.equal((await client.request("mining.ping")).result, "pong");
    }
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

/** Resolves when `conn` reads EOF or fails (the server closed it); rejects after `ms`. */
async function closedBy(conn: Deno.Conn, ms = 5_000): Promise<void> {
  const buf = new Uint8Array(4096);
  const end = Date.now() + ms;
  const timer = setTimeout(() => conn.close(), ms);
  try {
    while ((await conn.read(buf)) !== null) {
      if (Date.now() > end) break;
    }
  } catch {
    // reset or closed: closed either way
  } finally {
    clearTimeout(timer);
  }
  if (Date.now() > end) throw new Error("connection still open");
}

const errorCode = (m: { error?: unknown }) => (m.error as [number, string])[0];

Deno.test("garbage, binary, oversize and mutated lines close only the sender; a steady miner keeps its latency", async () => {
  const h = start({ maxLineBytes: 1024 });
  try {
    const steady = await h.steady();
    const before = await medianLatency(steady);
    const rng = new Rng(8);
    const abuse = (async () => {
      for (let round = 0; round < 4; round++) {
        const conns = await Promise.all(Array.from({ length: 10 }, () => h.raw()));
        await Promise.all(conns.map(async (m, i) => {
          // The server may close while the rest of a long write is in flight: that is the point.
          m.writeRaw = ((write) => (text: string | Uint8Array) => write(text).catch(() => {}))(
            m.writeRaw.bind(m),
          );
          switch (i % 5) {
            case 0: // binary garbage ending a line: a parse error
              await m.writeRaw(new Uint8Array([...rng.bytes(200), 0x0a]));
              break;
            case 1: // binary garbage with no newline, past the line cap
              await m.writeRaw(rng.bytes(3000).map((b) => (b === 0x0a ? 0x0b : b)));
              break;
            case 2: // one oversize JSON line
              await m.writeRaw(
                `{"id":1,"method":"mining.subscribe","params":["${"x".repeat(2000)}"]}\n`,
              );
              break;
            case 3: // a mutated subscribe: a stray quote breaks the JSON
              await m.writeRaw('{"id":2,"method":"mining.sub"scribe","params":[]}\n');
              break;
            default: // valid JSON that is not a request object
              await m.writeRaw('"just a string"\n');
          }
          await m.closed;
        }));
      }
    })();
    const during = await medianLatency(steady, 30);
    await abuse;
    await waitUntil(() => h.server.counts().plain === 1, "every abuser closed");
    assert.ok(
      during < Math.max(LATENCY_BOUND_MS, before * 20),
      `median latency ${during.toFixed(1)} ms under abuse (before: ${before.toFixed(1)} ms)`,
    );
    assert.equal(steady.isClosed, false);
  } finally {
    await h.stop();
  }
});

Deno.test("a TLS handshake on the plain port is closed at once; plain text on the TLS port is dropped", async () => {
  const { certPem, keyPem } = await generateSelfSigned({ dnsNames: ["localhost"] });
  const h = start({ tls: { port: 0, cert: certPem, key: keyPem } });
  try {
    const steady = await h.steady();
    // A TLS miner pointed at the plain port: its handshake fails promptly instead of hanging.
    const wrong = Deno.connectTls({
      hostname: "localhost",
      port: h.server.port!,
      caCerts: [certPem],
    })
      .then((c) => c.handshake().finally(() => c.close()));
    await assert.rejects(wrong);
    await waitUntil(() => h.server.counts().tlsOnPlainPort === 1, "the TLS-on-plain count");

    // A plain miner pointed at the TLS port: the handshake fails and the socket is closed.
    const plain = await Deno.connect({ hostname: "127.0.0.1", port: h.server.tlsPort! });
    await plain.write(
      new TextEncoder().encode('{"id":1,"method":"mining.subscribe","params":[]}\n'),
    );
    await closedBy(plain);
    await waitUntil(() => h.server.counts().tls === 0, "the plain-on-TLS socket closed");

    // A real TLS miner still works, and so does the plain one.
    const tls = await TestMiner.connectTls(h.server.tlsPort!, certPem);
    const { notify } = await tls.handshake();
    assert.equal(notify.method, "mining.notify");
    tls.close();
    assert.equal((await steady.request("mining.ping")).result, "pong");
  } finally {
    await h.stop();
  }
});

Deno.test("half-open and slowloris connections are closed by the idle sweep; active miners are not", async () => {
  const h = start({ idleTimeoutMs: 400 });
  try {
    const steady = await h.steady();
    // Connects and never says a word.
    const silent = await Deno.connect({ hostname: "127.0.0.1", port: h.server.port! });
    // Sends a request, then shuts its sending side: it still gets its answer, then EOF.
    const halfClosed = await h.raw();
    await halfClosed.writeRaw('{"id":9,"method":"mining.ping","params":[]}\n');
    // Trickles one byte of a never-ending line every 50 ms: bytes arrive, no line ever does.
    const slow = await Deno.connect({ hostname: "127.0.0.1", port: h.server.port! });
    let trickling = true;
    const trickle = (async () => {
      const byte = new TextEncoder().encode("a");
      await slow.write(new TextEncoder().encode('{"id":1,"method":"mining.ping","params":["'));
      while (trickling) {
        try {
          await slow.write(byte);
        } catch {
          return; // closed by the server
        }
        await sleep(50);
      }
    })();
    assert.equal((await halfClosed.waitFor((m) => m.id === 9)).result, "pong");

    // The steady miner pings every 100 ms throughout: it stays.
    const pinging = (async () => {
      for (let i = 0; i < 12; i++) {
        assert.equal((await steady.request("mining.ping")).result, "pong");
        await sleep(100);
      }
    })();
    await Promise.all([closedBy(silent, 3_000), closedBy(slow, 3_000)]);
    trickling = false;
    await trickle;
    await pinging;
    assert.equal(steady.isClosed, false);
    await waitUntil(() => h.server.counts().plain === 1, "only the steady miner left");
    silent.close();
    slow.close();
  } finally {
    await h.stop();
  }
});

Deno.test("connection floods from one IP: the accept limiter, the per-IP cap and the churn ban", async () => {
  // Rate limit first: a burst of 5, refilled at 5/s.
  const limited = start({ admission: { acceptRatePerSecond: 5, acceptBurst: 5 } });
  try {
    const steady = await limited.steady(); // takes one token
    const flood = await Promise.all(Array.from({ length: 20 }, () => limited.raw()));
    await waitUntil(() => limited.server.counts().refused["rate-limit"] >= 10, "rate refusals");
    assert.ok(limited.server.counts().acceptedTotal <= 1 + 5 + 2, "at most the burst got in");
    assert.equal((await steady.request("mining.ping")).result, "pong");
    for (const m of flood) m.close();
  } finally {
    await limited.stop();
  }

  // Per-IP cap: 127.0.0.1 may hold 4; ::1 is another address and is not affected.
  const capped = start({ admission: { maxPerIp: 4 } });
  try {
    const held = await Promise.all(Array.from({ length: 4 }, () => capped.raw()));
    await waitUntil(() => capped.server.counts().plain === 4, "four admitted");
    const extra = await Promise.all(Array.from({ length: 6 }, () => capped.raw()));
    await Promise.all(extra.map((m) => m.closed));
    assert.equal(capped.server.counts().refused["ip-limit"], 6);
    const steady = await capped.steady();
    const before = await medianLatency(steady);
    assert.ok(before < LATENCY_BOUND_MS);
    // Closing one frees a slot for the next.
    held[0].close();
    await waitUntil(() => capped.server.admission.openFrom("::ffff:127.0.0.1") === 3, "slot freed");
    const again = await capped.raw();
    assert.equal((await again.request("mining.ping")).result, "pong");
  } finally {
    await capped.stop();
  }

  // Churn: more than 8 connections a minute that end without useful work (here: never
  // authorized) ban the IP for longer than the window; it ends. Loopback is exempt by default, so
  // this server exempts nothing.
  const churn = start({
    admission: { churnMaxConnects: 8, churnWindowMs: 60_000, churnBanMs: 120_000, exempt: [] },
  }, true);
  try {
    const steady = await churn.steady();
    for (let i = 0; i < 12; i++) {
      const m = await churn.raw();
      m.close();
      await m.closed;
      // The server sees the close on its own read: wait for it, so each one is counted in turn.
      await waitUntil(() => churn.server.counts().plain === 1, "the wasted connection closed");
    }
    const c = churn.server.counts();
    assert.equal(c.churnBans, 1, "the 9th wasted connection earns the ban");
    assert.equal(c.refused.banned, 3, "later connects are refused as banned");
    assert.ok(churn.server.admission.bans.get("ip:::ffff:127.0.0.1", churn.clock.now));
    assert.equal((await steady.request("mining.ping")).result, "pong", "::1 unaffected");
    churn.clock.now += 121_000; // the ban and the churn window run out
    const back = await churn.raw();
    assert.equal((await back.request("mining.ping")).result, "pong");
  } finally {
    await churn.stop();
  }
});

Deno.test("a message flood past messages_per_minute closes the flooder; a steady miner is untouched", async () => {
  const h = start({ messagesPerMinute: 60 });
  try {
    const steady = await h.steady();
    const before = await medianLatency(steady, 9);
    const flooder = await h.raw();
    let burst = "";
    for (let i = 1; i <= 500; i++) burst += `{"id":${i},"method":"mining.ping","params":[]}\n`;
    await flooder.writeRaw(burst).catch(() => {});
    await flooder.closed;
    const pongs = flooder.received.filter((m) => m.result === "pong").length;
    assert.ok(pongs <= 60, `${pongs} answers: no more than the burst`);
    assert.ok(pongs >= 50, `${pongs} answers: the burst itself is served`);
    const last = flooder.received.at(-1)!;
    assert.equal(last.method, "client.show_message");
    assert.match(String(last.params?.[0]), /too many messages/i);
    assert.equal(h.server.counts().messageFloods, 1);
    const during = await medianLatency(steady, 9);
    assert.ok(during < Math.max(LATENCY_BOUND_MS, before * 20));
    assert.equal(steady.isClosed, false, "the steady miner (below the rate) stays");
  } finally {
    await h.stop();
  }
});

Deno.test("invalid shares earn a worker ban that refuses submits and authorize, and it expires", async () => {
  const h = start({ invalidShares: { threshold: 5, banMs: 60_000, windowMs: 300_000 } }, true);
  try {
    const cheater = await h.raw();
    const worker = `${TEST_ADDRESS}.cheat`;
    const { notify } = await cheater.handshake(worker);
    const jobId = notify.params![0] as string;
    for (let i = 0; i < 5; i++) {
      const r = await cheater.request("mining.submit", [worker, jobId, "00000000", "zz", "00"]);
      assert.equal(errorCode(r), 20);
    }
    const banned = await cheater.request("mining.submit", [worker, jobId, "00000000", "00", "00"]);
    assert.equal(errorCode(banned), 24, "banned after the threshold");
    assert.ok(
      cheater.received.some((m) =>
        m.method === "client.show_message" && /banned until/i.test(String(m.params?.[0]))
      ),
    );
    const retry = await h.raw();
    await retry.request("mining.subscribe", []);
    assert.equal(errorCode(await retry.request("mining.authorize", [worker, "x"])), 24);
    await retry.closed;

    // Other workers mine on while the ban holds.
    const steady = await h.steady();
    assert.ok((await medianLatency(steady, 6)) < LATENCY_BOUND_MS);

    h.clock.now += 61_000;
    const later = await h.raw();
    const again = await later.handshake(worker);
    assert.equal(again.notify.method, "mining.notify", "the ban has expired");
  } finally {
    await h.stop();
  }
});

Deno.test("a miner asking for an absurd difficulty gets it (target 1) and the pool stays up", async () => {
  const h = start();
  try {
    const m = await h.raw();
    await m.request("mining.subscribe", []);
    assert.equal((await m.request("mining.suggest_difficulty", [1e308])).result, true);
    assert.equal((await m.request("mining.authorize", [`${TEST_ADDRESS}.huge`, "x"])).result, true);
    const set = await m.notification("mining.set_difficulty");
    assert.ok(
      (set.params![0] as number) > 1e300,
      "the hint is honoured (within vardiff's rounding)",
    );
    await m.notification("mining.notify");
    const steady = await h.steady();
    assert.equal((await steady.request("mining.ping")).result, "pong");
  } finally {
    await h.stop();
  }
});
