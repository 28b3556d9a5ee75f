/**
 * A status mirror fed by a live pool through a shared Deno KV file: a real regtest node (bcoin),
 * the whole pool started from TOML with `status.store_url` on a KV file, a miner finding shares and
 * a block, and a mirror (`createMirror` from `KV_URL`, its own KV handle on the same file, as a
 * separate process would have) serving every public endpoint byte for byte as the pool does. The
 * pool keeps publishing each refresh; once it stops, the mirror keeps serving its last snapshots
 * with their original `X-JSON-Updated-At`, and its pages say the data is stale.
 */

import assert from "node:assert/strict";
import { startRegtestNode } from "./helpers/regtest.ts";
import { startTestPool, type TestPool } from "./helpers/pool.ts";
import { connectMiner, regtestP2wpkh, submitBlock, submitPlainShare } from "./helpers/miners.ts";
import { waitUntil } from "./helpers/wait.ts";
import type { StratumClient } from "../stratum/client.ts";
import { createMirror, type Mirror, mirrorConfigFromEnv } from "../app/mirror.ts";
import { KV_NAMES, readKvSnapshot } from "../lib/mirror/kv.ts";
import type { CachedJson, JsonSnapshots, SnapshotName } from "../lib/status/snapshots.ts";

/** Short cadences, so refreshes are seen within the test and old data turns stale soon (s). */
const CADENCE = {
  overview_refresh_seconds: 2,
  pool_page_refresh_seconds: 2,
  node_refresh_seconds: 2,
  server_refresh_seconds: 2,
  pool_hashrate_refresh_seconds: 2,
  blocks_refresh_seconds: 2,
};

/** Shares this easy make half of all hashes plain shares and half blocks on regtest. */
const DIFFICULTY = { start: 1e-10, min: 1e-10, vardiff: false };

/** Every public endpoint with the query variants a page or client asks for. */
const PUBLIC_PATHS = [
  "/api/overview",
  "/api/pool-page",
  "/api/node",
  "/api/server",
  "/api/pool-hashrate",
  "/api/pool-hashrate?include_history=1",
  "/api/blocks",
  "/api/blocks?limit=1",
  "/api/blocks?limit=100",
  "/api/openapi.json",
];

/** The pages that show snapshot data (and so can be stale). */
const PAGES = ["/", "/pool", "/node", "/server", "/blocks"];

const WORKER = `${regtestP2wpkh(5)}.kvrig`;

interface Fetched {
  readonly status: number;
  readonly updatedAt: string | null;
  readonly nextUpdateAt: string | null;
  readonly body: Uint8Array;
}

async function fetched(res: Response): Promise<Fetched> {
  return {
    status: res.status,
    updatedAt: res.headers.get("X-JSON-Updated-At"),
    nextUpdateAt: res.headers.get("X-JSON-Next-Update-At"),
    body: new Uint8Array(await res.arrayBuffer()),
  };
}

function fromMirror(mirror: Mirror, path: string): Promise<Fetched> {
  return Promise.resolve(mirror.app.fetch(new Request("http://mirror.test" + path))).then(fetched);
}

async function pageHtml(mirror: Mirror, path: string): Promise<string> {
  const res = await mirror.app.fetch(new Request("http://mirror.test" + path));
  assert.equal(res.status, 200, path);
  return await res.text();
}

function widest(snapshots: JsonSnapshots, name: SnapshotName): CachedJson | undefined {
  switch (name) {
    case "poolHashrate":
      return snapshots.poolHashrate(true);
    case "blocks":
      return snapshots.blocks(100);
    default:
      return snapshots[name]();
  }
}

Deno.test({
  name: "a mirror on the pool's shared KV store serves its exact bodies, then its last ones, stale",
  sanitizeOps: false, // bcoin keeps internal timers alive until its process-wide teardown
  sanitizeResources: false,
  async fn(t) {
    const node = await startRegtestNode();
    await node.mine(3);
    const kvDir = await Deno.makeTempDir({ prefix: "denopool-shared-kv-" });
    const kvPath = `${kvDir}/shared.kv`;
    let tp: TestPool | undefined;
    let mirror: Mirror | undefined;
    let client: StratumClient | undefined;
    try {
      tp = await startTestPool(node, {
        status: { ...CADENCE, store_url: kvPath },
        difficulty: DIFFICULTY,
      });
      const pool = tp.pool;
      assert.ok(tp.log.includes("status snapshots published to the store for mirrors"));
      const base = `http://127.0.0.1:${pool.status.http!.port}`;

      client = await connectMiner(tp.port, WORKER, { agent: "cpuminer/2.5.1" });
      await submitPlainShare(client, WORKER);
      await submitBlock(client, WORKER);
      await waitUntil(() => tp!.blocks.length === 1, "the pool's block record");

      mirror = await createMirror(mirrorConfigFromEnv((n) => ({ KV_URL: kvPath })[n]));
      await mirror.start();
      const m = mirror;

      await t.step("every public endpoint: the pool's bytes and times", async () => {
        // Found block and worker are in the pool's snapshots by now (2 s cadences).
        await waitUntil(async () => {
          const blocks = JSON.parse(
            new TextDecoder().decode((await fromMirror(m, "/api/blocks")).body),
          );
          return blocks.length === 1;
        }, "the found block in the mirror");
        for (const path of PUBLIC_PATHS) {
          // Both serve one refresh for 2 s; ask again when a refresh fell between the two requests.
          let pair: { pool: Fetched; mirror: Fetched } | undefined;
          await waitUntil(async () => {
            const mirrored = await fromMirror(m, path);
            const served = await fetched(await fetch(base + path));
            pair = { pool: served, mirror: mirrored };
            return mirrored.updatedAt === served.updatedAt;
          }, `${path}: the same refresh on both`);
          assert.equal(pair!.pool.status, 200, path);
          assert.equal(pair!.mirror.status, 200, path);
          assert.deepEqual(pair!.mirror.body, pair!.pool.body, `${path}: same bytes`);
          assert.equal(pair!.mirror.nextUpdateAt, pair!.pool.nextUpdateAt, path);
        }
        const overview = JSON.parse(
          new TextDecoder().decode((await fromMirror(m, "/api/overview")).body),
        );
        assert.equal(overview.active_miners, 1, "the live miner, as the pool counts it");
      });

      await t.step("each refresh reaches the mirror", async () => {
        const seen = new Set<string>();
        await waitUntil(async () => {
          seen.add(String((await fromMirror(m, "/api/overview")).updatedAt));
          return seen.size >= 3;
        }, "three overview refreshes through KV");
        for (const path of PAGES) {
          assert.match(await pageHtml(m, path), /class="banner hidden" id="stale"/, path);
        }
        const saved = await m.app.fetch(new Request("http://mirror.test/api/saved-workers"));
        await saved.body?.cancel();
        assert.equal(saved.status, 404, "no authenticated routes on a mirror");
      });

      await t.step(
        "after the pool stops: its last snapshots, original times, stale pages",
        async () => {
          client!.close();
          const stopping = tp!;
          tp = undefined;
          await stopping.stop();
          // The stop wrote the pool's last refresh of each snapshot.
          const kv = await Deno.openKv(kvPath);
          const last = new Map<SnapshotName, number>();
          try {
            for (const name of KV_NAMES) {
              const published = await readKvSnapshot(kv, name);
              assert.ok(published, name);
              assert.equal(published.updatedAt, widest(pool.status.cache, name)?.updatedAt, name);
              last.set(name, published.updatedAt);
            }
          } finally {
            kv.close();
          }
          const lastOverview = new Date(last.get("overview")!).toISOString().replace(
            /\.\d+Z$/,
            "Z",
          );
          await waitUntil(
            async () => (await fromMirror(m, "/api/overview")).updatedAt === lastOverview,
            "the mirror to read the final overview",
          );
          const before = new Map<string, Fetched>();
          for (const path of PUBLIC_PATHS) before.set(path, await fromMirror(m, path));

          // The pages judge age by their own snapshots' times: each turns stale once its refresh
          // is 10 s overdue, and the snapshots were due at different moments.
          for (const path of PAGES) {
            await waitUntil(
              async () => /class="banner" id="stale"/.test(await pageHtml(m, path)),
              `the ${path} page to say the data is stale`,
              30_000,
            );
          }
          for (const [path, old] of before) {
            const now = await fromMirror(m, path);
            assert.equal(now.status, 200, path);
            assert.equal(now.updatedAt, old.updatedAt, `${path}: original X-JSON-Updated-At`);
            assert.deepEqual(now.body, old.body, `${path}: same bytes`);
          }
          assert.equal(m.stale(), false, "KV itself answers: nothing failed, the data is just old");
        },
      );
    } finally {
      client?.close();
      await mirror?.stop();
      await tp?.stop();
      await node.stop();
      await Deno.remove(kvDir, { recursive: true });
    }
  },
});
