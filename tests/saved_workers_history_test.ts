/**
 * `GET /api/saved-workers/history?hash=`: a signed-in user reads the last 24 hours of one of their
 * own saved workers, minute by minute (hashrate and best share), oldest first. Anyone else's
 * worker, or one never saved, is a 404; without a session it is a 401.
 */

import assert from "node:assert/strict";
import { TEST_SITE, withAuthRoutes } from "./auth_fixture.ts";
import { HISTORY_MINUTES, workerNameHash } from "../lib/store/mod.ts";
import { censorWorker } from "../lib/status/censor.ts";

const RIG = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080.rig-7";
const OTHER = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080.other";

async function cookieFor(
  request: (path: string, init?: RequestInit) => Promise<Response>,
  token: string,
): Promise<string> {
  const res = await request("/api/auth/session-refresh", {
    method: "POST",
    headers: { "content-type": "application/json", origin: TEST_SITE },
    body: JSON.stringify({ token }),
  });
  assert.equal(res.status, 200);
  return res.headers.get("set-cookie")!.split(";")[0];
}

Deno.test("a saved worker's last 24 h come back minute by minute, oldest first", async () => {
  await withAuthRoutes(async ({ clerk, store, request }) => {
    const cookie = await cookieFor(request, await clerk.sign("user_h"));
    assert.equal(await store.savedWorkers.save("user_h", RIG), "saved");
    const hash = workerNameHash(RIG);
    const minute = Math.floor(Date.now() / 60_000);
    // Written out of order; one sample is older than the window and must not be returned.
    const samples = [
      { minute: minute - 2, hashrate: 2.5e12, bestDifficulty: 1_000 },
      { minute: minute - HISTORY_MINUTES - 5, hashrate: 9e12, bestDifficulty: 9 },
      { minute: minute - HISTORY_MINUTES + 1, hashrate: 1e12, bestDifficulty: 20.5 },
      { minute, hashrate: 3e12, bestDifficulty: 4_096 },
    ];
    for (const s of samples) await store.history.putWorker(hash, s, new Date(s.minute * 60_000));

    const res = await request(`/api/saved-workers/history?hash=${hash}`, { headers: { cookie } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    assert.match(res.headers.get("cache-control") ?? "", /private, no-store/);
    const body = await res.json();
    assert.deepEqual(Object.keys(body).sort(), [
      "hash",
      "history",
      "interval_seconds",
      "name",
      "updated_at",
      "window_seconds",
    ]);
    assert.equal(body.hash, hash);
    assert.equal(body.name, censorWorker(RIG));
    assert.equal(body.interval_seconds, 60);
    assert.equal(body.window_seconds, 86_400);
    assert.ok(Math.abs(Date.parse(body.updated_at) - Date.now()) < 10_000);
    assert.deepEqual(body.history, [
      {
        at: new Date((minute - HISTORY_MINUTES + 1) * 60_000).toISOString(),
        hashrate: 1e12,
        best_difficulty: 20.5,
      },
      {
        at: new Date((minute - 2) * 60_000).toISOString(),
        hashrate: 2.5e12,
        best_difficulty: 1000,
      },
      { at: new Date(minute * 60_000).toISOString(), hashrate: 3e12, best_difficulty: 4096 },
    ]);

    // The hash is case-insensitive, as everywhere else.
    const upper = await request(`/api/saved-workers/history?hash=${hash.toUpperCase()}`, {
      headers: { cookie },
    });
    assert.equal((await upper.json()).history.length, 3);
  });
});

Deno.test("a saved worker with no history yet has an empty list", async () => {
  await withAuthRoutes(async ({ clerk, store, request }) => {
    const cookie = await cookieFor(request, await clerk.sign("user_h"));
    await store.savedWorkers.save("user_h", RIG);
    const res = await request(`/api/saved-workers/history?hash=${workerNameHash(RIG)}`, {
      headers: { cookie },
    });
    assert.equal(res.status, 200);
    assert.deepEqual((await res.json()).history, []);
  });
});

Deno.test("only the user's own saved hashes: others are 404, bad hashes 400, no session 401", async () => {
  await withAuthRoutes(async ({ clerk, store, request }) => {
    const alice = await cookieFor(request, await clerk.sign("user_alice"));
    await store.savedWorkers.save("user_bob", OTHER);
    await store.savedWorkers.save("user_alice", RIG);
    const bobs = workerNameHash(OTHER);
    await store.history.putWorker(bobs, { minute: 1, hashrate: 1, bestDifficulty: 1 }, new Date());

    const get = (query: string, cookie?: string) =>
      request(`/api/saved-workers/history${query}`, { headers: cookie ? { cookie } : {} });
    const expect = async (res: Response, status: number, text: string) => {
      assert.equal(res.status, status, text);
      assert.equal(await res.text(), `${text}\n`);
      assert.match(res.headers.get("cache-control") ?? "", /no-store/);
    };
    await expect(await get(`?hash=${bobs}`, alice), 404, "worker not found");
    await expect(await get(`?hash=${"ab".repeat(32)}`, alice), 404, "worker not found");
    await expect(await get("", alice), 400, "invalid hash");
    await expect(await get("?hash=xyz", alice), 400, "invalid hash");
    await expect(await get(`?hash=${bobs}0`, alice), 400, "invalid hash");
    await expect(await get(`?hash=${workerNameHash(RIG)}`), 401, "unauthorized");
    await expect(
      await get(`?hash=${workerNameHash(RIG)}`, "__session=forged"),
      401,
      "unauthorized",
    );

    // Removed from the list, its history is no longer the user's to read.
    await store.savedWorkers.remove("user_alice", workerNameHash(RIG));
    await expect(await get(`?hash=${workerNameHash(RIG)}`, alice), 404, "worker not found");
  });
});

Deno.test("without Clerk configured the history route is 404", async () => {
  await withAuthRoutes(async ({ request }) => {
    const res = await request(`/api/saved-workers/history?hash=${workerNameHash(RIG)}`);
    assert.equal(res.status, 404);
    await res.body?.cancel();
  }, { withoutClerk: true });
});
