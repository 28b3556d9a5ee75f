/**
 * Bans and admission: timed bans expire, invalid shares earn a ban with forgiveness, per-IP caps
 * refuse connections, connections that end without useful work ban a looping IP (never an exempt
 * one), the token bucket limits accepts, the client blacklist matches.
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

Deno.test("admission refuses by capacity, per-IP cap and rate; connecting alone is never churn", () => {
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
  a.release("2.2.2.2", 0);
  assert.equal(a.open, 2);
  assert.deepEqual(a.admit("3.3.3.3", 0), { admitted: true });
  // Twenty connects and closes that did useful work: far over the limit of 5, and no ban.
  const useful = { connectedAt: 0, authorized: true, acceptedShares: 1 };
  for (let i = 0; i < 20; i++) {
    assert.equal(a.release("1.1.1.1", 10 + i, useful), undefined);
    assert.deepEqual(a.admit("1.1.1.1", 10 + i), { admitted: true });
  }
  assert.equal(a.churnBans, 0);
});

Deno.test("churn: only connections that end without useful work count, and the one over the limit bans", () => {
  const a = new Admission({
    churnMaxConnects: 3,
    churnWindowMs: 60_000,
    churnBanMs: 600_000,
    churnMinLifetimeMs: 10_000,
    exempt: [],
  }, 0);
  const ip = "198.51.100.9";
  // Useful: authorized with a share (however short), or authorized and stayed 10 s.
  assert.equal(a.isUseful({ connectedAt: 0, authorized: true, acceptedShares: 1 }, 500), true);
  assert.equal(a.isUseful({ connectedAt: 0, authorized: true, acceptedShares: 0 }, 10_000), true);
  // Wasted: never authorized (even a long idle one), or authorized and gone within 10 s.
  assert.equal(a.isUseful({ connectedAt: 0, authorized: false, acceptedShares: 0 }, 60_000), false);
  assert.equal(a.isUseful({ connectedAt: 0, authorized: true, acceptedShares: 0 }, 9_999), false);

  const wasted = { connectedAt: 0, authorized: false, acceptedShares: 0 };
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(a.admit(ip, i), { admitted: true });
    assert.equal(a.release(ip, i, wasted), undefined, `wasted connection ${i + 1} of 3 is allowed`);
  }
  assert.deepEqual(a.admit(ip, 3), { admitted: true });
  const ban = a.release(ip, 3, wasted);
  assert.deepEqual(ban, {
    key: `ip:${ip}`,
    until: 600_003,
    reason: "reconnecting too often",
    source: "churn",
  });
  assert.equal(a.churnBans, 1);
  assert.deepEqual(a.admit(ip, 4), { admitted: false, reason: "banned" });
  assert.deepEqual(a.admit("198.51.100.10", 4), { admitted: true }, "another IP is untouched");
  // The ban ends; the window has run out too.
  assert.deepEqual(a.admit(ip, 600_003), { admitted: true });
  assert.equal(a.release(ip, 600_004, wasted), undefined);
});

Deno.test("exempt addresses (loopback by default) are never banned by admission rules", () => {
  const a = new Admission({ churnMaxConnects: 1 }, 0);
  assert.deepEqual(a.options.exempt, ["127.0.0.0/8", "::1"]);
  for (const ip of ["127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1"]) {
    assert.equal(a.isExempt(ip), true, ip);
  }
  assert.equal(a.isExempt("10.0.0.1"), false);
  const wasted = { connectedAt: 0, authorized: false, acceptedShares: 0 };
  for (let i = 0; i < 10; i++) {
    assert.deepEqual(a.admit("127.0.0.1", i), { admitted: true });
    assert.equal(a.release("127.0.0.1", i, wasted), undefined, "loopback loops are never banned");
  }
  // A ban another automatic rule set on an exempt address does not refuse it; the operator's does.
  a.bans.ban("ip:127.0.0.1", "reconnecting too often", 60_000, 10, "churn");
  assert.deepEqual(a.admit("127.0.0.1", 11), { admitted: true });
  a.bans.ban("ip:127.0.0.2", "by hand", 60_000, 10, "operator");
  assert.deepEqual(a.admit("127.0.0.2", 11), { admitted: false, reason: "banned" });

  const farm = new Admission({ churnMaxConnects: 1, exempt: ["203.0.113.0/24"] }, 0);
  assert.equal(farm.isExempt("203.0.113.77"), true);
  assert.equal(farm.isExempt("127.0.0.1"), false, "the list replaces the default");
  assert.throws(() => new Admission({ exempt: ["not-an-ip"] }, 0), /not an IP address/);
});

Deno.test("admission's accept limiter refuses past its burst and refills", () => {
  const limited = new Admission({ acceptRatePerSecond: 1, acceptBurst: 1 }, 0);
  assert.deepEqual(limited.admit("9.9.9.9", 0), { admitted: true });
  assert.deepEqual(limited.admit("9.9.9.8", 10), { admitted: false, reason: "rate-limit" });
  assert.deepEqual(limited.admit("9.9.9.8", 1010), { admitted: true });
});
