/**
 * The status layer's pool-side parts on their own: the pool-wide best shares, the hashrate history
 * rings, share totals that survive disconnects, the node-facts cache with its peer clean-up, the
 * per-tip confirmation cache, and the BTC price feed against a real local HTTP server.
 */

import assert from "node:assert/strict";
import { BestShares } from "../lib/pool/best_shares.ts";
import { HashrateHistory } from "../lib/pool/hashrate_history.ts";
import {
  BlockConfirmations,
  NodeInfoCache,
  type NodeRpc,
  peersToDisconnect,
} from "../lib/status/node_info.ts";
import { parsePrice, PriceFeed } from "../lib/status/price_feed.ts";
import { WorkerRegistry, WorkerStats } from "../lib/pool/worker_stats.ts";
import type { NodePeer } from "../lib/status/sources.ts";

/** A hash (internal order) whose RPC hex ends in `tag`. */
function hashWith(tag: number): Uint8Array {
  const hash = new Uint8Array(32);
  hash[0] = tag;
  return hash;
}

Deno.test("best shares: the top 12 by difficulty, best first; the floor is one comparison", () => {
  const best = new BestShares();
  for (let i = 1; i <= 20; i++) {
    assert.equal(best.offer(`w${i}`, i * 10, hashWith(i), 1000 + i), true);
  }
  assert.equal(best.size, 12);
  assert.deepEqual(best.list().map((s) => s.difficulty), [
    200,
    190,
    180,
    170,
    160,
    150,
    140,
    130,
    120,
    110,
    100,
    90,
  ]);
  assert.equal(best.offer("low", 90, hashWith(99), 2000), false, "equal to the floor: kept out");
  assert.equal(best.offer("nan", NaN, hashWith(99), 2000), false);
  assert.equal(best.offer("mid", 155, hashWith(42), 3000), true);
  const list = best.list();
  assert.equal(list.length, 12);
  assert.equal(list[5].worker, "mid");
  assert.equal(list.at(-1)!.difficulty, 100);
  assert.equal(list[5].hash, "00".repeat(31) + "2a", "RPC (reversed) hex");
});

Deno.test("best shares: among equals the first found ranks first", () => {
  const best = new BestShares(3);
  best.offer("first", 5, hashWith(1), 1);
  best.offer("second", 5, hashWith(2), 2);
  best.offer("top", 9, hashWith(3), 3);
  assert.deepEqual(best.list().map((s) => s.worker), ["top", "first", "second"]);
});

Deno.test("share totals keep the counts of closed connections", () => {
  const registry = new WorkerRegistry();
  const a = new WorkerStats("a", "10.0.0.1", false, 0);
  const b = new WorkerStats("b", "10.0.0.2", true, 0);
  a.name = "addr.a";
  b.name = "addr.b";
  registry.add(a);
  registry.add(b);
  a.noteAccepted(1, 2, 1000);
  a.noteRejected("stale", 1100);
  b.noteAccepted(1, 3, 1200);
  b.noteRejected("duplicate", 1300);
  registry.remove("b");
  registry.remove("b"); // twice: counted once
  const totals = registry.totals();
  assert.equal(totals.accepted, 2);
  assert.equal(totals.rejectedByReason.stale, 1);
  assert.equal(totals.rejectedByReason.duplicate, 1);
  assert.equal(registry.size, 1);
});

Deno.test("hashrate history: short samples, minute means, bounded rings, oldest first", () => {
  const history = new HashrateHistory({ shortSlots: 6, minuteSlots: 3 });
  const minute = 60_000;
  const t0 = 100 * minute;
  // 5 minutes of samples every 20 s: 10, 20, 30 H/s in each minute (mean 20 + minute index).
  for (let m = 0; m < 5; m++) {
    for (let k = 0; k < 3; k++) history.sample(t0 + m * minute + k * 20_000, 10 * (k + 1) + m, m);
  }
  assert.equal(history.samples, 6, "short ring bounded");
  assert.equal(history.minutes, 3, "minute ring bounded (minutes 1..3 closed and kept)");
  const points = history.points();
  // The short ring holds minutes 3 and 4 sample by sample; before them, the means of minutes 1, 2.
  assert.deepEqual(points.map((p) => [(p.at - t0) / 1000, p.hashrate, p.blockHeight]), [
    [60, 21, 1],
    [120, 22, 2],
    [180, 13, 3],
    [200, 23, 3],
    [220, 33, 3],
    [240, 14, 4],
    [260, 24, 4],
    [280, 34, 4],
  ]);
  for (let i = 1; i < points.length; i++) assert.ok(points[i].at > points[i - 1].at);
  history.sample(t0, 999); // back in time: ignored
  assert.equal(history.points().length, points.length);
  history.sample(t0 + 10 * minute, -5); // nonsense rates count as 0
  assert.equal(history.points().at(-1)!.hashrate, 0);
  assert.equal("blockHeight" in history.points().at(-1)!, false, "unknown height omitted");
});

Deno.test("peer clean-up picks the slowest peers above the limit and keeps min_peers", () => {
  const peer = (display: string, pingMs: number): NodePeer => ({
    display,
    pingMs,
    connectedAt: 0,
  });
  const peers = [
    peer("a", 300),
    peer("b", 900),
    peer("c", 100),
    peer("d", 0), // no ping yet: no evidence, never chosen
    peer("e", 500),
  ];
  const on = { enabled: true, maxPingMs: 250, minPeers: 3 };
  assert.deepEqual(peersToDisconnect(peers, on).map((p) => p.display), ["b", "e"]);
  assert.deepEqual(
    peersToDisconnect(peers, { ...on, minPeers: 0 }).map((p) => p.display),
    ["b", "e", "a"],
  );
  assert.deepEqual(peersToDisconnect(peers, { ...on, minPeers: 10 }), []);
  assert.deepEqual(peersToDisconnect(peers, { ...on, enabled: false }), []);
});

/** A node answering from tables, recording every call (a test double of the RPC client). */
class TableNode implements NodeRpc {
  readonly calls: string[] = [];
  peers = [
    { addr: "203.0.113.1:8333", pingtime: 0.04, conntime: 1_700_000_000, inbound: false },
    { addr: "203.0.113.2:8333", pingtime: 0.9, conntime: 1_700_000_100, inbound: true },
    { addr: "203.0.113.3:8333", pingtime: 0.6, conntime: 1_700_000_200, inbound: false },
  ];
  /** Main-chain block hash by height. */
  chain = new Map<number, string>([[0, "00".repeat(32)]]);
  call<T>(method: string, params: readonly unknown[] = []): Promise<T> {
    this.calls.push(params.length ? `${method} ${params[0]}` : method);
    const answer = ((): unknown => {
      switch (method) {
        case "getblockchaininfo":
          return { chain: "main", blocks: 10, headers: 12, pruned: false, size_on_disk: 4096 };
        case "getnetworkinfo":
          return { subversion: "/Satoshi:27.1.0/", connections: this.peers.length };
        case "getpeerinfo":
          return this.peers;
        case "getblockhash": {
          const hash = this.chain.get(Number(params[0]));
          if (hash === undefined) throw new Error("Block height out of range");
          return hash;
        }
        case "disconnectnode":
          this.peers = this.peers.filter((p) => p.addr !== params[0]);
          return null;
      }
      throw new Error(`unexpected ${method}`);
    })();
    return Promise.resolve(answer as T);
  }
}

Deno.test("node facts: one fetch per TTL, genesis asked once, the slow peer disconnected", async () => {
  const rpc = new TableNode();
  let now = 1_000_000;
  const disconnected: string[] = [];
  const cache = new NodeInfoCache({
    rpc,
    ttlMs: 30_000,
    now: () => now,
    peerCleanup: { enabled: true, maxPingMs: 500, minPeers: 2 },
    onDisconnect: (p) => disconnected.push(p.display),
  });
  const [first, same] = await Promise.all([cache.get(), cache.get()]);
  assert.equal(first, same, "concurrent asks share one fetch");
  assert.equal(rpc.calls.filter((c) => c === "getblockchaininfo").length, 1);
  assert.deepEqual(disconnected, ["203.0.113.2:8333"], "slowest first, 2 peers kept");
  assert.deepEqual(first.peers!.map((p) => p.display), ["203.0.113.1:8333", "203.0.113.3:8333"]);
  assert.equal(first.peers![0].pingMs, 40);
  assert.equal(first.connectionsIn, 1, "counted from getpeerinfo when not reported");
  assert.equal(first.connectionsOut, 2);
  assert.equal(first.headers, 12);
  assert.equal(first.sizeOnDiskBytes, 4096);
  now += 29_999;
  await cache.get();
  assert.equal(rpc.calls.filter((c) => c === "getblockchaininfo").length, 1, "still fresh");
  now += 1;
  const second = await cache.get();
  assert.equal(rpc.calls.filter((c) => c === "getblockchaininfo").length, 2);
  assert.equal(rpc.calls.filter((c) => c.startsWith("getblockhash")).length, 1);
  assert.equal(second.genesisHash, "00".repeat(32));
  assert.equal(cache.disconnectedPeers, 1, "600 ms is slow, but only 2 peers are left");
  cache.invalidate(); // a new tip: asked again at once
  await cache.get();
  assert.equal(rpc.calls.filter((c) => c === "getblockchaininfo").length, 3);
});

Deno.test("confirmations: main-chain check once per block per tip; -1 off the main chain", async () => {
  const rpc = new TableNode();
  const confirmations = new BlockConfirmations(rpc);
  rpc.chain.set(9, "young");
  rpc.chain.set(100, "old");
  rpc.chain.set(8, "winner"); // "orphan" lost height 8 to it
  const asked = (hash: number) => rpc.calls.filter((c) => c === `getblockhash ${hash}`).length;
  assert.equal(await confirmations.get("young", 9, "tip10", 10), 2);
  assert.equal(await confirmations.get("young", 9, "tip10", 10), 2);
  assert.equal(asked(9), 1, "once per tip");
  assert.equal(await confirmations.get("young", 9, "tip11", 11), 3, "a new tip: asked again");
  assert.equal(asked(9), 2);
  assert.equal(await confirmations.get("orphan", 8, "tip11", 11), -1);
  assert.equal(await confirmations.get("old", 100, "tip199", 199), 100);
  assert.equal(await confirmations.get("old", 100, "tip250", 250), 151, "no RPC once settled");
  assert.equal(asked(100), 1);
  assert.equal(await confirmations.get("future", 500, "tip11", 11), undefined, "node cannot tell");
});

Deno.test("price answers: CoinGecko, mempool.space, blockchain.info, plain", () => {
  assert.equal(parsePrice({ bitcoin: { usd: 97123.4 } }, "usd"), 97123.4);
  assert.equal(parsePrice({ time: 1, USD: 97000, EUR: 90000 }, "eur"), 90000);
  assert.equal(parsePrice({ USD: { last: 97001.5, buy: 1 } }, "usd"), 97001.5);
  assert.equal(parsePrice({ price: "96000.25" }, "usd"), 96000.25);
  assert.equal(parsePrice({ bitcoin: { usd: 1 } }, "eur"), undefined);
  assert.equal(parsePrice({ USD: -1 }, "usd"), undefined);
  assert.equal(parsePrice([97000], "usd"), undefined);
});

Deno.test("price feed: fetched once, kept 30 min, the old quote kept when a refresh fails", async () => {
  let answer: () => Response = () => Response.json({ bitcoin: { usd: 100_000 } });
  let requests = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    requests++;
    return answer();
  });
  try {
    let now = 5_000_000;
    const errors: unknown[] = [];
    const feed = new PriceFeed({
      url: `http://127.0.0.1:${server.addr.port}/`,
      currency: "usd",
      now: () => now,
      onError: (e) => errors.push(e),
    });
    assert.equal(feed.quote(), undefined, "nothing yet; a fetch starts");
    await feed.refresh(); // joins the fetch in flight
    assert.equal(requests, 1);
    assert.deepEqual(feed.quote(), { price: 100_000, currency: "USD", updatedAt: 5_000_000 });
    now += 29 * 60_000;
    feed.quote();
    await feed.refresh();
    assert.equal(requests, 2, "refresh() always asks; quote() did not");
    answer = () => new Response("busy", { status: 503 });
    now += 31 * 60_000;
    assert.equal(feed.quote()!.price, 100_000, "the old quote while the refresh runs");
    await feed.refresh();
    assert.equal(requests, 3);
    assert.equal(feed.quote()!.price, 100_000, "kept after the failure");
    assert.match(String(errors[0]), /HTTP 503/);
    await feed.refresh();
    assert.equal(requests, 4);
    feed.quote();
    assert.equal(requests, 4, "no retry within a minute of a failed attempt");
  } finally {
    await server.shutdown();
  }
});
