/**
 * Bans across restarts. Worker and address bans live in the Stratum server's list, reconnect-churn
 * IP bans in the admission's own list; both are written to the store as they happen and come back
 * into the right list at start, with bans that ended while the pool was down dropped.
 */

import assert from "node:assert/strict";
import { startRegtestNode } from "./helpers/regtest.ts";
import { startTestPool, type TestPool } from "./helpers/pool.ts";
import { openStore } from "../lib/store/store.ts";
import { persistBans, restoreBans } from "../lib/store/persistence.ts";
import { BanList } from "../lib/pool/bans.ts";

const sanitize = { sanitizeOps: false, sanitizeResources: false } as const;

Deno.test("restoreBans: ip: keys to the IP list, the rest to the worker list, ended ones dropped", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denopool-bans-" });
  const t0 = Date.UTC(2025, 0, 1);
  const store = await openStore(`${dir}/kv`, { now: () => t0 });
  try {
    await store.putBan({
      key: "ip:192.0.2.1",
      until: t0 + 60_000,
      reason: "reconnecting too often",
    });
    await store.putBan({
      key: "ip:192.0.2.2",
      until: t0 + 5_000,
      reason: "reconnecting too often",
    });
    await store.putBan({ key: "bcrt1qexample.rig", until: t0 + 120_000, reason: "invalid shares" });
    const heard: string[] = [];
    const workers = new BanList();
    const ips = new BanList({ onBan: (e) => heard.push(e.key) });
    const now = t0 + 10_000;
    assert.equal(await restoreBans(store, workers, { ipBans: ips, now }), 2);
    assert.deepEqual(ips.list(now), [
      { key: "ip:192.0.2.1", until: t0 + 60_000, reason: "reconnecting too often" },
    ]);
    assert.deepEqual(workers.list(now), [
      { key: "bcrt1qexample.rig", until: t0 + 120_000, reason: "invalid shares" },
    ]);
    assert.deepEqual(heard.sort(), ["ip:192.0.2.1"]);

    // Without an IP list every ban goes to the one list given.
    const one = new BanList();
    assert.equal(await restoreBans(store, one, { now }), 2);
    assert.deepEqual(one.list(now).map((b) => b.key), ["ip:192.0.2.1", "bcrt1qexample.rig"]);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a BanList's listener can be attached later and hears later bans and unbans only", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denopool-bans-" });
  const store = await openStore(`${dir}/kv`);
  try {
    const now = Date.now();
    const ips = new BanList();
    ips.ban("ip:198.51.100.1", "before", 60_000, now);
    const writes: Promise<unknown>[] = [];
    ips.setListener(persistBans(store, (p) => writes.push(p)));
    ips.ban("ip:198.51.100.2", "after", 60_000, now);
    ips.ban("ip:198.51.100.3", "lifted", 60_000, now);
    ips.unban("ip:198.51.100.3");
    await Promise.all(writes);
    assert.deepEqual((await store.bans()).map((b) => [b.key, b.reason]), [
      ["ip:198.51.100.2", "after"],
    ]);
    ips.setListener(undefined);
    ips.ban("ip:198.51.100.4", "unheard", 60_000, now);
    assert.equal(writes.length, 3);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/** Opens `n` connections one after another; resolves with how many the pool closed at once. */
async function connectTimes(port: number, n: number): Promise<number> {
  let refused = 0;
  for (let i = 0; i < n; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    // A refused connection is closed by the pool before anything is sent: EOF (or a reset).
    const read = await Promise.race([
      conn.read(new Uint8Array(64)).catch(() => null),
      new Promise<"open">((r) => setTimeout(() => r("open"), 300)),
    ]);
    if (read === null) refused++;
    conn.close();
  }
  return refused;
}

Deno.test({
  name: "a reconnect-churn IP ban survives a restart; one that ended meanwhile does not",
  ...sanitize,
  async fn() {
    const node = await startRegtestNode();
    const dataDir = await Deno.makeTempDir({ prefix: "denopool-ipban-" });
    const patch = {
      bans: { reconnect_threshold: 3, reconnect_window_seconds: 60, reconnect_ban_seconds: 3600 },
    };
    let tp: TestPool | undefined;
    try {
      await node.mine(1);
      tp = await startTestPool(node, patch, dataDir);
      const admission = tp.pool.stratum.admission;
      assert.equal(await connectTimes(tp.port, 3), 0, "three connects are allowed");
      assert.equal(await connectTimes(tp.port, 2), 2, "the fourth is churn, then banned");
      const ban = admission.bans.get("ip:127.0.0.1", Date.now());
      assert.ok(ban, "127.0.0.1 is banned");
      assert.equal(ban.reason, "reconnecting too often");
      assert.equal(tp.pool.stratum.bans.get("ip:127.0.0.1", Date.now()), undefined);
      await tp.stop();
      tp = undefined;

      // While the pool is down: a ban that ends before the restart (written with a clock 10 s
      // behind, so the store still holds it), as a pool that stopped a while ago would leave.
      const location = `${dataDir}/store/denopool.kv`;
      const behind = await openStore(location, { now: () => Date.now() - 10_000 });
      await behind.putBan({ key: "ip:192.0.2.99", until: Date.now() - 1, reason: "old" });
      assert.ok((await behind.bans()).some((b) => b.key === "ip:192.0.2.99"), "still stored");
      behind.close();

      tp = await startTestPool(node, patch, dataDir);
      const after = tp.pool.stratum.admission.bans;
      assert.deepEqual(after.get("ip:127.0.0.1", Date.now()), ban, "same ban, same end");
      assert.equal(after.get("ip:192.0.2.99", Date.now()), undefined, "the ended one is dropped");
      assert.equal(tp.pool.stratum.bans.get("ip:127.0.0.1", Date.now()), undefined);
      assert.ok(tp.log.some((l) => /store: 1 ban\(s\) restored/.test(l)), tp.log.join("\n"));
      const refusedBefore = tp.pool.stratum.counts().refused.banned;
      assert.equal(await connectTimes(tp.port, 1), 1, "127.0.0.1 is still refused");
      assert.equal(tp.pool.stratum.counts().refused.banned, refusedBefore + 1);
    } finally {
      await tp?.stop();
      await node.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
