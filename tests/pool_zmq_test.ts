/**
 * New tips reach miners: a ZMQ `hashblock` (published by the test, as bitcoind would) makes every
 * connected miner get clean work within a second; with ZMQ down, the periodic refresh still does.
 */

import assert from "node:assert/strict";
import * as zmq from "zeromq";
import { closeZmq } from "./helpers/zmq.ts";
import { startRegtestNode } from "./helpers/regtest.ts";
import { startTestPool } from "./helpers/pool.ts";
import { freePort } from "./helpers/ports.ts";
import { connectMiner, notifyPrevhash, regtestP2wpkh } from "./helpers/miners.ts";
import { waitUntil } from "./helpers/wait.ts";
import type { StratumClient } from "../stratum/client.ts";
import { hexToBytes } from "../lib/bitcoin/hex.ts";

/** `count` miners, each with its own payout address, all with work. */
async function miners(port: number, count: number): Promise<StratumClient[]> {
  const out: StratumClient[] = [];
  for (let i = 0; i < count; i++) {
    out.push(await connectMiner(port, `${regtestP2wpkh(i + 1)}.m${i}`, { agent: "zmq-test/1" }));
  }
  return out;
}

Deno.test({
  name: "a hashblock from ZMQ gives every connected miner clean_jobs=true within 1 s",
  sanitizeOps: false, // bcoin and zeromq keep process-wide handles
  sanitizeResources: false,
  async fn() {
    const node = await startRegtestNode();
    const address = `tcp://127.0.0.1:${freePort()}`;
    const publisher = new zmq.Publisher();
    await publisher.bind(address);
    // Longpoll off and a slow timer: only ZMQ can bring the new tip quickly.
    const tp = await startTestPool(node, {
      node: { zmq_hashblock: address, longpoll: false, refresh_interval_seconds: 3600 },
    });
    try {
      await waitUntil(() => tp.pool.feed.status().zmq?.zmqHealthy === true, "ZMQ connected");
      const clients = await miners(tp.port, 5);
      const [tip] = await node.mine(1);
      for (const c of clients) c.clearBuffered();
      const sentAt = performance.now();
      await publisher.send(["hashblock", hexToBytes(tip), new Uint8Array(4)]);
      const arrivals = await Promise.all(clients.map(async (c) => {
        const msg = await c.waitFor(
          "mining.notify",
          (m) => m.params[8] === true && notifyPrevhash(m.params) === tip,
          1_000,
        );
        assert.equal(msg.params[8], true);
        return performance.now() - sentAt;
      }));
      assert.ok(Math.max(...arrivals) < 1_000);
      for (const c of clients) c.close();
    } finally {
      await tp.stop();
      await closeZmq(publisher);
      await node.stop();
    }
  },
});

Deno.test({
  name: "with ZMQ down the periodic refresh still brings new work",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const node = await startRegtestNode();
    // Nobody publishes here: the subscriber never connects.
    const address = `tcp://127.0.0.1:${freePort()}`;
    const tp = await startTestPool(node, {
      node: { zmq_hashblock: address, longpoll: false, refresh_interval_seconds: 1 },
    });
    try {
      assert.notEqual(tp.pool.feed.status().zmq?.zmqHealthy, true);
      const [client] = await miners(tp.port, 1);
      const [tip] = await node.mine(1);
      const msg = await client.waitFor(
        "mining.notify",
        (m) => notifyPrevhash(m.params) === tip,
        5_000,
      );
      assert.equal(msg.params[8], true);
      client.close();
    } finally {
      await tp.stop();
      await node.stop();
    }
  },
});
