/**
 * TemplateFeed against the real regtest node: first template, longpoll on a new block, tx-only
 * updates, ZMQ (a test Publisher stands in for Core's ZMQ), the periodic fallback, health gating.
 */

import assert from "node:assert/strict";
import * as zmq from "zeromq";
import { closeZmq } from "./helpers/zmq.ts";
import { hexToBytes } from "../lib/bitcoin/hex.ts";
import { RpcClient } from "../lib/node/rpc.ts";
import { type RpcCaller, TemplateFeed, type TemplateUpdate } from "../lib/node/template_feed.ts";
import { ZmqBlockSubscriber } from "../lib/node/zmq.ts";
import type { RpcCallOptions } from "../lib/node/rpc.ts";
import { type RegtestNode, startRegtestNode } from "./helpers/regtest.ts";
import { freePort } from "./helpers/ports.ts";
import { sleep, waitUntil } from "./helpers/wait.ts";

/** Waits until `predicate` holds (polling), failing with `what` after `timeoutMs`. */
/** A feed on a fresh segwit-active node, with every update collected. */
async function setup(
  options: {
    zmq?: ZmqBlockSubscriber;
    longpoll?: boolean;
    refreshIntervalMs?: number;
    rpc?: (client: RpcClient) => RpcCaller;
    node?: RegtestNode;
    now?: () => number;
    staleAfterMs?: number;
  } = {},
) {
  const node = options.node ?? await startRegtestNode();
  if (!options.node) await node.activateSegwit();
  const client = new RpcClient({
    url: node.rpcUrl,
    user: "pool",
    password: node.apiKey,
    backoffBaseMs: 5,
    backoffMaxMs: 20,
    retries: 1,
  });
  const feed = new TemplateFeed({
    rpc: options.rpc ? options.rpc(client) : client,
    rules: ["segwit"],
    zmq: options.zmq,
    longpoll: options.longpoll,
    refreshIntervalMs: options.refreshIntervalMs ?? 60_000,
    longpollRetryMs: 20,
    now: options.now,
    staleAfterMs: options.staleAfterMs,
  });
  const updates: TemplateUpdate[] = [];
  feed.onTemplate((update) => updates.push(update));
  return {
    node,
    client,
    feed,
    updates,
    async close() {
      await feed.stop();
      client.close();
      await node.stop();
    },
  };
}

Deno.test("feed: the first template is clean and builds on the tip", async () => {
  const t = await setup();
  try {
    await t.feed.start();
    assert.equal(t.updates.length, 1);
    const [first] = t.updates;
    assert.equal(first.clean, true);
    assert.equal(first.reason, "initial");
    assert.equal(first.template.previousblockhash, await t.node.rpc("getbestblockhash"));
    assert.equal(first.template.height, await t.node.height() + 1);
    assert.match(first.template.default_witness_commitment ?? "", /^6a24aa21a9ed/);
    assert.equal(t.feed.ready, true);
    assert.equal(t.feed.notReadyReason, undefined);
    const status = t.feed.status();
    assert.equal(status.templates, 1);
    assert.equal(status.tip?.hash, first.template.previousblockhash);
    assert.equal(status.tip?.height, first.template.height - 1);
    assert.equal(status.initialBlockDownload, false);
    assert.equal(status.zmq, undefined);
  } finally {
    await t.close();
  }
});

Deno.test("feed: mining a block brings a clean template through the longpoll", async () => {
  const t = await setup();
  try {
    await t.feed.start();
    const [mined] = await t.node.mine(1);
    await waitUntil(() => t.updates.length >= 2, "a template on the new block");
    const update = t.updates[1];
    assert.equal(update.clean, true);
    assert.equal(update.reason, "longpoll");
    assert.equal(update.template.previousblockhash, mined);
    assert.equal(update.template.height, t.updates[0].template.height + 1);
    // The tip's header facts follow from one getblockheader per block.
    await waitUntil(() => t.feed.status().tip?.source === "rpc", "tip header");
    const tip = t.feed.status().tip!;
    assert.equal(tip.hash, mined);
    assert.equal(tip.bits, "207fffff");
    assert.ok(tip.time! > 0);
    assert.ok(tip.difficulty! > 0 && tip.difficulty! < 1);
  } finally {
    await t.close();
  }
});

Deno.test("feed: new mempool transactions give a template that is not clean", async () => {
  const t = await setup({ longpoll: false });
  try {
    await t.feed.start();
    const txids = await t.node.addMempoolTransactions(8, { segwit: true });
    const heightBefore = t.updates.at(-1)!.template.height;
    // addMempoolTransactions mined maturing blocks: refresh until the tx update shows.
    await t.feed.refresh();
    const last = t.updates.at(-1)!;
    assert.equal(last.template.transactions.length, 8);
    assert.deepEqual(last.template.transactions.map((tx) => tx.txid).sort(), [...txids].sort());
    assert.ok(last.template.height >= heightBefore);

    // A template that only differs in time is not emitted; one with one more tx is, not clean.
    const count = t.updates.length;
    await t.feed.refresh();
    assert.equal(t.updates.length, count);
    await t.node.addMempoolTransactions(1, { segwit: false });
    await t.feed.refresh();
    assert.equal(t.updates.length, count + 1);
    assert.equal(t.updates.at(-1)!.clean, false);
    assert.equal(t.updates.at(-1)!.template.transactions.length, 9);
  } finally {
    await t.close();
  }
});

Deno.test("feed: ZMQ hashblock refreshes at once; rawblock tells the tip without RPC", async () => {
  const port = freePort();
  const address = `tcp://127.0.0.1:${port}`;
  const publisher = new zmq.Publisher();
  await publisher.bind(address);
  const subscriber = new ZmqBlockSubscriber({
    hashblockAddr: address,
    rawblockAddr: address,
    reconnectMinMs: 50,
    reconnectMaxMs: 200,
  });
  const t = await setup({ zmq: subscriber, longpoll: false });
  try {
    await t.feed.start();
    await waitUntil(() => t.feed.status().zmq?.zmqHealthy === true, "zmq connection");
    const start = t.updates.at(-1)!.template.height;

    // Nothing tells the feed about this block: no longpoll, the timer is a minute away.
    const [first] = await t.node.mine(1);
    await sleep(50);
    assert.equal(t.updates.at(-1)!.template.height, start);

    const [second] = await t.node.mine(1);
    await publisher.send(["hashblock", hexToBytes(second), new Uint8Array(4)]);
    await waitUntil(
      () => t.updates.at(-1)!.template.previousblockhash === second,
      "zmq-driven template",
    );
    assert.equal(t.updates.at(-1)!.reason, "zmq");
    assert.equal(t.updates.at(-1)!.clean, true);
    assert.notEqual(first, second);

    const [third] = await t.node.mine(1);
    const raw = hexToBytes(await t.node.rpc<string>("getblock", [third, false]));
    await publisher.send(["rawblock", raw, new Uint8Array(4)]);
    await waitUntil(() => t.feed.status().tip?.hash === third, "rawblock tip");
    const status = t.feed.status();
    assert.equal(status.tip?.source, "zmq");
    assert.equal(status.tip?.height, start + 2);
    assert.equal(status.tip?.time, new DataView(raw.buffer).getUint32(68, true));
    assert.ok(status.tip!.difficulty! > 0);
    assert.equal(status.tip?.bits, "207fffff");
    assert.equal(status.zmq?.lastRawBlockBytes, raw.length);
    assert.ok(status.zmq?.lastRawBlockAt);
    await waitUntil(
      () => t.updates.at(-1)!.template.height === start + 3,
      "rawblock-driven template",
    );
  } finally {
    await t.close();
    await closeZmq(publisher);
  }
});

Deno.test("feed: ZMQ publisher gone and back counts a disconnect and a reconnect", async () => {
  const port = freePort();
  const address = `tcp://127.0.0.1:${port}`;
  let publisher = new zmq.Publisher();
  await publisher.bind(address);
  const subscriber = new ZmqBlockSubscriber({
    hashblockAddr: address,
    reconnectMinMs: 50,
    reconnectMaxMs: 200,
  });
  const t = await setup({ zmq: subscriber, longpoll: false });
  try {
    await t.feed.start();
    const zmqHealth = () => t.feed.status().zmq!;
    await waitUntil(() => zmqHealth().zmqHealthy, "zmq connection");
    assert.equal(zmqHealth().zmqDisconnects, 0);

    publisher.close();
    await waitUntil(() => !zmqHealth().zmqHealthy, "zmq disconnect");
    assert.equal(zmqHealth().zmqDisconnects, 1);
    assert.equal(zmqHealth().zmqReconnects, 0);

    // While ZMQ is down the node moves on; the reconnect itself forces a refresh.
    const [mined] = await t.node.mine(1);
    publisher = new zmq.Publisher();
    await publisher.bind(address);
    await waitUntil(() => zmqHealth().zmqHealthy, "zmq reconnect");
    assert.equal(zmqHealth().zmqReconnects, 1);
    await waitUntil(
      () => t.updates.at(-1)!.template.previousblockhash === mined,
      "refresh on reconnect",
    );
  } finally {
    await t.close();
    await closeZmq(publisher);
  }
});

Deno.test("feed: with ZMQ down and no longpoll the periodic refresh still brings templates", async () => {
  const subscriber = new ZmqBlockSubscriber({ hashblockAddr: `tcp://127.0.0.1:${freePort()}` });
  const t = await setup({ zmq: subscriber, longpoll: false, refreshIntervalMs: 100 });
  try {
    await t.feed.start();
    assert.equal(t.feed.status().zmq?.zmqHealthy, false);
    const [mined] = await t.node.mine(1);
    await waitUntil(
      () => t.updates.at(-1)!.template.previousblockhash === mined,
      "timer-driven template",
    );
    assert.equal(t.updates.at(-1)!.reason, "timer");
    assert.equal(t.updates.at(-1)!.clean, true);
    assert.equal(t.feed.ready, true);
  } finally {
    await t.close();
  }
});

Deno.test("feed: not ready while the node is in IBD, ready again by itself", async () => {
  let ibd = true;
  const readiness: boolean[] = [];
  const t = await setup({
    longpoll: false,
    refreshIntervalMs: 50,
    rpc: (client) => ({
      async call<T>(method: string, params?: readonly unknown[], options?: RpcCallOptions) {
        const result = await client.call<T>(method, params, options);
        if (method !== "getblockchaininfo") return result;
        return { ...result, initialblockdownload: ibd } as T;
      },
    }),
  });
  t.feed.onReadyChange((ready) => readiness.push(ready));
  try {
    await t.feed.start();
    assert.equal(t.feed.ready, false);
    assert.match(t.feed.notReadyReason ?? "", /syncing/);
    assert.equal(t.feed.status().initialBlockDownload, true);
    ibd = false;
    await waitUntil(() => t.feed.ready, "ready after IBD");
    assert.deepEqual(readiness, [true]);
  } finally {
    await t.close();
  }
});

Deno.test("feed: stale past staleAfterMs is not ready, a fresh template heals it", async () => {
  let now = 1_800_000_000_000;
  const t = await setup({ longpoll: false, now: () => now, staleAfterMs: 60_000 });
  try {
    await t.feed.start();
    assert.equal(t.feed.ready, true);
    now += 61_000;
    assert.equal(t.feed.ready, false);
    assert.match(t.feed.notReadyReason ?? "", /no fresh block template for 61 s/);
    await t.feed.refresh();
    assert.equal(t.feed.ready, true);
  } finally {
    await t.close();
  }
});

Deno.test("feed: a node that is down at start makes the feed wait, then recover", async () => {
  const node = await startRegtestNode();
  await node.activateSegwit();
  await node.stopRpc();
  const t = await setup({ node, longpoll: true, refreshIntervalMs: 50 });
  try {
    await t.feed.start();
    assert.equal(t.feed.ready, false);
    assert.match(t.feed.notReadyReason ?? "", /waiting for the first block template \(.+\)/);
    assert.ok(t.feed.status().errorHistory.length >= 1);
    await node.restart();
    await waitUntil(() => t.feed.ready, "first template after the node came back");
    assert.equal(t.updates.length, 1);
    assert.equal(t.updates[0].clean, true);
    // The longpoll starts once a template with a longpollid exists.
    const [mined] = await node.mine(1);
    await waitUntil(() => t.updates.at(-1)!.template.previousblockhash === mined, "next block");
  } finally {
    await t.close();
  }
});

Deno.test("feed: templates failing a sanity check are rejected and the last good one stays", async () => {
  let tamper: ((template: Record<string, unknown>) => void) | undefined;
  const t = await setup({
    longpoll: false,
    rpc: (client) => ({
      async call<T>(method: string, params?: readonly unknown[], options?: RpcCallOptions) {
        const result = await client.call<T>(method, params, options);
        if (method === "getblocktemplate" && tamper) tamper(result as Record<string, unknown>);
        return result;
      },
    }),
  });
  try {
    await t.node.addMempoolTransactions(3);
    await t.feed.start();
    const good = t.feed.current()!;
    assert.equal(good.template.transactions.length, 3);
    const cases: [string, (template: Record<string, unknown>) => void, RegExp][] = [
      ["bits/target", (x) => (x.target = "00".repeat(31) + "01"), /do not encode target/],
      ["txid", (x) => {
        const txs = x.transactions as { txid: string }[];
        txs[1].txid = txs[2].txid;
      }, /txid/],
      ["witness commitment", (x) => delete x.default_witness_commitment, /witness_commitment/],
      ["prevhash", (x) => (x.previousblockhash = "11".repeat(32)), /stale/],
      ["height back", (x) => (x.height = (x.height as number) - 2), /height \d+ went back/],
      ["shape", (x) => (x.coinbasevalue = "lots"), /coinbasevalue/],
    ];
    for (const [name, change, error] of cases) {
      tamper = change;
      await t.feed.refresh();
      assert.equal(t.feed.current(), good, name);
      assert.match(t.feed.status().lastError ?? "", error, name);
    }
    tamper = undefined;
    await t.node.mine(1);
    await t.feed.refresh();
    assert.notEqual(t.feed.current(), good);
    assert.equal(t.feed.current()!.clean, true);
  } finally {
    await t.close();
  }
});
