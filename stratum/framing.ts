/**
 * Newline framing of a byte stream into text lines, with a hard cap on line length.
 *
 * Linear in the input: each chunk is scanned once for `\n`; complete lines inside a chunk are
 * decoded straight from it, and only the unfinished tail is copied into one buffer owned by the
 * framer (grown geometrically up to the cap, then reused), so there is no string concatenation.
 *
 * @module
 */

/** Default cap on one line, in bytes (newline excluded). */
export const DEFAULT_MAX_LINE_BYTES = 16 * 1024;

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const INITIAL_PENDING_BYTES = 512;

/** Result of feeding a chunk: `ok`, or `oversize` when a line passed the cap (stop reading). */
export type FrameResult = "ok" | "oversize";

/**
 * One decoder for every connection: lines are decoded whole (never in streaming mode), so it
 * holds no state between calls and a per-connection instance would only cost memory.
 */
const LINE_DECODER = new TextDecoder("utf-8", { fatal: false });

/** Splits a byte stream into lines; one per connection. */
export class LineFramer {
  /** Cap on one line in bytes. */
  readonly maxLineBytes: number;
  #pending: Uint8Array | undefined;
  #pendingLength = 0;
  #oversizeHead = "";

  /** A framer that refuses lines longer than `maxLineBytes`. */
  constructor(maxLineBytes = DEFAULT_MAX_LINE_BYTES) {
    this.maxLineBytes = maxLineBytes;
  }

  /**
   * The first bytes (decoded) of the line that went over the cap, so the caller can sniff its
   * id for the error reply. Empty until `push` has returned `oversize`.
   */
  get oversizeHead(): string {
    return this.#oversizeHead;
  }

  /** Bytes of the unfinished line held between chunks. */
  get pendingBytes(): number {
    return this.#pendingLength;
  }

  /**
   * Feeds one chunk; calls `onLine` for each complete, non-blank line (trailing `\r` removed).
   * `onLine` returns false to stop early (e.g. after it closed the connection). Returns
   * `oversize` as soon as a line exceeds the cap; the framer must not be fed again after that.
   */
  push(chunk: Uint8Array, onLine: (line: string) => boolean | void): FrameResult {
    let start = 0;
    const end = chunk.length;
    while (start < end) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl < 0) {
        return this.#keep(chunk.subarray(start, end));
      }
      let line: string;
      if (this.#pendingLength > 0) {
        if (this.#keep(chunk.subarray(start, nl)) === "oversize") return "oversize";
        line = this.#decodeLine(this.#pending!.subarray(0, this.#pendingLength));
        this.#pendingLength = 0;
      } else {
        if (nl - start > this.maxLineBytes) {
          this.#oversizeHead = LINE_DECODER.decode(chunk.subarray(start, start + 4096));
          return "oversize";
        }
        line = this.#decodeLine(chunk.subarray(start, nl));
      }
      start = nl + 1;
      if (line.length > 0 && onLine(line) === false) return "ok";
    }
    return "ok";
  }

  #decodeLine(bytes: Uint8Array): string {
    let n = bytes.length;
    if (n > 0 && bytes[n - 1] === CARRIAGE_RETURN) n--;
    // Blank lines (keep-alives from some miners) are skipped without decoding.
    let blank = true;
    for (let i = 0; i < n; i++) {
      const b = bytes[i];
      if (b !== 0x20 && b !== 0x09 && b !== CARRIAGE_RETURN) {
        blank = false;
        break;
      }
    }
    return blank ? "" : LINE_DECODER.decode(bytes.subarray(0, n));
  }

  #keep(bytes: Uint8Array): FrameResult {
    const total = this.#pendingLength + bytes.length;
    if (total > this.maxLineBytes) {
      const held = Math.min(this.#pendingLength, 4096);
      this.#oversizeHead = (held > 0 ? LINE_DECODER.decode(this.#pending!.subarray(0, held)) : "") +
        LINE_DECODER.decode(bytes.subarray(0, 4096 - held));
      this.#pendingLength = 0;
      return "oversize";
    }
    if (bytes.length === 0) return "ok";
    if (this.#pending === undefined || this.#pending.length < total) {
      // Grow geometrically from a small start: most connections never hold more than a few
      // hundred bytes, and a whole cap per connection would waste memory at scale.
      let size = this.#pending?.length ?? INITIAL_PENDING_BYTES;
      while (size < total) size *= 2;
      const grown = new Uint8Array(Math.min(size, this.maxLineBytes));
      if (this.#pending !== undefined) grown.set(this.#pending.subarray(0, this.#pendingLength));
      this.#pending = grown;
    }
    this.#pending.set(bytes, this.#pendingLength);
    this.#pendingLength = total;
    return "ok";
  }
}
