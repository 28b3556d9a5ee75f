import assert from "node:assert/strict";
import {
  emptyStatusData,
  memorySources,
  sampleStatusData,
  type StatusData,
} from "../lib/status/memory.ts";
import {
  FoundBlockViewSchema,
  NodePageDataSchema,
  OverviewPageDataSchema,
  PoolHashrateResponseSchema,
  PoolPageDataSchema,
  ServerPageDataSchema,
  validate,
} from "../lib/status/schemas.ts";
import type { StatusStatic } from "../lib/status/sources.ts";
import type { SystemMetrics } from "../lib/status/system.ts";
import {
  blockTimeLeft,
  buildFoundBlock,
  buildNode,
  buildOverview,
  buildPoolHashrate,
  buildPoolPage,
  buildServer,
  humanDuration,
  minerTypes,
  rfc3339,
} from "../lib/status/views.ts";

const NOW = Date.UTC(2026, 0, 31, 19, 55, 2, 500);
const STATICS: StatusStatic = {
  poolTag: "/denopool/",
  genesisExpected: "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
  peerCleanup: { enabled: true, maxPingMs: 250, minPeers: 4 },
  retargetInterval: 2016,
  targetSpacingSec: 600,
};
const SYSTEM: SystemMetrics = {
  uptimeNs: 3_600_000_000_000,
  activeResources: 12,
  cpuPercent: 3.5,
  heapUsedBytes: 10_000_000,
  heapReservedBytes: 20_000_000,
  rssBytes: 80_000_000,
  memTotalBytes: 8_000_000_000,
  memAvailableBytes: 6_000_000_000,
  load: [0.5, 0.25, 0.125],
};

function sample(): StatusData {
  return sampleStatusData(NOW);
}

Deno.test("rfc3339 drops milliseconds and uses Z", () => {
  assert.equal(rfc3339(NOW), "2026-01-31T19:55:02Z");
});

Deno.test("overview: counts every authorized connection and the TLS ones", () => {
  const view = buildOverview(memorySources(sample()), STATICS, NOW);
  assert.deepEqual(validate(OverviewPageDataSchema, view), []);
  assert.equal(view.active_miners, 7);
  assert.equal(view.active_tls_miners, 3);
  assert.equal(view.pool_tag, "/denopool/");
  assert.equal(view.pool_hashrate, 2.5e12);
  assert.equal(view.shares_per_minute, 42.5);
  assert.equal(view.btc_price_fiat, 97_123.45);
  assert.equal(view.fiat_currency, "USD");
  assert.equal(view.btc_price_updated_at, "2026-01-31T19:54:02Z");
});

Deno.test("overview: recent work lists workers with a share in the last 30 min, fastest first", () => {
  const view = buildOverview(memorySources(sample()), STATICS, NOW);
  // idle (45 min ago) and fresh (no share yet) are left out.
  assert.equal(view.workers.length, 5);
  const rates = view.workers.map((w) => w.rolling_hashrate);
  assert.deepEqual(rates, [...rates].sort((a, b) => b - a));
  assert.deepEqual(view.workers[0], {
    name: "bc1qar0s...zzwf5mdq.rig1",
    display_name: "bc1qar0s...zzwf5mdq.rig1",
    rolling_hashrate: 1e12,
    hashrate_accuracy: "~",
    difficulty: 2048,
    vardiff: 4096,
    share_rate: 12.5,
    accepted: 100,
    connection_id: "c0",
  });
  assert.equal(view.workers[1].hashrate_accuracy, "≈");
  assert.ok(!("hashrate_accuracy" in view.workers[2]), "stable → omitted");
});

Deno.test("overview: only bans still in force, censored, with reasons censored", () => {
  const view = buildOverview(memorySources(sample()), STATICS, NOW);
  assert.deepEqual(view.banned_workers, [
    {
      name: "bc1qar0s...zzwf5mdq.bad",
      display_name: "bc1qar0s...zzwf5mdq.bad",
      banned: true,
      banned_until: "2026-01-31T20:05:02Z",
      ban_reason: "too many invalid shares from bc1qar0s...zzwf5mdq",
    },
    {
      name: "1BvBMSEY...7xJaNVN2.forever",
      display_name: "1BvBMSEY...7xJaNVN2.forever",
      banned: true,
    },
  ]);
});

Deno.test("overview: best shares are censored; hash fields only when the hash is known", () => {
  const view = buildOverview(memorySources(sample()), STATICS, NOW);
  assert.deepEqual(view.best_shares[0], {
    worker: "bc1qar0s...zzwf5mdq.rig1",
    difficulty: 5.5e9,
    timestamp: "2026-01-31T18:55:02Z",
    display_worker: "bc1qar0s...zzwf5mdq.rig1",
    hash: "...0000000100000001",
    display_hash: "...0000000100000001",
  });
  assert.ok(!("hash" in view.best_shares[1]) && !("display_hash" in view.best_shares[1]));
});

Deno.test("overview: list limits hold", () => {
  const data = sample();
  data.workers = Array.from(
    { length: 40 },
    (_, i) => ({ ...data.workers[0], connectionId: `x${i}` }),
  );
  data.bannedWorkers = Array.from({ length: 40 }, () => ({ name: "a.b" }));
  data.bestShares = Array.from({ length: 40 }, () => data.bestShares[0]);
  const view = buildOverview(memorySources(data), STATICS, NOW);
  assert.equal(view.active_miners, 40);
  assert.equal(view.workers.length, 15);
  assert.equal(view.banned_workers.length, 25);
  assert.equal(view.best_shares.length, 12);
});

Deno.test("overview: miner types group user agents by software and version", () => {
  assert.deepEqual(
    minerTypes(["cgminer/4.12.1", "cgminer/4.12.1", "cgminer/4.11.0", "NerdMiner", undefined, ""]),
    [
      {
        name: "cgminer",
        total_workers: 3,
        versions: [{ version: "4.12.1", workers: 2 }, { version: "4.11.0", workers: 1 }],
      },
      { name: "NerdMiner", total_workers: 1, versions: [{ workers: 1 }] },
    ],
  );
});

Deno.test("overview of an idle pool omits what is not measured", () => {
  const view = buildOverview(
    memorySources(emptyStatusData()),
    { ...STATICS, poolTag: undefined },
    NOW,
  );
  assert.deepEqual(validate(OverviewPageDataSchema, view), []);
  for (
    const key of [
      "shares_per_minute",
      "pool_hashrate",
      "pool_tag",
      "btc_price_fiat",
      "fiat_currency",
    ]
  ) {
    assert.ok(!(key in view), key);
  }
  assert.deepEqual(view.workers, []);
});

Deno.test("pool page: counters, latencies and the last 6 errors, censored", () => {
  const data = sample();
  const page = buildPoolPage(memorySources(data));
  assert.deepEqual(validate(PoolPageDataSchema, page), []);
  assert.equal(page.blocks_accepted, 2);
  assert.equal(page.rpc_gbt_count, 1234);
  assert.deepEqual(page.error_history, [
    {
      at: "2026-01-31T19:54:02Z",
      type: "submit",
      message: "block from bc1qar0s...zzwf5mdq.rig1 rejected: bad-txns",
    },
    { type: "rpc", message: "payout to 1BvBMSEY...7xJaNVN2 failed retrying" },
  ]);
  data.poolErrors = Array.from({ length: 10 }, (_, i) => ({ type: "rpc", message: `e${i}` }));
  assert.equal(buildPoolPage(memorySources(data)).error_history?.length, 6);
  data.poolErrors = [];
  assert.ok(!("error_history" in buildPoolPage(memorySources(data))));
});

Deno.test("node: facts, peers and the genesis check", async () => {
  const data = sample();
  const page = buildNode(await memorySources(data).nodeInfo(), STATICS);
  assert.deepEqual(validate(NodePageDataSchema, page), []);
  assert.equal(page.node_network, "main");
  assert.equal(page.node_connections_in + page.node_connections_out, page.node_connections);
  assert.equal(page.genesis_match, true);
  assert.equal(page.node_peer_cleanup_max_ping_ms, 250);
  assert.deepEqual(page.node_peers?.[0], {
    display: "203.0.113.5:8333",
    ping_ms: 23.5,
    connected_at: Math.floor(NOW / 1000) - 3600,
  });
  const regtestNode = buildNode(await memorySources(data).nodeInfo(), {
    ...STATICS,
    genesisExpected: "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206",
  });
  assert.equal(regtestNode.genesis_match, false);
  const unknown = buildNode(await memorySources(data).nodeInfo(), {
    ...STATICS,
    genesisExpected: undefined,
  });
  assert.equal(unknown.genesis_match, false);
  assert.ok(!("genesis_expected" in unknown));
});

Deno.test("server: process metrics under the contract's names, job feed from the tip", () => {
  const page = buildServer(memorySources(sample()), SYSTEM);
  assert.deepEqual(validate(ServerPageDataSchema, page), []);
  assert.equal(page.uptime, 3_600_000_000_000);
  assert.equal(page.process_goroutines, 12);
  assert.equal(page.go_mem_alloc_bytes, 10_000_000);
  assert.equal(page.system_mem_used_bytes, 2_000_000_000);
  assert.equal(page.system_load15, 0.125);
  assert.equal(page.rpc_error, "timeout paying bc1qar0s...zzwf5mdq");
  assert.equal(page.job_feed.block_height, 880_000);
  assert.equal(page.job_feed.block_bits, "17027726");
  assert.equal(page.job_feed.block_time, "2026-01-31T19:48:02Z");
  assert.equal(page.job_feed.last_raw_block_bytes, 1_650_000);
  assert.deepEqual(Object.keys(page).slice(0, 4), [
    "api_version",
    "uptime",
    "rpc_error",
    "rpc_healthy",
  ]);
});

Deno.test("server before the first tip has no block fields", () => {
  const page = buildServer(memorySources(emptyStatusData()), SYSTEM);
  assert.deepEqual(validate(ServerPageDataSchema, page), []);
  assert.deepEqual(page.job_feed, { zmq_healthy: false, zmq_disconnects: 0, zmq_reconnects: 0 });
  assert.ok(!("rpc_error" in page));
});

Deno.test("pool hashrate: block timer, recent times, next retarget, template", () => {
  const view = buildPoolHashrate(memorySources(sample()), STATICS, NOW);
  assert.deepEqual(validate(PoolHashrateResponseSchema, view), []);
  assert.equal(view.pool_hashrate, 2.5e12);
  assert.equal(view.block_height, 880_000);
  // Tip 420 s old (plus the 0.5 s of NOW) → 600 − 420.5 = 179.5 → 180.
  assert.equal(view.block_time_left_sec, 180);
  assert.equal(view.recent_block_times[0], "2026-01-31T19:48:02Z");
  assert.equal(view.recent_block_times.length, 4);
  // 880000 = 436 × 2016 + 1024 → next at 437 × 2016 = 880992, 992 blocks = 6 days 21 hours 20 min.
  assert.deepEqual(view.next_difficulty_retarget, {
    height: 880_992,
    blocks_away: 992,
    duration_estimate: "6 days 21 hours",
  });
  assert.equal(view.template_tx_fees_sats, 2_345_678);
  assert.equal(view.updated_at, "2026-01-31T19:55:02Z");
  assert.ok(!("pool_hashrate_history" in view));
});

Deno.test("pool hashrate history is added only when asked", () => {
  const view = buildPoolHashrate(memorySources(sample()), STATICS, NOW, [
    { at: NOW - 5000, hashrate: 1e12, blockHeight: 880_000 },
    { at: NOW, hashrate: 2e12 },
  ]);
  assert.deepEqual(validate(PoolHashrateResponseSchema, view), []);
  assert.deepEqual(view.pool_hashrate_history, [
    { at: "2026-01-31T19:54:57Z", hashrate: 1e12, block_height: 880_000 },
    { at: "2026-01-31T19:55:02Z", hashrate: 2e12 },
  ]);
  assert.deepEqual(Object.keys(view).slice(0, 3), [
    "api_version",
    "pool_hashrate",
    "pool_hashrate_history",
  ]);
});

Deno.test("pool hashrate before the first tip: timer not started, no retarget", () => {
  const view = buildPoolHashrate(memorySources(emptyStatusData()), STATICS, NOW);
  assert.deepEqual(validate(PoolHashrateResponseSchema, view), []);
  assert.equal(view.block_time_left_sec, -1);
  assert.deepEqual(view.recent_block_times, []);
  assert.ok(!("next_difficulty_retarget" in view) && !("template_updated_at" in view));
});

Deno.test("the block timer counts down and goes negative when overdue", () => {
  const tip = { hash: "", height: 1, time: 1_000_000, bits: "", difficulty: 1, recentTimes: [] };
  assert.equal(blockTimeLeft(undefined, 0, 600), -1);
  assert.equal(blockTimeLeft(tip, 1_000_000_000, 600), 600);
  assert.equal(blockTimeLeft(tip, 1_000_599_001, 600), 1);
  assert.equal(blockTimeLeft(tip, 1_000_700_000, 600), -100);
});

Deno.test("a retarget boundary tip points at the next interval", () => {
  const data = sample();
  data.tip = { ...data.tip!, height: 2016 * 400 };
  const view = buildPoolHashrate(memorySources(data), STATICS, NOW);
  assert.equal(view.next_difficulty_retarget?.blocks_away, 2016);
  assert.equal(view.next_difficulty_retarget?.duration_estimate, "14 days");
  const noRetarget = buildPoolHashrate(
    memorySources(data),
    { ...STATICS, retargetInterval: 0 },
    NOW,
  );
  assert.ok(!("next_difficulty_retarget" in noRetarget));
});

Deno.test("humanDuration shows the two largest adjacent units", () => {
  assert.equal(humanDuration(0), "0 seconds");
  assert.equal(humanDuration(600), "10 minutes");
  assert.equal(humanDuration(3600 + 600), "1 hour 10 minutes");
  assert.equal(humanDuration(86_400 + 300), "1 day");
  assert.equal(humanDuration(9 * 86_400 + 8 * 3600 + 59), "9 days 8 hours");
});

Deno.test("found blocks: censored, with standing derived from confirmations", () => {
  const blocks = sample().foundBlocks.map(buildFoundBlock);
  for (const b of blocks) assert.deepEqual(validate(FoundBlockViewSchema, b), []);
  assert.deepEqual(blocks[0], {
    height: 879_990,
    hash: "...000d6d76000d6d76",
    display_hash: "...000d6d76000d6d76",
    worker: "bc1qar0s...zzwf5mdq.rig1",
    display_worker: "bc1qar0s...zzwf5mdq.rig1",
    timestamp: "2026-01-30T19:55:02Z",
    share_diff: 1.2e14,
    worker_payout_sats: 309_375_000,
    confirmations: 0,
    result: "possible",
  });
  assert.equal(blocks[1].result, "stale");
  assert.ok(!("confirmations" in blocks[2]) && !("result" in blocks[2]));
  assert.equal(blocks[3].result, "winning");
  assert.equal(blocks[3].confirmations, 432);
});
