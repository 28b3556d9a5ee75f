/**
 * Bans never lock out an honest farm, on real sockets against a real pool:
 *
 * - 500 miners behind one address (a farm behind NAT, or a local Stratum proxy) connect at once
 *   and all get work; the pool restarts and all 500 reconnect at once, none refused.
 * - Meanwhile a connect-and-close loop from another address is banned, and the farm mines on.
 * - A churn ban protects one process only: after a restart the banned address connects again, a
 *   churn ban an older version stored is dropped, and the demo's built-in miner (loopback,
 *   exempt by default) mines.
 *
 * The farm dials from 127.0.0.1 with the exempt list emptied, so its address is an ordinary one;
 * the attacker dials from 127.0.0.2 (`node:net` can choose the source address, `Deno.connect`
 * cannot).
 */

import assert from "node:assert/strict";
import net from "node:net";
import { startRegtestNode } from "./helpers/regtest.ts";
import { type ConfigPatch, startTestPool, type TestPool } from "./helpers/pool.ts";
import { connectMiner, regtestP2wpkh, submitPlainShare } from "./helpers/miners.ts";
import { freePort } from "./helpers/ports.ts";
import { waitUntil } from "./helpers/wait.ts";
import { openStore } from "../lib/store/store.ts";
import type { StratumClient } from "../stratum/client.ts";
import { runMiner } from "../tools/miner.ts";

const sanitize = { sanitizeOps: false, sanitizeResources: false } as const;
const FARM = 500;
const ATTACKER = "127.0.0.2";
const ADDRESS = regtestP2wpkh(0x5a);

/** Connects from `localAddress`, sends nothing, closes at once; true when it was accepted at all. */
function connectAndClose(port: number, localAddress: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port, localAddress });
    socket.on("connect", () => socket.destroy());
    socket.on("close", () => resolve());
    socket.on("error", () => resolve());
  });
}

/** Connects the whole farm at once; every miner subscribes, authorizes and waits for work. */
async function connectFarm(port: number): Promise<{ miners: StratumClient[]; ms: number }> {
  const started = performance.now();
  const miners = await Promise.all(
    Array.from(
      { length: FARM },
      (_, i) => connectMiner(port, `${ADDRESS}.rig${i}`, { requestTimeoutMs: 30_000 }),
    ),
  );
  return { miners, ms: performance.now() - started };
}

function closeAll(miners: StratumClient[]): void {
  for (const m of miners) m.close();
}

Deno.test({
  name:
    "500 miners behind one address connect at once, and again after a restart; a looping address is banned while they mine",
  ...sanitize,
  async fn() {
    const node = await startRegtestNode();
    const dataDir = await Deno.makeTempDir({ prefix: "denopool-farm-" });
    const port = freePort();
    // Defaults but for the exempt list (empty: 127.0.0.1 is an ordinary address here), a loop
    // threshold low enough for a test to reach quickly, and shares easier than regtest blocks.
    const patch: ConfigPatch = {
      stratum: { listen: `127.0.0.1:${port}` },
      difficulty: { start: 1e-10, min: 1e-10 },
      bans: { exempt: [], reconnect_threshold: 20 },
    };
    let tp: TestPool | undefined;
    let miners: StratumClient[] = [];
    try {
      await node.mine(1);
      tp = await startTestPool(node, patch, dataDir);
      const first = await connectFarm(port);
      miners = first.miners;
      assert.ok(miners.every((m) => m.job !== undefined), "every miner has work");
      const counts = tp.pool.stratum.counts();
      assert.equal(counts.authorized, FARM);
      assert.deepEqual(counts.refused, { capacity: 0, "ip-limit": 0, "rate-limit": 0, banned: 0 });
      assert.equal(counts.churnBans, 0);
      console.log(`farm of ${FARM} connected and got work in ${first.ms.toFixed(0)} ms`);

      // A connect-and-close loop from another address: banned after the threshold.
      const admission = tp.pool.stratum.admission;
      await waitUntil(async () => {
        await connectAndClose(port, ATTACKER);
        return admission.bans.get(`ip:${ATTACKER}`, Date.now()) !== undefined;
      }, "the looping address is banned");
      const ban = admission.bans.get(`ip:${ATTACKER}`, Date.now())!;
      assert.equal(ban.reason, "reconnecting too often");
      assert.equal(ban.source, "churn");
      const bannedBefore = tp.pool.stratum.counts().refused.banned;
      await connectAndClose(port, ATTACKER);
      await waitUntil(
        () => tp!.pool.stratum.counts().refused.banned > bannedBefore,
        "the banned address is refused",
      );
      // The farm mines on: shares from a spread of its miners are accepted.
      for (const i of [0, 123, 250, 499]) await submitPlainShare(miners[i], `${ADDRESS}.rig${i}`);
      assert.equal(tp.pool.stratum.counts().authorized, FARM, "no farm miner was dropped");
      assert.equal(admission.bans.get("ip:127.0.0.1", Date.now()), undefined);

      // The pool restarts (same data dir, same port) and the whole farm reconnects at once.
      await tp.stop();
      tp = undefined;
      closeAll(miners);
      miners = [];
      tp = await startTestPool(node, patch, dataDir);
      const again = await connectFarm(port);
      miners = again.miners;
      assert.ok(miners.every((m) => m.job !== undefined), "every miner has work again");
      const after = tp.pool.stratum.counts();
      assert.equal(after.authorized, FARM);
      assert.deepEqual(after.refused, { capacity: 0, "ip-limit": 0, "rate-limit": 0, banned: 0 });
      console.log(`farm of ${FARM} reconnected after the restart in ${again.ms.toFixed(0)} ms`);
      // The churn ban protected the process that set it; it was not written nor restored.
      assert.equal(tp.pool.stratum.admission.bans.get(`ip:${ATTACKER}`, Date.now()), undefined);
      const store = await openStoreOf(tp);
      assert.equal(store.some((b) => b.key.startsWith("ip:")), false, "no IP ban was stored");
      await submitPlainShare(miners[42], `${ADDRESS}.rig42`);
    } finally {
      closeAll(miners);
      await tp?.stop();
      await node.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

/** The bans in the running pool's store, read through its own store handle. */
function openStoreOf(tp: TestPool) {
  return tp.pool.persistence.store.bans.list();
}

Deno.test({
  name:
    "after a ban on an IP the pool restarts and the demo's built-in miner still mines; a stored churn ban is dropped",
  ...sanitize,
  async fn() {
    const node = await startRegtestNode();
    const dataDir = await Deno.makeTempDir({ prefix: "denopool-ipban-" });
    const port = freePort();
    let tp: TestPool | undefined;
    try {
      await node.mine(1);
      // First run: loopback not exempt, so a loop from 127.0.0.1 itself is banned.
      tp = await startTestPool(node, {
        stratum: { listen: `127.0.0.1:${port}` },
        bans: { exempt: [], reconnect_threshold: 3 },
      }, dataDir);
      const admission = tp.pool.stratum.admission;
      await waitUntil(async () => {
        await connectAndClose(port, "127.0.0.1");
        return admission.bans.get("ip:127.0.0.1", Date.now()) !== undefined;
      }, "127.0.0.1 is banned for its loop");
      await tp.stop();
      tp = undefined;

      // While the pool is down: a churn ban on 127.0.0.1 as an older version stored it.
      const location = `${dataDir}/store/denopool.kv`;
      const old = await openStore(location);
      await old.bans.put({
        key: "ip:127.0.0.1",
        until: Date.now() + 3_600_000,
        reason: "reconnecting too often",
      });
      old.close();

      // Restart with the demo's settings (the default exempt list) and run its built-in miner.
      tp = await startTestPool(node, { stratum: { listen: `127.0.0.1:${port}` } }, dataDir);
      assert.equal(tp.pool.stratum.admission.bans.get("ip:127.0.0.1", Date.now()), undefined);
      assert.deepEqual(
        await tp.pool.persistence.store.bans.list(),
        [],
        "the stored churn ban was deleted",
      );
      const height = await node.height();
      const stop = new AbortController();
      const running = runMiner({
        url: `stratum+tcp://127.0.0.1:${port}`,
        user: `${ADDRESS}.demo`,
        signal: stop.signal,
        reconnect: false,
      });
      try {
        await waitUntil(async () => await node.height() > height, "the demo miner finds a block");
      } finally {
        stop.abort();
      }
      const stats = await running;
      assert.ok(stats.accepted > 0, "shares accepted");
      assert.equal(stats.sessions, 1, "one session: never closed by the pool");
      assert.equal(tp.pool.stratum.counts().refused.banned, 0);
    } finally {
      await tp?.stop();
      await node.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
