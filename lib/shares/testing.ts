/**
 * Test support for the share checker: a deliberately plain reference computation (node:crypto,
 * concatenation, bigint compares) and real mainnet blocks rebuilt from their coinbase parts.
 * Used by `tests/shares_*_test.ts` and `bench/hash.ts`; nothing in the pool imports it.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { concatBytes } from "../bitcoin/mod.ts";
import type { CoinbaseParts, Job, ShareInput, ShareVerdict } from "../pool/mod.ts";

/** Hex → bytes (test input only). */
export function hex(s: string): Uint8Array {
  return Uint8Array.from(s.match(/../g) ?? [], (x) => parseInt(x, 16));
}

/** Bytes → lowercase hex. */
export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** A reversed copy. */
export function rev(b: Uint8Array): Uint8Array {
  return Uint8Array.from(b).reverse();
}

/** sha256d via node:crypto (an implementation independent of the project's). */
export function refSha256d(data: Uint8Array): Uint8Array {
  const once = createHash("sha256").update(data).digest();
  return new Uint8Array(createHash("sha256").update(once).digest());
}

/** Little-endian bytes → bigint. */
export function leToBigInt(b: Uint8Array): bigint {
  return BigInt("0x" + (toHex(rev(b)) || "0"));
}

/** The 80-byte header of a share, the straightforward way. */
export function refHeader(job: Job, coinbase: CoinbaseParts, share: ShareInput): Uint8Array {
  let node = refSha256d(
    concatBytes(coinbase.coinb1, share.extranonce1, share.extranonce2, coinbase.coinb2),
  );
  for (const step of job.merkleBranch) node = refSha256d(concatBytes(node, step));
  const header = new Uint8Array(80);
  const view = new DataView(header.buffer);
  view.setUint32(0, share.version >>> 0, true);
  header.set(job.prevhash, 4);
  header.set(node, 36);
  view.setUint32(68, share.ntime >>> 0, true);
  view.setUint32(72, job.bits >>> 0, true);
  view.setUint32(76, share.nonce >>> 0, true);
  return header;
}

/** The verdict on a share, the straightforward way (difficulty from bigints). */
export function refVerdict(job: Job, coinbase: CoinbaseParts, share: ShareInput): ShareVerdict {
  const hash = refSha256d(refHeader(job, coinbase, share));
  const value = leToBigInt(hash);
  return {
    hash,
    difficulty: value === 0n ? Infinity : Number(0xffffn << 208n) / Number(value),
    meetsShareTarget: value <= share.shareTarget,
    meetsNetworkTarget: value <= job.networkTarget,
  };
}

/** Bits → target (test-local, from the definition). */
export function bitsToTarget(bits: number): bigint {
  return BigInt(bits & 0xffffff) << (8n * BigInt((bits >>> 24) - 3));
}

/** A real block: its job and coinbase parts as a pool would have issued them, and the share. */
export interface RealBlock {
  /** Block hash, RPC (reversed) hex. */
  readonly hashHex: string;
  /** The job. */
  readonly job: Job;
  /** The coinbase parts. */
  readonly coinbase: CoinbaseParts;
  /** The share that is the block. */
  readonly share: ShareInput;
}

/** Cuts a coinbase transaction into parts around extranonces at `at` (en1, en2 lengths). */
function realBlock(
  hashHex: string,
  seq: number,
  coinbaseTx: Uint8Array,
  at: number,
  en1Len: number,
  en2Len: number,
  branch: Uint8Array[],
  header: { version: number; prevhashHex: string; ntime: number; bits: number; nonce: number },
): RealBlock {
  const coinb1 = coinbaseTx.slice(0, at);
  const extranonce1 = coinbaseTx.slice(at, at + en1Len);
  const extranonce2 = coinbaseTx.slice(at + en1Len, at + en1Len + en2Len);
  const coinb2 = coinbaseTx.slice(at + en1Len + en2Len);
  const coinbase: CoinbaseParts = {
    key: seq,
    coinb1,
    coinb2,
    coinb1Hex: toHex(coinb1),
    coinb2Hex: toHex(coinb2),
    outputs: [],
  };
  const prevhash = rev(hex(header.prevhashHex));
  const job: Job = {
    seq,
    id: seq.toString(16),
    height: 0,
    prevhash,
    prevhashStratum: "",
    version: header.version,
    bits: header.bits,
    bitsHex: header.bits.toString(16).padStart(8, "0"),
    curtime: header.ntime,
    mintime: header.ntime,
    networkTarget: bitsToTarget(header.bits),
    merkleBranch: branch,
    merkleBranchHex: branch.map(toHex),
    clean: true,
    createdAt: 0,
    coinbaseValue: 5_000_000_000n,
    txCount: branch.length === 0 ? 0 : 3,
    versionMask: 0,
    coinbaseFor: () => coinbase,
  };
  const share: ShareInput = {
    extranonce1,
    extranonce2,
    ntime: header.ntime,
    nonce: header.nonce,
    version: header.version,
    shareTarget: 0xffffn << 208n,
  };
  return { hashHex, job, coinbase, share };
}

/** The mainnet genesis block: one transaction, so an empty merkle branch. */
export function genesisBlock(seq: number): RealBlock {
  const coinbaseTx = hex(
    "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d04ffff" +
      "001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e20627269" +
      "6e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73ffffffff0100f2052a0100000043" +
      "4104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f355" +
      "04e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac00000000",
  );
  // Extranonces cut out of the scriptSig (after its length byte): 4 + 8 bytes.
  return realBlock(
    "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
    seq,
    coinbaseTx,
    42,
    4,
    8,
    [],
    {
      version: 1,
      prevhashHex: "00".repeat(32),
      ntime: 1231006505,
      bits: 0x1d00ffff,
      nonce: 2083236893,
    },
  );
}

/**
 * Mainnet block 100,000: four transactions, so a two-step branch (the second txid, then the
 * hash of the third and fourth).
 */
export function block100000(seq: number): RealBlock {
  const coinbaseTx = hex(
    "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff08044c86" +
      "041b020602ffffffff0100f2052a010000004341041b0e8c2567c12536aa13357b79a073dc4444acb83c4ec7" +
      "a0e2f99dd7457516c5817242da796924ca4e99947d087fedf9ce467cb9f7c6287078f801df276fdf84ac0000" +
      "0000",
  );
  const txid = (h: string) => rev(hex(h));
  const branch = [
    txid("fff2525b8931402dd09222c50775608f75787bd2b87e56995a7bdd30f79702c4"),
    refSha256d(concatBytes(
      txid("6359f0868171b1d194cbee1af2f16ea598ae8fad666d9b012c8ed2b79a236ec4"),
      txid("e9a66845e05d5abc0ad04ec80f774a7e585c6e8db975962d069a522137b80c1d"),
    )),
  ];
  // scriptSig 044c86041b 020602: extranonce1 = 4c86041b, extranonce2 = 0206.
  return realBlock(
    "000000000003ba27aa200b1cecaad478d2b00432346c3f1f3986da1afd33e506",
    seq,
    coinbaseTx,
    43,
    4,
    2,
    branch,
    {
      version: 1,
      prevhashHex: "000000000002d01c1fccc21636b607dfd930d31d01c3a62104612a1719011250",
      ntime: 1293623863,
      bits: 0x1b04864c,
      nonce: 274148111,
    },
  );
}
