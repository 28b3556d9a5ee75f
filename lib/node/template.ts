/**
 * Block templates as `getblocktemplate` returns them: the typed shape the pool uses, a strict
 * parser from untyped JSON, the sanity checks a template must pass, and change detection.
 *
 * @module
 */

import { bytesToHex, hexToBytes, isHex, reverseBytes } from "../bitcoin/mod.ts";
import { sha256d } from "../bitcoin/mod.ts";
import { bitsToTarget } from "../bitcoin/mod.ts";
import { txid } from "../bitcoin/mod.ts";

/** One non-coinbase transaction of a template. */
export interface TemplateTransaction {
  /** Serialized transaction (with witness), hex. */
  readonly data: string;
  /** Transaction id (witness stripped), RPC hex. */
  readonly txid: string;
  /** Witness transaction id, RPC hex (equals `txid` without witness). */
  readonly hash: string;
  /** Fee in satoshis. */
  readonly fee: number;
  /** BIP141 weight. */
  readonly weight: number;
}

/** The `getblocktemplate` result fields the pool uses. */
export interface BlockTemplate {
  /** Block version (before version rolling). */
  readonly version: number;
  /** Hash of the block to build on, RPC hex. */
  readonly previousblockhash: string;
  /** Transactions to include after the coinbase, in order. */
  readonly transactions: readonly TemplateTransaction[];
  /** Subsidy plus fees, satoshis. */
  readonly coinbasevalue: number;
  /** Network target, 64 hex chars (big-endian). */
  readonly target: string;
  /** Earliest allowed header time. */
  readonly mintime: number;
  /** The node's current time for the header. */
  readonly curtime: number;
  /** Compact target, 8 hex chars. */
  readonly bits: string;
  /** Height of the block to build. */
  readonly height: number;
  /** Witness commitment output script, hex (present when segwit is active). */
  readonly default_witness_commitment?: string;
  /** Id to send with the next longpoll call. */
  readonly longpollid?: string;
  /** Data the coinbase scriptSig should carry (`flags`). */
  readonly coinbaseaux?: Readonly<Record<string, string>>;
  /** Active rules (`!` marks rules the client must understand). */
  readonly rules?: readonly string[];
  /** Version bits of pending deployments. */
  readonly vbavailable?: Readonly<Record<string, number>>;
  /** Version bits the node requires. */
  readonly vbrequired?: number;
  /** What the miner may change (`time`, `transactions`, `prevblock`, `version/…`). */
  readonly mutable?: readonly string[];
}

/** Thrown when a template is malformed or fails a sanity check. */
export class TemplateError extends Error {
  /** Creates the error with a human reason. */
  constructor(reason: string) {
    super(`block template: ${reason}`);
    this.name = "TemplateError";
  }
}

/** How a template differs from the previous one. */
export type TemplateChange =
  /** New previous block, height or bits: miners must drop older work. */
  | "tip"
  /** Same tip, different transactions or coinbase value. */
  | "transactions"
  /** Nothing that matters for jobs. */
  | "none";

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function int(obj: Json, key: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = obj[key];
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new TemplateError(`${key} is not an integer in ${min}..${max}: ${JSON.stringify(v)}`);
  }
  return v;
}

function hex(obj: Json, key: string, bytes?: number): string {
  const v = obj[key];
  if (typeof v !== "string" || !isHex(v, bytes)) {
    const size = bytes === undefined ? "" : ` of ${bytes} bytes`;
    throw new TemplateError(`${key} is not hex${size}: ${JSON.stringify(v)?.slice(0, 80)}`);
  }
  return v.toLowerCase();
}

function strings(obj: Json, key: string): readonly string[] | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) {
    throw new TemplateError(`${key} is not a list of strings`);
  }
  return Object.freeze([...v]);
}

function record<T>(
  obj: Json,
  key: string,
  type: "string" | "number",
): Record<string, T> | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (!isObject(v) || !Object.values(v).every((x) => typeof x === type)) {
    throw new TemplateError(`${key} is not a map of ${type}s`);
  }
  return Object.freeze({ ...v }) as Record<string, T>;
}

function parseTransaction(v: unknown, index: number): TemplateTransaction {
  if (!isObject(v)) throw new TemplateError(`transaction ${index} is not an object`);
  try {
    const data = hex(v, "data");
    const id = hex(v, "txid", 32);
    return Object.freeze({
      data,
      txid: id,
      hash: v.hash === undefined ? id : hex(v, "hash", 32),
      fee: v.fee === undefined ? 0 : int(v, "fee"),
      weight: v.weight === undefined ? data.length * 2 : int(v, "weight"),
    });
  } catch (err) {
    throw new TemplateError(`transaction ${index}: ${(err as Error).message}`);
  }
}

/** Parses a `getblocktemplate` result, checking every field's type and range. */
export function parseTemplate(raw: unknown): BlockTemplate {
  if (!isObject(raw)) throw new TemplateError("result is not an object");
  if (!Array.isArray(raw.transactions)) throw new TemplateError("transactions is not a list");
  const template: BlockTemplate = {
    version: int(raw, "version", 0, 0xffffffff),
    previousblockhash: hex(raw, "previousblockhash", 32),
    transactions: Object.freeze(raw.transactions.map(parseTransaction)),
    coinbasevalue: int(raw, "coinbasevalue"),
    target: hex(raw, "target", 32),
    mintime: int(raw, "mintime", 1, 0xffffffff),
    curtime: int(raw, "curtime", 1, 0xffffffff),
    bits: hex(raw, "bits", 4),
    height: int(raw, "height"),
  };
  const optional: Record<string, unknown> = {
    default_witness_commitment: raw.default_witness_commitment === undefined
      ? undefined
      : hex(raw, "default_witness_commitment"),
    longpollid: typeof raw.longpollid === "string" ? raw.longpollid : undefined,
    coinbaseaux: record<string>(raw, "coinbaseaux", "string"),
    rules: strings(raw, "rules"),
    vbavailable: record<number>(raw, "vbavailable", "number"),
    vbrequired: raw.vbrequired === undefined ? undefined : int(raw, "vbrequired", 0, 0xffffffff),
    mutable: strings(raw, "mutable"),
  };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) (template as unknown as Json)[key] = value;
  }
  return Object.freeze(template);
}

/** True when the template's rules say segwit is active. */
export function segwitActive(template: BlockTemplate): boolean {
  return template.rules?.some((rule) => rule === "segwit" || rule === "!segwit") ?? false;
}

/**
 * Checks what can be checked without the chain: bits encode `target`, a witness commitment is
 * there when segwit is active, and every txid/hash matches its data. Transactions whose
 * `txid:hash` key is in `alreadyVerified` are skipped (they were checked in an earlier template).
 * Returns the keys of this template's transactions, for the next call.
 */
export function checkTemplate(
  template: BlockTemplate,
  alreadyVerified: ReadonlySet<string> = new Set(),
): Set<string> {
  let target: bigint;
  try {
    target = bitsToTarget(parseInt(template.bits, 16));
  } catch (err) {
    throw new TemplateError(`bits ${template.bits}: ${(err as Error).message}`);
  }
  if (target !== BigInt("0x" + template.target)) {
    throw new TemplateError(`bits ${template.bits} do not encode target ${template.target}`);
  }
  if (segwitActive(template) && !template.default_witness_commitment) {
    throw new TemplateError("segwit is active but default_witness_commitment is missing");
  }
  if (template.mintime > template.curtime + 7200) {
    throw new TemplateError(`mintime ${template.mintime} is far after curtime ${template.curtime}`);
  }
  const keys = new Set<string>();
  template.transactions.forEach((tx, i) => {
    const key = `${tx.txid}:${tx.hash}`;
    keys.add(key);
    if (alreadyVerified.has(key)) return;
    let data: Uint8Array;
    let id: string;
    try {
      data = hexToBytes(tx.data);
      id = bytesToHex(reverseBytes(txid(data)));
    } catch (err) {
      throw new TemplateError(`transaction ${i} does not parse: ${(err as Error).message}`);
    }
    if (id !== tx.txid) throw new TemplateError(`transaction ${i}: txid ${tx.txid} is not ${id}`);
    const hash = tx.hash === tx.txid && data[4] !== 0
      ? id
      : bytesToHex(reverseBytes(sha256d(data)));
    if (hash !== tx.hash) {
      throw new TemplateError(`transaction ${i}: hash ${tx.hash} is not ${hash}`);
    }
  });
  return keys;
}

/** How `next` differs from `previous` (a first template is a new tip). */
export function templateChange(
  previous: BlockTemplate | undefined,
  next: BlockTemplate,
): TemplateChange {
  if (
    !previous ||
    previous.previousblockhash !== next.previousblockhash ||
    previous.height !== next.height ||
    previous.bits !== next.bits
  ) {
    return "tip";
  }
  if (
    previous.coinbasevalue !== next.coinbasevalue ||
    previous.transactions.length !== next.transactions.length ||
    previous.default_witness_commitment !== next.default_witness_commitment ||
    previous.transactions.some((tx, i) => tx.hash !== next.transactions[i].hash)
  ) {
    return "transactions";
  }
  return "none";
}
