/**
 * Types of `format.js`: number and chart formatting shared by the pages and the browser script.
 *
 * @module
 */

/** A number with an SI prefix and 3 significant digits: `1.23 T`; tiny values in e-notation. */
export function si(value: unknown, unit?: string): string;
/** Hashes per second: `1.23 TH/s`. */
export function hashrate(value: unknown): string;
/** A worker hashrate with its accuracy marker (`~` warming, `≈` settling). */
export function workerHashrate(worker: unknown): string;
/** A difficulty: `110 T`, `4.10 k`, `1.00e-6`. */
export function difficulty(value: unknown): string;
/** An integer with thousands separators (`880,000`). */
export function integer(value: unknown): string;
/** A decimal with `digits` fraction digits. */
export function decimal(value: unknown, digits?: number): string;
/** A percentage (`12.5 %`). */
export function percent(value: unknown): string;
/** Seconds as `12.3 ms` or `1.20 s`. */
export function seconds(value: unknown): string;
/** Bytes with binary prefixes (`1.5 GiB`). */
export function bytes(value: unknown): string;
/** Whole seconds as the two largest units (`2 h 5 m`). */
export function duration(totalSeconds: unknown): string;
/** Nanoseconds as a duration. */
export function nanos(value: unknown): string;
/** Milliseconds since the epoch from an RFC3339 string, or NaN. */
export function parseTime(value: unknown): number;
/** How long ago an RFC3339 time was (`5 m ago`). */
export function ago(value: unknown, now?: number): string;
/** An RFC3339 time as `YYYY-MM-DD HH:MM UTC`. */
export function utc(value: unknown): string;
/** Satoshis as BTC with 8 decimals. */
export function btc(sats: unknown): string;
/** A boolean as yes/no. */
export function yesno(value: unknown): string;
/** What each API block `result` is called on the pages. */
export const BLOCK_RESULT_LABELS: Readonly<{
  possible: "confirming";
  winning: "confirmed";
  stale: "orphaned";
}>;
/** A found block's standing (`confirming (2)`, `confirmed (8)`, `orphaned`). */
export function blockStatus(block: unknown): string;
/** Any value as plain text (`–` when empty). */
export function text(value: unknown): string;
/** Network hashrate from a difficulty, formatted. */
export function netHashrate(diff: unknown): string;
/** `block_time_left_sec` for people. */
export function countdown(sec: unknown): string;
/** Expected time to a block from a `/api/pool-hashrate` object. */
export function expectedBlock(view: unknown): string;
/** The BTC price of an overview object. */
export function price(view: unknown): string;
/** The length of a list. */
export function count(list: unknown): string;
/** Labels of the worker lookup's payout roles. */
export const PAYOUT_ROLE_LABELS: Readonly<Record<string, string>>;
/** The label of a payout output's role. */
export function payoutRole(role: unknown): string;
/** The name of a formatter. */
export type FormatterName =
  | "si"
  | "hashrate"
  | "workerHashrate"
  | "difficulty"
  | "integer"
  | "decimal"
  | "percent"
  | "seconds"
  | "bytes"
  | "duration"
  | "nanos"
  | "ago"
  | "utc"
  | "btc"
  | "yesno"
  | "blockStatus"
  | "payoutRole"
  | "text"
  | "netHashrate"
  | "countdown"
  | "expectedBlock"
  | "price"
  | "count";
/** Every formatter by name. */
export const FORMATTERS: Readonly<Record<FormatterName, (value: unknown) => string>>;
/** Formats `value` with the formatter called `name`. */
export function format(name: FormatterName, value: unknown): string;
/** The value at a dotted `path` of `data` (`.` is `data` itself). */
export function pick(data: unknown, path: string): unknown;
/** Network hashrate estimated from difficulty. */
export function networkHashrate(diff: unknown): number;
/** Expected seconds until the pool finds a block. */
export function expectedBlockSeconds(diff: unknown, poolHs: unknown): number;
/** True when a snapshot is overdue by more than one interval (at least 10 s). */
export function isStale(updatedAtMs: number, nextUpdateAtMs: number, nowMs?: number): boolean;
/** SVG paths of a hashrate chart. */
export interface ChartPaths {
  /** Stroke path (`M…L…`), empty with fewer than two points. */
  line: string;
  /** Closed fill path under the line. */
  area: string;
  /** Highest hashrate drawn. */
  max: number;
  /** Time of the first point (ms). */
  from: number;
  /** Time of the last point (ms). */
  to: number;
}
/** SVG paths for a hashrate chart of `points` in a `width` × `height` box. */
export function chartPaths(points: unknown, width: number, height: number): ChartPaths;
