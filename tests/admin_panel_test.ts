/**
 * The admin panel against a real pool on a real regtest node, over HTTP, with real Stratum
 * clients watching what each action does:
 *
 * - Access: nothing but the sign-in routes answers without a session (fuzzed); a wrong password
 *   is refused and audited; sign-ins are rate-limited per address; a cross-site sign-in and a
 *   POST without the session's CSRF token are refused; an expired session is signed out.
 * - Actions: a kicked miner is closed; a banned IP is refused and connects again once unbanned;
 *   a difficulty floor arrives as `mining.set_difficulty`; `client.show_message` reaches the
 *   miner; an override of the minimum difficulty moves the difficulty the pool steers to at once,
 *   an override of the vardiff aim changes where vardiff steers a real miner; overrides survive a restart; a
 *   journaled block downloads as its raw hex and is resubmitted.
 */

import assert from "node:assert/strict";
import { startRegtestNode } from "./helpers/regtest.ts";
import { type ConfigPatch, mergePatches, startTestPool, type TestPool } from "./helpers/pool.ts";
import { connectMiner, regtestP2wpkh, submitBlock, submitPlainShare } from "./helpers/miners.ts";
import { seededBytes } from "./helpers/random.ts";
import { sleep, waitUntil } from "./helpers/wait.ts";
import { hashPassword, MIN_ITERATIONS } from "../lib/admin/password.ts";
import { Vardiff } from "../lib/pool/vardiff.ts";
import { sha256d } from "../lib/bitcoin/sha256.ts";
import { bytesToHex, hexToBytes, reverseBytes } from "../lib/bitcoin/hex.ts";
import { createAdminApp } from "../routes/admin/app.tsx";
import type { AdminPort } from "../lib/admin/port.ts";

const sanitize = { sanitizeOps: false, sanitizeResources: false } as const;
const PASSWORD = "a long admin password";
const ADDRESS = regtestP2wpkh(0x3c);

/** An HTTP client of the panel that keeps its cookie and CSRF token. */
class AdminClient {
  cookie = "";
  csrf = "";
  constructor(readonly base: string) {}

  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookie) headers.set("cookie", this.cookie);
    return fetch(`${this.base}${path}`, { redirect: "manual", ...init, headers });
  }

  async login(password = PASSWORD): Promise<Response> {
    const res = await this.fetch("/admin/api/login", {
      method: "POST",
      headers: { "content-type": "application/json", origin: this.base },
      body: JSON.stringify({ password }),
    });
    if (res.status === 200) {
      this.cookie = res.headers.get("set-cookie")!.split(";")[0];
      this.csrf = (await res.clone().json()).csrf_token;
    }
    return res;
  }

  async post(path: string, body: Record<string, unknown>): Promise<Response> {
    return await this.fetch(path, {
      method: "POST",
      headers: { "content-type": "application/json", "x-csrf-token": this.csrf },
      body: JSON.stringify(body),
    });
  }

  async json<T>(path: string): Promise<T> {
    const res = await this.fetch(path);
    assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
    return await res.json() as T;
  }
}

async function adminPool(
  node: Awaited<ReturnType<typeof startRegtestNode>>,
  dataDir?: string,
  patch: ConfigPatch = {},
): Promise<{ tp: TestPool; client: AdminClient }> {
  const hash = await hashPassword(PASSWORD, MIN_ITERATIONS);
  const tp = await startTestPool(
    node,
    mergePatches({
      admin: { enabled: true, listen: "127.0.0.1:0", login_attempts_per_minute: 5 },
      difficulty: { start: 1e-10, min: 1e-10 },
    }, patch),
    dataDir,
    { admin_password_hash: hash },
  );
  const at = tp.pool.admin!.address!;
  return { tp, client: new AdminClient(`http://127.0.0.1:${at.port}`) };
}

Deno.test({
  name: "admin access: only sign-in answers without a session; wrong password, rate limit, CSRF",
  ...sanitize,
  async fn() {
    const node = await startRegtestNode();
    let tp: TestPool | undefined;
    try {
      await node.mine(1);
      const started = await adminPool(node);
      tp = started.tp;
      const admin = started.client;

      // Without a session: pages redirect to the sign-in page, the API and every POST say 401.
      const page = await admin.fetch("/admin");
      assert.equal(page.status, 303);
      assert.equal(page.headers.get("location"), "/admin/login");
      await page.body?.cancel();
      const api = await admin.fetch("/admin/api/connections");
      assert.equal(api.status, 401);
      assert.match(api.headers.get("content-type")!, /^text\/plain/);
      assert.equal(await api.text(), "sign in first\n");
      const login = await admin.fetch("/admin/login");
      assert.equal(login.status, 200);
      assert.match(await login.text(), /type="password"/);

      // A fuzz of paths and methods: nothing is reachable without a session.
      const rand = seededBytes(7, 4096);
      const methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"];
      const pieces = [
        "admin",
        "api",
        "connections",
        "kick",
        "ban",
        "unban",
        "blocks",
        "raw",
        "overrides",
        "config",
        "audit",
        "settings",
        "..",
        "%2e%2e",
        "login.",
        "LOGIN",
        "actions",
        "x",
        "health",
        "workers",
        "a".repeat(64),
        "",
        ";",
        "admin.css/..",
      ];
      for (let i = 0; i < 300; i++) {
        const n = 1 + (rand[i] % 4);
        const path = "/admin/" +
          Array.from(
            { length: n },
            (_, j) => pieces[rand[(i * 7 + j) % rand.length] % pieces.length],
          )
            .join("/");
        if (path === "/admin/login" || path === "/admin/api/login" || path === "/admin/admin.css") {
          continue;
        }
        const method = methods[rand[(i * 13) % rand.length] % methods.length];
        const res = await admin.fetch(path, {
          method,
          body: method === "GET" || method === "HEAD" ? undefined : "password=" + PASSWORD,
          headers: { "content-type": "application/x-www-form-urlencoded" },
        });
        await res.body?.cancel();
        assert.ok(
          res.status === 401 || res.status === 303 ||
            res.status === 404 && !path.startsWith("/admin/"),
          `${method} ${path} answered ${res.status} without a session`,
        );
        if (res.status === 303) assert.equal(res.headers.get("location"), "/admin/login");
      }

      // A wrong password is refused and audited.
      const wrong = await admin.login("not the password");
      assert.equal(wrong.status, 401);
      assert.equal(await wrong.text(), "wrong password\n");

      // A cross-site sign-in is refused before the password is looked at.
      const cross = await admin.fetch("/admin/api/login", {
        method: "POST",
        headers: { "content-type": "application/json", origin: "https://evil.example" },
        body: JSON.stringify({ password: PASSWORD }),
      });
      assert.equal(cross.status, 403);
      await cross.body?.cancel();

      // The right one: a cookie for /admin only, HttpOnly and SameSite=Strict (no Secure on http).
      const ok = await admin.login();
      assert.equal(ok.status, 200);
      const setCookie = ok.headers.get("set-cookie")!;
      assert.match(
        setCookie,
        /^denopool_admin=[A-Za-z0-9_-]{43}; Path=\/admin; Max-Age=(3599|3600); HttpOnly; SameSite=Strict$/,
      );
      assert.equal(ok.headers.get("cache-control"), "no-store");
      assert.match(ok.headers.get("content-security-policy")!, /frame-ancestors 'none'/);

      // CSRF: a POST of the session without its token, or with a wrong one, is refused.
      for (const token of [undefined, "forged"]) {
        const res = await admin.fetch("/admin/api/message", {
          method: "POST",
          headers: {
            "content-type": "application/json",
            ...(token === undefined ? {} : { "x-csrf-token": token }),
          },
          body: JSON.stringify({ text: "hello" }),
        });
        assert.equal(res.status, 403);
        assert.equal(await res.text(), "missing or wrong CSRF token\n");
      }
      // The form field works like the header.
      const form = await admin.fetch("/admin/actions/message", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ csrf: admin.csrf, text: "hello form" }).toString(),
      });
      assert.equal(form.status, 303);
      assert.match(form.headers.get("location")!, /^\/admin\?done=message\+sent\+to\+0/);

      // Sign-ins are limited per address: 5 a minute (two were used above), then 429.
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await new AdminClient(admin.base).login("wrong again");
        statuses.push(res.status);
        if (res.status === 429) assert.ok(Number(res.headers.get("retry-after")) >= 1);
        await res.body?.cancel();
      }
      assert.deepEqual(statuses, [401, 401, 429, 429]);

      // Every sign-in attempt is in the audit log with who and when.
      const audit = await admin.json<{ action: string; who: string; at: number }[]>(
        "/admin/api/audit",
      );
      const actions = audit.map((e) => e.action);
      assert.ok(actions.includes("login-failed") && actions.includes("login"), actions.join());
      assert.ok(actions.includes("login-limited"));
      assert.ok(actions.includes("csrf-refused"));
      assert.ok(audit.every((e) => e.who.startsWith("operator@127.0.0.1") && e.at > 0));

      // Logout ends the session.
      const out = await admin.post("/admin/api/logout", {});
      assert.equal(out.status, 200);
      const after = await admin.fetch("/admin/api/connections");
      assert.equal(after.status, 401);
      await after.body?.cancel();
    } finally {
      await tp?.stop();
      await node.stop();
    }
  },
});

Deno.test("admin sessions expire: after session_minutes the cookie no longer opens anything", async () => {
  let clock = 1_000_000;
  const audit: string[] = [];
  const port = {
    connections: () => [],
    audit: (e: { action: string }) => {
      audit.push(e.action);
      return Promise.resolve();
    },
  } as unknown as AdminPort;
  const app = createAdminApp({
    port,
    passwordHash: await hashPassword(PASSWORD, MIN_ITERATIONS),
    sessionMinutes: 1,
    now: () => clock,
    clientIp: () => "192.0.2.5",
  });
  const res = await app.request("http://panel/admin/api/login", {
    method: "POST",
    headers: { "content-type": "application/json", origin: "http://panel" },
    body: JSON.stringify({ password: PASSWORD }),
  });
  assert.equal(res.status, 200);
  const cookie = res.headers.get("set-cookie")!.split(";")[0];
  const inTime = await app.request("http://panel/admin/api/connections", { headers: { cookie } });
  assert.equal(inTime.status, 200);
  clock += 60_000;
  const late = await app.request("http://panel/admin/api/connections", { headers: { cookie } });
  assert.equal(late.status, 401);
  // On HTTPS the cookie is Secure.
  const tls = await app.request("https://panel/admin/api/login", {
    method: "POST",
    headers: { "content-type": "application/json", origin: "https://panel" },
    body: JSON.stringify({ password: PASSWORD }),
  });
  assert.match(tls.headers.get("set-cookie")!, /; Secure$/);
  assert.deepEqual(audit, ["login", "login"]);
});

Deno.test("vardiff aim override: the same share stream steers to a lower difficulty at a higher aim", () => {
  const base = { minDifficulty: 1, maxDifficulty: 1e9, minRetargetMs: 1000 };
  const a = new Vardiff({ ...base, targetSharesPerMinute: 15 }, 1000, 0);
  const b = new Vardiff({ ...base, targetSharesPerMinute: 15 }, 1000, 0);
  b.retune({ targetSharesPerMinute: 60 }, 0);
  // 60 shares a minute at difficulty 1000, for five minutes.
  for (let t = 1000; t <= 300_000; t += 1000) {
    a.onShare(t);
    b.onShare(t);
  }
  assert.ok(a.difficulty > 1000, `aim 15/min raises it (${a.difficulty})`);
  assert.ok(
    b.difficulty < a.difficulty / 2,
    `aim 60/min stays lower (${b.difficulty} vs ${a.difficulty})`,
  );
  // A new minimum above the difficulty lifts it at once.
  const lifted = b.retune({ minDifficulty: 1e6 }, 300_001);
  assert.equal(lifted, 1e6);
});

Deno.test({
  name:
    "admin actions reach real miners: kick, ban and unban an IP, floor, message, overrides, blocks",
  ...sanitize,
  async fn() {
    const node = await startRegtestNode();
    const dataDir = await Deno.makeTempDir({ prefix: "denopool-admin-" });
    let tp: TestPool | undefined;
    try {
      await node.mine(1);
      let started = await adminPool(node, dataDir);
      tp = started.tp;
      let admin = started.client;
      assert.equal((await admin.login()).status, 200);
      const port = tp.port;

      // The connection list, uncensored.
      const m1 = await connectMiner(port, `${ADDRESS}.one`);
      const m2 = await connectMiner(port, `${ADDRESS}.two`);
      type Conn = { id: string; worker: string; ip: string; transport: string; difficulty: number };
      const conns = await admin.json<Conn[]>("/admin/api/connections?sort=worker");
      assert.deepEqual(conns.map((c) => [c.worker, c.ip, c.transport]), [
        [`${ADDRESS}.one`, "127.0.0.1", "tcp"],
        [`${ADDRESS}.two`, "127.0.0.1", "tcp"],
      ]);
      const filtered = await admin.json<Conn[]>(`/admin/api/connections?q=.two`);
      assert.deepEqual(filtered.map((c) => c.worker), [`${ADDRESS}.two`]);
      const html = await (await admin.fetch("/admin")).text();
      assert.ok(html.includes(`${ADDRESS}.one`), "the page lists the full worker name");

      // Message to all, then a floor for one worker: set_difficulty arrives at the floor.
      const sent = await admin.post("/admin/api/message", { text: "maintenance at noon" });
      assert.deepEqual(await sent.json(), { sent: 2 });
      for (const m of [m1, m2]) {
        const msg = await m.waitFor(
          "client.show_message",
          (n) => n.params?.[0] === "maintenance at noon",
        );
        assert.ok(msg);
      }
      const floor = await admin.post("/admin/api/floor", {
        worker: `${ADDRESS}.one`,
        difficulty: 0.5,
      });
      assert.deepEqual(await floor.json(), { connections: 1 });
      const set = await m1.waitFor("mining.set_difficulty", (n) => n.params?.[0] === 0.5);
      assert.equal(set.params?.[0], 0.5);
      assert.equal(m1.difficulty, 0.5);

      // Override the minimum difficulty: every miner is steered up at once.
      const over = await admin.post("/admin/api/overrides", {
        minDifficulty: 0.25,
        poolTag: "/admin-tag/",
      });
      assert.equal(over.status, 200, await over.clone().text());
      await m2.waitFor("mining.set_difficulty", (n) => n.params?.[0] === 0.25);
      // The new tag reaches the miners at once, in fresh work on the same tip.
      await waitUntil(
        () => new TextDecoder().decode(hexToBytes(m2.job!.coinb2)).includes("/admin-tag/"),
        "work with the new tag (pushed last, so in coinb2)",
      );
      const bad = await admin.post("/admin/api/overrides", { maxConnectionsPerIp: -1 });
      assert.equal(bad.status, 400);
      assert.match(await bad.text(), /maxConnectionsPerIp: expected a whole number/);

      // Kick: the miner is told and closed.
      const id1 = conns.find((c) => c.worker === `${ADDRESS}.one`)!.id;
      const kicked = await admin.post("/admin/api/kick", { id: id1 });
      assert.equal(kicked.status, 200);
      await m1.closed;
      const none = await admin.post("/admin/api/kick", { id: "nope" });
      assert.equal(none.status, 404);
      assert.equal(await none.text(), "no connection nope\n");

      // Ban 127.0.0.1 (exempt from automatic bans, not from the operator's): closed and refused.
      const ban = await admin.post("/admin/api/ban", {
        kind: "ip",
        value: "127.0.0.1",
        seconds: 600,
        reason: "testing",
      });
      assert.equal(ban.status, 200, await ban.clone().text());
      await m2.closed;
      await assert.rejects(() =>
        connectMiner(port, `${ADDRESS}.three`, { requestTimeoutMs: 2_000 })
      );
      const bans = await admin.json<{ key: string; source: string }[]>("/admin/api/bans");
      assert.deepEqual(bans.map((b) => [b.key, b.source]), [["ip:127.0.0.1", "operator"]]);
      const unban = await admin.post("/admin/api/unban", { key: "ip:127.0.0.1" });
      assert.equal(unban.status, 200);
      const m3 = await connectMiner(port, `${ADDRESS}.one`);
      // The floor for .one holds for its later connections too (above the 0.25 minimum).
      assert.equal(m3.difficulty, 0.5);

      // A block: journaled, downloadable as raw hex whose header hashes to it, resubmittable.
      const blockHash = await submitBlock(m3, `${ADDRESS}.one`);
      await waitUntil(() => tp!.blocks.some((b) => b.hash === blockHash), "the block settles");
      const blocks = await admin.json<{ hash: string; status: string }[]>("/admin/api/blocks");
      assert.equal(blocks[0].hash, blockHash);
      assert.equal(blocks[0].status, "accepted");
      const raw = await (await admin.fetch(`/admin/blocks/${blockHash}.hex`)).text();
      const header = hexToBytes(raw.slice(0, 160));
      assert.equal(bytesToHex(reverseBytes(sha256d(header))), blockHash);
      const again = await admin.post("/admin/api/resubmit", { hash: blockHash });
      assert.equal(again.status, 200);
      const answer = (await again.json()).answer;
      assert.equal(typeof answer, "string");
      assert.notEqual(answer, "accepted", "the node already has it");
      m3.close();

      // Health and the effective config (secrets redacted, overrides marked).
      const health = await admin.json<{ rpcHealthy: boolean; feedReady: boolean }>(
        "/admin/api/health",
      );
      assert.equal(health.rpcHealthy, true);
      assert.equal(health.feedReady, true);
      type Setting = { key: string; value: unknown; overridden: boolean };
      const config = await admin.json<Setting[]>("/admin/api/config");
      const byKey = new Map(config.map((s) => [s.key, s]));
      assert.deepEqual(byKey.get("difficulty.min"), {
        key: "difficulty.min",
        value: 0.25,
        overridden: true,
      });
      assert.deepEqual(byKey.get("secrets.rpc_password"), {
        key: "secrets.rpc_password",
        value: "(set)",
        overridden: false,
      });
      assert.equal(byKey.get("secrets.admin_password_hash")?.value, "(set)");
      assert.ok(!JSON.stringify(config).includes("pbkdf2"), "no secret leaks");

      // Overrides survive a restart and are in force before the first miner.
      await tp.stop();
      tp = undefined;
      started = await adminPool(node, dataDir);
      tp = started.tp;
      admin = started.client;
      assert.equal((await admin.login()).status, 200);
      assert.deepEqual(await admin.json("/admin/api/overrides"), {
        minDifficulty: 0.25,
        poolTag: "/admin-tag/",
      });
      const m4 = await connectMiner(tp.port, `${ADDRESS}.four`);
      assert.equal(m4.difficulty, 0.25);
      const tag = new TextDecoder().decode(hexToBytes(m4.job!.coinb2)); // the tag is pushed last
      assert.ok(tag.includes("/admin-tag/"), "the coinbase carries the overridden tag");
      // Clearing an override goes back to the config.
      const cleared = await admin.post("/admin/api/overrides", { minDifficulty: null });
      assert.deepEqual(await cleared.json(), { poolTag: "/admin-tag/" });
      const audit = await admin.json<{ action: string }[]>("/admin/api/audit?limit=1000");
      for (
        const action of [
          "kick",
          "ban",
          "unban",
          "message",
          "difficulty-floor",
          "override",
          "resubmit",
        ]
      ) {
        assert.ok(audit.some((e) => e.action === action), `audited: ${action}`);
      }
      m4.close();
    } finally {
      await tp?.stop();
      await node.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a vardiff aim override changes the difficulty the pool steers a real miner to",
  ...sanitize,
  async fn() {
    const node = await startRegtestNode();
    let tp: TestPool | undefined;
    try {
      await node.mine(1);
      const started = await adminPool(node, undefined, {
        difficulty: { start: 1e-13, min: 1e-13, retarget_seconds: 1, vardiff: true },
        // The miners below submit as fast as they can: no per-connection message limit.
        stratum: { messages_per_minute: 0 },
      });
      tp = started.tp;
      const admin = started.client;
      assert.equal((await admin.login()).status, 200);
      // A miner at a steady 10 shares a second (600 a minute) for 3 s: far above the default aim
      // of 15 a minute, right on an aim of 600 (and the minimum difficulty is its start).
      const steered = async (name: string): Promise<number> => {
        const m = await connectMiner(tp!.port, `${ADDRESS}.${name}`);
        const start = m.difficulty!;
        const until = Date.now() + 3_000;
        while (Date.now() < until) {
          await submitPlainShare(m, `${ADDRESS}.${name}`);
          await sleep(100);
        }
        const factor = m.difficulty! / start;
        m.close();
        return factor;
      };
      const atDefault = await steered("aim15");
      assert.ok(atDefault >= 2, `at the default aim vardiff steps up (×${atDefault})`);
      const over = await admin.post("/admin/api/overrides", { targetSharesPerMinute: 600 });
      assert.equal(over.status, 200, await over.clone().text());
      const atOverride = await steered("aim600");
      assert.equal(atOverride, 1, "at an aim of 600 a minute the same miner is on target");
    } finally {
      await tp?.stop();
      await node.stop();
    }
  },
});
