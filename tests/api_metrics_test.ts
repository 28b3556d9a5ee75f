import assert from "node:assert/strict";
import { FANOUT_BUCKETS, LatencyHistogram } from "../lib/histogram.ts";
import {
  type MetricsSnapshot,
  parsePrometheus,
  PrometheusFormatError,
  renderPrometheus,
} from "../lib/status/metrics.ts";
import { type SystemProbe, SystemSampler } from "../lib/status/system.ts";
import { createMetricsRoutes, PROMETHEUS_CONTENT_TYPE } from "../routes/metrics.ts";
import { LatencyStats, RPC_LATENCY_BUCKETS } from "../lib/node/latency.ts";
import { BlockSubmitter } from "../lib/pool/blocks.ts";
import { TipState } from "../lib/pool/tips.ts";
import { StratumServer } from "../stratum/server.ts";
import {
  makeJob,
  prevhashOf,
  RecordingBlockSink,
  resolveRegtestPayout,
  TestJobSource,
  TestMiner,
} from "../stratum/testing.ts";
import { InlineShareChecker } from "../lib/shares/check.ts";
import { sleep } from "./helpers/wait.ts";

function snapshot(): MetricsSnapshot {
  const gbt = new LatencyHistogram([0.01, 0.1, 1]);
  for (const s of [0.005, 0.02, 0.05, 2]) gbt.observe(s);
  return {
    sharesByResult: { accepted: 120, stale: 3, low_difficulty: 2 },
    blocksByResult: { accepted: 1 },
    connectionsByTransport: { tcp: 4, tls: 1 },
    hashChecks: 125,
    hashChecksPerSecond: 2.5,
    poolHashrate: 1.5e12,
    rpcLatency: { getblocktemplate: gbt.snapshot() },
  };
}

Deno.test("a latency histogram is cumulative and ignores nonsense", () => {
  const h = new LatencyHistogram([0.01, 0.1]);
  for (const s of [0.001, 0.01, 0.05, 5, -1, NaN]) h.observe(s);
  assert.deepEqual(h.snapshot(), {
    buckets: [{ le: 0.01, count: 2 }, { le: 0.1, count: 3 }],
    sum: 5.061,
    count: 4,
  });
});

Deno.test("Prometheus text: families with HELP/TYPE, labelled samples, histograms", () => {
  const text = renderPrometheus(snapshot());
  const lines = text.trimEnd().split("\n");
  for (
    const expected of [
      "# TYPE denopool_shares_total counter",
      'denopool_shares_total{result="accepted"} 120',
      'denopool_shares_total{result="low_difficulty"} 2',
      'denopool_blocks_total{result="accepted"} 1',
      "# TYPE denopool_connections gauge",
      'denopool_connections{transport="tls"} 1',
      "denopool_hash_checks_total 125",
      "denopool_hash_checks_per_second 2.5",
      "denopool_pool_hashrate 1500000000000",
      "# TYPE denopool_rpc_latency_seconds histogram",
      'denopool_rpc_latency_seconds_bucket{method="getblocktemplate",le="0.01"} 1',
      'denopool_rpc_latency_seconds_bucket{method="getblocktemplate",le="0.1"} 3',
      'denopool_rpc_latency_seconds_bucket{method="getblocktemplate",le="1"} 3',
      'denopool_rpc_latency_seconds_bucket{method="getblocktemplate",le="+Inf"} 4',
      'denopool_rpc_latency_seconds_sum{method="getblocktemplate"} 2.075',
      'denopool_rpc_latency_seconds_count{method="getblocktemplate"} 4',
    ]
  ) {
    assert.ok(lines.includes(expected), expected);
  }
  assert.ok(text.endsWith("\n"));
  assert.ok(!text.includes("notify_fanout"), "absent histogram is not made up");
  // Every sample line is `name{labels} value` with a number value.
  for (const line of lines.filter((l) => !l.startsWith("#"))) {
    assert.match(line, /^[a-z_]+(\{[^}]*\})? (-?[\d.e+]+|\+Inf|NaN)$/, line);
  }
});

Deno.test("label values are escaped", () => {
  const text = renderPrometheus({
    ...snapshot(),
    sharesByResult: { 'we"ird\\\n': 1 },
  });
  assert.ok(text.includes('denopool_shares_total{result="we\\"ird\\\\\\n"} 1'));
});

Deno.test("GET /metrics serves the text format; other methods get 405", async () => {
  const app = createMetricsRoutes({ metrics: snapshot });
  const res = await app.request("/metrics");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), PROMETHEUS_CONTENT_TYPE);
  assert.match(await res.text(), /^denopool_hash_checks_total 125$/m);
  const post = await app.request("/metrics", { method: "POST" });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET, HEAD");
  assert.equal((await app.request("/api/overview")).status, 404);
});

function fakeProbe(): SystemProbe & { wall: number; cpu: number } {
  return {
    wall: 1_000,
    cpu: 0,
    monotonicMs() {
      return this.wall;
    },
    cpuMicros() {
      return this.cpu;
    },
    activeResources: () => 7,
    memory: () => ({ rss: 100, heapTotal: 40, heapUsed: 30, external: 5 }),
    systemMemory: () => ({ total: 1000, available: 250 }),
    loadavg: () => [1, 2, 3],
  };
}

Deno.test("system sampler: uptime, CPU percent between samples, memory names", () => {
  const probe = fakeProbe();
  const sampler = new SystemSampler(probe, 0);
  probe.wall = 3_000; // 2 s later
  probe.cpu = 500_000; // 0.5 s of CPU
  const m = sampler.sample();
  assert.equal(m.uptimeNs, 3_000_000_000);
  assert.equal(m.cpuPercent, 25);
  assert.equal(m.activeResources, 7);
  assert.equal(m.heapUsedBytes, 30);
  assert.equal(m.heapReservedBytes, 45);
  assert.equal(m.rssBytes, 100);
  assert.equal(m.memAvailableBytes, 250);
  assert.deepEqual(m.load, [1, 2, 3]);
  // No time passed: no CPU percent to compute.
  assert.equal(sampler.sample().cpuPercent, 0);
});

Deno.test("system sampler on this process gives plausible numbers", async () => {
  const sampler = new SystemSampler();
  await sleep(20);
  const m = sampler.sample();
  assert.ok(m.uptimeNs > 0);
  assert.ok(m.rssBytes > 1_000_000);
  assert.ok(m.heapUsedBytes > 0 && m.heapReservedBytes >= m.heapUsedBytes);
  assert.ok(m.memTotalBytes >= m.memAvailableBytes && m.memAvailableBytes > 0);
  assert.ok(m.cpuPercent >= 0);
  assert.ok(m.activeResources >= 0);
  assert.equal(m.load.length, 3);
});

/** Every optional series filled in, as a live pool fills them. */
function fullSnapshot(): MetricsSnapshot {
  const fanout = new LatencyHistogram(FANOUT_BUCKETS);
  for (const s of [0.00003, 0.0004, 0.03]) fanout.observe(s);
  const rpc = new LatencyStats();
  for (const s of [0.002, 0.004, 0.3]) rpc.record("getblocktemplate", s);
  rpc.record("submitblock", 0.05);
  return {
    ...snapshot(),
    sharesByResult: { accepted: 9, stale: 1, low_difficulty: 0, duplicate: 2, invalid: 0 },
    blocksByResult: { accepted: 1, rejected: 0, stale: 1, pending: 0 },
    authorizedConnections: 3,
    connectionsRefused: { capacity: 0, "ip-limit": 2 },
    rpcLatency: {
      getblocktemplate: rpc.histogram("getblocktemplate"),
      submitblock: rpc.histogram("submitblock"),
    },
    fanoutLatency: fanout.snapshot(),
    journalErrors: 0,
  };
}

Deno.test("the full exposition reads back: every family announced, histograms consistent", () => {
  const families = parsePrometheus(renderPrometheus(fullSnapshot()));
  const value = (family: string, name: string, labels: Record<string, string> = {}) =>
    families.get(family)?.samples.find((s) =>
      s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)
    )?.value;
  assert.equal(families.get("denopool_shares_total")?.type, "counter");
  assert.equal(value("denopool_shares_total", "denopool_shares_total", { result: "duplicate" }), 2);
  assert.equal(value("denopool_blocks_total", "denopool_blocks_total", { result: "stale" }), 1);
  assert.equal(families.get("denopool_connections_authorized")?.type, "gauge");
  assert.equal(value("denopool_connections_authorized", "denopool_connections_authorized"), 3);
  assert.equal(
    value("denopool_connections_refused_total", "denopool_connections_refused_total", {
      reason: "ip-limit",
    }),
    2,
  );
  const rpc = "denopool_rpc_latency_seconds";
  assert.equal(families.get(rpc)?.type, "histogram");
  assert.equal(value(rpc, `${rpc}_count`, { method: "getblocktemplate" }), 3);
  assert.equal(value(rpc, `${rpc}_bucket`, { method: "getblocktemplate", le: "0.005" }), 2);
  assert.equal(value(rpc, `${rpc}_bucket`, { method: "getblocktemplate", le: "+Inf" }), 3);
  assert.equal(value(rpc, `${rpc}_count`, { method: "submitblock" }), 1);
  assert.equal(value(rpc, `${rpc}_sum`, { method: "submitblock" }), 0.05);
  const fanout = "denopool_notify_fanout_seconds";
  assert.equal(value(fanout, `${fanout}_bucket`, { le: "0.0001" }), 1);
  assert.equal(value(fanout, `${fanout}_bucket`, { le: "0.0005" }), 2);
  assert.equal(value(fanout, `${fanout}_count`), 3);
  assert.equal(
    value("denopool_block_journal_errors_total", "denopool_block_journal_errors_total"),
    0,
  );
});

Deno.test("the reader refuses what a scraper would choke on", () => {
  const ok = "# HELP a_total A.\n# TYPE a_total counter\na_total 1\n";
  assert.equal(parsePrometheus(ok).get("a_total")?.samples[0].value, 1);
  const histogram = (lines: string[]) =>
    `# HELP h H.\n# TYPE h histogram\n${lines.join("\n")}\nh_sum 1\nh_count 2\n`;
  assert.equal(
    parsePrometheus(histogram(['h_bucket{le="1"} 1', 'h_bucket{le="+Inf"} 2'])).size,
    1,
  );
  for (
    const [text, reason] of [
      ["a_total 1\n", /no HELP\/TYPE/],
      ["# TYPE a counter\na 1\n", /without HELP/],
      ["# HELP a A.\n# TYPE a counter\n# TYPE a counter\n", /twice/],
      ["# HELP a A.\n# TYPE a countr\n", /unknown type/],
      ['# HELP a A.\n# TYPE a gauge\na{x="1"} 1\na{x="1"} 2\n', /twice/],
      ["# HELP a A.\n# TYPE a gauge\na{x=1} 1\n", /malformed labels/],
      ['# HELP a A.\n# TYPE a gauge\na{x="a"b"} 1\n', /malformed labels/],
      ["# HELP a A.\n# TYPE a gauge\na one\n", /bad value/],
      ["# HELP a A.\n# TYPE a gauge\na 1", /final newline/],
      ["# HELP a A.\n# TYPE a gauge\na_sum 1\n", /no HELP\/TYPE/],
      [histogram(['h_bucket{le="1"} 2', 'h_bucket{le="+Inf"} 1']), /not cumulative/],
      [histogram(['h_bucket{le="1"} 1', 'h_bucket{le="+Inf"} 3']), /≠ _count/],
      [histogram(['h_bucket{le="1"} 1']), /no \+Inf bucket/],
      [
        histogram(['h_bucket{le="2"} 1', 'h_bucket{le="1"} 1', 'h_bucket{le="+Inf"} 2']),
        /ascending/,
      ],
    ] as const
  ) {
    assert.throws(() => parsePrometheus(text), (e: unknown) => {
      assert.ok(e instanceof PrometheusFormatError, String(e));
      assert.match(e.message, reason, text);
      return true;
    });
  }
});

Deno.test("RPC latency: an all-time cumulative histogram per method beside the rolling window", () => {
  const stats = new LatencyStats({ histogramBuckets: [0.01, 0.1, 1] });
  for (const s of [0.005, 0.05, 0.05, 3, -1, NaN]) stats.record("getblocktemplate", s);
  stats.record("submitblock", 0.2);
  assert.deepEqual(stats.histogram("getblocktemplate"), {
    buckets: [{ le: 0.01, count: 1 }, { le: 0.1, count: 3 }, { le: 1, count: 3 }],
    sum: 3.105,
    count: 4,
  });
  assert.deepEqual(stats.methods(), ["getblocktemplate", "submitblock"]);
  assert.equal(stats.histogram("submitblock").buckets[2].count, 1);
  // A method never called has a true zero histogram with the same bounds.
  const never = stats.histogram("getblockheader");
  assert.deepEqual(never.buckets.map((b) => b.count), [0, 0, 0]);
  assert.deepEqual([never.sum, never.count], [0, 0]);
  assert.equal(new LatencyStats().histogram("x").buckets.length, RPC_LATENCY_BUCKETS.length);
  // The window figures are unchanged by the histogram.
  assert.equal(stats.snapshot("getblocktemplate").count, 4);
});

Deno.test("fan-out latency: one observation per new job that reaches connections", async () => {
  const jobs = new TestJobSource();
  jobs.publish(makeJob({ seq: 1, prevhash: prevhashOf(1) }));
  const server = new StratumServer({
    hostname: "127.0.0.1",
    port: 0,
    jobs,
    checker: new InlineShareChecker("ts"),
    blocks: new RecordingBlockSink(),
    resolvePayout: resolveRegtestPayout,
    initialWorkDelayMs: 1,
    log: () => {},
  });
  server.start();
  const miners: TestMiner[] = [];
  try {
    // No connection: nothing is fanned out, nothing is observed.
    jobs.publish(makeJob({ seq: 2, prevhash: prevhashOf(2) }));
    await Promise.resolve();
    assert.equal(server.fanoutLatency().count, 0);
    for (let i = 0; i < 3; i++) {
      const miner = await TestMiner.connect(server.port!);
      miners.push(miner);
      await miner.handshake();
    }
    const from = miners.map((m) => m.received.length);
    jobs.publish(makeJob({ seq: 3, prevhash: prevhashOf(3) }));
    await Promise.all(miners.map((m, i) => m.notification("mining.notify", from[i])));
    const h = server.fanoutLatency();
    assert.equal(h.count, 1);
    assert.ok(h.sum > 0);
    assert.deepEqual(h.buckets.map((b) => b.le), FANOUT_BUCKETS);
    assert.ok(h.buckets.at(-1)!.count <= 1);
  } finally {
    for (const m of miners) m.close();
    await server.stop();
  }
});

Deno.test("block journal: a directory that cannot exist is an error kept, not a crash", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denopool-journal-" });
  try {
    // Its parent is a regular file: no mkdir can make it, not even as root.
    await Deno.writeTextFile(`${dir}/file`, "");
    const submitter = new BlockSubmitter({
      rpc: { call: () => Promise.reject(new Error("the node is not asked")) },
      journalDir: `${dir}/file/blocks`,
      tips: new TipState(),
      now: () => 1_700_000_000_000,
    });
    assert.deepEqual(await submitter.recover(), []);
    const error = submitter.journalError;
    assert.ok(error);
    assert.equal(error.at, 1_700_000_000_000);
    assert.match(error.message, /^cannot (create|read) the block journal/);
    assert.ok(!error.message.includes(dir), `no path in ${error.message}`);
    assert.equal(submitter.journalErrors, 2, "the directory, then reading it");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
