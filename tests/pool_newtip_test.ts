/**
 * A new tip reaches miners before `getblocktemplate` answers: empty-first work from a ZMQ
 * `rawblock` (published by the test, as bitcoind would), the full template after it on the same
 * tip, the generation guard against slower sources, and tip sources of other nodes — all against
 * a real regtest node behind a proxy that makes `getblocktemplate` slow.
 */

import assert from "node:assert/strict";
import * as zmq from "zeromq";
import { closeZmq } from "./helpers/zmq.ts";
import { type RegtestNode, startRegtestNode } from "./helpers/regtest.ts";
import { type FaultyNode, startFaultyNode } from "./helpers/faulty_node.ts";
import { type ConfigPatch, startTestPool, type TestPool } from "./helpers/pool.ts";
import { freePort } from "./helpers/ports.ts";
import { connectMiner, notifyPrevhash, regtestP2wpkh, submitBlock } from "./helpers/miners.ts";
import { waitUntil } from "./helpers/wait.ts";
import { hexToBytes } from "../lib/bitcoin/hex.ts";
import { blockSubsidy, NETWORKS } from "../lib/bitcoin/networks.ts";
import type { StratumNotification } from "../stratum/client.ts";

/** A regtest node behind a slow-GBT proxy, a ZMQ publisher and a pool on both. */
interface Rig {
  readonly node: RegtestNode;
  readonly proxy: FaultyNode;
  readonly publisher: zmq.Publisher;
  readonly address: string;
  readonly tp: TestPool;
  /** Publishes `hash`'s raw block on the rig's publisher (as bitcoind's `zmqpubrawblock`). */
  publish(hash: string, publisher?: zmq.Publisher): Promise<void>;
  stop(): Promise<void>;
}

let sequence = 0;

/** `patch` gets the publisher's address and the proxy's URL (give it as `node.rpc_url`). */
async function rig(
  patch: (address: string, proxyUrl: string) => ConfigPatch,
  node?: RegtestNode,
): Promise<Rig> {
  const ownNode = node === undefined;
  const n = node ?? await startRegtestNode();
  if (ownNode) await n.activateSegwit();
  const proxy = startFaultyNode(n.rpcUrl);
  const address = `tcp://127.0.0.1:${freePort()}`;
  const publisher = new zmq.Publisher();
  await publisher.bind(address);
  const tp = await startTestPool(n, patch(address, proxy.url));
  const publish = async (hash: string, via = publisher) => {
    const raw = hexToBytes(await n.rpc<string>("getblock", [hash, 0]));
    const seq = new Uint8Array(4);
    new DataView(seq.buffer).setUint32(0, sequence++, true);
    await via.send(["rawblock", raw, seq]);
  };
  return {
    node: n,
    proxy,
    publisher,
    address,
    tp,
    publish,
    async stop() {
      await tp.stop();
      await proxy.close();
      await closeZmq(publisher);
      if (ownNode) await n.stop();
    },
  };
}

const isNotifyOn = (tip: string) => (m: StratumNotification) => notifyPrevhash(m.params) === tip;

Deno.test({
  name:
    "new tip: coinbase-only work from rawblock before a slow GBT; blocks on it and on the full job are accepted",
  sanitizeOps: false, // bcoin and zeromq keep process-wide handles
  sanitizeResources: false,
  async fn() {
    const r = await rig((address, proxyUrl) => ({
      node: { rpc_url: proxyUrl, zmq_rawblock: address, longpoll: false },
    }));
    try {
      const feed = r.tp.pool.feed;
      await waitUntil(() => feed.status().zmq?.zmqHealthy === true, "ZMQ connected");
      const user = `${regtestP2wpkh(7)}.empty`;
      const client = await connectMiner(r.tp.port, user);

      // Round 1: the empty job comes first and a block found on it is a valid block.
      r.proxy.fault("getblocktemplate", { kind: "slow", ms: 1_500 });
      const [tip1] = await r.node.mine(1);
      const height = await r.node.height();
      await r.node.addMempoolTransactions(20);
      client.clearBuffered();
      await r.publish(tip1);
      const empty = await client.waitFor("mining.notify", isNotifyOn(tip1), 1_000).catch((e) => {
        console.log(
          JSON.stringify(feed.status().emptyFirst),
          feed.status().discarded,
          feed.status().lastError,
        );
        throw e;
      });
      assert.equal(empty.params[8], true, "the empty job is clean");
      assert.deepEqual(empty.params[4], [], "no transactions: an empty merkle branch");
      const job = r.tp.pool.jobs.current()!;
      assert.equal(job.height, height + 1);
      assert.equal(job.txCount, 0);
      assert.equal(job.coinbaseValue, blockSubsidy(height + 1, NETWORKS.regtest));
      assert.equal(job.witnessCommitment, undefined, "an empty block needs no witness commitment");
      assert.equal(feed.status().emptyFirst.published, 1);
      assert.equal(feed.status().sources.find((s) => s.name === "zmq")?.first, 1);

      const found = await submitBlock(client, user);
      await waitUntil(
        async () => (await r.node.rpc<string>("getbestblockhash")) === found,
        "the node took the empty block",
      );
      const block = await r.node.rpc<{ tx: string[]; height: number }>("getblock", [found, 1]);
      assert.equal(block.height, height + 1);
      assert.equal(block.tx.length, 1, "coinbase only");
      await waitUntil(
        () => r.tp.blocks.some((b) => b.hash === found && b.status === "accepted"),
        "recorded as accepted",
      );

      // Round 2: the full template follows the empty job on the same tip, not clean, and a block
      // found on it carries every transaction.
      // Our own block moved the tip: the slow template still on its parent is thrown away.
      await waitUntil(() => {
        const current = r.tp.pool.jobs.current();
        return current?.height === height + 2 && current.txCount === 20;
      }, "full work on our block");
      assert.ok(feed.status().discarded >= 1, "the template on the solved tip was thrown away");
      const [tip2] = await r.node.mine(1);
      await r.node.addMempoolTransactions(12);
      client.clearBuffered();
      await r.publish(tip2);
      const empty2 = await client.waitFor("mining.notify", isNotifyOn(tip2), 1_000).catch((e) => {
        console.log(JSON.stringify(feed.status()));
        throw e;
      });
      assert.equal(empty2.params[8], true);
      assert.deepEqual(empty2.params[4], []);
      const full = await client.waitFor(
        "mining.notify",
        (m) => isNotifyOn(tip2)(m) && (m.params[4] as string[]).length > 0,
        5_000,
      );
      assert.equal(full.params[8], false, "the full job does not throw away the empty job's work");
      assert.equal(r.tp.pool.jobs.current()!.txCount, 12);
      const found2 = await submitBlock(client, user);
      await waitUntil(
        async () => (await r.node.rpc<string>("getbestblockhash")) === found2,
        "the node took the full block",
      );
      const block2 = await r.node.rpc<{ tx: string[] }>("getblock", [found2, 1]);
      assert.equal(block2.tx.length, 13, "coinbase and the 12 transactions");
      // Empty work on tip1, on our block, on tip2 (and on our second block, if already out).
      assert.ok(feed.status().emptyFirst.published >= 3);
      client.close();
    } finally {
      await r.stop();
    }
  },
});

Deno.test({
  name:
    "new tip: a slow template of the old tip that answers after the empty job is thrown away and counted",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const r = await rig((address, proxyUrl) => ({
      node: { rpc_url: proxyUrl, zmq_rawblock: address, longpoll: false },
    }));
    try {
      const feed = r.tp.pool.feed;
      await waitUntil(() => feed.status().zmq?.zmqHealthy === true, "ZMQ connected");
      const old = r.tp.pool.jobs.current()!;
      const client = await connectMiner(r.tp.port, `${regtestP2wpkh(8)}.guard`);
      const seen: string[] = [];
      client.on("mining.notify", (m) => seen.push(notifyPrevhash(m.params)));
      // A fetch that starts on the old tip and answers late, like a mainnet GBT under load.
      r.proxy.fault("getblocktemplate", { kind: "slow", ms: 800 });
      const inFlight = feed.refresh("manual");
      await waitUntil(() => (r.proxy.calls.get("getblocktemplate") ?? 0) >= 2, "GBT in flight");
      await r.node.addMempoolTransactions(5); // the late template differs from the one out
      const [tip] = await r.node.mine(1);
      await r.publish(tip);
      await client.waitFor("mining.notify", isNotifyOn(tip), 1_000);
      const discardedBefore = feed.status().discarded;
      await inFlight;
      await waitUntil(() => feed.status().discarded > discardedBefore, "the late template counted");
      r.proxy.clearFaults();
      await waitUntil(
        () => (r.tp.pool.jobs.current()?.txCount ?? 0) === 0 && !r.tp.pool.jobs.current()!.clean,
        "full work on the new tip",
      );
      const oldTip = notifyPrevhash(["", old.prevhashStratum]);
      const firstNew = seen.indexOf(tip);
      assert.ok(firstNew >= 0);
      assert.ok(!seen.slice(firstNew).includes(oldTip), "no work on the old tip after the new one");
      assert.equal(r.tp.pool.jobs.current()!.height, old.height + 1);
      client.close();
    } finally {
      await r.stop();
    }
  },
});

Deno.test({
  name:
    "tip sources: an untrusted hint acts once the node confirms it; one it cannot confirm is ignored; a trusted one needs no RPC",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const node = await startRegtestNode();
    await node.activateSegwit();
    const relayAddress = `tcp://127.0.0.1:${freePort()}`;
    const relay = new zmq.Publisher();
    await relay.bind(relayAddress);
    // The pool's own node has no ZMQ, no longpoll and a slow timer: only the relay can be first.
    const r = await rig((_address, proxyUrl) => ({
      node: {
        rpc_url: proxyUrl,
        longpoll: false,
        refresh_interval_seconds: 3600,
        tip_sources: [{ name: "relay", zmq_rawblock: relayAddress }],
      },
      server: { metrics_listen: "127.0.0.1:0" },
    }), node);
    try {
      const feed = r.tp.pool.feed;
      const status = () => feed.status().sources.find((s) => s.name === "relay")!;
      await waitUntil(() => status().healthy, "relay connected");
      const client = await connectMiner(r.tp.port, `${regtestP2wpkh(9)}.relay`);
      const [tip] = await node.mine(1);
      await r.publish(tip, relay);
      const notify = await client.waitFor("mining.notify", isNotifyOn(tip), 2_000);
      assert.equal(notify.params[8], true);
      assert.equal(status().first, 1);
      assert.equal(status().trusted, false);
      // The sources in /api/server (a snapshot: rebuilt on its own schedule) and /metrics.
      const api = `http://127.0.0.1:${r.tp.pool.status.http!.port}/api/server`;
      type Source = { name: string; kind: string; trusted: boolean; first: number };
      let server: { job_feed: { tip_sources: Source[]; empty_first: { enabled: boolean } } };
      await waitUntil(async () => {
        server = await (await fetch(api)).json();
        return server.job_feed.tip_sources?.find((s) => s.name === "relay")?.first === 1;
      }, "the relay listed as first in /api/server");
      const listed = server!.job_feed.tip_sources.find((s) => s.name === "relay")!;
      assert.deepEqual(
        { kind: listed.kind, trusted: listed.trusted, first: listed.first },
        { kind: "tip-source", trusted: false, first: 1 },
      );
      assert.equal(server!.job_feed.empty_first.enabled, true);
      const metrics =
        await (await fetch(`http://127.0.0.1:${r.tp.pool.status.metrics!.port}/metrics`))
          .text();
      assert.match(metrics, /^denopool_tip_source_first_total\{source="relay"\} 1$/m);
      assert.match(metrics, /^denopool_empty_jobs_total \d+$/m);

      // A block the node does not have (the raw block with another nonce): counted, not acted on.
      const raw = hexToBytes(await node.rpc<string>("getblock", [tip, 0]));
      raw[76] ^= 0xff;
      await relay.send(["rawblock", raw, new Uint8Array(4)]);
      await waitUntil(() => status().unconfirmed === 1, "hint not confirmed");
      assert.equal(notifyPrevhash(["", r.tp.pool.jobs.current()!.prevhashStratum]), tip);
      client.close();
    } finally {
      await r.stop();
    }

    // Trusted: empty work from the relay's raw block before the pool's node is asked anything.
    const trusted = await rig((_address, proxyUrl) => ({
      node: {
        rpc_url: proxyUrl,
        longpoll: false,
        refresh_interval_seconds: 3600,
        tip_sources: [{ name: "relay", zmq_rawblock: relayAddress, trusted: true }],
      },
    }), node);
    try {
      const feed = trusted.tp.pool.feed;
      await waitUntil(
        () => feed.status().sources.find((s) => s.name === "relay")!.healthy,
        "relay connected",
      );
      const client = await connectMiner(trusted.tp.port, `${regtestP2wpkh(10)}.trusted`);
      // A first tip from the relay, then a second: both straight from its raw blocks.
      const [warm] = await node.mine(1);
      await trusted.publish(warm, relay);
      await client.waitFor("mining.notify", isNotifyOn(warm), 2_000);
      const [tip] = await node.mine(1);
      const before = trusted.proxy.log.length;
      await trusted.publish(tip, relay);
      await client.waitFor("mining.notify", isNotifyOn(tip), 2_000);
      const asked = trusted.proxy.log.slice(before).map((c) => c.method);
      // (The status pages may look the new tip's header up for display; no confirmation is asked.)
      assert.ok(!asked.includes("getbestblockhash"), `no confirmation asked: ${asked.join(", ")}`);
      assert.equal(feed.status().sources.find((s) => s.name === "relay")!.first, 2);
      client.close();
    } finally {
      await trusted.stop();
      await closeZmq(relay);
      await node.stop();
    }
  },
});

Deno.test({
  name:
    "new tip with a mainnet-sized template (2,000 transactions): empty work first, then the full job; its block is accepted",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const r = await rig((address, proxyUrl) => ({
      node: { rpc_url: proxyUrl, zmq_rawblock: address, longpoll: false },
    }));
    try {
      const feed = r.tp.pool.feed;
      await waitUntil(() => feed.status().zmq?.zmqHealthy === true, "ZMQ connected");
      const user = `${regtestP2wpkh(11)}.big`;
      const client = await connectMiner(r.tp.port, user);
      const [tip] = await r.node.mine(1);
      await r.node.addMempoolTransactions(2_000, { outputsPerTx: 7 });
      const gbt = await r.node.rpc<{ transactions: unknown[] }>("getblocktemplate", [{
        rules: ["segwit"],
      }]);
      assert.equal(gbt.transactions.length, 2_000);
      assert.ok(JSON.stringify(gbt).length > 1_500_000, "a template of more than 1.5 MB of JSON");
      r.proxy.fault("getblocktemplate", { kind: "slow", ms: 300 });
      client.clearBuffered();
      await r.publish(tip);
      const empty = await client.waitFor("mining.notify", isNotifyOn(tip), 1_000);
      assert.deepEqual(empty.params[4], []);
      const full = await client.waitFor(
        "mining.notify",
        (m) => isNotifyOn(tip)(m) && (m.params[4] as string[]).length === 11,
        10_000,
      );
      assert.equal(full.params[8], false);
      assert.equal(r.tp.pool.jobs.current()!.txCount, 2_000);
      const found = await submitBlock(client, user);
      await waitUntil(
        async () => (await r.node.rpc<string>("getbestblockhash")) === found,
        "the node took the big block",
        10_000,
      );
      const block = await r.node.rpc<{ tx: string[] }>("getblock", [found, 1]);
      assert.equal(block.tx.length, 2_001);
      client.close();
    } finally {
      await r.stop();
    }
  },
});
