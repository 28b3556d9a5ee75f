/**
 * The share policy as a spec (`lib/pool/policy.ts`): each rule at its boundaries, the order the
 * rules apply in, and the ruling a Stratum session (v1 today, a v2 channel later) acts on.
 */

import assert from "node:assert/strict";
import {
  isSolvedTip,
  judgeShare,
  meetsTarget,
  ntimeInWindow,
  type PolicyRule,
  RULE_REASONS,
  screenShare,
  tipStanding,
} from "../lib/pool/policy.ts";
import { DIFF1_TARGET } from "../lib/bitcoin/target.ts";

const A = new Uint8Array(32).fill(0xaa);
const B = new Uint8Array(32).fill(0xbb);
const C = new Uint8Array(32).fill(0xcc);

/** A 32-byte hash (internal byte order: little-endian) with the numeric value `value`. */
function hashOf(value: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((value >> BigInt(8 * i)) & 0xffn);
  return out;
}

const verdict = (meetsShareTarget: boolean, meetsNetworkTarget: boolean) => ({
  meetsShareTarget,
  meetsNetworkTarget,
});

Deno.test("ntime window: mintime is the lower bound, inclusive", () => {
  const job = { mintime: 1_000, curtime: 2_000 };
  assert.equal(ntimeInWindow(1_000, job, 2_000, 7_000), true, "exactly at mintime");
  assert.equal(ntimeInWindow(999, job, 2_000, 7_000), false, "one second before");
  assert.equal(ntimeInWindow(0, job, 2_000, 7_000), false);
});

Deno.test("ntime window: the upper bound is max(curtime, now) + maxForward, inclusive", () => {
  const job = { mintime: 1_000, curtime: 2_000 };
  // The clock behind the template: curtime sets the limit.
  assert.equal(ntimeInWindow(2_060, job, 1_500, 60), true, "exactly at curtime + 60");
  assert.equal(ntimeInWindow(2_061, job, 1_500, 60), false, "one past");
  // The clock ahead of the template: now sets the limit.
  assert.equal(ntimeInWindow(3_060, job, 3_000, 60), true, "exactly at now + 60");
  assert.equal(ntimeInWindow(3_061, job, 3_000, 60), false, "one past");
  // No forward allowance: the later of curtime and now itself is the last second allowed.
  assert.equal(ntimeInWindow(2_000, job, 1_999, 0), true);
  assert.equal(ntimeInWindow(2_001, job, 1_999, 0), false);
  // The whole window, end to end.
  assert.equal(ntimeInWindow(1_000, job, 2_000, 0), true);
  assert.equal(ntimeInWindow(2_000, job, 2_000, 0), true);
});

Deno.test("tip standing: current, stale (the tip moved on), solved (the pool has its block)", () => {
  assert.equal(tipStanding(A, A, []), "current");
  assert.equal(
    tipStanding(A, Uint8Array.from(A), []),
    "current",
    "compared by bytes, not identity",
  );
  assert.equal(tipStanding(A, B, []), "stale", "the job's prevhash is no longer the tip");
  assert.equal(tipStanding(A, A, [C, A]), "solved", "the pool already found a block on it");
  assert.equal(tipStanding(A, A, [C]), "current", "another solved tip does not count");
  assert.equal(tipStanding(A, B, [A]), "stale", "stale wins over solved");
  // Before any tip is known nothing is stale, but a solved tip is still solved.
  assert.equal(tipStanding(A, undefined, []), "current");
  assert.equal(tipStanding(A, undefined, [A]), "solved");
  // One byte of difference is another tip.
  const almost = Uint8Array.from(A);
  almost[31] ^= 1;
  assert.equal(tipStanding(A, almost, []), "stale");
  assert.equal(tipStanding(A, A, [almost]), "current");
});

Deno.test("solved tips: found by bytes among the recent ones", () => {
  assert.equal(isSolvedTip(A, []), false);
  assert.equal(isSolvedTip(A, [B, C]), false);
  assert.equal(isSolvedTip(A, [B, Uint8Array.from(A)]), true);
});

Deno.test("targets: a hash exactly at the target meets it, one above does not", () => {
  const target = DIFF1_TARGET;
  assert.equal(meetsTarget(hashOf(target), target), true, "exactly at the target");
  assert.equal(meetsTarget(hashOf(target - 1n), target), true, "just below");
  assert.equal(meetsTarget(hashOf(target + 1n), target), false, "one above");
  assert.equal(meetsTarget(hashOf(0n), 0n), true, "zero meets zero");
  assert.equal(meetsTarget(hashOf(1n), 0n), false);
  // Internal byte order: the first byte is the least significant.
  const low = new Uint8Array(32);
  low[0] = 0xff;
  assert.equal(meetsTarget(low, 0xffn), true);
  const high = new Uint8Array(32);
  high[31] = 0x01;
  assert.equal(meetsTarget(high, 0xffn), false);
});

Deno.test("screening on arrival: the ntime window first, then the tip", () => {
  assert.equal(screenShare(true, "current"), undefined);
  assert.equal(screenShare(false, "current"), "ntime");
  assert.equal(screenShare(false, "stale"), "ntime", "a bad ntime is named before a stale tip");
  assert.equal(screenShare(false, "solved"), "ntime");
  assert.equal(screenShare(true, "stale"), "stale-tip");
  assert.equal(screenShare(true, "solved"), "solved-tip");
});

Deno.test("ruling: a block candidate is a block whatever else broke, unless the tip is solved", () => {
  for (const broken of [undefined, "ntime", "stale-tip", "low-difficulty"] as const) {
    assert.deepEqual(judgeShare(broken, verdict(true, true), false), { kind: "block" }, broken);
  }
  // A network-target hash meets any share target it was sent with; only `meetsNetworkTarget` counts.
  assert.deepEqual(judgeShare(undefined, verdict(false, true), false), { kind: "block" });
  // Solved: a second block there would only compete with the pool's own one.
  assert.deepEqual(judgeShare(undefined, verdict(true, true), true), { kind: "accept" });
  assert.deepEqual(judgeShare("solved-tip", verdict(true, true), true), {
    kind: "reject",
    rule: "solved-tip",
    reason: "stale",
  });
  assert.deepEqual(judgeShare("ntime", verdict(true, true), true), {
    kind: "reject",
    rule: "ntime",
    reason: "invalid",
  });
});

Deno.test("ruling: a rule broken on arrival rejects a share that meets its target", () => {
  const cases: [PolicyRule, string][] = [
    ["ntime", "invalid"],
    ["stale-tip", "stale"],
    ["solved-tip", "stale"],
  ];
  for (const [rule, reason] of cases) {
    assert.deepEqual(judgeShare(rule, verdict(true, false), false), {
      kind: "reject",
      rule,
      reason,
    });
    // It is named before low difficulty, too.
    assert.deepEqual(judgeShare(rule, verdict(false, false), false), {
      kind: "reject",
      rule,
      reason,
    });
  }
});

Deno.test("ruling: low difficulty, accept, and a share exactly at its share target", () => {
  assert.deepEqual(judgeShare(undefined, verdict(false, false), false), {
    kind: "reject",
    rule: "low-difficulty",
    reason: "low-difficulty",
  });
  assert.deepEqual(judgeShare(undefined, verdict(true, false), false), { kind: "accept" });
  // From hashes: exactly at the share target is a good share, one above is low difficulty, and a
  // hash exactly at the network target is a block.
  const shareTarget = DIFF1_TARGET;
  const networkTarget = DIFF1_TARGET >> 20n;
  const judge = (h: bigint) =>
    judgeShare(
      undefined,
      verdict(meetsTarget(hashOf(h), shareTarget), meetsTarget(hashOf(h), networkTarget)),
      false,
    ).kind;
  assert.equal(judge(shareTarget), "accept");
  assert.equal(judge(shareTarget + 1n), "reject");
  assert.equal(judge(networkTarget + 1n), "accept");
  assert.equal(judge(networkTarget), "block");
});

Deno.test("rulings: shared frozen constants (judging allocates nothing), reasons from the stats set", () => {
  const first = judgeShare("stale-tip", verdict(true, false), false);
  assert.equal(judgeShare("stale-tip", verdict(false, false), false), first, "the same object");
  assert.equal(
    judgeShare(undefined, verdict(true, false), false),
    judgeShare(undefined, verdict(true, false), false),
  );
  assert.ok(Object.isFrozen(first));
  assert.deepEqual(RULE_REASONS, {
    "ntime": "invalid",
    "stale-tip": "stale",
    "solved-tip": "stale",
    "low-difficulty": "low-difficulty",
  });
});
