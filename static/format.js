// @ts-self-types="./format.d.ts"
/**
 * Number and chart formatting shared by the server-rendered pages and the browser refresh script,
 * so a value looks the same before and after JavaScript updates it. Plain ES module, no deps.
 *
 * @module
 */

const SI = ["", "k", "M", "G", "T", "P", "E", "Z", "Y"];

function finite(value) {
  return typeof value === "number" && Number.isFinite(value);
}

/** A number with an SI prefix and 3 significant digits: `1.23 T`; tiny values in e-notation. */
export function si(value, unit = "") {
  if (!finite(value)) return "–";
  const sign = value < 0 ? "-" : "";
  let v = Math.abs(value);
  if (v !== 0 && v < 0.01) return sign + v.toExponential(2) + (unit ? " " + unit : "");
  let i = 0;
  while (v >= 999.5 && i < SI.length - 1) {
    v /= 1000;
    i++;
  }
  const digits = v >= 100 ? 0 : v >= 10 ? 1 : 2;
  const text = v.toFixed(digits);
  const suffix = SI[i] + unit;
  return sign + text + (suffix ? " " + suffix : "");
}

/** Hashes per second: `1.23 TH/s`. */
export function hashrate(value) {
  return si(value, "H/s");
}

/** A worker hashrate with its accuracy marker (`~` warming, `≈` settling). */
export function workerHashrate(worker) {
  if (!worker || typeof worker !== "object") return "–";
  const text = hashrate(worker.rolling_hashrate ?? worker.hashrate);
  return worker.hashrate_accuracy ? worker.hashrate_accuracy + " " + text : text;
}

/** A difficulty: `110 T`, `4.10 k`, `1.00e-6`. */
export function difficulty(value) {
  return si(value);
}

/** An integer with thousands separators (`880,000`). */
export function integer(value) {
  if (!finite(value)) return "–";
  return Math.round(value).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** A decimal with `digits` fraction digits. */
export function decimal(value, digits = 2) {
  if (!finite(value)) return "–";
  return value.toFixed(digits);
}

/** A percentage of one core or of a total (`12.5 %`). */
export function percent(value) {
  return finite(value) ? value.toFixed(1) + " %" : "–";
}

/** Seconds as milliseconds (`12.3 ms`) for RPC latencies. */
export function seconds(value) {
  if (!finite(value)) return "–";
  if (value < 1) return (value * 1000).toFixed(1) + " ms";
  return value.toFixed(2) + " s";
}

/** Bytes with binary prefixes (`1.5 GiB`). */
export function bytes(value) {
  if (!finite(value)) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = value;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return (i === 0 ? v.toFixed(0) : v.toFixed(1)) + " " + units[i];
}

/** Whole seconds as the two largest units (`2 h 5 m`, `45 s`); negative values get a `-`. */
export function duration(totalSeconds) {
  if (!finite(totalSeconds)) return "–";
  const sign = totalSeconds < 0 ? "-" : "";
  let rest = Math.abs(Math.round(totalSeconds));
  const units = [["y", 31_536_000], ["d", 86_400], ["h", 3_600], ["m", 60], ["s", 1]];
  const parts = [];
  for (const [name, size] of units) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0 || parts.length > 0) parts.push(integer(n) + " " + name);
    if (parts.length === 2) break;
  }
  if (parts.length === 2 && parts[1].startsWith("0 ")) parts.pop();
  return sign + (parts.length > 0 ? parts.join(" ") : "0 s");
}

/** Nanoseconds (Go `time.Duration` in the API) as a duration. */
export function nanos(value) {
  return finite(value) ? duration(value / 1e9) : "–";
}

/** Milliseconds since the epoch from an RFC3339 string, or NaN. */
export function parseTime(value) {
  return typeof value === "string" ? Date.parse(value) : NaN;
}

/** How long ago an RFC3339 time was, relative to `now` (ms): `5 m ago`. */
export function ago(value, now = Date.now()) {
  const at = parseTime(value);
  if (!finite(at)) return "–";
  const sec = Math.round((now - at) / 1000);
  if (sec < 5) return "just now";
  return duration(sec) + " ago";
}

/** An RFC3339 time as `YYYY-MM-DD HH:MM UTC`. */
export function utc(value) {
  const at = parseTime(value);
  if (!finite(at)) return "–";
  return new Date(at).toISOString().slice(0, 16).replace("T", " ") + " UTC";
}

/** Satoshis as BTC with 8 decimals. */
export function btc(sats) {
  return finite(sats) ? (sats / 1e8).toFixed(8) + " BTC" : "–";
}

/** A boolean as yes/no. */
export function yesno(value) {
  return value === true ? "yes" : value === false ? "no" : "–";
}

/** What each API block `result` is called on the pages (docs/json-api.md uses the same words). */
export const BLOCK_RESULT_LABELS = Object.freeze({
  possible: "confirming",
  winning: "confirmed",
  stale: "orphaned",
});

/**
 * A block's standing from its `result` ("possible" → confirming, "winning" → confirmed, "stale" →
 * orphaned), with its confirmations while it is on the main chain.
 */
export function blockStatus(block) {
  if (!block || typeof block !== "object") return "–";
  const conf = finite(block.confirmations) && block.confirmations >= 0
    ? block.confirmations
    : undefined;
  const label = Object.hasOwn(BLOCK_RESULT_LABELS, block.result)
    ? BLOCK_RESULT_LABELS[block.result]
    : undefined;
  if (label === "orphaned") return label;
  if (label !== undefined) return conf !== undefined ? label + " (" + conf + ")" : label;
  return conf !== undefined ? conf + " conf" : "submitted";
}

/** Any value as plain text. */
export function text(value) {
  if (value === undefined || value === null || value === "") return "–";
  return String(value);
}

/** Network hashrate from a difficulty, formatted. */
export function netHashrate(diff) {
  return hashrate(networkHashrate(diff));
}

/** `block_time_left_sec` for people: time left, `overdue 3 m`, or `–` when not started. */
export function countdown(sec) {
  if (!finite(sec) || sec === -1) return "–";
  return sec >= 0 ? duration(sec) : "overdue " + duration(-sec);
}

/** Expected time to a block from a `/api/pool-hashrate` object (`~ 3 y`). */
export function expectedBlock(view) {
  if (!view || typeof view !== "object") return "–";
  const sec = expectedBlockSeconds(view.block_difficulty, view.pool_hashrate);
  return finite(sec) ? "~ " + duration(sec) : "–";
}

/** The BTC price of an overview object (`97,123 USD`). */
export function price(view) {
  if (!view || typeof view !== "object" || !finite(view.btc_price_fiat)) return "–";
  return integer(view.btc_price_fiat) + " " + String(view.fiat_currency ?? "").toUpperCase();
}

/** The length of a list (`0` when absent). */
export function count(list) {
  return Array.isArray(list) ? String(list.length) : "0";
}

/** What a coinbase output is for, from the worker lookup's `role`. */
export const PAYOUT_ROLE_LABELS = Object.freeze({
  miner: "you",
  "witness-commitment": "witness commitment (0 sat)",
  other: "pool fee or donation",
});

/** The label of a payout output's role. */
export function payoutRole(role) {
  return Object.hasOwn(PAYOUT_ROLE_LABELS, role) ? PAYOUT_ROLE_LABELS[role] : "–";
}

/** Every formatter by name: what `data-f` attributes refer to. */
export const FORMATTERS = {
  si,
  hashrate,
  workerHashrate,
  difficulty,
  integer,
  decimal,
  percent,
  seconds,
  bytes,
  duration,
  nanos,
  ago,
  utc,
  btc,
  yesno,
  blockStatus,
  payoutRole,
  text,
  netHashrate,
  countdown,
  expectedBlock,
  price,
  count,
};

/** Formats `value` with the formatter called `name` (plain text when unknown). */
export function format(name, value) {
  const fn = FORMATTERS[name] ?? text;
  return fn(value);
}

/** The value at a dotted `path` of `data` (`.` is `data` itself); undefined when absent. */
export function pick(data, path) {
  if (path === "." || path === "") return data;
  let value = data;
  for (const key of path.split(".")) {
    if (value === null || typeof value !== "object") return undefined;
    value = value[key];
  }
  return value;
}

/** Network hashrate estimated from difficulty (difficulty × 2^32 / 600 s). */
export function networkHashrate(diff) {
  return finite(diff) ? (diff * 4294967296) / 600 : NaN;
}

/** Expected seconds until the pool finds a block at `poolHs` against difficulty `diff`. */
export function expectedBlockSeconds(diff, poolHs) {
  if (!finite(diff) || !finite(poolHs) || poolHs <= 0) return NaN;
  return (diff * 4294967296) / poolHs;
}

/**
 * True when a snapshot is overdue: `now` is past its next update by more than one interval (at
 * least 10 s), so a page built from it should say its numbers are old.
 */
export function isStale(updatedAtMs, nextUpdateAtMs, nowMs = Date.now()) {
  if (!finite(updatedAtMs) || !finite(nextUpdateAtMs)) return false;
  const grace = Math.max(10_000, nextUpdateAtMs - updatedAtMs);
  return nowMs > nextUpdateAtMs + grace;
}

/**
 * SVG paths for a hashrate chart of `points` (`{at, hashrate}`, oldest first) in a `width` ×
 * `height` box: `line` (stroke) and `area` (fill), both empty with fewer than two points.
 */
export function chartPaths(points, width, height) {
  const pts = [];
  for (const p of Array.isArray(points) ? points : []) {
    const t = parseTime(p && p.at);
    const v = p && p.hashrate;
    if (finite(t) && finite(v)) pts.push([t, Math.max(0, v)]);
  }
  if (pts.length < 2) return { line: "", area: "", max: 0, from: NaN, to: NaN };
  const from = pts[0][0];
  const to = pts[pts.length - 1][0];
  let max = 0;
  for (const [, v] of pts) max = Math.max(max, v);
  const span = Math.max(1, to - from);
  const top = max > 0 ? max * 1.1 : 1;
  const xy = pts.map(([t, v]) => {
    const x = ((t - from) / span) * width;
    const y = height - (v / top) * height;
    return x.toFixed(1) + "," + y.toFixed(1);
  });
  const line = "M" + xy.join("L");
  const area = line + "L" + width + "," + height + "L0," + height + "Z";
  return { line, area, max, from, to };
}
