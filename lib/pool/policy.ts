/**
 * Share policy: the rules a share must meet beyond its format, as pure functions of plain values.
 *
 * A Stratum v1 session and a future Stratum v2 channel judge shares alike: the protocol parses the
 * share and hashes it, the policy says what the share is worth. The rules, in the order they apply:
 *
 * 1. **Block candidate**: a hash that meets the job's network target is a block, whatever else the
 *    share did wrong, unless the pool already solved the job's tip (a second block there could only
 *    orphan the pool's own one). Nothing stands between a block and the node.
 * 2. **ntime window**: `mintime ≤ ntime ≤ max(curtime, now) + maxForward` (invalid).
 * 3. **Stale tip**: the job's prevhash is no longer the tip (stale).
 * 4. **Solved tip**: the pool already found a block on the job's tip (stale).
 * 5. **Low difficulty**: the hash does not meet the share target (low-difficulty).
 * 6. Otherwise the share is accepted.
 *
 * Rules 2–4 are worked out when the share arrives (before hashing: the tip the miner worked on is
 * judged at the moment it sent the share), with {@linkcode screenShare}; hashing follows, then
 * {@linkcode judgeShare} applies the result with the verdict. Every ruling is a shared constant:
 * judging allocates nothing.
 *
 * @example A share on the current tip, inside the window, below its share target
 * ```ts
 * const tip = new Uint8Array(32).fill(1);
 * const job = { prevhash: tip, mintime: 1_000, curtime: 2_000 };
 * const broken = screenShare(
 *   ntimeInWindow(2_000, job, 2_001, 7_000),
 *   tipStanding(job.prevhash, tip, []),
 * );
 * const ruling = judgeShare(broken, { meetsShareTarget: false, meetsNetworkTarget: false }, false);
 * // ruling: { kind: "reject", rule: "low-difficulty", reason: "low-difficulty" }
 * ```
 *
 * @module
 */

import { equalBytes } from "../bitcoin/mod.ts";
import { hashToBigInt } from "../bitcoin/mod.ts";
import type { Job, ShareVerdict } from "./types.ts";
import type { RejectReason } from "./worker_stats.ts";

/** A policy rule a share can break. */
export type PolicyRule = "ntime" | "stale-tip" | "solved-tip" | "low-difficulty";

/** Where a job's tip stands: still the tip, replaced by a newer one, or already solved by the pool. */
export type TipStanding = "current" | "stale" | "solved";

/** What the policy makes of a hashed share. */
export type ShareRuling =
  /** A block: hand it to the block sink (the miner hears the node's verdict). */
  | { readonly kind: "block" }
  /** A good share: credit it. */
  | { readonly kind: "accept" }
  /** A rejected share: the rule it broke and the reason it is counted under. */
  | { readonly kind: "reject"; readonly rule: PolicyRule; readonly reason: RejectReason };

/** The reject reason each rule is counted under. */
export const RULE_REASONS: Readonly<Record<PolicyRule, RejectReason>> = Object.freeze({
  "ntime": "invalid",
  "stale-tip": "stale",
  "solved-tip": "stale",
  "low-difficulty": "low-difficulty",
});

const BLOCK: ShareRuling = Object.freeze({ kind: "block" });
const ACCEPT: ShareRuling = Object.freeze({ kind: "accept" });
const REJECT: Readonly<Record<PolicyRule, ShareRuling>> = Object.freeze({
  "ntime": Object.freeze({ kind: "reject", rule: "ntime", reason: RULE_REASONS["ntime"] }),
  "stale-tip": Object.freeze({
    kind: "reject",
    rule: "stale-tip",
    reason: RULE_REASONS["stale-tip"],
  }),
  "solved-tip": Object.freeze({
    kind: "reject",
    rule: "solved-tip",
    reason: RULE_REASONS["solved-tip"],
  }),
  "low-difficulty": Object.freeze({
    kind: "reject",
    rule: "low-difficulty",
    reason: RULE_REASONS["low-difficulty"],
  }),
});

/**
 * True when a share's `ntime` (Unix seconds) is inside the job's window: not before the
 * template's `mintime`, and at most `maxForwardSec` past the later of its `curtime` and `nowSec`.
 * Both ends are inclusive.
 *
 * @example
 * ```ts
 * const job = { mintime: 1_000, curtime: 2_000 };
 * ntimeInWindow(999, job, 2_000, 60); // false: before mintime
 * ntimeInWindow(2_060, job, 2_000, 60); // true: exactly at the forward limit
 * ```
 */
export function ntimeInWindow(
  ntime: number,
  job: Pick<Job, "mintime" | "curtime">,
  nowSec: number,
  maxForwardSec: number,
): boolean {
  return ntime >= job.mintime && ntime <= Math.max(job.curtime, nowSec) + maxForwardSec;
}

/**
 * Where `jobPrevhash` stands against the tip `tipPrevhash` (both internal byte order) and the tips
 * the pool already solved: `"stale"` when the tip has moved on (this wins over solved), `"solved"`
 * when the pool has its block on it, else `"current"`. With no tip known yet, nothing is stale.
 *
 * @example
 * ```ts
 * const a = new Uint8Array(32).fill(1), b = new Uint8Array(32).fill(2);
 * tipStanding(a, a, []); // "current"
 * tipStanding(a, b, []); // "stale"
 * tipStanding(a, a, [a]); // "solved"
 * ```
 */
export function tipStanding(
  jobPrevhash: Uint8Array,
  tipPrevhash: Uint8Array | undefined,
  solvedTips: readonly Uint8Array[],
): TipStanding {
  if (tipPrevhash !== undefined && !sameHash(jobPrevhash, tipPrevhash)) return "stale";
  return isSolvedTip(jobPrevhash, solvedTips) ? "solved" : "current";
}

/** True when `prevhash` is one of `solvedTips` (the tips the pool already found a block on). */
export function isSolvedTip(prevhash: Uint8Array, solvedTips: readonly Uint8Array[]): boolean {
  for (let i = 0; i < solvedTips.length; i++) if (sameHash(prevhash, solvedTips[i])) return true;
  return false;
}

/**
 * True when `hash` (internal byte order: a little-endian 256-bit number) is at or below `target`:
 * the rule behind both `ShareVerdict.meetsShareTarget` and `meetsNetworkTarget`. A hash exactly at
 * the target meets it.
 */
export function meetsTarget(hash: Uint8Array, target: bigint): boolean {
  return hashToBigInt(hash) <= target;
}

/**
 * The rule a share breaks before it is hashed, if any: the ntime window first, then its tip. The
 * result waits for the hash and goes to {@linkcode judgeShare}.
 */
export function screenShare(ntimeOk: boolean, standing: TipStanding): PolicyRule | undefined {
  if (!ntimeOk) return "ntime";
  if (standing === "stale") return "stale-tip";
  if (standing === "solved") return "solved-tip";
  return undefined;
}

/**
 * The policy's ruling on a hashed share. `broken` is what {@linkcode screenShare} found on
 * arrival; `solvedNow` says whether the job's tip is solved at this moment (a block found by
 * another share while this one was hashed counts). A block candidate is a block whatever `broken`
 * says; otherwise the broken rule rejects it, then the share target.
 *
 * @example
 * ```ts
 * judgeShare(undefined, { meetsShareTarget: true, meetsNetworkTarget: false }, false);
 * // { kind: "accept" }
 * judgeShare("stale-tip", { meetsShareTarget: true, meetsNetworkTarget: true }, false);
 * // { kind: "block" }: a block is submitted even from an old tip
 * ```
 */
export function judgeShare(
  broken: PolicyRule | undefined,
  verdict: Pick<ShareVerdict, "meetsShareTarget" | "meetsNetworkTarget">,
  solvedNow: boolean,
): ShareRuling {
  if (verdict.meetsNetworkTarget && !solvedNow) return BLOCK;
  if (broken !== undefined) return REJECT[broken];
  return verdict.meetsShareTarget ? ACCEPT : REJECT["low-difficulty"];
}

function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  return a === b || equalBytes(a, b);
}
