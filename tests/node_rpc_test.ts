/**
 * RpcClient: against a tiny local `Deno.serve` stand-in for the exact failure shapes, and against
 * the real regtest node for auth, templates and disconnect/reconnect.
 */

import assert from "node:assert/strict";
import { RPC_IN_WARMUP, RpcClient, RpcError, type RpcHealth } from "../lib/node/rpc.ts";
import { startRegtestNode } from "./helpers/regtest.ts";
import { freePort } from "./helpers/ports.ts";
import { sleep, waitUntil } from "./helpers/wait.ts";

/** What a stand-in handler sees of one request. */
interface Seen {
  authorization: string | null;
  body: { jsonrpc: string; id: number; method: string; params: unknown[] };
}

/** A local HTTP server answering with `handler`, counting requests. */
function standIn(
  handler: (seen: Seen, n: number, request: Request) => Response | Promise<Response>,
  port = 0,
) {
  const seen: Seen[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port, onListen: () => {} },
    async (request) => {
      const s: Seen = {
        authorization: request.headers.get("authorization"),
        body: await request.json(),
      };
      seen.push(s);
      return handler(s, seen.length, request);
    },
  );
  const url = `http://127.0.0.1:${server.addr.port}/`;
  return { url, seen, port: server.addr.port, close: () => server.shutdown() };
}

const json = (value: unknown, status = 200) =>
  new Response(JSON.stringify(value), { status, headers: { "content-type": "application/json" } });
const ok = (result: unknown) => json({ result, error: null, id: 1 });
const fail = (code: number, message: string, status = 500) =>
  json({ result: null, error: { code, message }, id: 1 }, status);

/** Client options that keep retries fast. */
const fast = { backoffBaseMs: 1, backoffMaxMs: 4, retries: 3 };

async function rejectsWith(promise: Promise<unknown>, check: (err: RpcError) => void) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof RpcError, `not an RpcError: ${err}`);
    check(err);
    return true;
  });
}

/** Fails the test if anything leaves an unhandled rejection while `body` runs. */
async function noUnhandledRejections(body: () => Promise<void>) {
  const unhandled: unknown[] = [];
  const onUnhandled = (event: PromiseRejectionEvent) => {
    unhandled.push(event.reason);
    event.preventDefault();
  };
  globalThis.addEventListener("unhandledrejection", onUnhandled);
  try {
    await body();
    await sleep(20);
  } finally {
    globalThis.removeEventListener("unhandledrejection", onUnhandled);
  }
  assert.deepEqual(unhandled, []);
}

Deno.test("rpc: sends a JSON-RPC 1.0 request with Basic auth and returns the result", async () => {
  const server = standIn(() => ok({ blocks: 7 }));
  const client = new RpcClient({ url: server.url, user: "alice", password: "sécret", ...fast });
  try {
    assert.deepEqual(await client.call("getblockchaininfo"), { blocks: 7 });
    assert.deepEqual(await client.call("getblockhash", [3]), { blocks: 7 });
    assert.equal(server.seen.length, 2);
    const [first, second] = server.seen;
    assert.equal(first.body.jsonrpc, "1.0");
    assert.equal(first.body.method, "getblockchaininfo");
    assert.deepEqual(first.body.params, []);
    assert.deepEqual(second.body.params, [3]);
    assert.notEqual(first.body.id, second.body.id);
    const decoded = new TextDecoder().decode(
      Uint8Array.from(atob(first.authorization!.slice(6)), (c) => c.charCodeAt(0)),
    );
    assert.equal(first.authorization!.slice(0, 6), "Basic ");
    assert.equal(decoded, "alice:sécret");
    assert.equal(client.rpcHealthy, true);
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("rpc: JSON-RPC 2.0 dialect and a null result (submitblock accepted)", async () => {
  const server = standIn(() => json({ jsonrpc: "2.0", result: null, id: 1 }));
  const client = new RpcClient({ url: server.url, jsonrpc: "2.0", ...fast });
  try {
    assert.equal(await client.call("submitblock", ["00"]), null);
    assert.equal(server.seen[0].body.jsonrpc, "2.0");
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("rpc: HTTP 500 with an HTML body is retried until the node answers", async () => {
  const server = standIn((_, n) =>
    n <= 2 ? new Response("<html>Internal Server Error</html>", { status: 500 }) : ok(42)
  );
  const client = new RpcClient({ url: server.url, ...fast });
  try {
    assert.equal(await client.call("getblockcount"), 42);
    assert.equal(server.seen.length, 3);
    assert.equal(client.health.errors, 0);
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("rpc: HTTP 503 beyond the retry budget fails as kind http", async () => {
  const server = standIn(() => new Response("Work queue depth exceeded", { status: 503 }));
  const client = new RpcClient({ url: server.url, ...fast, retries: 2 });
  try {
    await rejectsWith(client.call("getblocktemplate"), (err) => {
      assert.equal(err.kind, "http");
      assert.equal(err.code, 503);
      assert.equal(err.method, "getblocktemplate");
      assert.match(err.message, /Work queue depth exceeded/);
    });
    assert.equal(server.seen.length, 3);
    assert.equal(client.health.errors, 1);
    assert.equal(client.rpcHealthy, false);
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("rpc: warm-up (-28) is retried, then the answer comes through", async () => {
  const server = standIn((_, n) =>
    n <= 2 ? fail(RPC_IN_WARMUP, "Loading block index...") : ok("tip")
  );
  const client = new RpcClient({ url: server.url, ...fast });
  try {
    assert.equal(await client.call("getbestblockhash"), "tip");
    assert.equal(server.seen.length, 3);
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("rpc: endless warm-up ends as RpcError -28 and an unhealthy node", async () => {
  const server = standIn(() => fail(RPC_IN_WARMUP, "Verifying blocks..."));
  const client = new RpcClient({ url: server.url, ...fast });
  try {
    await rejectsWith(client.call("getblockchaininfo"), (err) => {
      assert.equal(err.kind, "rpc");
      assert.equal(err.code, RPC_IN_WARMUP);
      assert.equal(err.retryable, true);
    });
    assert.equal(server.seen.length, 4);
    assert.equal(client.rpcHealthy, false);
    assert.match(client.health.lastError ?? "", /Verifying blocks/);
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("rpc: a node error is not retried and leaves the connection healthy", async () => {
  const server = standIn((seen) =>
    seen.body.method === "getblockheader"
      ? fail(-5, "Block not found") // Core answers RPC errors with HTTP 500 in 1.0 mode
      : seen.body.method === "nosuchmethod"
      ? fail(-32601, "Method not found", 404)
      : ok(1)
  );
  const client = new RpcClient({ url: server.url, ...fast, now: () => 1_700_000_000_000 });
  try {
    await client.call("getblockcount");
    await rejectsWith(client.call("getblockheader", ["00"]), (err) => {
      assert.equal(err.kind, "rpc");
      assert.equal(err.code, -5);
      assert.equal(err.retryable, false);
      assert.equal(err.method, "getblockheader");
    });
    await rejectsWith(client.call("nosuchmethod"), (err) => assert.equal(err.code, -32601));
    assert.equal(server.seen.length, 3);
    const health = client.health;
    assert.equal(health.rpcHealthy, true);
    assert.equal(health.disconnects, 0);
    assert.equal(health.errors, 2);
    assert.equal(health.lastErrorAt, 1_700_000_000_000);
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("rpc: a call that outlives its timeout fails as kind timeout", async () => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const server = standIn(async () => {
    await released;
    return ok("late");
  });
  const client = new RpcClient({ url: server.url, ...fast, timeoutMs: 50, retries: 1 });
  try {
    await rejectsWith(client.call("getblocktemplate"), (err) => {
      assert.equal(err.kind, "timeout");
      assert.match(err.message, /50 ms/);
    });
    assert.equal(server.seen.length, 2); // the first attempt and one retry
  } finally {
    release();
    client.close();
    await server.close();
  }
});

Deno.test("rpc: odd reply shapes are parse errors, not crashes", async () => {
  const replies: Record<string, () => Response> = {
    empty: () => json({}),
    errorNullNoResult: () => json({ error: null, id: 1 }),
    html: () => new Response("<!doctype html><p>proxy says hi</p>", { status: 200 }),
    array: () => json([{ result: 1, error: null }]),
    number: () => json(7),
    truncated: () => new Response('{"result": {"height": 1', { status: 200 }),
  };
  const server = standIn((seen) => replies[seen.body.method]());
  const client = new RpcClient({ url: server.url, ...fast });
  try {
    await noUnhandledRejections(async () => {
      for (const method of Object.keys(replies)) {
        await rejectsWith(client.call(method), (err) => {
          assert.equal(err.kind, "parse", method);
          assert.equal(err.method, method);
          assert.equal(err.retryable, false);
        });
      }
    });
    assert.equal(server.seen.length, Object.keys(replies).length); // none was retried
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("rpc: an error object of odd shape still becomes an RpcError", async () => {
  const server = standIn((seen) =>
    seen.body.method === "a" ? json({ result: null, error: "boom" }) : json({ error: { x: 1 } })
  );
  const client = new RpcClient({ url: server.url, ...fast });
  try {
    await rejectsWith(client.call("a"), (err) => {
      assert.equal(err.kind, "rpc");
      assert.equal(err.code, 0);
      assert.match(err.message, /boom/);
    });
    await rejectsWith(client.call("b"), (err) => assert.equal(err.kind, "rpc"));
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("rpc: wrong password is an auth error and is not retried", async () => {
  const server = standIn(() => new Response("", { status: 401 }));
  const client = new RpcClient({ url: server.url, user: "u", password: "bad", ...fast });
  try {
    await rejectsWith(client.call("getblockcount"), (err) => {
      assert.equal(err.kind, "auth");
      assert.equal(err.code, 401);
    });
    assert.equal(server.seen.length, 1);
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("rpc: a rewritten cookie file is picked up before the call and on 401", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/.cookie`;
  let password = "first";
  const server = standIn((seen) =>
    seen.authorization === "Basic " + btoa(`__cookie__:${password}`)
      ? ok("in")
      : new Response("", { status: 401 })
  );
  const client = new RpcClient({ url: server.url, cookieFile: path, ...fast });
  try {
    // No cookie yet (node starting): retried, then an auth error of the file, kind auth code 0.
    await rejectsWith(client.call("getblockcount"), (err) => {
      assert.equal(err.kind, "auth");
      assert.equal(err.code, 0);
      assert.match(err.message, /not found/);
    });
    assert.equal(server.seen.length, 0);

    await Deno.writeTextFile(path, "__cookie__:first");
    assert.equal(await client.call("getblockcount"), "in");

    // Node restarted with a new cookie of another size: noticed by the stat, no 401 needed.
    password = "second-cookie";
    await Deno.writeTextFile(path, `__cookie__:${password}`);
    const before = server.seen.length;
    assert.equal(await client.call("getblockcount"), "in");
    assert.equal(server.seen.length, before + 1);

    // Same size, same mtime: only the 401 reveals it; the client re-reads and succeeds.
    const { mtime } = await Deno.stat(path);
    password = "third--cookie";
    await Deno.writeTextFile(path, `__cookie__:${password}`);
    await Deno.utime(path, mtime!, mtime!);
    const before401 = server.seen.length;
    assert.equal(await client.call("getblockcount"), "in");
    assert.equal(server.seen.length, before401 + 2);
  } finally {
    client.close();
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("rpc: a longpoll waits on its own connection and does not block other calls", async () => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const server = standIn(async (seen) => {
    if (seen.body.params.length > 0) {
      await released;
      return ok("new template");
    }
    return ok("now");
  });
  const client = new RpcClient({ url: server.url, ...fast, timeoutMs: 2_000 });
  try {
    const waiting = client.call("getblocktemplate", [{ longpollid: "x" }], { longpoll: true });
    for (let i = 0; i < 5; i++) assert.equal(await client.call("getblocktemplate"), "now");
    release();
    assert.equal(await waiting, "new template");
    // Longpoll waits are not latency samples; the five plain calls are.
    assert.equal(client.latency.snapshot("getblocktemplate").count, 5);
  } finally {
    release();
    client.close();
    await server.close();
  }
});

Deno.test("rpc: close() aborts a waiting longpoll, and later calls fail at once", async () => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const server = standIn(async () => {
    await released;
    return ok(null);
  });
  const client = new RpcClient({ url: server.url, ...fast });
  try {
    await noUnhandledRejections(async () => {
      const waiting = client.call("getblocktemplate", [{}], { longpoll: true });
      await waitUntil(() => server.seen.length > 0, "the request at the node", 5_000, 5);
      client.close();
      await rejectsWith(waiting, (err) => assert.equal(err.kind, "aborted"));
      await rejectsWith(client.call("getblockcount"), (err) => assert.equal(err.kind, "aborted"));
    });
  } finally {
    release();
    await server.close();
  }
});

Deno.test("rpc: the caller's signal aborts a call during backoff", async () => {
  const server = standIn(() => new Response("down", { status: 502 }));
  const client = new RpcClient({ url: server.url, backoffBaseMs: 5_000, retries: 5 });
  try {
    const controller = new AbortController();
    const call = client.call("getblockcount", [], { signal: controller.signal });
    await waitUntil(() => server.seen.length > 0, "the request at the node", 5_000, 5);
    controller.abort();
    await rejectsWith(call, (err) => assert.equal(err.kind, "aborted"));
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("rpc: health flips count disconnects and reconnects; listeners are guarded", async () => {
  const port = freePort();
  const client = new RpcClient({ url: `http://127.0.0.1:${port}/`, ...fast, retries: 1 });
  const flips: boolean[] = [];
  client.onHealthChange((health) => flips.push(health.rpcHealthy));
  client.onHealthChange(() => {
    throw new Error("listener bug");
  });
  let server: ReturnType<typeof standIn> | undefined;
  try {
    await noUnhandledRejections(async () => {
      // Nothing listens: a network error; never healthy, so no disconnect yet.
      await rejectsWith(client.call("getblockcount"), (err) => assert.equal(err.kind, "network"));
      assert.deepEqual(pick(client.health), [false, 0, 0]);

      server = standIn(() => ok(1), port);
      await client.call("getblockcount");
      assert.deepEqual(pick(client.health), [true, 0, 0]); // first connect is no reconnect

      await server.close();
      await rejectsWith(client.call("getblockcount"), (err) => assert.equal(err.kind, "network"));
      assert.deepEqual(pick(client.health), [false, 1, 0]);

      server = standIn(() => ok(1), port);
      await client.call("getblockcount");
      assert.deepEqual(pick(client.health), [true, 1, 1]);
    });
    assert.deepEqual(flips, [true, false, true]);
  } finally {
    client.close();
    await server?.close();
  }
});

function pick(h: RpcHealth): [boolean, number, number] {
  return [h.rpcHealthy, h.disconnects, h.reconnects];
}

Deno.test("rpc (regtest): cookie and password auth, GBT, disconnect and reconnect", async () => {
  const node = await startRegtestNode();
  const dir = await Deno.makeTempDir();
  const cookieFile = await node.writeCookie(`${dir}/regtest`);
  const withCookie = new RpcClient({ url: node.rpcUrl, cookieFile, ...fast, retries: 2 });
  const withPassword = new RpcClient({ url: node.rpcUrl, user: "pool", password: node.apiKey });
  const healthEvents: boolean[] = [];
  withCookie.onHealthChange((h) => healthEvents.push(h.rpcHealthy));
  try {
    await noUnhandledRejections(async () => {
      await node.activateSegwit();
      for (const client of [withCookie, withPassword]) {
        const info = await client.call<{ chain: string; blocks: number }>("getblockchaininfo");
        assert.equal(info.chain, "regtest");
        assert.equal(info.blocks, await node.height());
        const template = await client.call<{
          height: number;
          default_witness_commitment?: string;
          rules: string[];
        }>("getblocktemplate", [{ rules: ["segwit"] }]);
        assert.equal(template.height, info.blocks + 1);
        assert.ok(template.rules.includes("!segwit"));
        assert.match(template.default_witness_commitment ?? "", /^6a24aa21a9ed/);
      }
      assert.equal(withCookie.latency.snapshot("getblocktemplate").count, 1);
      assert.ok(withCookie.latency.snapshot("getblocktemplate").lastSec > 0);

      await node.stopRpc();
      await rejectsWith(withCookie.call("getblockcount"), (err) => {
        assert.equal(err.kind, "network");
        assert.equal(err.retryable, true);
      });
      assert.equal(withCookie.rpcHealthy, false);
      assert.equal(withCookie.health.disconnects, 1);
      assert.ok(withCookie.health.lastError);

      await node.restart();
      assert.equal(await withCookie.call("getblockcount"), await node.height());
      assert.equal(withCookie.rpcHealthy, true);
      assert.equal(withCookie.health.reconnects, 1);
    });
    assert.deepEqual(healthEvents, [true, false, true]);
  } finally {
    withCookie.close();
    withPassword.close();
    await node.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
