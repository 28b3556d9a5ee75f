/**
 * Back-pressure for shares: a miner that pipelines submits, or thousands of miners at once, must
 * not make the pool hold an unbounded number of shares waiting for a hash. {@linkcode ShareGate}
 * counts the shares in flight (submitted to the checker, not answered yet), pool-wide and per
 * connection; a connection over its own limit, or any connection while the pool is over its limit,
 * stops reading its socket until the count falls to half the limit. The kernel's socket buffers
 * and TCP flow control then hold the rest, not the pool's heap. Nothing is refused: every line is
 * read and answered, later.
 *
 * @example
 * ```ts
 * const gate = new ShareGate({ maxInFlight: 2, maxInFlightPerConnection: 2 });
 * const conn = gate.connection();
 * conn.take();
 * conn.take();
 * conn.mustWait; // true: its read loop awaits conn.drained() before reading again
 * conn.give();
 * ```
 *
 * @module
 */

/** Options of {@linkcode ShareGate}. */
export interface ShareGateOptions {
  /** Shares in flight pool-wide before every connection pauses reading (default 20,000). */
  readonly maxInFlight?: number;
  /** Shares in flight on one connection before it pauses reading (default 64). */
  readonly maxInFlightPerConnection?: number;
}

/** One connection's count, tied to its pool's gate. */
export class ConnectionShares {
  readonly #gate: ShareGate;
  #inFlight = 0;
  #waiters: (() => void)[] = [];

  /** Made by {@linkcode ShareGate.connection}. */
  constructor(gate: ShareGate) {
    this.#gate = gate;
  }

  /** Shares of this connection in flight. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** A share went to the checker. */
  take(): void {
    this.#inFlight++;
    this.#gate.taken();
  }

  /** Its answer is out. */
  give(): void {
    if (this.#inFlight === 0) return;
    this.#inFlight--;
    this.#gate.given();
    this.wake();
  }

  /** True when the read loop should stop reading until {@linkcode drained}. */
  get mustWait(): boolean {
    return this.#inFlight >= this.#gate.perConnection || this.#gate.full;
  }

  /** Settles once this connection and the pool are both at half their limits or below. */
  drained(): Promise<void> {
    if (!this.#overLow()) return Promise.resolve();
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
      this.#gate.park(this);
    });
  }

  /** Wakes the waiters when both counts are low enough (called by the gate too). */
  wake(): void {
    if (this.#waiters.length === 0 || this.#overLow()) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    this.#gate.unpark(this);
    for (const w of waiters) w();
  }

  /** Drops what it holds (the connection closed); a pending `drained` settles. */
  close(): void {
    while (this.#inFlight > 0) this.give();
    const waiters = this.#waiters;
    this.#waiters = [];
    this.#gate.unpark(this);
    for (const w of waiters) w();
  }

  #overLow(): boolean {
    return this.#inFlight > this.#gate.perConnection / 2 || this.#gate.overLow;
  }
}

/** The pool-wide count of shares in flight. */
export class ShareGate {
  /** Pool-wide limit. */
  readonly maxInFlight: number;
  /** Per-connection limit. */
  readonly perConnection: number;
  #inFlight = 0;
  /** Most shares in flight seen at once. */
  peak = 0;
  /** Times a connection paused reading. */
  pauses = 0;
  readonly #parked = new Set<ConnectionShares>();

  /** A gate with the given limits. */
  constructor(options: ShareGateOptions = {}) {
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 20_000);
    this.perConnection = Math.max(1, options.maxInFlightPerConnection ?? 64);
  }

  /** A counter for one new connection. */
  connection(): ConnectionShares {
    return new ConnectionShares(this);
  }

  /** Shares in flight pool-wide. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** True at or over the pool-wide limit. */
  get full(): boolean {
    return this.#inFlight >= this.maxInFlight;
  }

  /** True while above half the pool-wide limit. */
  get overLow(): boolean {
    return this.#inFlight > this.maxInFlight / 2;
  }

  /** @internal A connection's share went out. */
  taken(): void {
    if (++this.#inFlight > this.peak) this.peak = this.#inFlight;
  }

  /** @internal A connection's share was answered. */
  given(): void {
    const wasOver = this.overLow;
    this.#inFlight--;
    // Only the step down to half the limit can free connections that wait for the pool; one that
    // waits for its own count is woken by its own answers.
    if (wasOver && !this.overLow) { for (const c of this.#parked) c.wake(); }
  }

  /** @internal A connection waits. */
  park(c: ConnectionShares): void {
    if (!this.#parked.has(c)) this.pauses++;
    this.#parked.add(c);
  }

  /** @internal It waits no more. */
  unpark(c: ConnectionShares): void {
    this.#parked.delete(c);
  }
}
