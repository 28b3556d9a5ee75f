/**
 * Discord against a local stand-in API that records every request: 429 `retry_after` honoured,
 * the queue's spacing and overflow, the offline/online state machine on a manual clock (and across
 * a restart), block notices, linking by one-time code through the polling bot, and the timers of
 * the notifier and the bot (first pass an interval after start, no overlap, a stop that waits).
 */

import assert from "node:assert/strict";
import { DiscordRest } from "../lib/discord/rest.ts";
import { MessageQueue, type OutgoingMessage } from "../lib/discord/queue.ts";
import { WorkerNotifier } from "../lib/discord/notifier.ts";
import { DiscordLinkBot } from "../lib/discord/link_bot.ts";
import { openStore, type PoolStore, workerNameHash } from "../lib/store/store.ts";
import type { DomainStores } from "../lib/store/mod.ts";
import type { FoundBlockRecord } from "../lib/pool/blocks.ts";
import { ManualClock } from "../lib/status/memory.ts";

const WORKER = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080.rig1";
const HASH = workerNameHash(WORKER);

interface Recorded {
  method: string;
  path: string;
  auth: string | null;
  body: Record<string, unknown> | undefined;
  at: number;
}

/** A stand-in Discord API: records requests; answers from `replies` first, then defaults. */
function standIn() {
  const requests: Recorded[] = [];
  const replies: Array<() => Response> = [];
  const channelMessages: Array<{ id: string; content: string; author: { id: string } }> = [];
  let nextId = 1000n;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    const text = await req.text();
    requests.push({
      method: req.method,
      path: url.pathname + url.search,
      auth: req.headers.get("authorization"),
      body: text ? JSON.parse(text) : undefined,
      at: Date.now(),
    });
    const canned = replies.shift();
    if (canned) return canned();
    if (req.method === "GET") {
      const after = BigInt(url.searchParams.get("after") ?? "0");
      // Discord returns newest first.
      return Response.json(channelMessages.filter((m) => BigInt(m.id) > after).reverse());
    }
    if (req.method === "DELETE") return new Response(null, { status: 204 });
    return Response.json({ id: String(nextId++), content: "", author: { id: "1", bot: true } });
  });
  return {
    baseUrl: `http://127.0.0.1:${server.addr.port}/api/v10`,
    requests,
    replies,
    channelMessages,
    posts: () => requests.filter((r) => r.method === "POST"),
    close: () => server.shutdown(),
  };
}

async function withStore(fn: (store: PoolStore, clock: { now: number }) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "denopool-discord-" });
  const clock = { now: 1_750_000_000_000 };
  const store = await openStore(`${dir}/kv`, { now: () => clock.now });
  try {
    await fn(store, clock);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("REST: a 429 waits retry_after and retries; token and mentions are sent right", async () => {
  const api = standIn();
  const sleeps: number[] = [];
  try {
    const rest = new DiscordRest({
      baseUrl: api.baseUrl,
      token: "TOKEN",
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
    });
    api.replies.push(() =>
      Response.json({ message: "You are being rate limited.", retry_after: 1.25, global: false }, {
        status: 429,
      })
    );
    api.replies.push(() =>
      new Response("slow down", { status: 429, headers: { "retry-after": "2" } })
    );
    const sent = await rest.createMessage("42", "hello <@7>", { users: ["7"] });
    assert.equal(sent.id, "1000");
    assert.deepEqual(sleeps, [1250, 2000]);
    assert.equal(rest.rateLimited, 2);
    const posts = api.posts();
    assert.equal(posts.length, 3, "two refused, one delivered");
    assert.equal(posts[2].path, "/api/v10/channels/42/messages");
    assert.equal(posts[2].auth, "Bot TOKEN");
    assert.deepEqual(posts[2].body, {
      content: "hello <@7>",
      allowed_mentions: { parse: [], users: ["7"] },
    });

    api.replies.push(() => Response.json({ retry_after: 3600 }, { status: 429 }));
    await assert.rejects(rest.createMessage("42", "x"), /rate limited/);
  } finally {
    await api.close();
  }
});

Deno.test("queue: messages go out in order and spaced; overflow is dropped and counted", async () => {
  const sent: Array<{ m: OutgoingMessage; at: number }> = [];
  const queue = new MessageQueue({
    send: (m) => {
      sent.push({ m, at: performance.now() });
      return Promise.resolve();
    },
    minIntervalMs: 40,
    maxQueued: 3,
  });
  const results = [1, 2, 3, 4, 5].map((i) =>
    queue.enqueue({ content: `m${i}`, mentionUserIds: [] })
  );
  await queue.idle();
  // The first is taken at once, so three more fit; the fifth overflows.
  assert.deepEqual(results, [true, true, true, true, false]);
  assert.deepEqual(sent.map((s) => s.m.content), ["m1", "m2", "m3", "m4"]);
  for (let i = 1; i < sent.length; i++) {
    assert.ok(sent[i].at - sent[i - 1].at >= 39, `gap ${i} respects the interval`);
  }
  assert.equal(queue.dropped, 1);
  assert.equal(queue.sent, 4);
  queue.enqueue({ content: "x".repeat(3000), mentionUserIds: [] });
  await queue.idle();
  assert.equal(sent.at(-1)!.m.content.length, 2000);
  await queue.stop();
});

Deno.test("notifier: offline and back online only after the thresholds; state survives a restart", async () => {
  await withStore(async (store, clock) => {
    await store.savedWorkers.save("user_1", WORKER);
    await store.discord.link("user_1", "555");
    const online = new Set([HASH]);
    const queued: OutgoingMessage[] = [];
    const make = () =>
      new WorkerNotifier({
        store,
        onlineHashes: () => online,
        enqueue: (m) => void queued.push(m),
        offlineAfterMs: 60_000,
        onlineAfterMs: 30_000,
        statusUrl: "https://pool.example/saved-workers",
        now: () => clock.now,
      });
    let notifier = make();
    assert.deepEqual(await notifier.check(), [], "first sight: no notice");

    online.delete(HASH);
    clock.now += 1_000;
    assert.deepEqual(await notifier.check(), []);
    clock.now += 59_999;
    assert.deepEqual(await notifier.check(), [], "one ms short of the threshold");
    notifier = make(); // a restart in between keeps the pending change
    clock.now += 1;
    const [offline] = await notifier.check();
    assert.equal(offline.state, "offline");
    assert.equal(queued.length, 1);
    assert.match(
      queued[0].content,
      /^<@555>\n🔴 bcrt1qw5\.\.\.7kygt080\.rig1 went offline <t:\d+:R>/,
    );
    assert.deepEqual(queued[0].mentionUserIds, ["555"]);
    assert.ok(queued[0].content.includes("https://pool.example/saved-workers"));
    assert.deepEqual(await notifier.check(), [], "notified once");

    online.add(HASH); // a blip back that does not last
    clock.now += 10_000;
    await notifier.check();
    online.delete(HASH);
    clock.now += 40_000;
    assert.deepEqual(await notifier.check(), []);

    online.add(HASH);
    clock.now += 1_000;
    await notifier.check();
    clock.now += 30_000;
    const [back] = await notifier.check();
    assert.equal(back.state, "online");
    assert.match(queued[1].content, /🟢 .* is back online/);

    // Turned off: per worker, then per user.
    await store.savedWorkers.setNotify("user_1", HASH, false);
    online.delete(HASH);
    clock.now += 120_000;
    await notifier.check();
    await notifier.check();
    assert.equal(queued.length, 2);
  });
});

Deno.test("notifier: a block notice pings every linked user who saved the worker", async () => {
  await withStore(async (store, clock) => {
    await store.savedWorkers.save("user_1", WORKER);
    await store.savedWorkers.save("user_2", WORKER);
    await store.savedWorkers.save("user_3", WORKER);
    await store.discord.link("user_1", "111");
    await store.discord.link("user_2", "222");
    await store.discord.setNotify("user_2", false);
    const queued: OutgoingMessage[] = [];
    const notifier = new WorkerNotifier({
      store,
      onlineHashes: () => new Set(),
      enqueue: (m) => void queued.push(m),
      offlineAfterMs: 1,
      onlineAfterMs: 1,
      now: () => clock.now,
    });
    const record = {
      height: 812,
      hash: "00000000000000000001a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3",
      worker: WORKER,
      foundAt: clock.now,
    } as FoundBlockRecord;
    assert.deepEqual(await notifier.notifyBlock(record), ["111"]);
    assert.equal(queued.length, 1);
    assert.match(queued[0].content, /Block found: height 812 by bcrt1qw5\.\.\.7kygt080\.rig1/);
    assert.ok(queued[0].content.includes("(hash ...c6d7e8f9a0b1c2d3)"));
    assert.ok(!queued[0].content.includes(WORKER), "the full name is never posted");
    assert.deepEqual(queued[0].mentionUserIds, ["111"]);
  });
});

Deno.test("link bot: a one-time code given in the channel links the author, once", async () => {
  const api = standIn();
  try {
    await withStore(async (store) => {
      const rest = new DiscordRest({ baseUrl: api.baseUrl, token: "T" });
      const bot = new DiscordLinkBot({ rest, store, channelId: "900" });
      const { code } = await store.codes.create("user_1");
      api.channelMessages.push(
        { id: "10", content: "hello", author: { id: "555" } },
        { id: "11", content: `!link ${code.toLowerCase()}`, author: { id: "555" } },
        { id: "12", content: `!link ${code}`, author: { id: "666" } },
      );
      const first = await bot.poll();
      assert.equal(first.read, 3);
      assert.deepEqual(first.linked, ["555"]);
      assert.equal((await store.discord.get("user_1"))?.discordUserId, "555");
      assert.equal(await store.discord.userFor("666"), undefined, "a used code links nobody else");
      assert.ok(api.requests.some((r) => r.method === "DELETE" && r.path.endsWith("/messages/11")));
      const replies = api.posts().map((p) => String(p.body?.content));
      assert.match(replies[0], /^<@555> Linked/);
      assert.match(replies[1], /^<@666> That code is not valid/);

      const second = await bot.poll();
      assert.equal(second.read, 0);
      assert.ok(api.requests.at(-1)!.path.includes("after=12"), "resumes after the last message");

      api.channelMessages.push({ id: "13", content: "!notify-stop", author: { id: "555" } });
      assert.deepEqual((await bot.poll()).stopped, ["555"]);
      assert.equal((await store.discord.get("user_1"))?.enabled, false);
    });
  } finally {
    await api.close();
  }
});

/**
 * A store whose `discord` side answers after `passMs` on `clock` (0 = at once) and fails while
 * `fail` is set, counting reads and overlaps: each notifier pass and each bot poll reads it once.
 * Only the members the notifier and the bot read are there.
 */
function slowStore(clock: ManualClock, passMs: number) {
  const stats = { starts: [] as number[], running: 0, most: 0, fail: false };
  const read = async <T>(value: T): Promise<T> => {
    stats.starts.push(clock.now());
    stats.running++;
    stats.most = Math.max(stats.most, stats.running);
    try {
      if (passMs > 0) await new Promise<void>((resolve) => clock.setTimeout(resolve, passMs));
      if (stats.fail) throw new Error("the store is down");
      return value;
    } finally {
      stats.running--;
    }
  };
  const store = {
    discord: { all: () => read([]), cursor: () => read(undefined) },
  } as unknown as Pick<DomainStores, "codes" | "discord" | "savedWorkers" | "notifyStates">;
  return { stats, store };
}

/** A REST client with an empty channel (the bot's only read after the cursor). */
const emptyChannel = { channelMessages: () => Promise.resolve([]) } as unknown as DiscordRest;

Deno.test("notifier timer: first pass an interval after start, the next an interval after each ends, stop waits", async () => {
  const clock = new ManualClock(0);
  const { stats, store } = slowStore(clock, 300);
  const errors: unknown[] = [];
  const notifier = new WorkerNotifier({
    store,
    onlineHashes: () => new Set(),
    enqueue: () => {},
    offlineAfterMs: 1,
    onlineAfterMs: 1,
    timers: clock,
    onError: (e) => errors.push(e),
  });
  notifier.start(1_000);
  notifier.start(1_000); // a second start changes nothing
  await clock.advance(999);
  assert.deepEqual(stats.starts, [], "no pass at start (the miners are not back yet)");
  await clock.advance(1);
  assert.deepEqual(stats.starts, [1_000]);
  const joined = notifier.check(); // a called pass joins the timed one in flight
  await clock.advance(300);
  assert.deepEqual(await joined, []);
  assert.deepEqual(stats.starts, [1_000], "joined, not run twice");
  await clock.advance(2_600);
  // 1000–1300, 2300–2600, 3600–3900: the wait counts from the end of each pass.
  assert.deepEqual(stats.starts, [1_000, 2_300, 3_600]);

  stats.fail = true; // a failing pass is reported and the timer goes on
  await clock.advance(1_300);
  assert.equal(errors.length, 1);
  assert.match(String(errors[0]), /the store is down/);
  stats.fail = false;
  await clock.advance(1_100); // the pass of 6200 is in flight
  assert.deepEqual(stats.starts, [1_000, 2_300, 3_600, 4_900, 6_200]);
  let stopped = false;
  const stopping = notifier.stop().then(() => stopped = true);
  await clock.advance(100);
  assert.equal(stopped, false, "stop waits for the pass in flight");
  await clock.advance(100);
  await stopping;
  assert.equal(clock.pending, 0, "nothing scheduled after stop");
  await clock.advance(10_000);
  assert.equal(stats.starts.length, 5);
  assert.equal(stats.most, 1, "passes never overlap");
  assert.equal(errors.length, 1);

  notifier.start(1_000); // started again: again an interval first
  await clock.advance(999);
  assert.equal(stats.starts.length, 5);
  await clock.advance(1);
  assert.equal(stats.starts.length, 6);
  await clock.advance(300);
  await notifier.stop();
});

Deno.test("link bot timer: first poll an interval after start, polls never overlap, stop waits for a called poll too", async () => {
  const clock = new ManualClock(0);
  const { stats, store } = slowStore(clock, 3_000);
  const errors: unknown[] = [];
  const bot = new DiscordLinkBot({
    rest: emptyChannel,
    store,
    channelId: "900",
    timers: clock,
    onError: (e) => errors.push(e),
  });
  bot.start(5_000);
  await clock.advance(4_999);
  assert.deepEqual(stats.starts, []);
  await clock.advance(1);
  assert.deepEqual(stats.starts, [5_000]);
  await clock.advance(3_000 + 5_000 + 3_000 + 5_000);
  // A poll slower than half the interval still leaves a whole interval before the next.
  assert.deepEqual(stats.starts, [5_000, 13_000, 21_000]);

  // A called poll in flight when the bot stops: stop waits for it, and the timer is gone.
  await clock.advance(3_000);
  const called = bot.poll();
  assert.deepEqual(stats.starts, [5_000, 13_000, 21_000, 24_000]);
  let stopped = false;
  const stopping = bot.stop().then(() => stopped = true);
  await clock.advance(2_999);
  assert.equal(stopped, false);
  await clock.advance(1);
  assert.deepEqual(await called, { read: 0, linked: [], stopped: [] });
  await stopping;
  assert.equal(clock.pending, 0);
  await clock.advance(60_000);
  assert.equal(stats.starts.length, 4);
  assert.equal(stats.most, 1);
  assert.deepEqual(errors, []);

  stats.fail = true; // a called poll still rejects to its caller
  const failed = assert.rejects(bot.poll(), /the store is down/);
  await clock.advance(3_000);
  await failed;
  assert.deepEqual(errors, [], "a called poll's failure is its caller's, not the error sink's");
});
