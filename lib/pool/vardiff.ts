/**
 * Variable difficulty for one connection: keeps a miner near a target share rate.
 *
 * Pure: the caller passes the clock (`now`, ms) into every call, so tests drive it with simulated
 * time. The controller counts accepted shares in a window that restarts at every change, and when
 * the window holds enough evidence it moves the difficulty by a damped step toward the value that
 * would give the target rate. A noise band that narrows as evidence grows keeps it from chasing
 * Poisson noise; a step cap keeps one lucky or unlucky window from throwing it far off.
 *
 * Applying a change is the caller's job: send `mining.set_difficulty`, then notify work under a
 * new job id, so the new difficulty applies to the next job the miner gets and shares on older
 * jobs keep the difficulty they were sent with.
 *
 * @module
 */

/** Tuning of the vardiff controller. All durations are milliseconds. */
export interface VardiffOptions {
  /** Accepted shares per minute to aim for. */
  readonly targetSharesPerMinute: number;
  /** Lowest difficulty the pool hands out (fractional values allowed, e.g. on regtest). */
  readonly minDifficulty: number;
  /** Highest difficulty the pool hands out (`Infinity` for no cap). */
  readonly maxDifficulty: number;
  /** Shortest time between two evaluations (and so between two changes). */
  readonly minRetargetMs: number;
  /** Longest time a window may run before it is evaluated even with few shares. */
  readonly windowMs: number;
  /** Shares in a window that are enough evidence to evaluate before `windowMs`. */
  readonly evidenceShares: number;
  /** Exponent applied to the measured ratio (1 = jump straight to the estimate). */
  readonly damping: number;
  /** Largest factor of one step up or down (doubled-squared with ample evidence). */
  readonly maxStepFactor: number;
  /** Difficulties are rounded to the grid 2^(k/gridSteps). */
  readonly gridSteps: number;
}

/** The defaults: 15 shares/min, min 1, no cap, 10 s–60 s windows, damping 0.7, ×4 steps. */
export const DEFAULT_VARDIFF_OPTIONS: VardiffOptions = Object.freeze({
  targetSharesPerMinute: 15,
  minDifficulty: 1,
  maxDifficulty: Infinity,
  minRetargetMs: 10_000,
  windowMs: 60_000,
  evidenceShares: 12,
  damping: 0.7,
  maxStepFactor: 4,
  gridSteps: 8,
});

/** Shares in a window beyond which a step may be `maxStepFactor²` (the miner is far off). */
const AMPLE_EVIDENCE = 100;

/** Rounds `difficulty` to the grid 2^(k/steps) so values stay stable and readable. */
export function quantizeDifficulty(difficulty: number, steps: number): number {
  if (!(difficulty > 0) || !Number.isFinite(difficulty)) return difficulty;
  return 2 ** (Math.round(Math.log2(difficulty) * steps) / steps);
}

/** The difficulty-control state of one connection. */
export class Vardiff {
  /** The options in force (defaults merged with the caller's; {@linkcode Vardiff.retune} changes them). */
  options: VardiffOptions;
  #difficulty: number;
  #floor: number;
  #windowStart: number;
  #windowShares = 0;
  #nextCheckpoint = 0;
  #nextSlowCheckMs = 0;
  #changes = 0;

  /** Starts at `initialDifficulty` (clamped) with an empty window opened at `now`. */
  constructor(options: Partial<VardiffOptions>, initialDifficulty: number, now: number) {
    this.options = { ...DEFAULT_VARDIFF_OPTIONS, ...options };
    this.#floor = this.options.minDifficulty;
    this.#difficulty = this.#clamp(initialDifficulty);
    this.#windowStart = now;
    this.#nextCheckpoint = this.options.evidenceShares;
    this.#nextSlowCheckMs = this.options.windowMs;
  }

  /** The difficulty in force. */
  get difficulty(): number {
    return this.#difficulty;
  }

  /** The per-connection minimum (pool minimum raised by hints such as `d=`). */
  get floor(): number {
    return this.#floor;
  }

  /** How many times the controller (not a hint) changed the difficulty. */
  get changes(): number {
    return this.#changes;
  }

  /**
   * Changes the aim and the range while running (the operator's overrides). A floor at the old
   * pool minimum follows the new one; the difficulty is clamped into the new range. Returns the
   * new difficulty when it changed, else undefined.
   */
  retune(
    patch: Partial<
      Pick<VardiffOptions, "targetSharesPerMinute" | "minDifficulty" | "maxDifficulty">
    >,
    now: number,
  ): number | undefined {
    const oldMin = this.options.minDifficulty;
    this.options = { ...this.options, ...patch };
    const floor = this.#floor === oldMin ? this.options.minDifficulty : this.#floor;
    this.#floor = Math.min(Math.max(floor, this.options.minDifficulty), this.options.maxDifficulty);
    const clamped = this.#clamp(this.#difficulty);
    if (clamped === this.#difficulty) return undefined;
    this.#set(clamped, now);
    return clamped;
  }

  /**
   * Raises the per-connection minimum to `minimum` (clamped to the pool range) and lifts the
   * difficulty to it if below. Returns the difficulty in force afterwards.
   */
  setFloor(minimum: number, now: number): number {
    if (!(minimum > 0) || !Number.isFinite(minimum)) return this.#difficulty;
    this.#floor = Math.min(
      Math.max(minimum, this.options.minDifficulty),
      this.options.maxDifficulty,
    );
    if (this.#difficulty < this.#floor) this.#set(this.#floor, now);
    return this.#difficulty;
  }

  /**
   * Applies a miner's hint (`mining.suggest_difficulty`, `d=`): the difficulty becomes the hint
   * clamped to the floor and the pool range, and a fresh window starts. Returns the result.
   */
  suggest(difficulty: number, now: number): number {
    if (!(difficulty > 0) || !Number.isFinite(difficulty)) return this.#difficulty;
    this.#set(this.#clamp(difficulty), now);
    return this.#difficulty;
  }

  /** Counts one accepted share; returns the new difficulty when this share triggered a change. */
  onShare(now: number): number | undefined {
    this.#windowShares++;
    return this.#evaluate(now, false);
  }

  /** Periodic check for a miner that sends too few shares; returns a new difficulty on change. */
  onTick(now: number): number | undefined {
    return this.#evaluate(now, true);
  }

  #evaluate(now: number, idleCheck: boolean): number | undefined {
    const o = this.options;
    const elapsed = now - this.#windowStart;
    if (elapsed < o.minRetargetMs) return undefined;
    const shares = this.#windowShares;
    // Judge shares only at checkpoints (evidence, 2×, 4× …), not at every share: testing the
    // same growing window again and again would turn noise into changes.
    const atCheckpoint = !idleCheck && shares >= this.#nextCheckpoint;
    const slowWindow = elapsed >= this.#nextSlowCheckMs && shares < o.evidenceShares;
    if (!atCheckpoint && !slowWindow) return undefined;
    if (atCheckpoint) this.#nextCheckpoint *= 2;
    if (slowWindow) this.#nextSlowCheckMs += o.windowMs;
    // Half a share stands in for none so a silent window still gives a finite, falling estimate.
    const rate = (Math.max(shares, 0.5) * 60_000) / elapsed;
    const ratio = rate / o.targetSharesPerMinute;
    const tolerance = Math.min(1, Math.max(0.2, 2.5 / Math.sqrt(Math.max(shares, 1))));
    if (ratio <= 1 + tolerance && ratio >= 1 / (1 + tolerance)) {
      // On target: keep the estimate fresh by restarting windows that have grown long.
      if (elapsed >= 5 * o.windowMs) this.#restartWindow(now);
      return undefined;
    }
    const cap = shares >= AMPLE_EVIDENCE ? o.maxStepFactor ** 2 : o.maxStepFactor;
    const factor = Math.min(cap, Math.max(1 / cap, ratio ** o.damping));
    const next = this.#clamp(this.#difficulty * factor);
    if (next === this.#difficulty) {
      this.#restartWindow(now);
      return undefined;
    }
    this.#set(next, now);
    this.#changes++;
    return next;
  }

  #clamp(difficulty: number): number {
    const q = quantizeDifficulty(difficulty, this.options.gridSteps);
    return Math.min(Math.max(q, this.#floor), this.options.maxDifficulty);
  }

  #set(difficulty: number, now: number): void {
    this.#difficulty = difficulty;
    this.#restartWindow(now);
  }

  #restartWindow(now: number): void {
    this.#windowStart = now;
    this.#windowShares = 0;
    this.#nextCheckpoint = this.options.evidenceShares;
    this.#nextSlowCheckMs = this.options.windowMs;
  }
}
