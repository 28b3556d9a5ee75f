/**
 * Client addresses behind reverse proxies and the per-client limits of the status server:
 * address parsing and CIDR matching, `X-Forwarded-For` believed only from trusted proxies, the
 * token-bucket limiter, and on a live pool the `429` of the worker lookup and the page actions.
 */

import assert from "node:assert/strict";
import {
  ACTION_LIMIT_PER_MINUTE,
  clientIp,
  formatIp,
  IpRanges,
  LOOKUP_LIMIT_PER_MINUTE,
  parseForwardedEntry,
  parseIp,
  rateKey,
  RateLimiter,
  statusRateClass,
  statusRateGate,
} from "../lib/status/client_ip.ts";
import { startRegtestNode } from "./helpers/regtest.ts";
import { startTestPool, type TestPool } from "./helpers/pool.ts";

const ip = (text: string) => {
  const bytes = parseIp(text);
  assert.ok(bytes, text);
  return bytes;
};
const canonical = (text: string) => formatIp(ip(text));

Deno.test("IP literals: IPv4 strictly, IPv6 in every spelling, mapped IPv4 as IPv4", () => {
  assert.deepEqual([...ip("192.0.2.1")], [192, 0, 2, 1]);
  assert.equal(canonical("0.0.0.0"), "0.0.0.0");
  for (const bad of ["192.0.2", "192.0.2.1.5", "192.0.2.256", "192.0.2.01", "1.2.3.-4", ""]) {
    assert.equal(parseIp(bad), undefined, bad);
  }
  assert.equal(canonical("2001:DB8:0:0:0:0:0:1"), "2001:db8::1");
  assert.equal(canonical("::1"), "::1");
  assert.equal(canonical("::"), "::");
  assert.equal(canonical("[2001:db8::7]"), "2001:db8::7");
  assert.equal(canonical("fe80::1%eth0"), "fe80::1");
  assert.equal(canonical("::ffff:192.0.2.1"), "192.0.2.1", "mapped IPv4 is IPv4");
  assert.equal(canonical("::ffff:c000:201"), "192.0.2.1");
  assert.equal(canonical("64:ff9b::192.0.2.1"), "64:ff9b::c000:201");
  for (
    const bad of [
      "2001:db8::1::2",
      "2001:db8:1:2:3:4:5:6:7",
      "2001:db8:1:2:3:4:5",
      "12345::",
      "g::1",
      "1.2.3.4::",
      "::1.2.3",
      "example.com",
      "2001:db8::1:4711]",
    ]
  ) {
    assert.equal(parseIp(bad), undefined, bad);
  }
});

Deno.test("IPv6 text is canonical (RFC 5952): lower case, the longest zero run shortened", () => {
  assert.equal(canonical("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1", "one zero group stays");
  assert.equal(canonical("2001:0:0:1:0:0:0:1"), "2001:0:0:1::1", "the longest run");
  assert.equal(canonical("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1", "the first of equals");
  assert.equal(canonical("1:0:0:0:0:0:0:0"), "1::");
});

Deno.test("X-Forwarded-For entries: an address, with or without a port; else nothing", () => {
  assert.equal(formatIp(parseForwardedEntry(" 198.51.100.7 ")!), "198.51.100.7");
  assert.equal(formatIp(parseForwardedEntry("198.51.100.7:4711")!), "198.51.100.7");
  assert.equal(formatIp(parseForwardedEntry("[2001:db8::5]:4711")!), "2001:db8::5");
  assert.equal(formatIp(parseForwardedEntry("2001:db8::5")!), "2001:db8::5");
  for (const bad of ["unknown", "_hidden", "", "198.51.100.7:port", "<script>"]) {
    assert.equal(parseForwardedEntry(bad), undefined, bad);
  }
});

Deno.test("CIDR ranges: prefix boundaries, single addresses, families kept apart", () => {
  const ranges = new IpRanges(["10.0.0.0/8", "192.168.1.128/25", "203.0.113.9", "2001:db8::/32"]);
  assert.equal(ranges.size, 4);
  const has = (text: string) => ranges.has(ip(text));
  assert.ok(has("10.255.3.4"));
  assert.ok(!has("11.0.0.1"));
  assert.ok(has("192.168.1.128") && has("192.168.1.255"));
  assert.ok(!has("192.168.1.127"), "just below the /25");
  assert.ok(has("203.0.113.9") && !has("203.0.113.10"));
  assert.ok(has("2001:db8:ffff::1") && !has("2001:db9::1"));
  assert.ok(has("::ffff:10.1.2.3"), "a mapped IPv4 peer matches the IPv4 range");
  assert.ok(!has("::a01:203"), "an IPv6 address is not an IPv4 one");
  assert.ok(new IpRanges(["0.0.0.0/0"]).has(ip("198.51.100.1")));
  assert.ok(!new IpRanges(["0.0.0.0/0"]).has(ip("::1")));
  assert.ok(new IpRanges(["::ffff:10.0.0.0/104"]).has(ip("10.9.9.9")));
  assert.ok(!new IpRanges([]).has(ip("127.0.0.1")));
  for (const bad of ["10.0.0.0/33", "2001:db8::/129", "10.0.0.0/", "10.0.0/8", "proxy.local"]) {
    assert.throws(() => new IpRanges([bad]), RangeError, bad);
  }
});

Deno.test("clientIp: X-Forwarded-For from an untrusted peer is ignored", () => {
  const headers = new Headers({ "X-Forwarded-For": "198.51.100.1" });
  assert.equal(clientIp("203.0.113.50", headers, ["10.0.0.0/8"]), "203.0.113.50");
  assert.equal(clientIp("203.0.113.50", headers, []), "203.0.113.50", "no proxies configured");
  assert.equal(clientIp("::ffff:203.0.113.50", headers, []), "203.0.113.50");
});

Deno.test("clientIp: from a trusted proxy, the first untrusted address from the right", () => {
  const trusted = new IpRanges(["10.0.0.0/8", "2001:db8:ffff::/48"]);
  const xff = (value: string) => new Headers({ "X-Forwarded-For": value });
  // The client prepended a lie; the proxy appended what it saw.
  assert.equal(clientIp("10.0.0.2", xff("1.1.1.1, 198.51.100.7"), trusted), "198.51.100.7");
  // Two proxies in a row: both skipped.
  assert.equal(
    clientIp("10.0.0.2", xff("198.51.100.7, 10.3.3.3, 2001:db8:ffff::9"), trusted),
    "198.51.100.7",
  );
  // Malformed entries are ignored, not taken and not a stop.
  assert.equal(
    clientIp("10.0.0.2", xff("198.51.100.7, unknown, , 10.1.1.1"), trusted),
    "198.51.100.7",
  );
  assert.equal(clientIp("10.0.0.2", xff("[2001:db8::5]:4711"), trusted), "2001:db8::5");
  // Repeated header lines count as one list, in order.
  const repeated = new Headers();
  repeated.append("X-Forwarded-For", "1.1.1.1");
  repeated.append("X-Forwarded-For", "198.51.100.8");
  assert.equal(clientIp("10.0.0.2", repeated, trusted), "198.51.100.8");
  // Every entry trusted: the leftmost is the client (inside the trusted network).
  assert.equal(clientIp("10.0.0.2", xff("10.9.9.9, 10.1.1.1"), trusted), "10.9.9.9");
  // No header, or nothing usable in it: the proxy itself.
  assert.equal(clientIp("10.0.0.2", new Headers(), trusted), "10.0.0.2");
  assert.equal(clientIp("10.0.0.2", xff("garbage"), trusted), "10.0.0.2");
});

Deno.test("rate keys: an IPv4 address, or the IPv6 /64 one subscriber holds", () => {
  assert.equal(rateKey("198.51.100.7"), "198.51.100.7");
  assert.equal(rateKey("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  assert.equal(rateKey("2001:db8:1:2:bbbb::9"), rateKey("2001:db8:1:2:aaaa::1"));
  assert.notEqual(rateKey("2001:db8:1:3::1"), rateKey("2001:db8:1:2::1"));
});

Deno.test("rate limiter: a burst of the limit, then the wait until the next one", () => {
  const limiter = new RateLimiter({ limit: 3, windowMs: 60_000 });
  for (let i = 0; i < 3; i++) assert.equal(limiter.take("a", 1_000), 0);
  assert.equal(limiter.take("a", 1_000), 20_000, "one request refills every 20 s");
  assert.equal(limiter.take("b", 1_000), 0, "each key has its own allowance");
  assert.equal(limiter.take("a", 11_000), 10_000);
  assert.equal(limiter.take("a", 21_000), 0);
  assert.ok(limiter.take("a", 21_000) > 0);
  assert.throws(() => new RateLimiter({ limit: 0, windowMs: 1 }), RangeError);
});

Deno.test("rate limiter memory is bounded however many clients come", () => {
  const limiter = new RateLimiter({ limit: 2, windowMs: 60_000, maxKeys: 100 });
  for (let i = 0; i < 10_000; i++) limiter.take(`client-${i}`, 5_000);
  assert.ok(limiter.size <= 100, `${limiter.size} keys`);
  // A client seen just now is kept while older ones go.
  limiter.take("recent", 5_000);
  limiter.take("recent", 5_000);
  for (let i = 0; i < 99; i++) limiter.take(`late-${i}`, 5_001);
  assert.ok(limiter.take("recent", 5_002) > 0, "its spent allowance is remembered");
});

Deno.test("which requests are limited: lookups and every POST, not pages or the JSON API", () => {
  assert.equal(statusRateClass("GET", "/worker/sha256"), "lookup");
  assert.equal(statusRateClass("HEAD", "/api/worker-lookup"), "lookup");
  assert.equal(statusRateClass("POST", "/api/auth/session-refresh"), "action");
  assert.equal(statusRateClass("POST", "/worker/save"), "action");
  for (const path of ["/", "/worker", "/api/overview", "/static/app.css"]) {
    assert.equal(statusRateClass("GET", path), undefined, path);
  }
});

Deno.test("the gate answers 429 in plain text with Retry-After, per client address", async () => {
  let now = 0;
  const gate = statusRateGate({
    trustedProxies: ["10.0.0.1"],
    lookupPerMinute: 2,
    actionPerMinute: 1,
    now: () => now,
  });
  const lookup = (from: string) =>
    gate(
      new Request("http://pool/api/worker-lookup?hash=00", {
        headers: { "X-Forwarded-For": from },
      }),
      "10.0.0.1",
    );
  assert.equal(lookup("198.51.100.1"), undefined);
  assert.equal(lookup("198.51.100.1"), undefined);
  const refused = lookup("198.51.100.1");
  assert.ok(refused);
  assert.equal(refused.status, 429);
  assert.equal(refused.headers.get("retry-after"), "30");
  assert.match(refused.headers.get("content-type") ?? "", /^text\/plain/);
  assert.match(await refused.text(), /too many requests/);
  assert.equal(lookup("198.51.100.2"), undefined, "another client is not affected");
  assert.equal(gate(new Request("http://pool/"), "10.0.0.1"), undefined, "pages are not limited");
  const post = () => gate(new Request("http://pool/worker/save", { method: "POST" }), "192.0.2.9");
  assert.equal(post(), undefined);
  assert.equal(post()?.status, 429, "actions have their own, separate allowance");
  now += 60_000;
  assert.equal(lookup("198.51.100.1"), undefined, "the allowance refills");
});

// ---- on a live pool, over real HTTP (the peer address is the socket's) ---------------------------

const HASH = "ab".repeat(32);

async function status(base: string, path: string, init: RequestInit = {}) {
  const res = await fetch(base + path, init);
  await res.body?.cancel();
  return res;
}

/** Sends `count` requests from `client` (as its proxy says) and returns their statuses. */
async function statuses(
  base: string,
  path: string,
  count: number,
  client: string,
  method = "GET",
): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    out.push(
      (await status(base, path, { method, headers: { "X-Forwarded-For": client } })).status,
    );
  }
  return out;
}

Deno.test({
  name: "a live pool limits lookups and page actions per client, believing only its proxies",
  sanitizeOps: false, // bcoin keeps internal timers alive until its process-wide teardown
  sanitizeResources: false,
  async fn(t) {
    const node = await startRegtestNode();
    await node.mine(1);
    let tp: TestPool | undefined;
    try {
      await t.step(
        "behind a trusted proxy, each forwarded client has its own allowance",
        async () => {
          tp = await startTestPool(node, { server: { trusted_proxies: ["127.0.0.0/8"] } });
          const base = `http://127.0.0.1:${tp.pool.status.http!.port}`;
          const lookup = `/api/worker-lookup?hash=${HASH}`;
          const first = await statuses(base, lookup, LOOKUP_LIMIT_PER_MINUTE, "198.51.100.5");
          assert.deepEqual(new Set(first), new Set([200]));
          const refused = await fetch(base + lookup, {
            headers: { "X-Forwarded-For": "198.51.100.5" },
          });
          assert.equal(refused.status, 429);
          assert.ok(Number(refused.headers.get("retry-after")) >= 1);
          assert.match(refused.headers.get("content-type") ?? "", /^text\/plain/);
          assert.match(await refused.text(), /too many requests/);
          // Prepending another address does not make a new client: the proxy's entry counts.
          assert.deepEqual(
            await statuses(base, `/worker/sha256?hash=${HASH}`, 1, "203.0.113.77, 198.51.100.5"),
            [429],
            "the HTML lookup shares the allowance",
          );
          assert.deepEqual(
            await statuses(base, lookup, 1, "198.51.100.6"),
            [200],
            "another client",
          );
          // Pages and the JSON API are not limited.
          assert.deepEqual(
            new Set(await statuses(base, "/api/overview", 5, "198.51.100.5")),
            new Set([200]),
          );
          // Page actions: the session refresh (404 here: no Clerk) until the action limit.
          const actions = await statuses(
            base,
            "/api/auth/session-refresh",
            ACTION_LIMIT_PER_MINUTE + 1,
            "198.51.100.5",
            "POST",
          );
          assert.deepEqual(new Set(actions.slice(0, -1)), new Set([404]));
          assert.equal(actions.at(-1), 429);
          await tp.stop();
          tp = undefined;
        },
      );

      await t.step(
        "from an untrusted peer, a spoofed X-Forwarded-For changes nothing",
        async () => {
          tp = await startTestPool(node, { server: { trusted_proxies: ["10.0.0.0/8"] } });
          const base = `http://127.0.0.1:${tp.pool.status.http!.port}`;
          const codes: number[] = [];
          for (let i = 0; i <= LOOKUP_LIMIT_PER_MINUTE; i++) {
            // A new made-up client every time: all are 127.0.0.1 to the pool.
            codes.push(
              ...await statuses(base, `/api/worker-lookup?hash=${HASH}`, 1, `192.0.2.${i}`),
            );
          }
          assert.deepEqual(new Set(codes.slice(0, -1)), new Set([200]));
          assert.equal(codes.at(-1), 429);
          await tp.stop();
          tp = undefined;
        },
      );
    } finally {
      await tp?.stop();
      await node.stop();
    }
  },
});
