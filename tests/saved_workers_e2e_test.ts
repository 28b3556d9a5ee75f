/**
 * Saved workers end to end on a live pool: a bcoin regtest node, the whole pool from a TOML
 * config (Clerk JWKS and the Discord API both local stand-ins), a real Stratum miner. A signed-in
 * user links Discord with a one-time code, saves the worker, sees it online with its numbers, sees
 * it offline after a disconnect, gets the offline and back-online notices, then the block notice;
 * after a restart the saved worker, the ban, the found block and the history are all still there.
 */

import assert from "node:assert/strict";
import { stringify } from "smol-toml";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { startRegtestNode } from "./helpers/regtest.ts";
import { loadConfig } from "../lib/config/load.ts";
import { type RunningPool, startPool } from "../app/pool.ts";
import { StratumClient } from "../stratum/client.ts";
import { findShare } from "../stratum/miner.ts";
import { encodeSegwitAddress } from "../lib/bitcoin/bech32.ts";
import { workerNameHash } from "../lib/store/store.ts";
import { waitUntil } from "./helpers/wait.ts";

const ISSUER = "https://clerk.pool.test";
const SITE = "http://pool.test";
const CHANNEL = "200000000000000002";
const WORKER = `${encodeSegwitAddress("bcrt", 0, new Uint8Array(20).fill(9))}.rig1`;

Deno.test({
  name: "save a worker, watch it go offline and back, get every notice, survive a restart",
  sanitizeOps: false, // bcoin keeps internal timers alive until its process-wide teardown
  sanitizeResources: false,
  async fn() {
    // Clerk JWKS stand-in.
    const keyPair = await generateKeyPair("RS256", { extractable: true });
    const jwk = { ...(await exportJWK(keyPair.publicKey)), kid: "k1", alg: "RS256" };
    const jwks = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => Response.json({ keys: [jwk] }),
    );
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ sub: "user_e2e", iss: ISSUER, iat: now, exp: now + 3600 })
      .setProtectedHeader({ alg: "RS256", kid: "k1" }).sign(keyPair.privateKey);

    // Discord API stand-in: records posts, serves the channel's messages.
    const posts: string[] = [];
    const channel: Array<{ id: string; content: string; author: { id: string } }> = [];
    const discord = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      const url = new URL(req.url);
      if (req.method === "GET") {
        const after = BigInt(url.searchParams.get("after") ?? "0");
        return Response.json(channel.filter((m) => BigInt(m.id) > after).reverse());
      }
      if (req.method === "DELETE") return new Response(null, { status: 204 });
      const body = await req.json();
      posts.push(String(body.content));
      return Response.json({ id: String(9000 + posts.length), content: "", author: { id: "1" } });
    });

    const node = await startRegtestNode();
    const dir = await Deno.makeTempDir({ prefix: "denopool-e2e-" });
    const configPath = `${dir}/config.toml`;
    await Deno.writeTextFile(
      configPath,
      stringify({
        server: { data_dir: dir, status_listen: "127.0.0.1:0", status_public_url: SITE },
        stratum: { listen: "127.0.0.1:0" },
        node: {
          network: "regtest",
          rpc_url: node.rpcUrl,
          zmq_hashblock: "",
          zmq_rawblock: "",
          refresh_interval_seconds: 30,
        },
        difficulty: { start: 0.000001, min: 0.000001 },
        auth: { clerk_jwks_url: `http://127.0.0.1:${jwks.addr.port}/jwks`, clerk_issuer: ISSUER },
        discord: {
          api_base_url: `http://127.0.0.1:${discord.addr.port}/api/v10`,
          server_id: "100000000000000001",
          channel_id: CHANNEL,
        },
      }),
    );
    await Deno.writeTextFile(
      `${dir}/secrets.toml`,
      stringify({ rpc_user: "u", rpc_password: node.apiKey, discord_bot_token: "BOT" }),
    );
    await Deno.chmod(`${dir}/secrets.toml`, 0o600);
    const start = async () =>
      await startPool(await loadConfig({ configPath }), {
        log: () => {},
        persistence: {
          notifyIntervalMs: 50,
          offlineAfterMs: 400,
          onlineAfterMs: 400,
          pollIntervalMs: 50,
          discordMinIntervalMs: 10,
          sampleIntervalMs: 100,
        },
      });

    let pool: RunningPool | undefined;
    const clients: StratumClient[] = [];
    try {
      pool = await start();
      await node.mine(1);
      // Over real HTTP to the pool's status server (SITE is its public URL, for the origin checks).
      const base = () => `http://127.0.0.1:${pool!.status.http!.port}`;
      const post = (path: string, body: Record<string, unknown>, cookie?: string) =>
        fetch(`${base()}${path}`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            origin: SITE,
            ...(cookie ? { cookie } : {}),
          },
          body: JSON.stringify(body),
        });

      // Sign in.
      const refreshed = await post("/api/auth/session-refresh", { token });
      assert.equal(refreshed.status, 200);
      const cookie = refreshed.headers.get("set-cookie")!.split(";")[0];
      const savedWorkers = async () => {
        const res = await fetch(`${base()}/api/saved-workers`, { headers: { cookie } });
        assert.equal(res.status, 200);
        return await res.json();
      };

      // Link Discord with a one-time code given to the bot.
      const codeRes = await post("/api/saved-workers/one-time-code", {}, cookie);
      assert.equal(codeRes.status, 200);
      const { code } = await codeRes.json();
      channel.push({ id: "5000", content: `!link ${code}`, author: { id: "777" } });
      await waitUntil(async () => (await savedWorkers()).discord_registered === true, "the link");
      assert.equal((await savedWorkers()).discord_notify_enabled, true);

      // Save the worker (page action), then mine with it.
      const save = await fetch(`${base()}/worker/save`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: SITE, cookie },
        body: new URLSearchParams({ worker: WORKER }).toString(),
        redirect: "manual",
      });
      assert.equal(save.status, 303);
      const connect = async () => {
        const client = await StratumClient.connect({
          host: "127.0.0.1",
          port: pool!.stratum.port!,
        });
        clients.push(client);
        assert.equal((await client.subscribe("e2e/1.0")).error, null);
        assert.equal((await client.authorize(WORKER, "x")).result, true);
        await client.waitFor("mining.notify", () => true, 10_000);
        return client;
      };
      let client = await connect();
      const share = findShare(client, { maxNonces: 1 << 22 });
      assert.ok(share);
      assert.equal((await client.submit(WORKER, share)).result, true);

      const online = await savedWorkers();
      assert.equal(online.saved_count, 1);
      assert.equal(online.online_count, 1);
      const [entry] = online.online_workers;
      assert.equal(entry.hash, workerNameHash(WORKER));
      assert.equal(entry.online, true);
      assert.equal(entry.accepted, 1);
      assert.ok(entry.hashrate > 0 && entry.difficulty > 0 && entry.best_difficulty > 0);
      assert.ok(typeof entry.last_share === "string" && typeof entry.connection_seq === "number");
      assert.ok(!entry.name.includes(WORKER.split(".")[0]), "the display name is censored");

      // The notifier has seen it online (its first sight takes the state without a notice).
      await waitUntil(async () => {
        const states = await pool!.persistence.store.notifyStates.list<{ state: string }>(
          "user_e2e",
        );
        return states.get(workerNameHash(WORKER))?.state === "online";
      }, "the notifier's first look");

      // Offline after a disconnect, with a notice once the threshold has passed.
      client.close();
      await waitUntil(async () => (await savedWorkers()).offline_workers.length === 1, "offline");
      await waitUntil(() => posts.some((p) => p.includes("went offline")), "the offline notice");
      const offlineNotice = posts.find((p) => p.includes("went offline"))!;
      assert.match(offlineNotice, /^<@777>\n🔴 /);
      assert.ok(offlineNotice.includes(`${SITE}/saved-workers`));

      // Back online.
      client = await connect();
      await waitUntil(() => posts.some((p) => p.includes("is back online")), "the online notice");

      // A block (regtest: about every other share) and its notice.
      const height = await node.height();
      for (let i = 0; i < 40 && await node.height() === height; i++) {
        const next = findShare(client, { maxNonces: 1 << 22 });
        if (next) await client.submit(WORKER, next);
      }
      assert.ok(await node.height() > height, "a block was found");
      await waitUntil(() => posts.some((p) => p.includes("Block found")), "the block notice");
      assert.ok(posts.find((p) => p.includes("Block found"))!.includes("<@777>"));

      // Something to persist besides: a ban.
      pool.stratum.bans.ban("banned-worker", "e2e ban", 3_600_000, Date.now());
      await pool.persistence.sample();
      client.close();
      await pool.stop();
      pool = undefined;

      // Restart on the same data dir.
      pool = await start();
      const after = await savedWorkers();
      assert.equal(after.saved_count, 1);
      assert.equal(after.offline_workers[0].hash, workerNameHash(WORKER));
      assert.ok(after.offline_workers[0].last_online_at, "last seen online is remembered");
      assert.equal(after.discord_registered, true);
      assert.equal(pool.stratum.bans.get("banned-worker", Date.now())?.reason, "e2e ban");
      const blocks = await pool.persistence.store.blocks.list();
      assert.ok(blocks.some((b) => b.worker === WORKER && b.status === "accepted"));
      assert.ok((await pool.persistence.store.history.pool()).length > 0);
      assert.ok((await pool.persistence.store.history.worker(workerNameHash(WORKER))).length > 0);
    } finally {
      for (const c of clients) c.close();
      await pool?.stop();
      await node.stop();
      await jwks.shutdown();
      await discord.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
