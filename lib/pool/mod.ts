/**
 * The stratifier: the seams between the parts (`types.ts`), jobs from templates, share policy as
 * pure functions, the one owner of the current and solved tips, the block submitter and its
 * journal, payouts, vardiff, bans and admission, worker statistics.
 *
 * @example
 * ```ts
 * import { screenShare, tipStanding } from "./mod.ts";
 * const tip = new Uint8Array(32).fill(7);
 * const standing = tipStanding(tip, tip, []); // "current"
 * screenShare(true, standing); // undefined: nothing broken on arrival
 * ```
 *
 * @module
 */

export * from "./admission.ts";
export * from "./bans.ts";
export * from "./best_shares.ts";
export * from "./blocks.ts";
export * from "./hashrate_history.ts";
export * from "./jobs.ts";
export * from "./payout.ts";
export * from "./policy.ts";
export * from "./tips.ts";
export * from "./types.ts";
export * from "./vardiff.ts";
export * from "./worker_stats.ts";
