/**
 * The overview snapshot built straight from the worker registry: the live pool summarises its
 * workers in one pass (counts, the top recent workers, workers per user agent) instead of a
 * `LiveWorker` per connection, and the result is exactly what the generic path makes from
 * `workers()`. Also the pieces that make it cheap: the top-N selection, the registry's one-pass
 * rates and totals, miner types from counts per agent.
 */

import assert from "node:assert/strict";
import { CONFIG_DEFAULTS } from "../lib/config/schema.ts";
import type { Config } from "../lib/config/schema.ts";
import { BanList } from "../lib/pool/bans.ts";
import { LiveStatusSources, type StatusParts, statusStaticFrom } from "../app/status_sources.ts";
import { REJECT_REASONS, WorkerRegistry, WorkerStats } from "../lib/pool/worker_stats.ts";
import type { StatusSources } from "../lib/status/sources.ts";
import {
  buildOverview,
  DEFAULT_LIMITS,
  minerTypes,
  minerTypesOf,
  TopN,
  workerOverview,
} from "../lib/status/views.ts";

const NOW = Date.UTC(2026, 0, 31, 19, 55, 2);
const ADDRESS = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq";

/** A worker connected an hour ago with `shares` accepted shares at `difficulty`, the last at `last`. */
function worker(
  id: number,
  options: { shares?: number; difficulty?: number; last?: number; agent?: string; tls?: boolean },
): WorkerStats {
  const w = new WorkerStats(`c${id}`, "127.0.0.1", options.tls ?? false, NOW - 3_600_000);
  w.name = `${ADDRESS}.rig${id}`;
  w.userAgent = options.agent ?? "";
  w.difficulty = options.difficulty ?? 1;
  const shares = options.shares ?? 0;
  for (let s = shares - 1; s >= 0; s--) {
    w.noteAccepted(w.difficulty, w.difficulty, (options.last ?? NOW) - s * 10_000);
  }
  return w;
}

/**
 * Live status sources over `registry` and `bans`. The status reads only these members of the
 * pool's parts (config, RPC health and latency, feed status, block records, registry, bans), so
 * the rest of each class is left out.
 */
function liveSources(registry: WorkerRegistry, bans = new BanList()): LiveStatusSources {
  const parts = {
    config: { ...CONFIG_DEFAULTS, secrets: {}, files: {} } as unknown as Config,
    rpc: {
      latency: { snapshot: () => ({}), methods: () => [], histogram: () => ({}) },
      health: { rpcHealthy: true, errors: 0, disconnects: 0, reconnects: 0 },
    },
    feed: { status: () => ({ errorHistory: [] }) },
    blocks: { records: () => [], journalErrors: 0 },
    stratum: { registry, bans },
  } as unknown as StatusParts;
  return new LiveStatusSources(parts, { now: () => NOW });
}

/** The same sources without their own `workerOverview`: the generic path over `workers()`. */
function generic(sources: StatusSources): StatusSources {
  return {
    workers: () => sources.workers(),
    bannedWorkers: () => sources.bannedWorkers(),
    bestShares: () => sources.bestShares(),
    counters: () => sources.counters(),
    rpcStats: () => sources.rpcStats(),
    poolErrors: () => sources.poolErrors(),
    nodeInfo: () => sources.nodeInfo(),
    rpcHealth: () => sources.rpcHealth(),
    accountingError: () => sources.accountingError(),
    jobFeed: () => sources.jobFeed(),
    tip: () => sources.tip(),
    template: () => sources.template(),
    price: () => sources.price(),
    foundBlocks: (limit) => sources.foundBlocks(limit),
  };
}

/** 40 workers: ties in hashrate, stale ones, TLS ones, several agents, one not authorized. */
function mixedRegistry(): WorkerRegistry {
  const registry = new WorkerRegistry();
  const agents = ["cgminer/4.12.1", "cgminer/4.11.0", "NerdMiner/V1.6", "", "bitaxe"];
  for (let i = 0; i < 40; i++) {
    registry.add(worker(i, {
      shares: 10 + (i % 4), // ten workers of each share count: ties
      difficulty: 1 + (i % 3),
      // every fifth worker's last share is 31 minutes old: not recent
      last: i % 5 === 4 ? NOW - 31 * 60_000 : NOW - 1000,
      agent: agents[i % agents.length],
      tls: i % 3 === 0,
    }));
  }
  registry.add(new WorkerStats("anon", "127.0.0.1", true, NOW - 1000)); // connected, not authorized
  return registry;
}

Deno.test("top-N keeps the highest scores, highest first, and the first offered among equals", () => {
  const top = new TopN<string>(3);
  for (
    const [item, score] of [["a", 1], ["b", 5], ["c", 5], ["d", 2], ["e", 5], ["f", 9]] as const
  ) {
    top.offer(item, score);
  }
  assert.deepEqual(top.list(), ["f", "b", "c"], "e ties with the floor and came later: out");
  const none = new TopN<string>(0);
  none.offer("x", 1);
  assert.deepEqual(none.list(), []);
  const few = new TopN<number>(15);
  for (const n of [3, 1, 2]) few.offer(n, n);
  assert.deepEqual(few.list(), [3, 2, 1], "fewer than the limit: all, sorted");
});

Deno.test("top-N picks what a stable sort by score then a slice picks", () => {
  let seed = 7;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const scores = Array.from({ length: 500 }, () => Math.floor(random() * 40));
  const top = new TopN<number>(15);
  scores.forEach((score, i) => top.offer(i, score));
  const sorted = scores.map((score, i) => ({ i, score })).sort((a, b) => b.score - a.score);
  assert.deepEqual(top.list(), sorted.slice(0, 15).map((e) => e.i));
});

Deno.test("the live pool's overview of its workers equals the one made from workers()", () => {
  const sources = liveSources(mixedRegistry());
  const own = sources.workerOverview(NOW, DEFAULT_LIMITS);
  const fromList = workerOverview(sources.workers(), NOW, DEFAULT_LIMITS);
  assert.equal(own.active, 40, "the unauthorized connection is not a miner");
  assert.equal(own.activeTls, 14);
  assert.equal(own.recent.length, 15);
  assert.ok(own.recent.every((w) => NOW - w.lastShareAt! <= DEFAULT_LIMITS.recentWindowMs));
  assert.deepEqual(own.recent, fromList.recent);
  assert.deepEqual([...own.userAgents].sort(), [...fromList.userAgents].sort());
  assert.deepEqual([...own.names()].sort(), [...fromList.names()].sort());
  assert.equal(own.activeTls, fromList.activeTls);
});

Deno.test("overview: the same JSON whether the sources summarise their workers or not", () => {
  const registry = mixedRegistry();
  // A worker whose name is no address: only the list of live names can censor it in a ban reason.
  const secret = worker(99, { shares: 3 });
  secret.name = "operator-secret-username.rig";
  registry.add(secret);
  const bans = new BanList();
  bans.ban(
    `${ADDRESS}.bad`,
    "invalid shares; shares with operator-secret-username.rig",
    60_000,
    NOW,
  );
  bans.ban("ip:10.0.0.1", "churn", 60_000, NOW);
  const sources = liveSources(registry, bans);
  const statics = statusStaticFrom({ ...CONFIG_DEFAULTS } as unknown as Config);
  const own = buildOverview(sources, statics, NOW);
  assert.equal(JSON.stringify(own), JSON.stringify(buildOverview(generic(sources), statics, NOW)));
  assert.equal(own.banned_workers.length, 1, "IP bans are not public");
  assert.equal(
    own.banned_workers[0].ban_reason,
    "invalid shares; shares with operator...username.rig",
  );
  assert.deepEqual(
    own.miner_types?.map((t) => [t.name, t.total_workers]),
    [["cgminer", 16], ["bitaxe", 8], ["NerdMiner", 8]], // equal counts by name, as a reader sorts
  );
});

Deno.test("miner types from counts per agent equal those from one agent per worker", () => {
  const agents = ["cgminer/4.12.1", "cgminer/4.12.1", "cgminer/4.11.0", "NerdMiner", undefined, ""];
  const counts = new Map<string, number>();
  for (const a of agents) if (a !== undefined) counts.set(a, (counts.get(a) ?? 0) + 1);
  assert.deepEqual(minerTypesOf(counts), minerTypes(agents));
  // Twice: the second parse of each agent comes from the cache and must not differ.
  assert.deepEqual(minerTypesOf(counts), minerTypes(agents));
  // Distinct agents naming the same client and version add up.
  const same = new Map([["cgminer/4.12.1", 2], ["cgminer 4.12.1", 3]]);
  assert.deepEqual(minerTypesOf(same), [
    { name: "cgminer", total_workers: 5, versions: [{ version: "4.12.1", workers: 5 }] },
  ]);
});

Deno.test("registry rates in one pass equal the sums of each worker's getters", () => {
  const registry = mixedRegistry();
  const rates = registry.totalRates(NOW);
  let hashrate = 0;
  let sharesPerMinute = 0;
  for (const w of registry.stats()) {
    hashrate += w.hashrate(NOW);
    sharesPerMinute += w.sharesPerMinute(NOW);
  }
  assert.equal(rates.hashrate, hashrate);
  assert.equal(rates.sharesPerMinute, sharesPerMinute);
  assert.equal(rates.hashrate, registry.totalHashrate(NOW));
  assert.ok(rates.hashrate > 0);
  const fresh = new WorkerStats("x", "127.0.0.1", false, NOW);
  assert.deepEqual(fresh.ratesInto(NOW, { hashrate: 7, sharesPerMinute: 7 }), {
    hashrate: 0,
    sharesPerMinute: 0,
  });
});

Deno.test("registry totals count every reason, live and retired", () => {
  const registry = mixedRegistry();
  const w = registry.get("c1")!;
  REJECT_REASONS.forEach((reason, i) => {
    for (let k = 0; k <= i; k++) w.noteRejected(reason, NOW);
  });
  registry.get("c2")!.noteRejected("stale", NOW);
  registry.remove("c2");
  const totals = registry.totals();
  assert.deepEqual(totals.rejectedByReason, {
    "invalid": 1,
    "stale": 3,
    "duplicate": 3,
    "low-difficulty": 4,
    "unauthorized": 5,
    "not-subscribed": 6,
  });
  // 40 workers of 10..13 shares each: 10 of each count.
  assert.equal(totals.accepted, 10 * (10 + 11 + 12 + 13));
});
