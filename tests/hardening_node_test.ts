/**
 * Node faults against the whole pool: a real regtest node behind a proxy that goes down, hangs,
 * answers slowly, answers HTTP 500 or odd JSON-RPC shapes, claims initial block download; the
 * node restarting; the ZMQ publisher going away and coming back.
 *
 * The pool must never crash, miners stay connected while their work is still valid, gating and
 * recovery happen by themselves, and `/api/server` and `/api/pool-page` show what happened.
 */

import assert from "node:assert/strict";
import * as zmq from "zeromq";
import { closeZmq } from "./helpers/zmq.ts";
import { type RegtestNode, startRegtestNode } from "./helpers/regtest.ts";
import { type ConfigPatch, mergePatches, startTestPool, type TestPool } from "./helpers/pool.ts";
import { connectMiner, notifyPrevhash, regtestP2wpkh } from "./helpers/miners.ts";
import { sleep, waitUntil } from "./helpers/wait.ts";
import { type FaultyNode, startFaultyNode } from "./helpers/faulty_node.ts";
import { freePort } from "./helpers/ports.ts";
import type { StratumClient } from "../stratum/client.ts";
import { hexToBytes } from "../lib/bitcoin/hex.ts";

const USER = `${regtestP2wpkh(5)}.rig`;

/** Fast node timings so faults show within a second or two. */
const FAST: ConfigPatch = {
  node: {
    rpc_timeout_seconds: 1,
    refresh_interval_seconds: 1,
    min_refresh_interval_ms: 0,
    stale_after_seconds: 30,
  },
  status: { server_refresh_seconds: 1, pool_page_refresh_seconds: 1 },
};

async function api(tp: TestPool, path: string): Promise<Record<string, unknown>> {
  const res = await fetch(`http://127.0.0.1:${tp.pool.status.http!.port}${path}`);
  assert.equal(res.status, 200, `${path}: HTTP ${res.status}`);
  return await res.json();
}

/** A subscribed, authorized miner; `work` waits for its first notify. */
function miner(tp: TestPool, work = true): Promise<StratumClient> {
  return connectMiner(tp.port, USER, { agent: "fault-test/1", awaitWork: work });
}

/** Mines a block on the node and waits for the miner's clean notify on it. */
async function newTipReaches(node: RegtestNode, client: StratumClient): Promise<void> {
  const [tip] = await node.mine(1);
  await client.waitFor(
    "mining.notify",
    (m) => m.params[8] === true && notifyPrevhash(m.params) === tip,
    10_000,
  );
}

async function stillServed(client: StratumClient): Promise<void> {
  assert.equal(client.isClosed, false, "miner still connected");
  assert.equal((await client.request("mining.ping")).result, "pong");
}

interface Rig {
  node: RegtestNode;
  proxy: FaultyNode;
  tp: TestPool;
}

async function withRig(
  extra: ConfigPatch,
  body: (rig: Rig) => Promise<void>,
  beforeStart?: (proxy: FaultyNode) => Promise<void> | void,
): Promise<void> {
  const node = await startRegtestNode();
  const proxy = startFaultyNode(node.rpcUrl);
  let tp: TestPool | undefined;
  try {
    await node.mine(1);
    await beforeStart?.(proxy);
    tp = await startTestPool(node, mergePatches(FAST, { node: { rpc_url: proxy.url } }, extra));
    await body({ node, proxy, tp });
  } finally {
    await tp?.stop();
    await proxy.close();
    await node.stop();
  }
}

const sanitize = { sanitizeOps: false, sanitizeResources: false } as const;

Deno.test({
  name: "RPC down at start-up: the pool starts gated, tells miners, and opens by itself",
  ...sanitize,
  async fn() {
    await withRig({ stratum: { max_connections_per_ip: 0 } }, async ({ node, proxy, tp }) => {
      assert.equal(tp.pool.feed.ready, false);
      const a = await miner(tp, false);
      const message = await a.waitFor("client.show_message", () => true, 5_000);
      assert.match(String(message.params[0]), /waiting for the first block template/);
      const b = await miner(tp, false); // max_connections_per_ip = 0 means no limit
      const server = await api(tp, "/api/server");
      assert.equal(server.rpc_healthy, false);
      const feed = server.job_feed as Record<string, unknown>;
      assert.ok((feed.error_history as string[]).length > 0, "the failures are listed");

      proxy.up();
      await a.waitFor("mining.notify", () => true, 10_000);
      await b.waitFor("mining.notify", () => true, 10_000);
      await waitUntil(async () => (await api(tp, "/api/server")).rpc_healthy === true, "healthy");
      await newTipReaches(node, a);
      a.close();
      b.close();
    }, (proxy) => proxy.down());
  },
});

Deno.test({
  name:
    "RPC down mid-run and a node restart: miners keep their work, recovery is automatic and counted",
  ...sanitize,
  async fn() {
    await withRig({}, async ({ node, proxy, tp }) => {
      const a = await miner(tp);
      await proxy.down();
      await waitUntil(() => !tp.pool.rpc.rpcHealthy, "RPC marked unhealthy");
      await sleep(1_500); // a few failed refreshes
      await stillServed(a);
      assert.equal(tp.pool.feed.ready, true, "work is still valid: no gating yet");
      const pool = await api(tp, "/api/pool-page");
      assert.ok((pool.rpc_errors as number) > 0);
      assert.ok((pool.error_history as unknown[]).length > 0, "pool-page lists the errors");

      proxy.up();
      await node.restart(); // and the node itself restarts its RPC server
      await waitUntil(() => tp.pool.rpc.rpcHealthy, "RPC healthy again");
      await newTipReaches(node, a);
      // Regression: the status side walked past genesis and asked for getblockheader(null).
      for (const call of proxy.log.filter((c) => c.method === "getblockheader")) {
        assert.equal(typeof (call.params as unknown[])[0], "string", JSON.stringify(call));
      }
      await waitUntil(async () => {
        const s = await api(tp, "/api/server");
        return s.rpc_healthy === true && (s.rpc_disconnects as number) >= 1 &&
          (s.rpc_reconnects as number) >= 1;
      }, "/api/server counts the disconnect and the reconnect");
      a.close();
    });
  },
});

Deno.test({
  name:
    "a slow node (calls past the RPC timeout) and a hanging one: errors recorded, no crash, recovery",
  ...sanitize,
  async fn() {
    await withRig({}, async ({ node, proxy, tp }) => {
      const a = await miner(tp);
      proxy.fault("*", { kind: "delay", ms: 1_500 });
      await waitUntil(
        () =>
          tp.pool.feed.status().errorHistory.some((e) => /no answer in 1000 ms/.test(e.message)),
        "a timeout in the feed's error history",
      );
      await stillServed(a);
      proxy.fault("*", { kind: "hang" });
      await sleep(1_500);
      await stillServed(a);
      proxy.clearFaults();
      await waitUntil(() => tp.pool.rpc.rpcHealthy, "healthy after the slowness");
      await newTipReaches(node, a);
      const server = await api(tp, "/api/server");
      assert.ok(String(server.rpc_error ?? "").length > 0 || server.rpc_healthy === true);
      a.close();
    });
  },
});

Deno.test({
  name: "a node in initial block download gates the pool (miners told why) until it has synced",
  ...sanitize,
  async fn() {
    await withRig({}, async ({ node, proxy, tp }) => {
      const a = await miner(tp);
      proxy.fault("getblockchaininfo", {
        kind: "rewrite",
        rewrite: (r) => ({
          ...r,
          result: { ...(r.result as object), initialblockdownload: true, headers: 5000 },
        }),
      });
      const paused = await a.waitFor("client.show_message", () => true, 10_000);
      assert.match(String(paused.params[0]), /syncing/);
      assert.equal(tp.pool.feed.ready, false);
      await stillServed(a);
      proxy.clearFaults();
      // Work resumes with a clean job once the node reports it has synced.
      await a.waitFor("mining.notify", (m) => m.params[8] === true, 10_000);
      assert.equal(tp.pool.feed.ready, true);
      await newTipReaches(node, a);
      a.close();
    });
  },
});

Deno.test({
  name: "HTTP 500 and odd JSON-RPC shapes from the node never crash the pool; each is recorded",
  ...sanitize,
  async fn() {
    await withRig({}, async ({ node, proxy, tp }) => {
      const a = await miner(tp);
      const gbt = "getblocktemplate";
      const shapes: [string, Parameters<FaultyNode["fault"]>[1]][] = [
        [gbt, { kind: "status", status: 500 }],
        [gbt, { kind: "status", status: 503, body: "" }],
        [gbt, { kind: "body", body: "[]" }],
        [gbt, { kind: "body", body: '"template"' }],
        [gbt, { kind: "body", body: '{"id":1}' }],
        [gbt, { kind: "body", body: '{"result":null,"error":null,"id":1}' }],
        [gbt, { kind: "body", body: '{"result":null,"error":"a string, not an object","id":1}' }],
        [gbt, { kind: "body", body: '{"result":{"height":"tall","bits":[]},"error":null}' }],
        [gbt, { kind: "body", body: '{"result":{},"error":null,"id":1}' }],
        [gbt, { kind: "body", body: "{" }],
        [gbt, {
          kind: "rewrite",
          rewrite: (r) => {
            const { coinbasevalue: _drop, ...rest } = r.result as Record<string, unknown>;
            return { ...r, result: rest };
          },
        }],
        [gbt, {
          kind: "rewrite",
          rewrite: (r) => ({ ...r, result: { ...(r.result as object), transactions: "none" } }),
        }],
        ["getblockchaininfo", { kind: "body", body: '{"result":"weird","error":null}' }],
        ["getbestblockhash", { kind: "body", body: '{"result":42,"error":null}' }],
      ];
      const seen: string[] = [];
      for (const [method, fault] of shapes) {
        const lastBefore = tp.pool.feed.status().lastErrorAt ?? 0;
        proxy.fault(method, fault);
        // The feed asks for the tip only when a template builds on a tip it has not seen.
        if (method === "getbestblockhash") await node.mine(1);
        // Retryable faults (5xx) show once the client's retries are spent. A garbled
        // getblockchaininfo cannot prove the chain: the feed gates instead.
        await waitUntil(
          () =>
            (tp.pool.feed.status().lastErrorAt ?? 0) > lastBefore ||
            (method === "getblockchaininfo" && !tp.pool.feed.ready),
          `${method} ${JSON.stringify(fault)} to be noticed`,
        );
        proxy.fault(method, undefined);
        const feedStatus = tp.pool.feed.status();
        seen.push(
          (feedStatus.lastErrorAt ?? 0) > lastBefore ? feedStatus.lastError ?? "" : "gated",
        );
        await stillServed(a);
      }
      const noticed = seen.join("\n");
      assert.match(noticed, /HTTP 500/);
      assert.match(noticed, /HTTP 503/);
      assert.match(noticed, /not a JSON-RPC object/);
      assert.match(noticed, /neither result nor error/);
      assert.match(noticed, /coinbasevalue/);
      assert.match(noticed, /stale: builds on/, "a tip that is not a hash is not believed");
      await newTipReaches(node, a);
      const server = await api(tp, "/api/server");
      const feed = server.job_feed as Record<string, unknown>;
      assert.ok((feed.error_history as string[]).length > 0);
      a.close();
    });
  },
});

Deno.test({
  name: "the ZMQ publisher going away and coming back: counted, and new tips still reach miners",
  ...sanitize,
  async fn() {
    const address = `tcp://127.0.0.1:${freePort()}`;
    let publisher = new zmq.Publisher();
    await publisher.bind(address);
    try {
      await withRig({
        node: { zmq_hashblock: address, longpoll: false, refresh_interval_seconds: 2 },
      }, async ({ node, tp }) => {
        await waitUntil(() => tp.pool.feed.status().zmq?.zmqHealthy === true, "ZMQ up");
        const a = await miner(tp);
        publisher.close();
        await waitUntil(() => tp.pool.feed.status().zmq?.zmqHealthy === false, "ZMQ down");
        await newTipReaches(node, a); // the periodic refresh covers for ZMQ
        publisher = new zmq.Publisher();
        await publisher.bind(address);
        await waitUntil(() => tp.pool.feed.status().zmq?.zmqHealthy === true, "ZMQ back");
        const [tip] = await node.mine(1);
        await publisher.send(["hashblock", hexToBytes(tip), new Uint8Array(4)]);
        await a.waitFor(
          "mining.notify",
          (m) => m.params[8] === true && notifyPrevhash(m.params) === tip,
          5_000,
        );
        await waitUntil(async () => {
          const feed = (await api(tp, "/api/server")).job_feed as Record<string, unknown>;
          return feed.zmq_healthy === true && (feed.zmq_disconnects as number) >= 1 &&
            (feed.zmq_reconnects as number) >= 1;
        }, "/api/server counts the ZMQ disconnect and reconnect");
        a.close();
      });
    } finally {
      await closeZmq(publisher);
    }
  },
});
