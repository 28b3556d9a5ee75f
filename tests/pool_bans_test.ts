/**
 * Bans and admission: timed bans expire, invalid shares earn a ban with forgiveness, churn and
 * per-IP caps refuse connections, the token bucket limits accepts, the client blacklist matches.
 */

import assert from "node:assert/strict";
import {
  BanList,
  ChurnTracker,
  InvalidShareCounter,
  IpConnectionCounter,
  isBlacklistedClient,
  parseMinerClient,
} from "../lib/pool/bans.ts";
import { Admission, TokenBucket } from "../lib/pool/admission.ts";

Deno.test("a ban lasts until its expiry, a longer ban is kept, unban lifts it", () => {
  const bans = new BanList();
  bans.ban("w1", "too many invalid shares", 1000, 0);
  assert.equal(bans.get("w1", 999)?.reason, "too many invalid shares");
  assert.equal(bans.get("w1", 1000), undefined);
  bans.ban("w2", "long", 5000, 0);
  assert.equal(bans.ban("w2", "short", 10, 0).reason, "long");
  assert.deepEqual(bans.list(100).map((b) => b.key), ["w2"]);
  assert.equal(bans.unban("w2"), true);
  assert.equal(bans.get("w2", 100), undefined);
});

Deno.test("invalid shares reach the threshold inside the window; the window restarts; accepts forgive", () => {
  const c = new InvalidShareCounter({ threshold: 4, windowMs: 1000, acceptedPerForgiven: 2 });
  assert.equal(c.noteInvalid(0), false);
  assert.equal(c.noteInvalid(10), false);
  assert.equal(c.noteInvalid(20), false);
  assert.equal(c.noteInvalid(30), true, "4th in the window");
  // a new window forgets the old count
  const d = new InvalidShareCounter({ threshold: 3, windowMs: 1000 });
  d.noteInvalid(0);
  d.noteInvalid(1);
  assert.equal(d.noteInvalid(1000), false, "window restarted");
  // two accepted shares forgive one invalid one
  const e = new InvalidShareCounter({ threshold: 3, windowMs: 1e9, acceptedPerForgiven: 2 });
  e.noteInvalid(0);
  e.noteInvalid(0);
  e.noteAccepted();
  e.noteAccepted();
  assert.equal(e.count, 1);
  assert.equal(e.noteInvalid(0), false);
  assert.equal(e.noteInvalid(0), true);
});

Deno.test("per-IP counts and churn tracking", () => {
  const ips = new IpConnectionCounter();
  ips.add("10.0.0.1");
  ips.add("10.0.0.1");
  ips.remove("10.0.0.1");
  assert.equal(ips.count("10.0.0.1"), 1);
  ips.remove("10.0.0.1");
  assert.equal(ips.ips, 0);

  const churn = new ChurnTracker({ maxConnects: 3, windowMs: 1000 });
  assert.equal(churn.note("a", 0), false);
  assert.equal(churn.note("a", 1), false);
  assert.equal(churn.note("a", 2), false);
  assert.equal(churn.note("a", 3), true);
  assert.equal(churn.note("b", 3), false, "per IP");
  assert.equal(churn.note("a", 1000), false, "new window");
});

Deno.test("the client blacklist matches the whole user agent or its client name, any case", () => {
  assert.deepEqual(parseMinerClient("cgminer/4.11.1"), { name: "cgminer", version: "4.11.1" });
  assert.deepEqual(parseMinerClient("bmminer 2.0.0"), { name: "bmminer", version: "2.0.0" });
  assert.deepEqual(parseMinerClient("NerdMiner"), { name: "NerdMiner", version: "" });
  assert.equal(isBlacklistedClient("BadMiner/1.0", ["badminer"]), true);
  assert.equal(isBlacklistedClient("cgminer/4.11.1", ["CGMINER/4.11.1"]), true);
  assert.equal(isBlacklistedClient("cgminer/4.11.1", ["cgminer/4.10"]), false);
  assert.equal(isBlacklistedClient("goodminer", []), false);
});

Deno.test("the token bucket allows a burst, then the steady rate", () => {
  const b = new TokenBucket(10, 3, 0);
  assert.equal(b.take(0), true);
  assert.equal(b.take(0), true);
  assert.equal(b.take(0), true);
  assert.equal(b.take(0), false);
  assert.equal(b.take(100), true, "one token per 100 ms at 10/s");
  assert.equal(b.take(150), false);
  assert.equal(b.take(10_000), true);
});

Deno.test("admission refuses by capacity, per-IP cap, rate and churn (then bans the IP)", () => {
  const a = new Admission({
    maxConnections: 3,
    maxPerIp: 2,
    acceptRatePerSecond: 1000,
    acceptBurst: 1000,
    churnMaxConnects: 5,
    churnWindowMs: 60_000,
    churnBanMs: 3_600_000,
  }, 0);
  assert.deepEqual(a.admit("1.1.1.1", 0), { admitted: true });
  assert.deepEqual(a.admit("1.1.1.1", 0), { admitted: true });
  assert.deepEqual(a.admit("1.1.1.1", 0), { admitted: false, reason: "ip-limit" });
  assert.deepEqual(a.admit("2.2.2.2", 0), { admitted: true });
  assert.deepEqual(a.admit("3.3.3.3", 0), { admitted: false, reason: "capacity" });
  a.release("2.2.2.2");
  assert.equal(a.open, 2);
  assert.deepEqual(a.admit("3.3.3.3", 0), { admitted: true });
  // 1.1.1.1 has made 3 attempts; 3 more go over the churn limit of 5
  a.release("1.1.1.1");
  assert.deepEqual(a.admit("1.1.1.1", 1), { admitted: true });
  a.release("1.1.1.1");
  assert.deepEqual(a.admit("1.1.1.1", 2), { admitted: true });
  assert.deepEqual(a.admit("1.1.1.1", 3), { admitted: false, reason: "churn" });
  assert.deepEqual(a.admit("1.1.1.1", 120_000), { admitted: false, reason: "banned" });
  assert.deepEqual(a.admit("1.1.1.1", 3_600_004), { admitted: false, reason: "capacity" });

  const limited = new Admission({ acceptRatePerSecond: 1, acceptBurst: 1 }, 0);
  assert.deepEqual(limited.admit("9.9.9.9", 0), { admitted: true });
  assert.deepEqual(limited.admit("9.9.9.8", 10), { admitted: false, reason: "rate-limit" });
  assert.deepEqual(limited.admit("9.9.9.8", 1010), { admitted: true });
});
