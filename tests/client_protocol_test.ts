import assert from "node:assert/strict";
import {
  parseNotify,
  StratumClient,
  StratumClosedError,
  StratumTimeoutError,
} from "../stratum/client.ts";
import { generateSelfSigned } from "../lib/tls/selfsigned.ts";

/**
 * A stand-in pool for one connection: records the lines the client sends and lets the test
 * write any bytes back. Real sockets, no stubs: the client under test does real I/O.
 */
class StandIn {
  readonly port: number;
  readonly received: string[] = [];
  #listener: Deno.Listener;
  #conn: Deno.Conn | undefined;
  #accepted: Promise<Deno.Conn>;
  #waiters: Array<() => void> = [];

  constructor(listener: Deno.Listener) {
    this.#listener = listener;
    this.port = (listener.addr as Deno.NetAddr).port;
    this.#accepted = listener.accept().then((conn) => {
      this.#conn = conn;
      this.#read(conn);
      return conn;
    });
  }

  static tcp(): StandIn {
    return new StandIn(Deno.listen({ hostname: "127.0.0.1", port: 0 }));
  }

  static tls(certPem: string, keyPem: string): StandIn {
    return new StandIn(
      Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert: certPem, key: keyPem }),
    );
  }

  async #read(conn: Deno.Conn) {
    const decoder = new TextDecoder();
    let tail = "";
    const buffer = new Uint8Array(4096);
    try {
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null) break;
        tail += decoder.decode(buffer.subarray(0, n), { stream: true });
        const lines = tail.split("\n");
        tail = lines.pop()!;
        this.received.push(...lines);
        for (const wake of this.#waiters.splice(0)) wake();
      }
    } catch {
      // The test closed the connection.
    }
    if (tail) this.received.push(tail);
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** The next JSON request the client sent (waits for it). */
  async nextRequest(): Promise<{ id: unknown; method: string; params: unknown[] }> {
    const line = await this.nextLine();
    return JSON.parse(line);
  }

  #cursor = 0;
  /** The next raw line the client sent (waits for it). */
  async nextLine(): Promise<string> {
    while (this.received.length <= this.#cursor) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    return this.received[this.#cursor++];
  }

  async write(text: string): Promise<void> {
    const conn = await this.#accepted;
    const bytes = new TextEncoder().encode(text);
    for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
  }

  send(message: unknown): Promise<void> {
    return this.write(JSON.stringify(message) + "\n");
  }

  reply(id: unknown, result: unknown, error: unknown = null): Promise<void> {
    return this.send({ id, result, error });
  }

  notify(method: string, params: unknown[]): Promise<void> {
    return this.send({ id: null, method, params });
  }

  close(): void {
    try {
      this.#conn?.close();
    } catch {
      // already closed
    }
    try {
      this.#listener.close();
    } catch {
      // already closed
    }
  }
}

const NOTIFY_PARAMS = [
  "1f",
  "4d16b6f85af6e2198f44ae2a6de67f78487ae5611b77c6c0440b921e00000000",
  "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff20020862062f503253482f04b8864e5008",
  "072f736c7573682f000000000100f2052a010000001976a914d23fcdf86f7e756a64a7a9688ef9903327048ed988ac00000000",
  [
    "ed0ddbc8ab6cb4cc1fa5b7e0d4c71d7a4b1d32c1d6cd8e7fd1d0e0b6a8c61d2a",
    "c1b8f9e6f0e2a5b8f62f7c4b8e1c2a4f0d6e3b5a79c8d2e1f0a3b4c5d6e7f8a9",
  ],
  "20000000",
  "207fffff",
  "504e86b9",
  true,
];

async function connected(server: StandIn, options: { requestTimeoutMs?: number } = {}) {
  return await StratumClient.connect({ host: "127.0.0.1", port: server.port, ...options });
}

Deno.test("subscribe stores extranonce1, extranonce2 size and the subscription id", async () => {
  const server = StandIn.tcp();
  const client = await connected(server);
  try {
    const replied = client.subscribe("testminer/1.0", "abcd");
    const request = await server.nextRequest();
    assert.equal(request.method, "mining.subscribe");
    assert.deepEqual(request.params, ["testminer/1.0", "abcd"]);
    await server.reply(request.id, [[["mining.notify", "sub-7"]], "0000002A", 4]);
    const reply = await replied;
    assert.equal(reply.error, null);
    assert.equal(client.extranonce1, "0000002a");
    assert.equal(client.extranonce2Size, 4);
    assert.equal(client.subscriptionId, "sub-7");
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("notify and set_difficulty sent right after a response are parsed and waitable", async () => {
  const server = StandIn.tcp();
  const client = await connected(server);
  try {
    const authorized = client.authorize("bcrt1qexample.rig1", "x");
    const request = await server.nextRequest();
    assert.deepEqual(request, {
      id: request.id,
      method: "mining.authorize",
      params: ["bcrt1qexample.rig1", "x"],
    });
    // Reply and both notifications in one write: they arrive in the same read as the response.
    await server.write(
      JSON.stringify({ id: request.id, result: true, error: null }) + "\n" +
        JSON.stringify({ id: null, method: "mining.set_difficulty", params: [0.5] }) + "\n" +
        JSON.stringify({ id: null, method: "mining.notify", params: NOTIFY_PARAMS }) + "\n",
    );
    assert.equal((await authorized).result, true);
    const notify = await client.waitFor("mining.notify");
    const difficulty = await client.waitFor("mining.set_difficulty");
    assert.deepEqual(difficulty.params, [0.5]);
    assert.deepEqual(notify.params, NOTIFY_PARAMS);
    assert.equal(client.difficulty, 0.5);
    assert.deepEqual(client.job, {
      jobId: "1f",
      prevhash: NOTIFY_PARAMS[1],
      coinb1: NOTIFY_PARAMS[2],
      coinb2: NOTIFY_PARAMS[3],
      merkleBranch: NOTIFY_PARAMS[4],
      version: 0x20000000,
      nbits: "207fffff",
      ntime: 0x504e86b9,
      clean: true,
    });
    // Claimed notifications are not handed out twice.
    await assert.rejects(client.waitFor("mining.notify", undefined, 50), StratumTimeoutError);
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("waitFor with a predicate skips non-matching notifications", async () => {
  const server = StandIn.tcp();
  const client = await connected(server);
  try {
    const second = client.waitFor("mining.notify", (m) => m.params[0] === "20", 2000);
    await server.notify("mining.notify", NOTIFY_PARAMS);
    await server.notify("mining.notify", ["20", ...NOTIFY_PARAMS.slice(1, 8), false]);
    assert.equal((await second).params[0], "20");
    assert.equal(client.job?.jobId, "20");
    assert.equal(client.job?.clean, false);
    // The skipped one is still there for a later wait.
    assert.equal((await client.waitFor("mining.notify")).params[0], "1f");
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("responses are matched to requests by id, whatever their order", async () => {
  const server = StandIn.tcp();
  const client = await connected(server);
  try {
    const replies = [
      client.request("client.get_version"),
      client.request("mining.ping"),
      client.suggestDifficulty(64),
    ];
    const requests = [
      await server.nextRequest(),
      await server.nextRequest(),
      await server.nextRequest(),
    ];
    assert.deepEqual(requests.map((r) => r.method), [
      "client.get_version",
      "mining.ping",
      "mining.suggest_difficulty",
    ]);
    assert.deepEqual(requests[2].params, [64]);
    assert.equal(new Set(requests.map((r) => r.id)).size, 3);
    // Answer last first, with an error tuple in the middle.
    await server.reply(requests[2].id, true);
    await server.reply(requests[1].id, null, [20, "nope", null]);
    await server.reply(requests[0].id, "pool/1");
    const [version, ping, suggest] = await Promise.all(replies);
    assert.deepEqual(version, { id: requests[0].id, result: "pool/1", error: null });
    assert.deepEqual(ping, { id: requests[1].id, result: null, error: [20, "nope", null] });
    assert.deepEqual(suggest, { id: requests[2].id, result: true, error: null });
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("submit sends the five params, plus version bits when given", async () => {
  const server = StandIn.tcp();
  const client = await connected(server);
  try {
    const first = client.submit("addr.w", {
      jobId: "1f",
      extranonce2: "00000001",
      ntime: "504e86b9",
      nonce: "0000abcd",
    });
    const plain = await server.nextRequest();
    assert.equal(plain.method, "mining.submit");
    assert.deepEqual(plain.params, ["addr.w", "1f", "00000001", "504e86b9", "0000abcd"]);
    await server.reply(plain.id, null, [23, "low difficulty share", null]);
    assert.deepEqual((await first).error, [23, "low difficulty share", null]);

    const second = client.submit("addr.w", {
      jobId: "1f",
      extranonce2: "00000002",
      ntime: "504e86b9",
      nonce: "0000abce",
      versionBits: "00002000",
    });
    const rolled = await server.nextRequest();
    assert.deepEqual(rolled.params, [
      "addr.w",
      "1f",
      "00000002",
      "504e86b9",
      "0000abce",
      "00002000",
    ]);
    await server.reply(rolled.id, true);
    assert.equal((await second).result, true);
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("garbage from the pool is counted and skipped; the session goes on", async () => {
  const server = StandIn.tcp();
  const client = await connected(server);
  try {
    await server.write("this is not json\n");
    await server.write("[1,2,3]\n");
    await server.write('{"id":999,"result":true,"error":null}\n');
    await server.write("\n\r\n   \n"); // blank keep-alives are not garbage
    await server.notify("mining.notify", ["bad", "zz"]); // malformed notify
    await server.notify("mining.notify", NOTIFY_PARAMS);
    await client.waitFor("mining.notify", (m) => m.params[0] === "1f");
    assert.equal(client.invalidLineCount, 4);
    assert.equal(client.invalidLines[0], "this is not json");
    assert.equal(client.invalidLines[1], "[1,2,3]");
    assert.match(client.invalidLines[3], /"bad"/);
    assert.equal(client.job?.jobId, "1f");
    const pong = client.request("mining.ping");
    const request = await server.nextRequest();
    await server.reply(request.id, "pong");
    assert.equal((await pong).result, "pong");
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("lines split across many writes are reassembled", async () => {
  const server = StandIn.tcp();
  const client = await connected(server);
  try {
    const line = JSON.stringify({ id: null, method: "mining.notify", params: NOTIFY_PARAMS }) +
      "\r\n";
    for (let i = 0; i < line.length; i += 7) await server.write(line.slice(i, i + 7));
    await client.waitFor("mining.notify");
    assert.equal(client.job?.ntime, 0x504e86b9);
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("sendRaw sends bytes as they are (for robustness tests of the pool)", async () => {
  const server = StandIn.tcp();
  const client = await connected(server);
  try {
    await client.sendRaw("{not json at all\n");
    await client.sendRaw('{"id":1,"method":"mining.subscribe","params":["x"]}\n');
    assert.equal(await server.nextLine(), "{not json at all");
    assert.equal((await server.nextRequest()).method, "mining.subscribe");
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("set_version_mask, set_extranonce, show_message and configure update the state", async () => {
  const server = StandIn.tcp();
  const client = await connected(server);
  try {
    const configured = client.configure(["version-rolling"], {
      "version-rolling.mask": "ffffffff",
      "version-rolling.min-bit-count": 2,
    });
    const request = await server.nextRequest();
    assert.deepEqual(request.params, [["version-rolling"], {
      "version-rolling.mask": "ffffffff",
      "version-rolling.min-bit-count": 2,
    }]);
    await server.reply(request.id, { "version-rolling": true, "version-rolling.mask": "1fffe000" });
    await configured;
    assert.equal(client.versionMask, 0x1fffe000);

    await server.notify("mining.set_version_mask", ["00ffe000"]);
    await server.notify("mining.set_extranonce", ["deadbeef", 8]);
    await server.notify("client.show_message", ["hello miner"]);
    await client.waitFor("client.show_message");
    assert.equal(client.versionMask, 0x00ffe000);
    assert.equal(client.extranonce1, "deadbeef");
    assert.equal(client.extranonce2Size, 8);
    assert.equal(client.lastMessage, "hello miner");
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("a client.get_version request from the pool is answered with the user agent", async () => {
  const server = StandIn.tcp();
  const client = await connected(server);
  try {
    client.userAgent = "denopool-test/9";
    await server.send({ id: 77, method: "client.get_version", params: [] });
    const answer = JSON.parse(await server.nextLine());
    assert.deepEqual(answer, { id: 77, result: "denopool-test/9", error: null });
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("on() listeners and the notifications() iterator see every message in order", async () => {
  const server = StandIn.tcp();
  const client = await connected(server);
  try {
    const seen: string[] = [];
    const off = client.on("*", (m) => seen.push(m.method));
    const iterated: unknown[] = [];
    const iterating = (async () => {
      for await (const message of client.notifications("mining.set_difficulty")) {
        iterated.push(message.params[0]);
      }
    })();
    await server.notify("mining.set_difficulty", [1]);
    await server.notify("mining.notify", NOTIFY_PARAMS);
    await server.notify("mining.set_difficulty", [2]);
    await client.waitFor("mining.set_difficulty", (m) => m.params[0] === 2);
    off();
    await server.notify("mining.set_difficulty", [3]);
    await client.waitFor("mining.set_difficulty", (m) => m.params[0] === 3);
    assert.deepEqual(seen, ["mining.set_difficulty", "mining.notify", "mining.set_difficulty"]);
    server.close();
    await client.closed;
    await iterating; // ends when the connection closes
    assert.deepEqual(iterated, [1, 2, 3]);
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("when the pool closes, pending requests and waits fail with StratumClosedError", async () => {
  const server = StandIn.tcp();
  const client = await connected(server);
  const pending = client.request("mining.ping");
  const waiting = client.waitFor("mining.notify", undefined, 5000);
  await server.nextRequest();
  server.close();
  await assert.rejects(pending, StratumClosedError);
  await assert.rejects(waiting, StratumClosedError);
  await client.closed;
  assert.equal(client.isClosed, true);
  assert.equal(client.closeReason, "closed by pool");
  await assert.rejects(client.request("mining.ping"), StratumClosedError);
});

Deno.test("a request without a response fails with StratumTimeoutError", async () => {
  const server = StandIn.tcp();
  const client = await connected(server, { requestTimeoutMs: 100 });
  try {
    await assert.rejects(client.request("mining.ping"), StratumTimeoutError);
    // A late answer to the timed-out id is garbage, not a crash.
    const request = await server.nextRequest();
    await server.reply(request.id, "pong");
    const pong = client.request("mining.ping");
    await server.reply((await server.nextRequest()).id, "pong");
    assert.equal((await pong).result, "pong");
    assert.equal(client.invalidLineCount, 1);
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("a line from the pool over the cap closes the connection", async () => {
  const server = StandIn.tcp();
  const client = await StratumClient.connect({
    host: "127.0.0.1",
    port: server.port,
    maxLineBytes: 1024,
  });
  try {
    await server.write("x".repeat(5000)).catch(() => {});
    await client.closed;
    assert.match(client.closeReason, /over 1024 bytes/);
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("the client speaks TLS to a pool with a self-signed certificate in caCerts", async () => {
  const pair = await generateSelfSigned({ dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
  const server = StandIn.tls(pair.certPem, pair.keyPem);
  const client = await StratumClient.connect({
    host: "localhost",
    port: server.port,
    tls: true,
    caCerts: [pair.certPem],
  });
  try {
    const replied = client.subscribe("tls-miner");
    const request = await server.nextRequest();
    await server.reply(request.id, [[["mining.notify", "1"]], "00000001", 4]);
    assert.equal((await replied).error, null);
    assert.equal(client.extranonce1, "00000001");
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("parseNotify rejects malformed params field by field", () => {
  assert.ok(parseNotify(NOTIFY_PARAMS));
  const broken = (index: number, value: unknown) => {
    const params: unknown[] = [...NOTIFY_PARAMS];
    params[index] = value;
    return parseNotify(params);
  };
  assert.equal(broken(0, ""), undefined);
  assert.equal(broken(0, 5), undefined);
  assert.equal(broken(1, "00"), undefined);
  assert.equal(broken(2, "abc"), undefined);
  assert.equal(broken(3, "xyz0"), undefined);
  assert.equal(broken(4, ["00"]), undefined);
  assert.equal(broken(4, "not-an-array"), undefined);
  assert.equal(broken(5, "2000000"), undefined);
  assert.equal(broken(6, 0x207fffff), undefined);
  assert.equal(broken(7, "504e86b"), undefined);
  assert.equal(parseNotify([]), undefined);
  assert.equal(broken(8, "yes")?.clean, false);
});
