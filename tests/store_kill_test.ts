/**
 * kill -9 in the middle of writes: a child process writes saved workers, bans, found blocks and
 * history as fast as it can and reports each finished round; the parent kills it with SIGKILL
 * mid-stream, reopens the store and finds every reported round whole, and no half-written state.
 */

import assert from "node:assert/strict";
import { openStore, workerNameHash } from "../lib/store/store.ts";
import type { FoundBlockRecord } from "../lib/pool/blocks.ts";

const CHILD_ENV = "DENOPOOL_STORE_KILL_CHILD";
const FAR_FUTURE = Date.UTC(2100, 0, 1);

function record(i: number): FoundBlockRecord {
  return {
    height: 1000 + i,
    hash: i.toString(16).padStart(64, "0"),
    prevhash: "00".repeat(32),
    worker: `worker-${i}`,
    shareDifficulty: i,
    foundAt: i,
    coinbaseValueSats: "5000000000",
    workerPayoutSats: "5000000000",
    poolFeeSats: "0",
    donationSats: "0",
    status: "accepted",
    attempts: 1,
    updatedAt: i,
  };
}

/** The child: one round = a saved worker, a ban, a block and a history minute, then "done i". */
async function child(path: string): Promise<void> {
  const store = await openStore(path);
  const out = Deno.stdout.writable.getWriter();
  const enc = new TextEncoder();
  for (let i = 0;; i++) {
    const user = `user_${i % 8}`;
    await Promise.all([
      store.savedWorkers.save(user, `worker-${i}`),
      store.bans.put({ key: `worker-${i}`, until: FAR_FUTURE, reason: `round ${i}` }),
      store.blocks.put(record(i)),
      store.history.putPool({ minute: 29_000_000 + i, hashrate: i, workers: 1 }),
    ]);
    await out.write(enc.encode(`done ${i}\n`));
  }
}

if (import.meta.main && Deno.env.get(CHILD_ENV)) await child(Deno.env.get(CHILD_ENV)!);

Deno.test("a store killed with SIGKILL mid-write keeps every finished write and no torn one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denopool-kill-" });
  const path = `${dir}/store/denopool.kv`;
  try {
    const proc = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--unstable-kv", new URL(import.meta.url).pathname],
      env: { [CHILD_ENV]: path },
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    let lastDone = -1;
    let buffered = "";
    const reader = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
    while (lastDone < 150) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += value;
      for (const m of buffered.matchAll(/done (\d+)\n/g)) lastDone = Number(m[1]);
      buffered = buffered.slice(buffered.lastIndexOf("\n") + 1);
    }
    proc.kill("SIGKILL");
    const status = await proc.status;
    await reader.cancel().catch(() => {});
    assert.equal(status.signal, "SIGKILL");
    assert.ok(lastDone >= 150, `child finished ${lastDone + 1} rounds before the kill`);

    const store = await openStore(path);
    try {
      const blocks = new Set((await store.blocks.list()).map((b) => b.height));
      const bans = new Set((await store.bans.list()).map((b) => b.key));
      const minutes = new Set((await store.history.pool()).map((s) => s.minute));
      const saved = new Map<string, string[]>();
      for (let u = 0; u < 8; u++) {
        saved.set(`user_${u}`, (await store.savedWorkers.list(`user_${u}`)).map((w) => w.hash));
      }
      for (let i = 0; i <= lastDone; i++) {
        assert.ok(blocks.has(1000 + i), `block of round ${i}`);
        assert.ok(bans.has(`worker-${i}`), `ban of round ${i}`);
        assert.ok(minutes.has(29_000_000 + i), `history of round ${i}`);
        const list = saved.get(`user_${i % 8}`)!;
        // 64 per user: rounds past the limit were refused, the earlier ones are all there.
        if (Math.floor(i / 8) < 64) {
          assert.ok(list.includes(workerNameHash(`worker-${i}`)), `saved worker of round ${i}`);
        }
      }
      // No torn write: every saved list matches its reverse index exactly.
      for (const [user, hashes] of saved) {
        for (const h of hashes) {
          assert.ok((await store.savedWorkers.usersWhoSaved(h)).includes(user));
        }
      }
      let indexed = 0;
      for await (const _ of store.kv.list({ prefix: ["v1", "saved-by"] })) indexed++;
      assert.equal(indexed, [...saved.values()].reduce((n, l) => n + l.length, 0));
      // And the store keeps working.
      assert.equal(await store.savedWorkers.save("user_new", "after-the-crash"), "saved");
    } finally {
      store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
