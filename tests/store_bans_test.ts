/**
 * Bans across restarts. Worker and address bans live in the Stratum server's list, IP bans in the
 * admission's own list; both are written to the store as they happen and come back into the right
 * list at start, with bans that ended while the pool was down dropped. Reconnect-churn bans are
 * short-lived protection of one process: never written, and one an older version wrote is deleted
 * at start instead of restored.
 */

import assert from "node:assert/strict";
import { openStore } from "../lib/store/store.ts";
import { persistBans, restoreBans } from "../app/persistence.ts";
import { BanList } from "../lib/pool/bans.ts";

Deno.test("restoreBans: ip: keys to the IP list, the rest to the worker list, ended and churn ones dropped", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denopool-bans-" });
  const t0 = Date.UTC(2025, 0, 1);
  const store = await openStore(`${dir}/kv`, { now: () => t0 });
  try {
    await store.bans.put({
      key: "ip:192.0.2.1",
      until: t0 + 60_000,
      reason: "by hand",
      source: "operator",
    });
    await store.bans.put({ key: "ip:192.0.2.2", until: t0 + 5_000, reason: "by hand" });
    // As an older version stored a churn ban (no source): deleted, not restored.
    await store.bans.put({
      key: "ip:192.0.2.3",
      until: t0 + 60_000,
      reason: "reconnecting too often",
    });
    await store.bans.put({
      key: "bcrt1qexample.rig",
      until: t0 + 120_000,
      reason: "invalid shares",
    });
    const heard: string[] = [];
    const workers = new BanList();
    const ips = new BanList({ onBan: (e) => heard.push(e.key) });
    const now = t0 + 10_000;
    assert.equal(await restoreBans(store, workers, { ipBans: ips, now }), 2);
    assert.deepEqual(ips.list(now), [
      { key: "ip:192.0.2.1", until: t0 + 60_000, reason: "by hand", source: "operator" },
    ]);
    assert.deepEqual(workers.list(now), [
      { key: "bcrt1qexample.rig", until: t0 + 120_000, reason: "invalid shares" },
    ]);
    assert.deepEqual(heard.sort(), ["ip:192.0.2.1"]);
    assert.deepEqual((await store.bans.list()).map((b) => b.key), [
      "ip:192.0.2.2",
      "ip:192.0.2.1",
      "bcrt1qexample.rig",
    ], "the churn ban is gone from the store");

    // Without an IP list every ban goes to the one list given.
    const one = new BanList();
    assert.equal(await restoreBans(store, one, { now }), 2);
    assert.deepEqual(one.list(now).map((b) => b.key), ["ip:192.0.2.1", "bcrt1qexample.rig"]);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("persistBans writes every ban but a churn ban", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denopool-bans-" });
  const store = await openStore(`${dir}/kv`);
  try {
    const now = Date.now();
    const writes: Promise<unknown>[] = [];
    const list = new BanList(persistBans(store, (p) => writes.push(p)));
    list.ban("ip:198.51.100.7", "reconnecting too often", 60_000, now, "churn");
    list.ban("ip:198.51.100.8", "by hand", 60_000, now, "operator");
    list.ban("rig.1", "too many invalid shares", 60_000, now, "invalid-shares");
    await Promise.all(writes);
    assert.deepEqual((await store.bans.list()).map((b) => [b.key, b.source]).sort(), [
      ["ip:198.51.100.8", "operator"],
      ["rig.1", "invalid-shares"],
    ]);
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
    assert.deepEqual((await store.bans.list()).map((b) => [b.key, b.reason]), [
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
