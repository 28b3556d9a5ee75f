/**
 * The notification channels against local stand-ins served on port 0: an ntfy server recording
 * POSTs, the Telegram Bot API (sendMessage, getUpdates with a `/status` and a `/link CODE`), a
 * webhook receiver that checks the HMAC signature and fails twice before it takes the call, a
 * channel that hangs forever beside one that delivers at once, and queued notices that survive
 * closing and reopening the store. Also the watches' best-share and node events.
 */

import assert from "node:assert/strict";
import {
  hmacSha256Hex,
  NodeWatch,
  type NotifyChannel,
  type NotifyEvent,
  NotifyHub,
  NtfyChannel,
  TelegramApi,
  TelegramBot,
  TelegramChannel,
  WebhookChannel,
  WorkerWatch,
} from "../lib/notify/mod.ts";
import { checkTargetUrl } from "../lib/notify/targets.ts";
import { openStore, type PoolStore, workerNameHash } from "../lib/store/store.ts";

const WORKER = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080.rig1";
const HASH = workerNameHash(WORKER);

interface Seen {
  path: string;
  headers: Headers;
  body: string;
  at: number;
}

/** A stand-in HTTP server on port 0 that records each request and answers with `answer`. */
function standIn(answer: (req: Request, body: string, n: number) => Response | Promise<Response>) {
  const seen: Seen[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.text();
    seen.push({ path: new URL(req.url).pathname, headers: req.headers, body, at: Date.now() });
    return await answer(req, body, seen.length);
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, seen, close: () => server.shutdown() };
}

async function withStore(fn: (store: PoolStore, path: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "denopool-notify-" });
  const store = await openStore(`${dir}/kv`);
  try {
    await fn(store, `${dir}/kv`);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function until(cond: () => boolean, what: string, ms = 5_000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const BLOCK = {
  height: 812,
  hash: "00000000000000000001a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3",
  worker: WORKER,
  foundAt: 1_750_000_000_000,
};

Deno.test("ntfy: pool topic with its token, a user's own topic without; title, priority, tags", async () => {
  const ntfy = standIn(() => Response.json({ id: "x" }));
  try {
    await withStore(async (store) => {
      await store.savedWorkers.save("user_1", WORKER);
      await store.notifyPrefs.set("user_1", { ntfyUrl: `${ntfy.url}/user-topic` });
      const hub = new NotifyHub({ store, notices: { statusUrl: "https://pool.example/saved" } });
      hub.add(
        new NtfyChannel({ topicUrl: `${ntfy.url}/pool-topic`, token: "tk_secret", store }),
        { minIntervalMs: 0 },
      );
      hub.blockFound(BLOCK);
      await hub.idle();
      assert.equal(ntfy.seen.length, 2, "the pool's topic and the owner's");
      const [pool, user] = ntfy.seen;
      assert.equal(pool.path, "/pool-topic");
      assert.equal(pool.headers.get("authorization"), "Bearer tk_secret");
      assert.equal(pool.headers.get("priority"), "5");
      assert.equal(pool.headers.get("tags"), "pick,tada");
      assert.equal(pool.headers.get("title"), "denopool: block found at height 812");
      assert.equal(pool.headers.get("click"), "https://pool.example/saved");
      assert.match(pool.body, /^⛏️ Block found: height 812 by bcrt1qw5\.\.\.7kygt080\.rig1/);
      assert.ok(!pool.body.includes(WORKER), "the full worker name is never sent");
      assert.equal(user.path, "/user-topic");
      assert.equal(
        user.headers.get("authorization"),
        null,
        "the pool's token stays with its topic",
      );
      assert.match(user.body, /Your saved worker .* found a block/);

      // A non-ASCII title goes RFC 2047 encoded (ntfy decodes it).
      hub.publish({
        type: "workers.changed",
        userId: "user_1",
        at: 0,
        changes: [{ userId: "user_1", hash: HASH, name: "Rïg-Ω", state: "offline", since: 0 }],
      });
      await hub.idle();
      const title = ntfy.seen[2].headers.get("title")!;
      assert.match(title, /^=\?UTF-8\?B\?/);
      const b64 = title.slice("=?UTF-8?B?".length, -2);
      const decoded = new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
      assert.equal(decoded, "denopool: Rïg-Ω offline");
      assert.equal(ntfy.seen[2].headers.get("priority"), "4");
      await hub.stop();
    });
  } finally {
    await ntfy.close();
  }
});

Deno.test("Telegram: the bot answers /status and /link CODE, then the linked chat gets the user's notices", async () => {
  const sent: Array<{ chat_id: string | number; text: string }> = [];
  const updates = [
    {
      update_id: 7,
      message: { message_id: 1, chat: { id: 4242 }, from: { id: 4242 }, text: "/status" },
    },
  ];
  let offsets: unknown[] = [];
  const api = standIn((req, body) => {
    const path = new URL(req.url).pathname;
    assert.ok(path.startsWith("/botTOKEN:1/"), "the token is in the path");
    const json = JSON.parse(body);
    if (path.endsWith("/getUpdates")) {
      offsets.push(json.offset);
      const from = typeof json.offset === "number" ? json.offset : 0;
      return Response.json({ ok: true, result: updates.filter((u) => u.update_id >= from) });
    }
    if (path.endsWith("/sendMessage")) {
      sent.push(json);
      return Response.json({ ok: true, result: { message_id: 99 } });
    }
    return Response.json({ ok: false, description: "no such method" }, { status: 404 });
  });
  try {
    await withStore(async (store) => {
      await store.savedWorkers.save("user_1", WORKER);
      const client = new TelegramApi({ baseUrl: api.url, token: "TOKEN:1" });
      const online = new Set([HASH]);
      const bot = new TelegramBot({
        api: client,
        store,
        status: () => "pool: 3 workers online",
        onlineHashes: () => online,
      });
      const { code } = await store.codes.create("user_1");
      updates.push(
        {
          update_id: 8,
          message: { message_id: 2, chat: { id: 4242 }, from: { id: 4242 }, text: `/link ${code}` },
        },
        {
          update_id: 9,
          message: {
            message_id: 3,
            chat: { id: 4242 },
            from: { id: 4242 },
            text: "/workers@pool_bot",
          },
        },
      );
      const first = await bot.poll();
      assert.equal(first.read, 3);
      assert.deepEqual(first.answered, ["status", "link", "workers"]);
      assert.deepEqual(first.linked, ["4242"]);
      assert.equal(sent[0].text, "pool: 3 workers online");
      assert.equal(sent[0].chat_id, "4242");
      assert.match(sent[1].text, /^Linked/);
      assert.match(sent[2].text, /^1 of 1 saved workers online\n🟢 bcrt1qw5\.\.\.7kygt080\.rig1$/);
      assert.equal((await store.telegram.get("user_1"))?.chatId, "4242");
      assert.equal(await store.telegram.offset(), 9);

      // The next poll asks from after the last update, and a used code links nobody.
      updates.push({
        update_id: 10,
        message: { message_id: 4, chat: { id: 777 }, from: { id: 777 }, text: `/link ${code}` },
      });
      offsets = [];
      const second = await bot.poll();
      assert.deepEqual(offsets, [10]);
      assert.deepEqual(second.linked, []);
      assert.match(sent[3].text, /not valid any more/);

      // Notices: the user's go to the linked chat; pool notices to the pool chat.
      const hub = new NotifyHub({ store });
      hub.add(new TelegramChannel({ api: client, chatId: "-100123", store }), { minIntervalMs: 0 });
      assert.deepEqual([...await hub.users()], ["user_1"]);
      hub.blockFound(BLOCK);
      await hub.idle();
      const notices = sent.slice(4);
      assert.deepEqual(notices.map((m) => String(m.chat_id)), ["-100123", "4242"]);
      assert.match(notices[0].text, /^denopool: block found at height 812\n⛏️ Block found/);
      assert.match(notices[1].text, /your worker found block 812/);

      // /stop turns the chat's notices off.
      updates.push({
        update_id: 11,
        message: { message_id: 5, chat: { id: 4242 }, from: { id: 4242 }, text: "/stop" },
      });
      await bot.poll();
      assert.equal((await store.telegram.get("user_1"))?.enabled, false);
      assert.deepEqual([...await hub.users()], []);
      await hub.stop();
    });
  } finally {
    await api.close();
  }
});

Deno.test("webhook: signed with HMAC-SHA256; 500 twice then 200 is retried with a doubling back-off; 4xx is not retried", async () => {
  const SECRET = "shared-secret";
  const checks: boolean[] = [];
  let failFirst = 2;
  const hook = standIn(async (req, body) => {
    const sig = req.headers.get("x-denopool-signature") ?? "";
    checks.push(sig === `sha256=${await hmacSha256Hex(SECRET, body)}`);
    if (new URL(req.url).pathname === "/gone") return new Response("no", { status: 410 });
    if (failFirst-- > 0) return new Response("busy", { status: 500 });
    return new Response(null, { status: 204 });
  });
  try {
    await withStore(async (store) => {
      const errors: string[] = [];
      const hub = new NotifyHub({ store, onError: (e) => errors.push(String(e)) });
      const queue = hub.add(
        new WebhookChannel({ url: `${hook.url}/pool`, secret: SECRET, store }),
        {
          minIntervalMs: 0,
          backoffMs: 60,
          maxAttempts: 5,
        },
      );
      const event: NotifyEvent = {
        type: "node.down",
        reason: "rpc refused",
        since: 1_000,
        at: 2_000,
      };
      hub.publish(event);
      await hub.idle();
      assert.equal(hook.seen.length, 3);
      assert.deepEqual(checks, [true, true, true], "every try is signed right");
      const gaps = [hook.seen[1].at - hook.seen[0].at, hook.seen[2].at - hook.seen[1].at];
      assert.ok(gaps[0] >= 55, `first back-off ${gaps[0]} ms`);
      assert.ok(gaps[1] >= 115, `second back-off doubles: ${gaps[1]} ms`);
      const ids = hook.seen.map((s) => s.headers.get("x-denopool-delivery"));
      assert.ok(ids[0] && ids.every((id) => id === ids[0]), "one delivery id for every try");
      const body = JSON.parse(hook.seen[2].body);
      assert.equal(body.type, "node.down");
      assert.equal(body.event.reason, "rpc refused");
      assert.equal(body.event.since, new Date(1_000).toISOString());
      assert.equal(hook.seen[2].headers.get("x-denopool-event"), "node.down");
      assert.equal(String(body.sent_at), hook.seen[2].headers.get("x-denopool-timestamp"));
      assert.equal(queue.sent, 1);
      assert.equal(queue.retried, 2);
      assert.equal(errors.length, 2, "each failed try is reported");

      // A user's own webhook is signed with the user's secret; a 410 is not retried.
      await store.savedWorkers.save("user_1", WORKER);
      const prefs = await store.notifyPrefs.set("user_1", { webhookUrl: `${hook.url}/gone` });
      assert.match(prefs.webhookSecret!, /^[0-9a-f]{64}$/);
      hub.blockFound(BLOCK);
      await hub.idle();
      const gone = hook.seen.filter((s) => s.path === "/gone");
      assert.equal(gone.length, 1, "4xx: one try only");
      const mac = await hmacSha256Hex(prefs.webhookSecret!, gone[0].body);
      assert.equal(gone[0].headers.get("x-denopool-signature"), `sha256=${mac}`);
      const userBody = JSON.parse(gone[0].body);
      assert.equal(userBody.audience, "user");
      assert.ok(!gone[0].body.includes("user_1"), "no user ids in the body");
      assert.equal(queue.failed, 1);
      await hub.stop();
    });
  } finally {
    await hook.close();
  }
});

Deno.test("a channel that hangs forever holds only its own queue: the other delivers at once", async () => {
  const ntfy = standIn(() => new Response("ok"));
  try {
    await withStore(async (store) => {
      const hung: string[] = [];
      const hanging: NotifyChannel<string> = {
        name: "hangs",
        prepare: (n) => Promise.resolve([n.title]),
        send: (p) => {
          hung.push(p);
          return new Promise<void>(() => {}); // never settles, ignores its signal
        },
        users: () => Promise.resolve([]),
      };
      const hub = new NotifyHub({ store });
      const stuck = hub.add(hanging, { minIntervalMs: 0, maxQueued: 3, timeoutMs: 60_000 });
      hub.add(new NtfyChannel({ topicUrl: `${ntfy.url}/pool`, store }), { minIntervalMs: 0 });
      const started = Date.now();
      for (let i = 0; i < 5; i++) hub.publish({ type: "node.up", since: i, at: i });
      await hub.settled();
      assert.ok(Date.now() - started < 1_000, "publishing never waits on a channel");
      await until(() => ntfy.seen.length === 5, "the ntfy deliveries");
      assert.ok(Date.now() - started < 2_000, "ntfy delivered promptly");
      assert.equal(hung.length, 1, "the hanging channel is stuck on its first");
      assert.equal(stuck.size, 3, "its queue is full");
      assert.equal(stuck.dropped, 1, "and the fifth was dropped and counted");
      const stats = hub.stats();
      assert.deepEqual(stats.map((s) => [s.channel, s.sent]), [["hangs", 0], ["ntfy", 5]]);
      await hub.stop(); // the stop cuts the hanging send short
      assert.equal((await store.noticeQueue.list("hangs")).length, 4, "kept for the next run");
    });
  } finally {
    await ntfy.close();
  }
});

Deno.test("restart: notices queued when the store closes are sent after it reopens, then deleted", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denopool-notify-restart-" });
  const path = `${dir}/kv`;
  let healthy = false;
  const hook = standIn(() =>
    new Response(healthy ? "ok" : "down", { status: healthy ? 200 : 503 })
  );
  const channel = (store: PoolStore) =>
    new WebhookChannel({ url: `${hook.url}/hook`, secret: "s", store });
  try {
    let store = await openStore(path);
    let hub = new NotifyHub({ store });
    hub.add(channel(store), { minIntervalMs: 0, backoffMs: 60_000, maxAttempts: 9 });
    hub.publish({ type: "node.down", reason: "first", since: 1, at: 2 });
    hub.publish({ type: "node.up", since: 3, at: 4 });
    await hub.settled();
    await until(() => hook.seen.length === 1, "the first failed try");
    await hub.stop(); // mid back-off: nothing delivered
    await store.flush();
    store.close();

    store = await openStore(path);
    const kept = await store.noticeQueue.list<{ payload: { type: string } }>("webhook");
    assert.deepEqual(kept.map((k) => k.payload.type), ["node.down", "node.up"], "in queue order");
    healthy = true;
    hub = new NotifyHub({ store });
    const queue = hub.add(channel(store), { minIntervalMs: 0 });
    hub.publish({ type: "node.down", reason: "after the restart", since: 5, at: 6 });
    await hub.settled();
    assert.equal(await hub.restore(), 2);
    await hub.idle();
    const delivered = hook.seen.slice(1).map((s) => JSON.parse(s.body));
    assert.equal(queue.sent, 3);
    assert.deepEqual(
      delivered.map((b) => b.event.reason ?? b.type).sort(),
      ["after the restart", "first", "node.up"],
    );
    assert.equal(new Set(delivered.map((b) => b.id)).size, 3, "each notice once");
    await hub.stop();
    await store.flush();
    assert.deepEqual(await store.noticeQueue.list("webhook"), [], "delivered ones are deleted");
    store.close();
  } finally {
    await hook.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("watches: a new best share of a saved worker, the node down and back, once each", async () => {
  await withStore(async (store) => {
    await store.savedWorkers.save("user_1", WORKER);
    let now = 1_000_000;
    const events: NotifyEvent[] = [];
    const best = new Map([[HASH, 500]]);
    const watch = new WorkerWatch({
      store,
      users: () => Promise.resolve(["user_1"]),
      onlineHashes: () => new Set([HASH]),
      bestShares: () => best,
      publish: (e) => events.push(e),
      offlineAfterMs: 60_000,
      onlineAfterMs: 60_000,
      now: () => now,
    });
    await watch.check();
    assert.equal(events.length, 0, "first sight takes the best silently");
    best.set(HASH, 400); // a reconnect starts lower: not news
    await watch.check();
    best.set(HASH, 2_500_000);
    now += 30_000;
    await watch.check();
    await watch.check();
    assert.equal(events.length, 1);
    const e = events[0];
    assert.equal(e.type, "share.best");
    if (e.type === "share.best") {
      assert.equal(e.userId, "user_1");
      assert.deepEqual(e.shares.map((s) => [s.difficulty, s.previous]), [[2_500_000, 500]]);
    }

    let up = true;
    const node: NotifyEvent[] = [];
    const nodeWatch = new NodeWatch({
      health: () => up ? { up } : { up, reason: "connection refused" },
      publish: (ev) => node.push(ev),
      downAfterMs: 60_000,
      now: () => now,
    });
    up = false;
    await nodeWatch.check();
    now += 59_999;
    await nodeWatch.check();
    assert.equal(node.length, 0, "not before the threshold");
    now += 1;
    await nodeWatch.check();
    await nodeWatch.check();
    up = true;
    now += 5_000;
    await nodeWatch.check();
    assert.deepEqual(node.map((ev) => ev.type), ["node.down", "node.up"]);
    if (node[0].type === "node.down") assert.equal(node[0].reason, "connection refused");
  });
});

Deno.test("users' own target URLs: http(s) on the internet only, unless private ones are allowed", () => {
  assert.equal(checkTargetUrl("https://ntfy.sh/my-rigs-8f2a"), undefined);
  for (
    const bad of [
      "http://127.0.0.1:8080/x",
      "http://[::1]/",
      "http://10.0.0.8/",
      "http://localhost/",
    ]
  ) {
    assert.match(checkTargetUrl(bad)!, /not a local or private one/, bad);
    assert.equal(checkTargetUrl(bad, { allowPrivate: true }), undefined, bad);
  }
  assert.equal(checkTargetUrl("file:///etc/passwd"), "an http or https URL");
  assert.equal(
    checkTargetUrl("https://me:pw@hooks.example/"),
    "a URL without a user name or password",
  );
  assert.match(checkTargetUrl(`https://a.example/${"x".repeat(600)}`)!, /at most 512/);
});
