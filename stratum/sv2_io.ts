/**
 * Socket plumbing shared by the Stratum V2 server connection and client: an exact-length reader
 * over a `Deno.Conn` with one reused buffer, and an ordered writer that coalesces what was queued
 * in one tick into one socket write.
 *
 * @module
 */

/** A reader that hands out exactly `n` bytes at a time from one reused, growing buffer. */
export class ExactReader {
  readonly #conn: Deno.Conn;
  #buf: Uint8Array;
  #start = 0;
  #end = 0;

  /** Reads from `conn`, starting with room for `initialCapacity` bytes. */
  constructor(conn: Deno.Conn, initialCapacity = 4096) {
    this.#conn = conn;
    this.#buf = new Uint8Array(initialCapacity);
  }

  /**
   * The next `n` bytes as a view into the buffer, valid until the next call; `null` at end of
   * stream (also when it ends inside the `n` bytes). A closed or reset socket also gives `null`.
   */
  async read(n: number): Promise<Uint8Array | null> {
    if (this.#end - this.#start < n) {
      if (this.#buf.length - this.#start < n) this.#makeRoom(n);
      while (this.#end - this.#start < n) {
        let got: number | null;
        try {
          got = await this.#conn.read(this.#buf.subarray(this.#end));
        } catch {
          return null;
        }
        if (got === null) return null;
        this.#end += got;
      }
    }
    const at = this.#start;
    this.#start += n;
    if (this.#start === this.#end) this.#start = this.#end = 0;
    return this.#buf.subarray(at, at + n);
  }

  #makeRoom(n: number): void {
    const held = this.#end - this.#start;
    const buf = n > this.#buf.length
      ? new Uint8Array(Math.max(n, this.#buf.length * 2))
      : this.#buf;
    if (buf === this.#buf) buf.copyWithin(0, this.#start, this.#end);
    else buf.set(this.#buf.subarray(this.#start, this.#end));
    this.#buf = buf;
    this.#start = 0;
    this.#end = held;
  }
}

/**
 * Writes byte chunks to a `Deno.Conn` in order. Chunks queued in the same tick go out as one
 * write; a failed write calls `onError` once and drops everything queued after it.
 */
export class OrderedWriter {
  readonly #conn: Deno.Conn;
  readonly #onError: (error: unknown) => void;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #flushing = false;
  #failed = false;
  #idle: Promise<void> = Promise.resolve();

  /** Writes to `conn`; `onError` hears the first write failure. */
  constructor(conn: Deno.Conn, onError: (error: unknown) => void) {
    this.#conn = conn;
    this.#onError = onError;
  }

  /** Bytes queued and not yet written. */
  get pending(): number {
    return this.#queued;
  }

  /** Resolves once everything queued so far was written (or a write failed). */
  drained(): Promise<void> {
    return this.#idle;
  }

  /** Queues `bytes` (not copied: the caller must not change them). */
  write(bytes: Uint8Array): void {
    if (this.#failed) return;
    this.#queue.push(bytes);
    this.#queued += bytes.length;
    if (!this.#flushing) {
      this.#flushing = true;
      this.#idle = this.#flush();
    }
  }

  async #flush(): Promise<void> {
    await Promise.resolve();
    try {
      while (this.#queue.length > 0) {
        const chunks = this.#queue;
        this.#queue = [];
        let bytes: Uint8Array;
        if (chunks.length === 1) {
          bytes = chunks[0];
        } else {
          bytes = new Uint8Array(this.#queued);
          let at = 0;
          for (const c of chunks) {
            bytes.set(c, at);
            at += c.length;
          }
        }
        this.#queued = 0;
        let off = 0;
        while (off < bytes.length) off += await this.#conn.write(bytes.subarray(off));
      }
    } catch (error) {
      this.#failed = true;
      this.#queue = [];
      this.#queued = 0;
      this.#onError(error);
    } finally {
      this.#flushing = false;
    }
  }
}
