/**
 * Snapshots through a shared Deno KV store: what the pool publishes, a mirror reads back byte for
 * byte with the original times, payloads larger than one KV value travel in chunks, old chunks are
 * cleaned up, and a mirror built on KV serves the same API bodies as the pool.
 */

import assert from "node:assert/strict";
import { createStatusApp } from "../routes/app.ts";
import { ManualClock, memorySources, sampleStatusData } from "../lib/status/memory.ts";
import { SnapshotCache } from "../lib/status/snapshots.ts";
import type { StatusStatic } from "../lib/status/sources.ts";
import {
  KV_CHUNK_BYTES,
  KV_PREFIX,
  KvSnapshotPublisher,
  KvSnapshotReader,
  readKvSnapshot,
  writeKvSnapshot,
} from "../lib/mirror/kv.ts";
import { createMirror, mirrorConfigFromEnv } from "../lib/mirror/mirror.ts";

const STATICS: StatusStatic = {
  peerCleanup: { enabled: false, maxPingMs: 250, minPeers: 30 },
  retargetInterval: 2016,
  targetSpacingSec: 600,
};

async function withKv(fn: (kv: Deno.Kv) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "denopool-kv-" });
  const kv = await Deno.openKv(`${dir}/status.kv`);
  try {
    await fn(kv);
  } finally {
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** A pool's cache over sample data with a full day of minute history (> 64 KiB with history). */
async function poolCache() {
  const now = Date.now();
  const data = sampleStatusData(now);
  data.hashrateHistory = Array.from({ length: 1440 }, (_, i) => ({
    at: now - (1440 - i) * 60_000,
    hashrate: 1e12 + (i % 97) * 1e9,
    blockHeight: 880_000 - Math.floor((1440 - i) / 10),
  }));
  const cache = new SnapshotCache({
    sources: memorySources(data),
    statics: STATICS,
    clock: new ManualClock(now),
  });
  await cache.refresh();
  return cache;
}

const PATHS = [
  "/api/overview",
  "/api/pool-page",
  "/api/node",
  "/api/server",
  "/api/pool-hashrate",
  "/api/pool-hashrate?include_history=1",
  "/api/blocks",
  "/api/blocks?limit=7",
];

Deno.test("a published payload reads back byte for byte, in chunks when large", async () => {
  await withKv(async (kv) => {
    const body = new Uint8Array(KV_CHUNK_BYTES * 2 + 123).map((_, i) => (i * 31) & 0xff);
    const meta = await writeKvSnapshot(kv, "poolHashrate", {
      body,
      updatedAt: 1_000,
      nextUpdateAt: 6_000,
    });
    assert.equal(meta.chunks, 3);
    const back = await readKvSnapshot(kv, "poolHashrate");
    assert.ok(back);
    assert.deepEqual(back.body, body);
    assert.equal(back.updatedAt, 1_000);
    assert.equal(back.nextUpdateAt, 6_000);
    assert.equal(await readKvSnapshot(kv, "poolHashrate", KV_PREFIX, 1_000), undefined, "known");

    // A new payload replaces the old one, whose chunks are deleted.
    await writeKvSnapshot(kv, "poolHashrate", {
      body: new Uint8Array([1, 2]),
      updatedAt: 2_000,
      nextUpdateAt: 7_000,
    });
    const keys = [];
    for await (const entry of kv.list({ prefix: [...KV_PREFIX, "poolHashrate"] })) {
      keys.push(entry.key);
    }
    // `list` yields the keys below the meta key: only the new payload's single chunk is left.
    assert.equal(keys.length, 1, "the old chunks are gone");
    assert.deepEqual((await readKvSnapshot(kv, "poolHashrate"))?.body, new Uint8Array([1, 2]));
  });
});

Deno.test("a mirror on KV serves the pool's exact API bodies and times", async () => {
  await withKv(async (kv) => {
    const cache = await poolCache();
    assert.ok(cache.poolHashrate(true)!.body.length > 64 * 1024, "history exceeds one KV value");
    const publisher = new KvSnapshotPublisher(cache, { kv });
    assert.equal(await publisher.publish(), 6);
    assert.equal(await publisher.publish(), 0, "unchanged snapshots are not rewritten");

    const mirror = await createMirror(mirrorConfigFromEnv((n) => ({ KV_URL: "shared" })[n]), {
      kv,
    });
    await mirror.start();
    try {
      const pool = createStatusApp({ snapshots: cache });
      for (const path of PATHS) {
        const a = await pool.fetch(new Request("http://pool" + path));
        const b = await mirror.app.fetch(new Request("http://mirror" + path));
        assert.equal(b.status, 200, path);
        assert.deepEqual(
          new Uint8Array(await b.arrayBuffer()),
          new Uint8Array(await a.arrayBuffer()),
          path,
        );
        assert.equal(b.headers.get("X-JSON-Updated-At"), a.headers.get("X-JSON-Updated-At"));
      }
      assert.equal(mirror.stale(), false);
      const saved = await mirror.app.fetch(new Request("http://mirror/api/saved-workers"));
      await saved.body?.cancel();
      assert.equal(saved.status, 404);
    } finally {
      mirror.stop();
    }
  });
});

Deno.test("a KV reader picks up a newer payload and keeps the last one when KV fails", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denopool-kv-" });
  const kv = await Deno.openKv(`${dir}/status.kv`);
  try {
    const reader = new KvSnapshotReader({ kv });
    assert.equal(await reader.read("overview"), true);
    assert.equal(reader.store.overview(), undefined, "nothing published yet");
    const publish = (n: number, updatedAt: number) =>
      writeKvSnapshot(kv, "overview", {
        body: new TextEncoder().encode(`{"api_version":"1","n":${n}}`),
        updatedAt,
        nextUpdateAt: updatedAt + 10,
      });
    await publish(1, 10);
    await reader.read("overview");
    assert.equal(
      new TextDecoder().decode(reader.store.overview()!.body),
      '{"api_version":"1","n":1}',
    );
    await publish(2, 30);
    await reader.read("overview");
    assert.equal(reader.store.overview()!.updatedAt, 30);

    kv.close();
    assert.equal(await reader.read("overview"), false, "a closed store fails the read");
    assert.equal(reader.stale(), true);
    assert.equal(reader.store.overview()!.updatedAt, 30, "the last good payload stays");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
