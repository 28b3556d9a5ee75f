/**
 * The JSON API on a live pool: a real regtest node (bcoin), the whole pool started from a TOML
 * config, and two Stratum miners submitting real shares and a real block. Every endpoint's live
 * answer is checked against its schema and against what the node and the pool really hold; then
 * the headers and cadences, censoring, `limit`, errors, `--no-json`, `/metrics` and HTTPS.
 */

import assert from "node:assert/strict";
import { startRegtestNode } from "./helpers/regtest.ts";
import { startTestPool, type TestPool } from "./helpers/pool.ts";
import {
  connectMiner,
  regtestP2pkh,
  regtestP2wpkh,
  submitBlock,
  submitPlainShare,
} from "./helpers/miners.ts";
import { sleep, waitUntil } from "./helpers/wait.ts";
import type { StratumClient } from "../stratum/client.ts";
import { type EndpointPath, ENDPOINTS } from "../lib/status/endpoints.ts";
import { validate } from "../lib/status/schemas.ts";
import { blockSubsidy, NETWORKS } from "../lib/bitcoin/networks.ts";
import { censorWorker } from "../lib/status/censor.ts";
import { parsePrometheus, type PrometheusFamily } from "../lib/status/metrics.ts";
import { DASHBOARD_PATH, dashboardQueries, metricNames } from "./helpers/grafana.ts";

const regtest = NETWORKS.regtest;
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

/** Cadences short enough for a test, distinct so the headers show whose is whose (seconds). */
const CADENCE = {
  overview_refresh_seconds: 2,
  pool_page_refresh_seconds: 3,
  node_refresh_seconds: 1,
  server_refresh_seconds: 4,
  // Long on purpose: a new block must still show at once (early refresh on a new tip).
  pool_hashrate_refresh_seconds: 60,
  blocks_refresh_seconds: 1,
};
/**
 * Shares this easy (target clamped to 2^256 − 1) make half of all hashes plain shares and half
 * blocks (regtest's target is about 2^255), so the test can submit either at will. No vardiff: the
 * burst of shares must not raise it.
 */
const DIFFICULTY = { start: 1e-10, min: 1e-10, vardiff: false };
const CADENCE_BY_PATH: Record<string, number> = {
  "/api/overview": 2,
  "/api/pool-page": 3,
  "/api/node": 1,
  "/api/server": 4,
  "/api/pool-hashrate": 60,
  "/api/blocks": 1,
};

const minerA = `${regtestP2wpkh(7)}.rig1`;
const minerB = `${regtestP2pkh(9)}.garage`;

interface Fetched {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

async function get(base: string, path: string, init?: RequestInit): Promise<Fetched> {
  const res = await fetch(base + path, { redirect: "manual", ...init });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

function seconds(rfc: string | null): number {
  assert.match(rfc ?? "", RFC3339);
  return Date.parse(rfc!) / 1000;
}

Deno.test({
  name: "the JSON API of a live pool: schemas, real figures, cadence, censoring and errors",
  sanitizeOps: false, // bcoin keeps internal timers alive until its process-wide teardown
  sanitizeResources: false,
  async fn(t) {
    const node = await startRegtestNode();
    await node.mine(3); // four headers for recent_block_times
    let tp: TestPool | undefined;
    const clients: StratumClient[] = [];
    try {
      tp = await startTestPool(node, {
        status: CADENCE,
        difficulty: DIFFICULTY,
        server: { metrics_listen: "127.0.0.1:0" },
      });
      const pool = tp.pool;
      const base = `http://127.0.0.1:${pool.status.http!.port}`;

      const a = await connectMiner(tp.port, minerA, { agent: "cgminer/4.12.1" });
      const b = await connectMiner(tp.port, minerB, { agent: "bitaxe/BM1370/v2.9.0" });
      clients.push(a, b);
      for (let i = 0; i < 3; i++) {
        await submitPlainShare(a, minerA);
        await submitPlainShare(b, minerB);
      }
      const blockHash = await submitBlock(a, minerA);
      await waitUntil(() => tp!.blocks.length === 1, "the block record");
      const blockHeight = tp.blocks[0].height;
      assert.equal(await node.rpc("getbestblockhash"), blockHash);
      // Miners move on to the new tip; B disconnects, so its best share must outlive it.
      await a.waitFor("mining.notify", (m) => m.params[8] === true, 10_000);
      await submitPlainShare(a, minerA);
      b.close();
      await waitUntil(() => pool.stratum.registry.size === 1, "B's connection to close");
      // The new tip's headers arrive, then the snapshots rebuild on their own.
      await waitUntil(async () => {
        const body = JSON.parse((await get(base, "/api/pool-hashrate")).text);
        return body.block_height === blockHeight && body.recent_block_times.length === 4;
      }, "an early pool-hashrate rebuild on the new tip (its cadence is 60 s)");
      await pool.status.cache.refresh();

      const bodies = new Map<string, string>();
      const json = async (path: string) => {
        const res = await get(base, path);
        assert.equal(res.status, 200, `${path}: ${res.text}`);
        bodies.set(path, res.text);
        return JSON.parse(res.text);
      };

      await t.step("every endpoint's live answer matches its schema", async () => {
        for (const path of Object.keys(ENDPOINTS) as EndpointPath[]) {
          const body = await json(path);
          assert.deepEqual(validate(ENDPOINTS[path].schema, body), [], path);
        }
        const withHistory = await json("/api/pool-hashrate?include_history=1");
        assert.deepEqual(validate(ENDPOINTS["/api/pool-hashrate"].schema, withHistory), []);
      });

      await t.step(
        "overview: live workers, best shares across disconnects, miner types",
        async () => {
          const o = await json("/api/overview");
          assert.equal(o.active_miners, 1);
          assert.equal(o.active_tls_miners, 0);
          assert.deepEqual(o.workers.map((w: { name: string }) => w.name), [censorWorker(minerA)]);
          assert.equal(o.workers[0].accepted, 5, "3 shares, the block, 1 share after it");
          assert.ok(o.workers[0].rolling_hashrate > 0);
          assert.ok(o.pool_hashrate > 0);
          assert.ok(o.shares_per_minute > 0);
          const best = pool.stratum.registry.bestShares.list();
          assert.equal(best.length, 8, "7 shares and the block, B's among them after it left");
          assert.equal(o.best_shares.length, 8);
          assert.ok(best.some((s) => s.worker === minerB));
          assert.equal(best[0].hash, blockHash, "the block is the best share");
          assert.equal(o.best_shares[0].hash, "..." + blockHash.slice(-16));
          for (let i = 1; i < o.best_shares.length; i++) {
            assert.ok(o.best_shares[i - 1].difficulty >= o.best_shares[i].difficulty);
          }
          assert.deepEqual(o.miner_types, [
            { name: "cgminer", total_workers: 1, versions: [{ version: "4.12.1", workers: 1 }] },
          ]);
          assert.deepEqual(o.banned_workers, []);
          assert.equal("btc_price_fiat" in o, false, "no price without status.price_url");
        },
      );

      await t.step("pool page: RPC latency and counters from the running pool", async () => {
        const p = await json("/api/pool-page");
        assert.equal(p.blocks_accepted, 1);
        assert.equal(p.blocks_errored, 0);
        // The template after the block may come by longpoll (not timed: it waits by design).
        assert.ok(p.rpc_gbt_count >= 1, "at least the first template");
        assert.ok(
          pool.feed.status().templates >= 2,
          "the first template and the one after the block",
        );
        assert.ok(p.rpc_gbt_last_sec > 0 && p.rpc_gbt_max_sec >= p.rpc_gbt_last_sec);
        assert.ok(p.rpc_gbt_min_1h_sec <= p.rpc_gbt_avg_1h_sec);
        assert.ok(p.rpc_gbt_avg_1h_sec <= p.rpc_gbt_max_1h_sec);
        assert.equal(p.rpc_submit_count, 1);
        assert.ok(p.rpc_submit_last_sec > 0);
        assert.equal(p.share_errors, 0);
        assert.equal("error_history" in p, false, "nothing went wrong");
      });

      await t.step(
        "/metrics: every series from the running pool, in valid text format",
        async () => {
          const res = await get(`http://127.0.0.1:${pool.status.metrics!.port}`, "/metrics");
          assert.equal(res.status, 200);
          const families = parsePrometheus(res.text);
          const value = (family: string, suffix = "", labels: Record<string, string> = {}) => {
            const f: PrometheusFamily | undefined = families.get(`denopool_${family}`);
            assert.ok(f, `family ${family}`);
            const s = f.samples.find((s) =>
              s.name === f.name + suffix &&
              Object.entries(labels).every(([k, v]) => s.labels[k] === v)
            );
            assert.ok(s, `${family}${suffix} ${JSON.stringify(labels)}`);
            return s.value;
          };
          const registry = pool.stratum.registry.totals();
          // A: 3 shares, the block, 1 share after it; B: 3 shares before it left.
          assert.equal(value("shares_total", "", { result: "accepted" }), 8);
          assert.equal(registry.accepted, 8);
          for (const reason of ["stale", "low_difficulty", "duplicate", "invalid"]) {
            assert.equal(value("shares_total", "", { result: reason }), 0, reason);
          }
          assert.equal(value("blocks_total", "", { result: "accepted" }), 1);
          assert.equal(value("blocks_total", "", { result: "rejected" }), 0);
          assert.equal(value("blocks_total", "", { result: "stale" }), 0);
          assert.equal(value("connections", "", { transport: "tcp" }), 1, "A is still on");
          assert.equal(value("connections", "", { transport: "tls" }), 0);
          assert.equal(value("connections_authorized"), 1);
          assert.ok(value("hash_checks_total") >= 8, "at least every accepted share was hashed");
          assert.ok(value("hash_checks_per_second") > 0);
          assert.ok(value("pool_hashrate") > 0);
          for (const method of ["getblocktemplate", "submitblock"]) {
            const count = value("rpc_latency_seconds", "_count", { method });
            assert.equal(value("rpc_latency_seconds", "_bucket", { method, le: "+Inf" }), count);
            assert.ok(value("rpc_latency_seconds", "_sum", { method }) > 0, method);
            if (method === "submitblock") assert.equal(count, 1);
            else assert.ok(count >= 1, "the first template (the next may come by longpoll)");
          }
          // At least the job of the new tip went out to A and B.
          assert.ok(value("notify_fanout_seconds", "_count") >= 1);
          assert.ok(value("notify_fanout_seconds", "_sum") > 0);
          assert.equal(value("block_journal_errors_total"), 0);
          assert.equal((await get(base, "/metrics")).status, 404, "not on the public listener");

          // The Grafana dashboard reads only what this pool exports.
          const histograms = new Set(
            [...families.values()].filter((f) => f.type === "histogram").map((f) => f.name),
          );
          const dashboard = JSON.parse(await Deno.readTextFile(DASHBOARD_PATH));
          const queries = dashboardQueries(dashboard);
          assert.ok(queries.length > 0);
          for (const q of queries) {
            const names = metricNames(q.expr, "denopool", histograms);
            assert.ok(names.length > 0, `${q.panel}: ${q.expr} names no metric`);
            for (const name of names) {
              assert.ok(families.has(name), `${q.panel}: ${name} is not exported`);
            }
          }
        },
      );

      await t.step("node: what the node says, with the genesis check", async () => {
        const n = await json("/api/node");
        const genesis = await node.rpc<string>("getblockhash", [0]);
        assert.equal(n.node_network, "regtest");
        assert.equal(n.genesis_hash, genesis);
        assert.equal(n.genesis_expected, regtest.genesisHash);
        assert.equal(genesis, regtest.genesisHash, "bcoin's regtest genesis is Core's");
        assert.equal(n.genesis_match, true);
        assert.equal(n.node_blocks, blockHeight, "node facts are asked again on a new tip");
        assert.equal(n.node_pruned, false);
        assert.equal(n.node_peer_cleanup_enabled, false);
        assert.equal(n.node_peer_cleanup_max_ping_ms, 250);
      });

      await t.step("server: process, RPC health and the job feed's tip", async () => {
        const s = await json("/api/server");
        const header = await node.rpc<{ time: number; bits: string | number }>(
          "getblockheader",
          [blockHash, true],
        );
        assert.equal(s.rpc_healthy, true);
        assert.ok(s.uptime > 0 && s.process_rss_bytes > 0);
        assert.equal(s.job_feed.block_hash, blockHash);
        assert.equal(s.job_feed.block_height, blockHeight);
        assert.equal(
          s.job_feed.block_time,
          new Date(header.time * 1000).toISOString().replace(".000", ""),
        );
        assert.equal(parseInt(s.job_feed.block_bits, 16), regtest.powLimitBits);
        assert.equal(s.job_feed.zmq_healthy, false, "no ZMQ configured");
        assert.equal("accounting_error" in s, false, "the block journal was written");
      });

      await t.step("pool-hashrate: block timer, recent block times, fees, history", async () => {
        const h = await json("/api/pool-hashrate?include_history=1");
        assert.equal(h.block_height, blockHeight);
        const times: string[] = [];
        for (let hash = blockHash, i = 0; i < 4; i++) {
          const header = await node.rpc<{ time: number; previousblockhash: string }>(
            "getblockheader",
            [hash, true],
          );
          times.push(new Date(header.time * 1000).toISOString().replace(".000", ""));
          hash = header.previousblockhash;
        }
        assert.deepEqual(h.recent_block_times, times);
        const left = Math.ceil(Date.parse(times[0]) / 1000 + 600 - Date.now() / 1000);
        assert.ok(Math.abs(h.block_time_left_sec - left) <= 61, "tip time + 10 min − now");
        assert.equal("next_difficulty_retarget" in h, false, "regtest never retargets");
        const gbt = await node.rpc<{ coinbasevalue: number; height: number }>(
          "getblocktemplate",
          [{ rules: ["segwit"] }],
        );
        const fees = gbt.coinbasevalue - Number(blockSubsidy(gbt.height, regtest));
        assert.equal(h.template_tx_fees_sats, fees);
        assert.match(h.template_updated_at, RFC3339);
        assert.ok(h.pool_hashrate_history.length >= 1);
      });

      await t.step(
        "blocks: the found block with its confirmations, refreshed per new tip",
        async () => {
          const [block] = await json("/api/blocks");
          assert.equal(block.height, blockHeight);
          assert.equal(block.hash, "..." + blockHash.slice(-16));
          assert.equal(block.worker, censorWorker(minerA));
          assert.equal(block.confirmations, 1);
          assert.equal(block.result, "possible");
          assert.ok(block.share_diff > 0);
          // An empty mempool and no fee or donation: the miner's output is the whole subsidy.
          assert.equal(block.worker_payout_sats, Number(blockSubsidy(blockHeight, regtest)));
          await node.mine(6);
          await waitUntil(async () => {
            const [b] = JSON.parse((await get(base, "/api/blocks")).text);
            return b.confirmations === 7;
          }, "7 confirmations after 6 more blocks");
          const [after] = await json("/api/blocks");
          assert.equal(after.result, "winning");
        },
      );

      await t.step(
        "X-JSON headers: RFC3339, each endpoint's own cadence, and they move",
        async () => {
          for (const [path, cadence] of Object.entries(CADENCE_BY_PATH)) {
            const res = await get(base, path);
            assert.equal(res.headers.get("content-type"), "application/json", path);
            assert.equal(res.headers.get("cache-control"), "no-cache, no-store, must-revalidate");
            const updated = seconds(res.headers.get("x-json-updated-at"));
            const next = seconds(res.headers.get("x-json-next-update-at"));
            assert.equal(next - updated, cadence, path);
          }
          const first = (await get(base, "/api/blocks")).headers.get("x-json-updated-at");
          await waitUntil(
            async () => (await get(base, "/api/blocks")).headers.get("x-json-updated-at") !== first,
            "the 1 s blocks snapshot to be rebuilt by its timer",
            5_000,
          );
        },
      );

      await t.step(
        "censoring: no full address, worker name or hash in any public body",
        async () => {
          let all = "";
          for (
            const path of [
              ...Object.keys(ENDPOINTS),
              "/api/pool-hashrate?include_history=1",
              "/api/blocks?limit=100",
            ]
          ) {
            all += (await get(base, path)).text;
          }
          const secrets = [
            minerA,
            minerB,
            minerA.split(".")[0],
            minerB.split(".")[0],
            blockHash,
            ...pool.stratum.registry.bestShares.list().map((s) => s.hash),
          ];
          for (const secret of secrets) assert.ok(!all.includes(secret), `leaked: ${secret}`);
          assert.ok(all.includes(censorWorker(minerA)), "the censored form is there");
          assert.ok(all.includes(censorWorker(minerB)), "B's best share is shown, censored");
        },
      );

      await t.step("limit, 404, 405 and 400", async () => {
        assert.equal(JSON.parse((await get(base, "/api/blocks?limit=1")).text).length, 1);
        assert.equal(JSON.parse((await get(base, "/api/blocks?limit=0")).text).length, 1);
        assert.equal(JSON.parse((await get(base, "/api/blocks?limit=500")).text).length, 1);
        const bad = await get(base, "/api/blocks?limit=ten");
        assert.equal(bad.status, 400);
        assert.match(bad.headers.get("content-type") ?? "", /^text\/plain/);
        for (const path of ["/api/nope", "/api/pool", "/nothing-here"]) {
          assert.equal((await get(base, path)).status, 404, path);
        }
        const post = await get(base, "/api/overview", { method: "POST", body: "{}" });
        assert.equal(post.status, 405);
        assert.equal(post.headers.get("allow"), "GET, HEAD");
        const head = await fetch(base + "/api/server", { method: "HEAD" });
        assert.equal(head.status, 200);
        assert.equal(await head.text(), "");
      });

      await t.step(
        "node RPC down: the errors reach the pool page and the server page",
        async () => {
          await node.stopRpc();
          try {
            await waitUntil(async () => {
              const p = JSON.parse((await get(base, "/api/pool-page")).text);
              const s = JSON.parse((await get(base, "/api/server")).text);
              return p.error_history?.some((e: { type: string }) => e.type === "rpc") &&
                p.rpc_errors > 0 && s.rpc_healthy === false && typeof s.rpc_error === "string";
            }, "RPC errors in /api/pool-page and rpc_healthy false in /api/server");
            const p = await json("/api/pool-page");
            assert.deepEqual(validate(ENDPOINTS["/api/pool-page"].schema, p), []);
            for (const e of p.error_history) assert.match(e.at, RFC3339);
            const s = await json("/api/server");
            assert.deepEqual(validate(ENDPOINTS["/api/server"].schema, s), []);
            assert.ok(s.rpc_disconnects >= 1);
          } finally {
            await node.restart();
          }
          // The feed's own retry may be up to 20 s away; ask for a template now.
          await pool.feed.refresh("manual");
          await waitUntil(
            async () => JSON.parse((await get(base, "/api/server")).text).rpc_reconnects >= 1,
            "the RPC link to come back",
          );
        },
      );
    } finally {
      for (const c of clients) c.close();
      await tp?.stop();
      await node.stop();
    }
  },
});

Deno.test({
  name: "--no-json turns off every /api route; /metrics has its own listener",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const node = await startRegtestNode();
    await node.mine(1);
    let tp: TestPool | undefined;
    try {
      tp = await startTestPool(node, {
        server: { no_json: true, metrics_listen: "127.0.0.1:0" },
        difficulty: DIFFICULTY,
      });
      const client = await connectMiner(tp.port, minerA, { agent: "cgminer/4.12.1" });
      await submitPlainShare(client, minerA);
      client.close();
      const base = `http://127.0.0.1:${tp.pool.status.http!.port}`;
      for (const path of [...Object.keys(ENDPOINTS), "/api/openapi.json"]) {
        assert.equal((await get(base, path)).status, 404, path);
      }
      assert.equal(tp.pool.status.https, undefined);
      const metrics = await get(`http://127.0.0.1:${tp.pool.status.metrics!.port}`, "/metrics");
      assert.equal(metrics.status, 200);
      assert.match(metrics.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
      assert.match(metrics.text, /^denopool_shares_total\{result="accepted"\} 1$/m);
      assert.match(metrics.text, /^denopool_hash_checks_total [1-9]/m);
      assert.equal((await get(base, "/metrics")).status, 404, "not on the public listener");
    } finally {
      await tp?.stop();
      await node.stop();
    }
  },
});

Deno.test({
  name: "with status TLS on, plain HTTP answers 307 to HTTPS and HTTPS serves the API",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const node = await startRegtestNode();
    await node.mine(1);
    let tp: TestPool | undefined;
    let client: Deno.HttpClient | undefined;
    // A price source answering like CoinGecko; it counts how often the pool asks.
    let priceRequests = 0;
    const priceServer = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
      priceRequests++;
      return Response.json({ bitcoin: { eur: 91234.5 } });
    });
    try {
      tp = await startTestPool(node, {
        server: { status_tls_listen: "127.0.0.1:0" },
        bans: { invalid_threshold: 3 },
        status: {
          overview_refresh_seconds: 1,
          price_url: `http://127.0.0.1:${priceServer.addr.port}/simple/price`,
          fiat_currency: "eur",
        },
      });
      const { http, https } = tp.pool.status;
      assert.ok(http && https && http.port !== https.port);
      const redirect = await get(`http://127.0.0.1:${http.port}`, "/api/blocks?limit=5");
      assert.equal(redirect.status, 307);
      assert.equal(
        redirect.headers.get("location"),
        `https://127.0.0.1:${https.port}/api/blocks?limit=5`,
      );
      // The self-signed pair was created in the data dir; trust it as the CA.
      const cert = await Deno.readTextFile(`${tp.dataDir}/tls_cert.pem`);
      client = Deno.createHttpClient({ caCerts: [cert] });
      const overview = async () => {
        const res = await fetch(`https://localhost:${https.port}/api/overview`, { client });
        assert.equal(res.status, 200);
        const body = await res.json();
        assert.deepEqual(validate(ENDPOINTS["/api/overview"].schema, body), []);
        return body;
      };
      await waitUntil(
        async () => "btc_price_fiat" in await overview(),
        "the price in the overview",
      );
      // A miner sending garbage earns an invalid-share ban, listed censored with its reason.
      const bad = await connectMiner(tp.port, minerB, { agent: "junkminer/0.1" });
      for (let i = 0; i < 3; i++) {
        const reply = await bad.submit(minerB, {
          jobId: bad.job!.jobId,
          extranonce2: "00000000",
          ntime: "nothex!!",
          nonce: "00000000",
        });
        assert.equal(reply.result ?? false, false);
      }
      bad.close();
      await waitUntil(async () => (await overview()).banned_workers.length === 1, "the ban listed");
      const o = await overview();
      const [ban] = o.banned_workers;
      assert.equal(ban.name, censorWorker(minerB));
      assert.equal(ban.banned, true);
      assert.equal(ban.ban_reason, "too many invalid shares");
      assert.ok(Date.parse(ban.banned_until) > Date.now());
      assert.ok(!JSON.stringify(o).includes(minerB.split(".")[0]), "no full address");
      assert.equal(o.btc_price_fiat, 91234.5);
      assert.equal(o.fiat_currency, "EUR");
      assert.match(o.btc_price_updated_at, RFC3339);
      await sleep(1_500); // another overview rebuild or two
      assert.equal(priceRequests, 1, "the quote is kept (30 min), not fetched per rebuild");
    } finally {
      await priceServer.shutdown();
      client?.close();
      await tp?.stop();
      await node.stop();
    }
  },
});

Deno.test({
  name: "a block journal that cannot be written: the block still counts, /api/server says so",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const node = await startRegtestNode();
    await node.mine(1);
    // The journal goes to <data dir>/blocks; a regular file there makes every write fail, even
    // for root (chmod would not stop root in CI).
    const dataDir = await Deno.makeTempDir({ prefix: "denopool-test-" });
    await Deno.writeTextFile(`${dataDir}/blocks`, "not a directory");
    let tp: TestPool | undefined;
    let client: StratumClient | undefined;
    try {
      tp = await startTestPool(node, {
        difficulty: DIFFICULTY,
        server: { metrics_listen: "127.0.0.1:0" },
      }, dataDir);
      const base = `http://127.0.0.1:${tp.pool.status.http!.port}`;
      const server = async () => {
        const res = await get(base, "/api/server");
        assert.equal(res.status, 200);
        const body = JSON.parse(res.text);
        assert.deepEqual(validate(ENDPOINTS["/api/server"].schema, body), []);
        return body;
      };
      // Start-up could not read the journal: shown from the first snapshot on.
      assert.match((await server()).accounting_error, /^cannot (create|read) the block journal/);

      client = await connectMiner(tp.port, minerA, { agent: "cgminer/4.12.1" });
      const blockHash = await submitBlock(client, minerA);
      await waitUntil(() => tp!.blocks.length === 1, "the block record");
      assert.equal(tp.blocks[0].status, "accepted", "the node's verdict, journal or not");
      assert.equal(await node.rpc("getbestblockhash"), blockHash);
      await tp.pool.status.cache.refresh();
      const s = await server();
      const height = tp.blocks[0].height;
      assert.match(
        s.accounting_error,
        new RegExp(
          `^cannot journal block ${height}: .*\\(os error \\d+\\) \\(at \\d{4}-\\d\\d-\\d\\dT[\\d:]{8}Z\\)$`,
        ),
      );
      assert.ok(!s.accounting_error.includes(dataDir), "no file path in public JSON");
      assert.ok(!s.accounting_error.includes(blockHash), "no block hash in public JSON");
      const metrics = parsePrometheus(
        (await get(`http://127.0.0.1:${tp.pool.status.metrics!.port}`, "/metrics")).text,
      );
      const errors = metrics.get("denopool_block_journal_errors_total")!.samples[0].value;
      assert.ok(errors >= 3, `start-up (1–2) and the block's writes (2), got ${errors}`);
    } finally {
      client?.close();
      await tp?.stop();
      await node.stop();
    }
  },
});
