import assert from "node:assert/strict";
import { LatencyHistogram, type MetricsSnapshot, renderPrometheus } from "../lib/status/metrics.ts";
import { type SystemProbe, SystemSampler } from "../lib/status/system.ts";
import { createMetricsRoutes, PROMETHEUS_CONTENT_TYPE } from "../routes/metrics.ts";

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
  await new Promise((r) => setTimeout(r, 20));
  const m = sampler.sample();
  assert.ok(m.uptimeNs > 0);
  assert.ok(m.rssBytes > 1_000_000);
  assert.ok(m.heapUsedBytes > 0 && m.heapReservedBytes >= m.heapUsedBytes);
  assert.ok(m.memTotalBytes >= m.memAvailableBytes && m.memAvailableBytes > 0);
  assert.ok(m.cpuPercent >= 0);
  assert.ok(m.activeResources >= 0);
  assert.equal(m.load.length, 3);
});
