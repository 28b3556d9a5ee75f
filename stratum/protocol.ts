/**
 * Stratum v1 wire format: JSON-RPC request parsing, reply and notification encoding, error codes,
 * and the small parsers a submit needs (8-hex-digit words). Difficulty ⇄ target is
 * `lib/bitcoin/target.ts`.
 *
 * Every encoder returns one complete line, newline included, ready to write.
 *
 * @module
 */

import type { CoinbaseParts, Job } from "../lib/pool/mod.ts";

/** The Stratum and JSON-RPC error codes the server answers with. */
export interface StratumErrorCodes {
  /** Invalid request or share. */
  readonly INVALID: 20;
  /** Stale share. */
  readonly STALE: 21;
  /** Duplicate share. */
  readonly DUPLICATE: 22;
  /** Share below its difficulty. */
  readonly LOW_DIFFICULTY: 23;
  /** Not authorized or banned. */
  readonly UNAUTHORIZED: 24;
  /** Not subscribed. */
  readonly NOT_SUBSCRIBED: 25;
  /** JSON-RPC parse error. */
  readonly PARSE_ERROR: -32700;
  /** JSON-RPC invalid request. */
  readonly INVALID_REQUEST: -32600;
  /** JSON-RPC method not found. */
  readonly METHOD_NOT_FOUND: -32601;
}

/** Stratum and JSON-RPC error codes. */
export const StratumErrorCode: StratumErrorCodes = Object.freeze({
  /** Invalid request or share (bad params, extranonce2, ntime, nonce, version). */
  INVALID: 20,
  /** Stale: job unknown or built on an earlier tip. */
  STALE: 21,
  /** Duplicate share. */
  DUPLICATE: 22,
  /** Share below the difficulty it was sent with. */
  LOW_DIFFICULTY: 23,
  /** Not authorized, bad password, or banned. */
  UNAUTHORIZED: 24,
  /** `mining.subscribe` has not been done. */
  NOT_SUBSCRIBED: 25,
  /** JSON-RPC parse error. */
  PARSE_ERROR: -32700,
  /** JSON-RPC invalid request (valid JSON, but not a request object). */
  INVALID_REQUEST: -32600,
  /** JSON-RPC method not found. */
  METHOD_NOT_FOUND: -32601,
});

/** A JSON-RPC id as sent by the miner (a notification has `null`). */
export type RpcId = number | string | null;

/** A parsed request line. */
export interface StratumRequest {
  /** The id to echo; `null` for notifications. */
  readonly id: RpcId;
  /** Method name. */
  readonly method: string;
  /** Positional params (`[]` when absent); by-name params are passed as a one-element array. */
  readonly params: readonly unknown[];
}

/** Why a line is not a request: `parse` (not JSON) or `invalid` (JSON but not a request). */
export type RequestParseFailure = {
  readonly error: "parse" | "invalid";
  /** The id, when one could be recovered. */
  readonly id: RpcId;
};

/** Parses one JSON-RPC line. Replies (objects without `method`) come back as `method: ""`. */
export function parseRequest(line: string): StratumRequest | RequestParseFailure {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { error: "parse", id: sniffId(line) };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { error: "invalid", id: null };
  }
  const msg = value as Record<string, unknown>;
  const id = toRpcId(msg.id);
  const method = msg.method;
  if (method === undefined || method === null) return { id, method: "", params: [] };
  if (typeof method !== "string") return { error: "invalid", id };
  const params = msg.params;
  return {
    id,
    method,
    params: Array.isArray(params) ? params : params === undefined || params === null ? [] : [
      params,
    ],
  };
}

function toRpcId(id: unknown): RpcId {
  if (typeof id === "number" && Number.isFinite(id)) return id;
  if (typeof id === "string") return id.length <= 256 ? id : id.slice(0, 256);
  return null;
}

const ID_PATTERN = /"id"\s*:\s*(-?\d{1,15}|"(?:[^"\\]|\\.){0,256}"|null)/;

/** Recovers the `id` of a broken or truncated request, when it can be found. */
export function sniffId(text: string): RpcId {
  const m = ID_PATTERN.exec(text.length > 4096 ? text.slice(0, 4096) : text);
  if (m === null) return null;
  try {
    return toRpcId(JSON.parse(m[1]));
  } catch {
    return null;
  }
}

/** Encodes a reply carrying `result` (any JSON value). */
export function encodeResult(id: RpcId, result: unknown): string {
  return `{"id":${JSON.stringify(id)},"result":${JSON.stringify(result)},"error":null}\n`;
}

/** Encodes `true` as a reply: the most common answer, built without a JSON pass. */
export function encodeTrue(id: RpcId): string {
  return `{"id":${typeof id === "number" ? id : JSON.stringify(id)},"result":true,"error":null}\n`;
}

/** Encodes an error reply `[code, message, null]`. */
export function encodeError(id: RpcId, code: number, message: string): string {
  return `{"id":${JSON.stringify(id)},"result":null,"error":[${code},${
    JSON.stringify(message)
  },null]}\n`;
}

/** Encodes a pool → miner notification. */
export function encodeNotification(method: string, params: readonly unknown[]): string {
  return `{"id":null,"method":${JSON.stringify(method)},"params":${JSON.stringify(params)}}\n`;
}

/** Longest `client.show_message` text sent (longer texts are cut). */
export const SHOW_MESSAGE_MAX = 512;

/** Encodes `client.show_message` with `text` cut to {@link SHOW_MESSAGE_MAX} characters. */
export function encodeShowMessage(text: string): string {
  return encodeNotification("client.show_message", [text.slice(0, SHOW_MESSAGE_MAX)]);
}

/** Encodes `mining.set_difficulty`. */
export function encodeSetDifficulty(difficulty: number): string {
  return `{"id":null,"method":"mining.set_difficulty","params":[${difficulty}]}\n`;
}

/** A coinbase's `mining.notify` lines under the job's own id, text and UTF-8, built once. */
interface NotifyLines {
  /** `mining.notify` params after the job id and before clean_jobs. */
  readonly body: string;
  /** The whole line with clean_jobs false / true. */
  text: [string | undefined, string | undefined];
  bytes: [Uint8Array | undefined, Uint8Array | undefined];
}

/** Notify lines per coinbase (a coinbase belongs to one job, so it keys the job too). */
const notifyLines = new WeakMap<CoinbaseParts, NotifyLines>();
const utf8 = new TextEncoder();

function linesOf(job: Job, coinbase: CoinbaseParts): NotifyLines {
  let lines = notifyLines.get(coinbase);
  if (lines === undefined) {
    const body = JSON.stringify([
      job.prevhashStratum,
      coinbase.coinb1Hex,
      coinbase.coinb2Hex,
      job.merkleBranchHex,
      hex32(job.version),
      job.bitsHex,
      hex32(job.curtime),
    ]).slice(1, -1);
    lines = { body, text: [undefined, undefined], bytes: [undefined, undefined] };
    notifyLines.set(coinbase, lines);
  }
  return lines;
}

function notifyText(notifyId: string, body: string, clean: boolean): string {
  return `{"id":null,"method":"mining.notify","params":[${JSON.stringify(notifyId)},${body},${
    clean ? "true" : "false"
  }]}\n`;
}

/**
 * Encodes `mining.notify` for `job` with `coinbase` under `notifyId`. The params that do not
 * depend on the id are built once per coinbase, and the whole line once per coinbase and
 * clean_jobs value when `notifyId` is the job's own id (the usual case).
 */
export function encodeNotify(
  notifyId: string,
  job: Job,
  coinbase: CoinbaseParts,
  clean: boolean,
): string {
  const lines = linesOf(job, coinbase);
  if (notifyId !== job.id) return notifyText(notifyId, lines.body, clean);
  const i = clean ? 1 : 0;
  return lines.text[i] ??= notifyText(notifyId, lines.body, clean);
}

/**
 * `encodeNotify` as UTF-8 bytes. For the job's own id the bytes are encoded once per coinbase
 * and clean_jobs value and shared by every connection that gets them (miners paid to the same
 * script share a coinbase), so a new block costs one encode per distinct coinbase, not one per
 * connection. The result must not be modified.
 */
export function encodeNotifyBytes(
  notifyId: string,
  job: Job,
  coinbase: CoinbaseParts,
  clean: boolean,
): Uint8Array {
  if (notifyId !== job.id) return utf8.encode(encodeNotify(notifyId, job, coinbase, clean));
  const lines = linesOf(job, coinbase);
  const i = clean ? 1 : 0;
  return lines.bytes[i] ??= utf8.encode(encodeNotify(notifyId, job, coinbase, clean));
}

/** Formats a 32-bit unsigned number as 8 lowercase hex digits. */
export function hex32(value: number): string {
  return (value >>> 0).toString(16).padStart(8, "0");
}

/**
 * Parses exactly 8 hex digits (either case) as an unsigned 32-bit number; -1 when `text` is not
 * a string of 8 hex digits. Allocation free.
 */
export function parseHex32(text: unknown): number {
  if (typeof text !== "string" || text.length !== 8) return -1;
  let v = 0;
  for (let i = 0; i < 8; i++) {
    const c = text.charCodeAt(i);
    let n: number;
    if (c >= 48 && c <= 57) n = c - 48;
    else if (c >= 97 && c <= 102) n = c - 87;
    else if (c >= 65 && c <= 70) n = c - 55;
    else return -1;
    v = v * 16 + n;
  }
  return v;
}

/**
 * Parses 1 to 8 hex digits (either case) as an unsigned 32-bit number (version bits may be sent
 * without leading zeros); -1 when invalid.
 */
export function parseHexUpTo32(text: unknown): number {
  if (typeof text !== "string" || text.length === 0 || text.length > 8) return -1;
  return parseHex32(text.padStart(8, "0"));
}

/** Formats a difficulty for messages: integers above 1000, four significant digits below. */
export function formatDifficulty(difficulty: number): string {
  if (difficulty >= 1000) return String(Math.round(difficulty));
  return String(Number(difficulty.toPrecision(4)));
}
