/**
 * The store on a real Deno KV file: what goes in comes out exactly, the saved-worker rules hold
 * under concurrent writers, codes and bans expire, and a backup taken while writers run is one
 * consistent state that restores to an identical store.
 */

import assert from "node:assert/strict";
import {
  MAX_SAVED_WORKERS,
  ONE_TIME_CODE_TTL_MS,
  openStore,
  type PoolStore,
  type SavedWorker,
  storeLocation,
  workerNameHash,
} from "../lib/store/mod.ts";
import { decodeValue } from "../lib/store/codec.ts";
import { BackupError, exportStore, importStore } from "../lib/store/backup.ts";
import type { FoundBlockRecord } from "../lib/pool/blocks.ts";
import { sha256 } from "../lib/bitcoin/sha256.ts";
import { bytesToHex } from "../lib/bitcoin/hex.ts";

const WORKER = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080.rig-7";

async function withStore(
  fn: (store: PoolStore, dir: string, clock: { now: number }) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "denopool-store-" });
  const clock = { now: Date.UTC(2025, 0, 1) };
  const store = await openStore(`${dir}/store/denopool.kv`, { now: () => clock.now });
  try {
    await fn(store, dir, clock);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function allEntries(kv: Deno.Kv): Promise<Array<[string, unknown]>> {
  const out: Array<[string, unknown]> = [];
  for await (const e of kv.list({ prefix: ["v1"] })) {
    if (e.key[1] === "meta") continue;
    out.push([JSON.stringify(e.key), e.value]);
  }
  return out;
}

function block(height: number, hash: string, status: FoundBlockRecord["status"]): FoundBlockRecord {
  return {
    height,
    hash,
    prevhash: "00".repeat(32),
    worker: WORKER,
    shareDifficulty: 12.5,
    foundAt: 1_700_000_000_000 + height,
    coinbaseValueSats: "5000000000",
    workerPayoutSats: "4950000000",
    poolFeeSats: "50000000",
    donationSats: "0",
    status,
    attempts: 1,
    updatedAt: 1_700_000_000_500,
  };
}

Deno.test("the store lives under the data dir unless status.store_url names one", () => {
  const config = { server: { dataDir: "/var/pool" }, status: { storeUrl: "" } };
  assert.equal(storeLocation(config), "/var/pool/store/denopool.kv");
  assert.equal(
    storeLocation({ ...config, status: { storeUrl: "https://kv.example/db" } }),
    "https://kv.example/db",
  );
});

Deno.test("found blocks: the latest status of each block is kept, highest block first", async () => {
  await withStore(async (store) => {
    await store.blocks.put(block(101, "aa".repeat(32), "pending"));
    await store.blocks.put(block(102, "bb".repeat(32), "accepted"));
    await store.blocks.put({ ...block(101, "aa".repeat(32), "accepted"), attempts: 2 });
    const blocks = await store.blocks.list();
    assert.deepEqual(blocks.map((b) => [b.height, b.status, b.attempts]), [
      [102, "accepted", 1],
      [101, "accepted", 2],
    ]);
    assert.deepEqual(blocks[1], { ...block(101, "aa".repeat(32), "accepted"), attempts: 2 });
    assert.equal((await store.blocks.list(1)).length, 1);
  });
});

Deno.test("dates and bigints survive the round trip exactly", async () => {
  await withStore(async (store, _dir, clock) => {
    await store.discord.link("user_1", "42");
    const link = await store.discord.get("user_1");
    assert.ok(link?.linkedAt instanceof Date);
    assert.equal(link.linkedAt.getTime(), clock.now);
    await store.notifyStates.put("user_1", "ab".repeat(32), {
      sats: 2n ** 70n,
      since: new Date(5),
    });
    const state = (await store.notifyStates.list<{ sats: bigint; since: Date }>("user_1"))
      .get("ab".repeat(32));
    assert.equal(state?.sats, 2n ** 70n);
    assert.equal(state?.since.getTime(), 5);
  });
});

Deno.test("a saved worker is stored as its SHA-256 and a censored name, never the raw name", async () => {
  await withStore(async (store) => {
    assert.equal(await store.savedWorkers.save("user_1", WORKER), "saved");
    assert.equal(await store.savedWorkers.save("user_1", WORKER), "exists");
    const hash = bytesToHex(sha256(new TextEncoder().encode(WORKER)));
    assert.equal(workerNameHash(WORKER), hash);
    const [saved] = await store.savedWorkers.list("user_1");
    assert.equal(saved.hash, hash);
    assert.equal(saved.name, "bcrt1qw5...7kygt080.rig-7");
    assert.equal(saved.notifyEnabled, true);
    assert.deepEqual(await store.savedWorkers.usersWhoSaved(hash), ["user_1"]);
    for (const [key, value] of await allEntries(store.kv)) {
      assert.ok(!key.includes(WORKER) && !String(value).includes(WORKER), `raw name in ${key}`);
    }
  });
});

Deno.test("notify toggles, removal and the reverse index stay in step", async () => {
  await withStore(async (store) => {
    await store.savedWorkers.save("user_1", WORKER);
    await store.savedWorkers.save("user_2", WORKER);
    const hash = workerNameHash(WORKER);
    assert.equal(await store.savedWorkers.setNotify("user_1", hash.toUpperCase(), false), true);
    assert.equal((await store.savedWorkers.list("user_1"))[0].notifyEnabled, false);
    assert.equal(await store.savedWorkers.setNotify("user_1", "cd".repeat(32), true), false);
    assert.deepEqual((await store.savedWorkers.usersWhoSaved(hash)).sort(), ["user_1", "user_2"]);
    assert.equal(await store.savedWorkers.remove("user_1", hash), true);
    assert.equal(await store.savedWorkers.remove("user_1", hash), false);
    assert.deepEqual(await store.savedWorkers.list("user_1"), []);
    assert.deepEqual(await store.savedWorkers.usersWhoSaved(hash), ["user_2"]);
  });
});

Deno.test("100 concurrent saves by one user keep exactly 64 workers and a matching index", async () => {
  await withStore(async (store) => {
    const names = Array.from({ length: 100 }, (_, i) => `${WORKER}-${i}`);
    const results = await Promise.all(names.map((n) => store.savedWorkers.save("user_1", n)));
    assert.equal(results.filter((r) => r === "saved").length, MAX_SAVED_WORKERS);
    assert.equal(results.filter((r) => r === "full").length, 100 - MAX_SAVED_WORKERS);
    const saved = await store.savedWorkers.list("user_1");
    assert.equal(saved.length, MAX_SAVED_WORKERS);
    assert.equal(new Set(saved.map((w) => w.hash)).size, MAX_SAVED_WORKERS);
    let indexed = 0;
    for (const n of names) {
      indexed += (await store.savedWorkers.usersWhoSaved(workerNameHash(n))).length;
    }
    assert.equal(indexed, MAX_SAVED_WORKERS);
  });
});

Deno.test("bans are read back until they end and can be lifted", async () => {
  await withStore(async (store, _dir, clock) => {
    await store.bans.put({ key: "w1", until: clock.now + 60_000, reason: "invalid shares" });
    await store.bans.put({ key: "w2", until: clock.now + 10_000, reason: "churn" });
    await store.bans.put({ key: "w3", until: clock.now - 1, reason: "already over" });
    assert.deepEqual((await store.bans.list()).map((b) => b.key), ["w2", "w1"]);
    clock.now += 10_000;
    assert.deepEqual((await store.bans.list()).map((b) => b.key), ["w1"]);
    await store.bans.delete("w1");
    assert.deepEqual(await store.bans.list(), []);
  });
});

Deno.test("best shares: the list is stored as given, cut to 16", async () => {
  await withStore(async (store, _dir, clock) => {
    const list = Array.from({ length: 20 }, (_, i) => ({
      worker: `${WORKER}-${i}`,
      difficulty: 100 - i,
      at: clock.now + i,
      hash: i.toString(16).padStart(64, "0"),
    }));
    await store.bestShares.put(list);
    assert.deepEqual(await store.bestShares.list(), list.slice(0, 16));
  });
});

Deno.test("history: pool and worker samples by minute; last-seen keeps the best share", async () => {
  await withStore(async (store) => {
    for (let m = 100; m < 105; m++) {
      await store.history.putPool({ minute: m, hashrate: m * 10, workers: 2 });
    }
    assert.deepEqual((await store.history.pool(103)).map((s) => s.minute), [103, 104]);
    const hash = workerNameHash(WORKER);
    await store.history.putWorker(
      hash,
      { minute: 7, hashrate: 5, bestDifficulty: 40 },
      new Date(1),
    );
    await store.history.putWorker(hash, { minute: 8, hashrate: 6, bestDifficulty: 3 }, new Date(2));
    assert.deepEqual((await store.history.worker(hash)).map((s) => s.hashrate), [5, 6]);
    const seen = (await store.history.seen([hash, "ff".repeat(32)])).get(hash);
    assert.equal(seen?.bestDifficulty, 40);
    assert.equal(seen?.lastOnlineAt.getTime(), 2);
  });
});

Deno.test("one-time codes: one live code per user, redeemed once, dead after 5 minutes", async () => {
  await withStore(async (store, _dir, clock) => {
    const first = await store.codes.create("user_1");
    assert.match(first.code, /^[A-Z0-9]{5}-[A-Z0-9]{5}$/);
    assert.equal(first.expiresAt.getTime(), clock.now + ONE_TIME_CODE_TTL_MS);
    const second = await store.codes.create("user_1");
    assert.notEqual(second.code, first.code);
    assert.equal(await store.codes.redeem(first.code), undefined, "replaced code is dead");
    assert.equal((await store.codes.live("user_1"))?.code, second.code);
    assert.equal(await store.codes.clear("user_2", second.code), false, "not someone else's");
    assert.equal(await store.codes.redeem(second.code), "user_1");
    assert.equal(await store.codes.redeem(second.code), undefined, "only once");
    assert.equal(await store.codes.live("user_1"), undefined);

    const late = await store.codes.create("user_1");
    clock.now += ONE_TIME_CODE_TTL_MS;
    assert.equal(await store.codes.redeem(late.code), undefined, "expired");
    const cleared = await store.codes.create("user_1");
    assert.equal(await store.codes.clear("user_1", cleared.code), true);
    assert.equal(await store.codes.redeem(cleared.code), undefined);
  });
});

Deno.test("Discord links: one pool user per Discord user and back; notify switch", async () => {
  await withStore(async (store) => {
    await store.discord.link("user_1", "111");
    assert.equal((await store.discord.get("user_1"))?.enabled, true);
    assert.equal(await store.discord.setNotify("user_1", false), true);
    assert.equal((await store.discord.get("user_1"))?.enabled, false);
    assert.equal(await store.discord.setNotify("user_9", true), false);
    await store.discord.link("user_2", "111"); // the Discord user moves to another pool user
    assert.equal(await store.discord.get("user_1"), undefined);
    assert.equal(await store.discord.userFor("111"), "user_2");
    await store.discord.link("user_2", "222"); // the pool user moves to another Discord user
    assert.equal(await store.discord.userFor("111"), undefined);
    assert.deepEqual([...(await store.discord.all()).keys()], ["user_2"]);
    assert.equal(await store.discord.unlink("user_2"), true);
    assert.equal(await store.discord.userFor("222"), undefined);
  });
});

async function exportToBytes(kv: Deno.Kv, now?: number) {
  const chunks: Uint8Array[] = [];
  const sink = new WritableStream<Uint8Array>({ write: (c) => void chunks.push(c) });
  const writer = sink.getWriter();
  const summary = await exportStore(kv, writer, { now });
  await writer.close();
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) bytes.set(c, (off += c.length) - c.length);
  return { bytes, summary };
}

const streamOf = (bytes: Uint8Array) => new Blob([bytes as Uint8Array<ArrayBuffer>]).stream();

Deno.test("backup → restore gives an identical store; damaged files are refused", async () => {
  await withStore(async (store, dir, clock) => {
    await store.savedWorkers.save("user_1", WORKER);
    await store.blocks.put(block(5, "cc".repeat(32), "accepted"));
    await store.bans.put({ key: "w1", until: clock.now + 60_000, reason: "r" });
    await store.bans.put({ key: "w2", until: clock.now + 5, reason: "short" });
    await store.codes.create("user_1");
    await store.discord.link("user_1", "42");
    const { bytes, summary } = await exportToBytes(store.kv, clock.now);
    assert.equal(summary.entries, (await allEntries(store.kv)).length);

    const target = await openStore(`${dir}/restored.kv`, { now: () => clock.now });
    try {
      const restored = await importStore(target.kv, streamOf(bytes), { now: clock.now + 10 });
      assert.equal(restored.expired, 1, "the ban that ended in between is skipped");
      const want = (await allEntries(store.kv)).filter(([k]) => !k.includes('"w2"'));
      assert.deepEqual(await allEntries(target.kv), want);
      await assert.rejects(importStore(target.kv, streamOf(bytes)), /already holds/);
      await importStore(target.kv, streamOf(bytes), { replace: true, now: clock.now });
      assert.equal((await allEntries(target.kv)).length, summary.entries);

      const text = new TextDecoder().decode(bytes);
      const truncated = text.split("\n").slice(0, -2).join("\n");
      const tampered = text.replace('"accepted', '"rejected');
      for (const bad of [truncated, tampered, "{}\n"]) {
        await assert.rejects(
          importStore(target.kv, streamOf(new TextEncoder().encode(bad)), { replace: true }),
          BackupError,
        );
      }
    } finally {
      target.close();
    }
  });
});

Deno.test("a backup taken while writers run is one consistent state", async () => {
  await withStore(async (store) => {
    // Invariant kept by every commit: each saved worker has its reverse-index entry.
    let running = true;
    const writer = (async () => {
      for (let i = 0; running; i++) {
        const name = `${WORKER}-${i % 80}`;
        if ((await store.savedWorkers.save("user_1", name)) === "exists") {
          await store.savedWorkers.remove("user_1", workerNameHash(name));
        }
        if (i % 97 === 0) await new Promise((r) => setTimeout(r, 0));
      }
    })();
    await new Promise((r) => setTimeout(r, 50));
    try {
      let lastWrites = -1n;
      for (let round = 0; round < 5; round++) {
        const { bytes, summary } = await exportToBytes(store.kv);
        const lines = new TextDecoder().decode(bytes).trim().split("\n").slice(1, -1)
          .map((l) => JSON.parse(l) as { k: string; v: string });
        const keyOf = (l: { k: string }) => JSON.parse(l.k).json as string[];
        const savedLine = lines.find((l) => keyOf(l)[1] === "saved");
        const saved = savedLine ? decodeValue<SavedWorker[]>(savedLine.v).map((w) => w.hash) : [];
        const indexed = lines.filter((l) => keyOf(l)[1] === "saved-by").map((l) => keyOf(l)[2]);
        assert.deepEqual(indexed.sort(), saved.sort(), `round ${round}: index matches list`);
        assert.ok(BigInt(summary.writes) > lastWrites, "writers committed between backups");
        lastWrites = BigInt(summary.writes);
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      running = false;
      await writer;
    }
  });
});

Deno.test("flush settles every queued write, also those queued while it waits", async () => {
  await withStore(async (store) => {
    let done = 0;
    for (let i = 0; i < 20; i++) {
      void store.savedWorkers.save("user_f", `${WORKER}-${i}`).then(() => done++);
    }
    const flushed = store.flush();
    // Queued after flush started (a ban set while the pool stops): flush waits for it too.
    void store.bans.put({ key: "ip:192.0.2.7", until: Date.UTC(2025, 0, 2), reason: "late" });
    await flushed;
    assert.equal(done, 20);
    // Reads are not queued: what they see right after flush was committed before it resolved.
    assert.equal((await store.savedWorkers.list("user_f")).length, 20);
    assert.deepEqual((await store.bans.list()).map((b) => b.key), ["ip:192.0.2.7"]);
  });
});

Deno.test("the key layout: each domain store writes under the keys.ts layout, unchanged", async () => {
  await withStore(async (store, _dir, clock) => {
    const hash = workerNameHash(WORKER);
    await store.blocks.put(block(7, "dd".repeat(32), "accepted"));
    await store.bans.put({ key: "w1", until: clock.now + 60_000, reason: "r" });
    await store.bestShares.put([{ worker: WORKER, difficulty: 1, at: clock.now, hash: "ee" }]);
    await store.history.putPool({ minute: 9, hashrate: 1, workers: 1 });
    await store.history.putWorker(hash, { minute: 9, hashrate: 1, bestDifficulty: 1 }, new Date());
    await store.savedWorkers.save("user_1", WORKER);
    await store.users.touch("user_1");
    await store.discord.link("user_1", "42");
    await store.discord.setCursor("1000");
    const { code } = await store.codes.create("user_1");
    await store.notifyStates.put("user_1", hash, { state: "online" });
    const keys = (await allEntries(store.kv)).map(([k]) => k).sort();
    assert.deepEqual(
      keys,
      [
        ["v1", "ban", "w1"],
        ["v1", "best-shares"],
        ["v1", "block", "dd".repeat(32)],
        ["v1", "code", code],
        ["v1", "code-of", "user_1"],
        ["v1", "discord", "user_1"],
        ["v1", "discord-cursor"],
        ["v1", "discord-user", "42"],
        ["v1", "notify-state", "user_1", hash],
        ["v1", "pool-history", 9],
        ["v1", "saved", "user_1"],
        ["v1", "saved-by", hash, "user_1"],
        ["v1", "user", "user_1"],
        ["v1", "worker-history", hash, 9],
        ["v1", "worker-seen", hash],
      ].map((k) => JSON.stringify(k)).sort(),
    );
    assert.equal(await store.writes(), 11n, "one committed write per call");
    assert.equal((await store.users.get("user_1"))?.count, 1);
  });
});
