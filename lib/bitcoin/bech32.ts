/**
 * Bech32 (BIP173) and Bech32m (BIP350) strings, and segwit addresses built on them.
 *
 * @module
 */

/** The 32-character data alphabet. */
const CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/** 5-bit value per lowercase char code (0-127), or -1. */
const CHAR_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < CHARSET.length; i++) CHAR_VALUE[CHARSET.charCodeAt(i)] = i;

/** Which checksum constant a string uses. */
export type Bech32Encoding = "bech32" | "bech32m";

const CHECKSUM_CONST: Readonly<Record<Bech32Encoding, number>> = {
  bech32: 1,
  bech32m: 0x2bc830a3,
};

/** Longest string BIP173 allows. */
export const BECH32_MAX_LENGTH = 90;

/** A Bech32/Bech32m string or segwit address that cannot be decoded; `message` says why. */
export class Bech32Error extends Error {
  /** Creates the error with a human reason. */
  constructor(message: string) {
    super(message);
    this.name = "Bech32Error";
  }
}

/** A decoded Bech32/Bech32m string. */
export interface Bech32Decoded {
  /** Human-readable part, lowercase. */
  readonly hrp: string;
  /** Data part as 5-bit values, without the 6 checksum values. */
  readonly words: Uint8Array;
  /** Which checksum constant matched. */
  readonly encoding: Bech32Encoding;
}

function polymodStep(chk: number): number {
  const top = chk >>> 25;
  chk = (chk & 0x1ffffff) << 5;
  if (top & 1) chk ^= 0x3b6a57b2;
  if (top & 2) chk ^= 0x26508e6d;
  if (top & 4) chk ^= 0x1ea119fa;
  if (top & 8) chk ^= 0x3d4233dd;
  if (top & 16) chk ^= 0x2a1462b3;
  return chk;
}

/** Checksum state after the expanded HRP (high bits, 0, low bits). */
function hrpPolymod(hrp: string): number {
  let chk = 1;
  for (let i = 0; i < hrp.length; i++) chk = polymodStep(chk) ^ (hrp.charCodeAt(i) >>> 5);
  chk = polymodStep(chk);
  for (let i = 0; i < hrp.length; i++) chk = polymodStep(chk) ^ (hrp.charCodeAt(i) & 31);
  return chk;
}

/** Encodes `hrp` and 5-bit `words` with a checksum of the given kind. */
export function bech32Encode(
  hrp: string,
  words: ArrayLike<number>,
  encoding: Bech32Encoding,
): string {
  const lower = hrp.toLowerCase();
  let chk = hrpPolymod(lower);
  let out = lower + "1";
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (w >>> 5 !== 0) throw new Bech32Error(`data value ${w} does not fit in 5 bits`);
    chk = polymodStep(chk) ^ w;
    out += CHARSET[w];
  }
  for (let i = 0; i < 6; i++) chk = polymodStep(chk);
  chk = (chk ^ CHECKSUM_CONST[encoding]) >>> 0;
  for (let i = 0; i < 6; i++) out += CHARSET[(chk >>> (5 * (5 - i))) & 31];
  return out;
}

/**
 * Decodes a Bech32 or Bech32m string (either all lower or all upper case), telling which checksum
 * it carries. Throws `Bech32Error` with the reason on any defect.
 */
export function bech32Decode(text: string, maxLength = BECH32_MAX_LENGTH): Bech32Decoded {
  if (text.length > maxLength) {
    throw new Bech32Error(`too long: ${text.length} characters, the limit is ${maxLength}`);
  }
  let hasLower = false;
  let hasUpper = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 33 || c > 126) {
      throw new Bech32Error(`character code ${c} at position ${i + 1} is not printable ASCII`);
    }
    if (c >= 97 && c <= 122) hasLower = true;
    else if (c >= 65 && c <= 90) hasUpper = true;
  }
  if (hasLower && hasUpper) throw new Bech32Error("mixes upper and lower case");
  const lower = text.toLowerCase();
  const sep = lower.lastIndexOf("1");
  if (sep < 0) throw new Bech32Error("has no '1' separator");
  if (sep === 0) throw new Bech32Error("has an empty human-readable part");
  const dataLen = lower.length - sep - 1;
  if (dataLen < 6) throw new Bech32Error("data part is shorter than the 6-character checksum");
  const hrp = lower.slice(0, sep);
  let chk = hrpPolymod(hrp);
  const all = new Uint8Array(dataLen);
  for (let i = 0; i < dataLen; i++) {
    const pos = sep + 1 + i;
    const code = lower.charCodeAt(pos);
    const v = code < 128 ? CHAR_VALUE[code] : -1;
    if (v < 0) {
      throw new Bech32Error(
        `character ${JSON.stringify(text[pos])} at position ${
          pos + 1
        } is not in the bech32 alphabet`,
      );
    }
    all[i] = v;
    chk = polymodStep(chk) ^ v;
  }
  chk >>>= 0;
  let encoding: Bech32Encoding;
  if (chk === CHECKSUM_CONST.bech32) encoding = "bech32";
  else if (chk === CHECKSUM_CONST.bech32m) encoding = "bech32m";
  else throw new Bech32Error("bad checksum (a mistyped or truncated address?)");
  return { hrp, words: all.slice(0, dataLen - 6), encoding };
}

/**
 * Regroups bits: `from`-bit values to `to`-bit values. With `pad`, a last partial group is padded
 * with zeros; without, leftover bits must be fewer than `from` and all zero (else it throws).
 */
export function convertBits(
  data: ArrayLike<number>,
  from: number,
  to: number,
  pad: boolean,
): Uint8Array {
  let acc = 0;
  let bits = 0;
  const maxv = (1 << to) - 1;
  const out: number[] = [];
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < 0 || v >>> from !== 0) throw new Bech32Error(`value ${v} does not fit in ${from} bits`);
    acc = ((acc << from) | v) & 0xffffff;
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push((acc >>> bits) & maxv);
    }
  }
  if (pad) {
    if (bits > 0) out.push((acc << (to - bits)) & maxv);
  } else if (bits >= from) {
    throw new Bech32Error(`more than ${from - 1} bits of padding`);
  } else if (((acc << (to - bits)) & maxv) !== 0) {
    throw new Bech32Error("non-zero padding bits");
  }
  return Uint8Array.from(out);
}

/** A decoded segwit address. */
export interface SegwitAddress {
  /** Human-readable part, lowercase (`bc`, `tb`, `bcrt`, …). */
  readonly hrp: string;
  /** Witness version 0..16. */
  readonly version: number;
  /** Witness program, 2..40 bytes (20 or 32 for version 0). */
  readonly program: Uint8Array;
}

/**
 * Decodes a segwit address per BIP173/BIP350: v0 needs bech32 and a 20- or 32-byte program, v1+
 * needs bech32m; programs are 2..40 bytes. Throws `Bech32Error` with the reason.
 */
export function decodeSegwitAddress(address: string): SegwitAddress {
  const { hrp, words, encoding } = bech32Decode(address);
  if (words.length === 0) throw new Bech32Error("has no witness version (empty data part)");
  const version = words[0];
  if (version > 16) throw new Bech32Error(`witness version ${version} is above 16`);
  const program = convertBits(words.subarray(1), 5, 8, false);
  if (program.length < 2 || program.length > 40) {
    throw new Bech32Error(`witness program is ${program.length} bytes; it must be 2 to 40`);
  }
  if (version === 0 && program.length !== 20 && program.length !== 32) {
    throw new Bech32Error(
      `witness v0 program is ${program.length} bytes; it must be 20 (P2WPKH) or 32 (P2WSH)`,
    );
  }
  if (version === 0 && encoding !== "bech32") {
    throw new Bech32Error("witness v0 address uses a bech32m checksum; v0 requires bech32");
  }
  if (version !== 0 && encoding !== "bech32m") {
    throw new Bech32Error(
      `witness v${version} address uses a bech32 checksum; v1+ requires bech32m (BIP350)`,
    );
  }
  return { hrp, version, program };
}

/** Encodes a segwit address (bech32 for v0, bech32m for v1+), lowercase. */
export function encodeSegwitAddress(hrp: string, version: number, program: Uint8Array): string {
  if (!Number.isInteger(version) || version < 0 || version > 16) {
    throw new Bech32Error(`witness version ${version} is not in 0..16`);
  }
  const words = [version, ...convertBits(program, 8, 5, true)];
  return bech32Encode(hrp, words, version === 0 ? "bech32" : "bech32m");
}
