import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { bytesToHex, hexToBytes } from "../lib/bitcoin/hex.ts";
import {
  headerMidstate,
  Sha256,
  sha256,
  sha256d,
  sha256d64Into,
  sha256dHeaderFromMidstateInto,
  sha256dInto,
} from "../lib/bitcoin/sha256.ts";
import { sha256dAsync } from "../lib/bitcoin/webcrypto.ts";
import { seededBytes } from "./helpers/random.ts";

interface Sha256Vectors {
  vectors: { ascii: string; sha256: string }[];
  millionA: string;
}
interface HeaderVectors {
  headers: { name: string; hex?: string; hash: string }[];
}
const vectors: Sha256Vectors = JSON.parse(
  await Deno.readTextFile(new URL("./vectors/bitcoin/sha256.json", import.meta.url)),
);
const headerVectors: HeaderVectors = JSON.parse(
  await Deno.readTextFile(new URL("./vectors/bitcoin/headers.json", import.meta.url)),
);
const ascii = (s: string) => new TextEncoder().encode(s);
const nodeSha256d = (b: Uint8Array) =>
  createHash("sha256").update(createHash("sha256").update(b).digest()).digest("hex");

const genesisHeader = hexToBytes(headerVectors.headers[0].hex!);
const genesisHash = headerVectors.headers[0].hash;

Deno.test("sha256 matches the NIST example digests", () => {
  for (const v of vectors.vectors) assert.equal(bytesToHex(sha256(ascii(v.ascii))), v.sha256);
  assert.equal(bytesToHex(sha256(new Uint8Array(1_000_000).fill(0x61))), vectors.millionA);
});

Deno.test("sha256 and sha256d agree with node:crypto for every length 0..300", () => {
  const data = seededBytes(7, 300);
  for (let len = 0; len <= 300; len++) {
    const msg = data.subarray(0, len);
    assert.equal(bytesToHex(sha256(msg)), createHash("sha256").update(msg).digest("hex"));
    assert.equal(bytesToHex(sha256d(msg)), nodeSha256d(msg), `length ${len}`);
  }
});

Deno.test("sha256d of the genesis header is the genesis block hash", () => {
  assert.equal(bytesToHex(sha256d(genesisHeader).reverse()), genesisHash);
});

Deno.test("sha256dInto writes at an offset and touches nothing else", () => {
  const out = new Uint8Array(40).fill(0xee);
  const returned = sha256dInto(genesisHeader, out, 4);
  assert.equal(returned, out);
  assert.deepEqual([...out.subarray(0, 4)], [0xee, 0xee, 0xee, 0xee]);
  assert.deepEqual([...out.subarray(36)], [0xee, 0xee, 0xee, 0xee]);
  assert.deepEqual(out.subarray(4, 36), sha256d(genesisHeader));
});

Deno.test("Sha256 hashes the same whatever the chunking", () => {
  const data = seededBytes(99, 1000);
  const expected = bytesToHex(sha256(data));
  for (const chunk of [1, 3, 55, 56, 63, 64, 65, 127, 128, 999, 1000]) {
    const h = new Sha256();
    for (let off = 0; off < data.length; off += chunk) h.update(data.subarray(off, off + chunk));
    assert.equal(h.length, 1000);
    assert.equal(bytesToHex(h.digest()), expected, `chunk ${chunk}`);
  }
});

Deno.test("a cloned midstate continues like hashing the whole message", () => {
  const prefix = seededBytes(1, 150); // not a block multiple: the clone carries buffered bytes
  const base = new Sha256().update(prefix);
  for (const suffixLen of [0, 1, 41, 64, 200]) {
    const suffix = seededBytes(suffixLen + 2, suffixLen);
    const whole = new Uint8Array(150 + suffixLen);
    whole.set(prefix);
    whole.set(suffix, 150);
    assert.deepEqual(base.clone().update(suffix).digest(), sha256(whole));
    const out = new Uint8Array(32);
    assert.deepEqual(base.clone().update(suffix).digestDoubleInto(out), sha256d(whole));
  }
  // copyFrom reuses one hasher for many messages without allocating a new one.
  const scratch = new Sha256();
  const a = scratch.copyFrom(base).update(ascii("x")).digest();
  const b = scratch.copyFrom(base).update(ascii("x")).digest();
  assert.deepEqual(a, b);
  assert.deepEqual(scratch.reset().update(ascii("abc")).digest(), sha256(ascii("abc")));
});

Deno.test("sha256d64Into hashes a 64-byte merkle node, also in place", () => {
  const left = seededBytes(11, 32);
  const right = seededBytes(12, 32);
  const joined = new Uint8Array(64);
  joined.set(left);
  joined.set(right, 32);
  const expected = sha256d(joined);
  assert.deepEqual(sha256d64Into(left, right, new Uint8Array(32)), expected);
  const inPlace = left.slice();
  sha256d64Into(inPlace, right, inPlace);
  assert.deepEqual(inPlace, expected);
  const out = new Uint8Array(33);
  sha256d64Into(left, right, out, 1);
  assert.deepEqual(out.subarray(1), expected);
});

Deno.test("a header midstate gives the real header hash for each nonce", () => {
  const mid = headerMidstate(genesisHeader);
  const out = new Uint8Array(32);
  sha256dHeaderFromMidstateInto(mid, genesisHeader, out);
  assert.equal(bytesToHex(out.reverse()), genesisHash);
  const other = genesisHeader.slice();
  other[76] ^= 1; // a different nonce: only the tail changes, the midstate still applies
  sha256dHeaderFromMidstateInto(mid, other, out);
  assert.deepEqual(out, sha256d(other));
});

Deno.test("sha256dAsync (WebCrypto) agrees with the TypeScript sha256d", async () => {
  assert.equal(bytesToHex((await sha256dAsync(genesisHeader)).reverse()), genesisHash);
  for (const len of [0, 1, 64, 80, 1000]) {
    const data = seededBytes(len + 5, len);
    assert.deepEqual(await sha256dAsync(data), sha256d(data));
  }
  const shared = new Uint8Array(new SharedArrayBuffer(80));
  shared.set(genesisHeader);
  assert.deepEqual(await sha256dAsync(shared), sha256d(genesisHeader));
});
