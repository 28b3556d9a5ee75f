/**
 * Snapshots through a shared Deno KV store: what the pool publishes, a mirror reads back byte for
 * byte with the original times, payloads larger than one KV value travel in chunks, old chunks are
 * cleaned up, and a mirror built on KV serves the same API bodies as the pool. The publisher's
 * stop leaves the last refresh in KV, the reader follows the pool's cadences, and
 * `status.mirror_publish` decides whether a pool publishes at all.
 */

import { SNAPSHOT_NAMES } from "../lib/status/endpoints.ts";
import assert from "node:assert/strict";
import { createStatusApp } from "../routes/app.ts";
import { ManualClock, memorySources, sampleStatusData } from "../lib/status/memory.ts";
import { DEFAULT_INTERVALS, SnapshotCache } from "../lib/status/snapshots.ts";
import type { StatusStatic } from "../lib/status/sources.ts";
import {
  KV_CHUNK_BYTES,
  KV_PREFIX,
  KV_READ_LAG_MS,
  KvSnapshotPublisher,
  KvSnapshotReader,
  readKvSnapshot,
  writeKvSnapshot,
} from "../lib/mirror/kv.ts";
import { createMirror, mirrorConfigFromEnv } from "../app/mirror.ts";
import { publishesSnapshots } from "../lib/mirror/publish.ts";
import { loadConfig } from "../lib/config/load.ts";

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
async function poolCache(clock = new ManualClock(Date.now())) {
  const now = clock.now();
  const data = sampleStatusData(now);
  data.hashrateHistory = Array.from({ length: 1440 }, (_, i) => ({
    at: now - (1440 - i) * 60_000,
    hashrate: 1e12 + (i % 97) * 1e9,
    blockHeight: 880_000 - Math.floor((1440 - i) / 10),
  }));
  const cache = new SnapshotCache({
    sources: memorySources(data),
    statics: STATICS,
    clock,
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
    assert.equal(await publisher.publish(), SNAPSHOT_NAMES.length);
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
      await mirror.stop();
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

Deno.test("the publisher's stop waits for a write in flight and publishes the last refresh", async () => {
  await withKv(async (kv) => {
    const clock = new ManualClock(Date.now());
    const cache = await poolCache(clock);
    const written: string[] = [];
    const publisher = new KvSnapshotPublisher(cache, {
      kv,
      checkMs: 60_000,
      onWritten: (name) => written.push(name),
    });
    await publisher.start();
    assert.equal(written.length, SNAPSHOT_NAMES.length, "every snapshot at start");
    // A refresh the timer has not seen yet, then a stop racing a publish already running.
    await clock.advance(1_000);
    await cache.refresh("overview");
    const latest = cache.overview()!;
    const racing = publisher.publish();
    await publisher.stop();
    assert.equal(await racing, 1);
    const back = await readKvSnapshot(kv, "overview");
    assert.equal(back?.updatedAt, latest.updatedAt);
    assert.deepEqual(back?.body, latest.body);
    assert.deepEqual(written.slice(SNAPSHOT_NAMES.length), ["overview"], "written once, not twice");
    // Stopped is stopped: a second stop publishes nothing.
    await clock.advance(1_000);
    await cache.refresh("node");
    await publisher.stop();
    assert.notEqual((await readKvSnapshot(kv, "node"))?.updatedAt, cache.node()!.updatedAt);
  });
});

Deno.test("a KV reader looks again just after each payload's next update, at most a cadence apart", async () => {
  await withKv(async (kv) => {
    const now = 1_700_000_000_000;
    const clock = new ManualClock(now);
    const reader = new KvSnapshotReader({ kv, clock });
    assert.equal(reader.nextReadIn("overview"), DEFAULT_INTERVALS.overview, "nothing read yet");
    const publish = (updatedAt: number, nextUpdateAt: number) =>
      writeKvSnapshot(kv, "overview", {
        body: new TextEncoder().encode('{"api_version":"1"}'),
        updatedAt,
        nextUpdateAt,
      });
    // A pool refreshing every 2 s: read 2 s + the publish lag later.
    await publish(now, now + 2_000);
    await reader.read("overview");
    assert.equal(reader.nextReadIn("overview"), 2_000 + KV_READ_LAG_MS);
    // Every 60 s: still read at the default pace, so an early refresh (new block) shows soon.
    await publish(now + 1, now + 60_000);
    await reader.read("overview");
    assert.equal(reader.nextReadIn("overview"), DEFAULT_INTERVALS.overview);
    // Overdue (the pool stopped): the default pace, never a tight loop.
    await clock.advance(120_000);
    assert.equal(reader.nextReadIn("overview"), DEFAULT_INTERVALS.overview);
    assert.equal(reader.stale(), false, "an old payload is the pages' call, not a failed read");
  });
});

Deno.test("status.mirror_publish: auto publishes with a store_url, on and off decide alone", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denopool-cfg-" });
  try {
    const load = async (status: string) => {
      const configPath = `${dir}/config.toml`;
      await Deno.writeTextFile(configPath, `[status]\n${status}\n`);
      return (await loadConfig({ configPath, warn: () => {} })).status;
    };
    const defaults = await load("");
    assert.equal(defaults.mirrorPublish, "auto");
    assert.equal(publishesSnapshots(defaults), false, "the private default file: no");
    assert.equal(publishesSnapshots(await load(`store_url = "shared.kv"`)), true);
    assert.equal(publishesSnapshots(await load(`store_url = "https://kv.example/db"`)), true);
    assert.equal(publishesSnapshots(await load(`mirror_publish = "on"`)), true);
    assert.equal(
      publishesSnapshots(await load(`store_url = "s.kv"\nmirror_publish = "off"`)),
      false,
    );
    await assert.rejects(load("mirror_publish = true"), /mirror_publish.*"auto", "on", "off"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
