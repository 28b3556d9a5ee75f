/**
 * One periodic task: a pass run now and then again `intervalMs` after each pass ends, never two
 * passes at once, every failure handed to `onError`, and a stop that waits for the pass in flight.
 *
 * - {@linkcode Periodic.start} runs a pass now and keeps the task going;
 * - {@linkcode Periodic.trigger} runs a pass now (a new block, a caller in a hurry): it joins the
 *   pass in flight rather than starting a second one, and the wait for the next pass starts again
 *   after it, so an early pass is not followed by another at the old time;
 * - {@linkcode Periodic.stop} cancels the wait and resolves once the pass in flight (if any) has
 *   settled; nothing is scheduled after it. A pass must not await `stop()` of its own task.
 *
 * The wait is measured from the end of a pass, so a slow pass delays the next one rather than
 * piling passes up. Timers are injectable, so a test clock drives the task.
 *
 * @module
 */

/** What the task schedules its waits with: the global timers, or a test clock. */
export interface Timers {
  /** Calls `fn` after `ms` milliseconds; returns a handle for `clearTimeout`. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a pending `setTimeout`. */
  clearTimeout(handle: unknown): void;
}

/** The global `setTimeout` / `clearTimeout`. */
export const GLOBAL_TIMERS: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as number),
};

/** Options of {@linkcode Periodic}. */
export interface PeriodicOptions<T> {
  /** One pass. Its result is what {@linkcode Periodic.trigger} resolves with. */
  readonly run: () => T | Promise<T>;
  /**
   * Milliseconds from the end of one pass to the start of the next. A function is asked after
   * every pass (a wait that follows the data, e.g. a publisher's next update time).
   */
  readonly intervalMs: number | (() => number);
  /** Told about every pass that throws or rejects; the task itself never logs. */
  readonly onError: (error: unknown) => void;
  /** Timers (default {@linkcode GLOBAL_TIMERS}). */
  readonly timers?: Timers;
}

/** A task run now and every interval, one pass at a time; see the module doc. */
export class Periodic<T = void> {
  readonly #options: PeriodicOptions<T>;
  readonly #timers: Timers;
  #started = false;
  #timer: unknown = undefined;
  #pass: Promise<T | undefined> | undefined;

  /** A task that runs nothing until {@linkcode start} or {@linkcode trigger}. */
  constructor(options: PeriodicOptions<T>) {
    this.#options = options;
    this.#timers = options.timers ?? GLOBAL_TIMERS;
  }

  /** True between {@linkcode start} and {@linkcode stop}. */
  get started(): boolean {
    return this.#started;
  }

  /** True while a pass runs. */
  get busy(): boolean {
    return this.#pass !== undefined;
  }

  /**
   * Starts the task: a pass now (joined if one is already running), then one every interval.
   * Resolves like {@linkcode trigger} when that first pass settles.
   */
  start(): Promise<T | undefined> {
    this.#started = true;
    return this.trigger();
  }

  /**
   * Runs a pass now, or joins the one in flight; when the task is started, the next pass comes an
   * interval after this one. Works on a stopped task too (one pass, nothing scheduled). Never
   * rejects: resolves with the pass's result, or `undefined` when it failed (see `onError`).
   */
  trigger(): Promise<T | undefined> {
    if (this.#pass) return this.#pass;
    this.#cancelWait();
    const pass = this.#runOnce().finally(() => {
      this.#pass = undefined;
      this.#scheduleNext();
    });
    this.#pass = pass;
    return pass;
  }

  /** Stops the task: cancels the wait, then resolves once the pass in flight has settled. */
  async stop(): Promise<void> {
    this.#started = false;
    this.#cancelWait();
    await this.#pass;
  }

  async #runOnce(): Promise<T | undefined> {
    // Run after `#pass` is set, so a pass that triggers its own task joins itself.
    await undefined;
    try {
      return await this.#options.run();
    } catch (error) {
      try {
        this.#options.onError(error);
      } catch {
        // A failing reporter must not stop the task.
      }
      return undefined;
    }
  }

  #scheduleNext(): void {
    if (!this.#started) return;
    const interval = this.#options.intervalMs;
    const ms = typeof interval === "function" ? interval() : interval;
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = undefined;
      void this.trigger();
    }, ms);
  }

  #cancelWait(): void {
    if (this.#timer === undefined) return;
    this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** Options of {@linkcode Poller}. */
export interface PollerOptions<T> {
  /** One poll. */
  readonly run: () => Promise<T>;
  /** Where a failed timed poll goes (default: ignored). */
  readonly onError?: (error: unknown) => void;
  /** Clock (default: the global timers). */
  readonly timers?: Timers;
}

/**
 * A poll that runs on a timer and on demand, never two at once: `poll()` joins the one running.
 * Started, its first timed poll comes one interval from now, each next one an interval after the
 * last one ended (the bots that read Discord and Telegram commands use it).
 *
 * @example
 * ```ts
 * const poller = new Poller({ run: () => Promise.resolve(1) });
 * poller.start(5_000);
 * await poller.poll(); // 1
 * await poller.stop();
 * ```
 */
export class Poller<T> {
  readonly #o: PollerOptions<T>;
  #task: Periodic<T | void> | undefined;
  #running: Promise<T> | undefined;

  /** A stopped poller. */
  constructor(options: PollerOptions<T>) {
    this.#o = options;
  }

  /** Polls every `intervalMs`; does nothing when already started. */
  start(intervalMs: number): void {
    if (this.#task?.started) return;
    let waited = false;
    this.#task = new Periodic<T | void>({
      // Periodic runs a pass at once; that one is skipped, so the first poll waits an interval.
      run: () => waited ? this.poll() : void (waited = true),
      intervalMs,
      timers: this.#o.timers,
      onError: (e) => this.#o.onError?.(e),
    });
    void this.#task.start();
  }

  /** Stops the timer and waits for a poll in progress (timed or called). */
  async stop(): Promise<void> {
    await this.#task?.stop();
    await this.#running?.catch(() => {});
  }

  /** Polls now, or joins the poll already running; rejects when it fails. */
  poll(): Promise<T> {
    this.#running ??= this.#o.run().finally(() => this.#running = undefined);
    return this.#running;
  }
}
