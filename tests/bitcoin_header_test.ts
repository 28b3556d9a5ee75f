import assert from "node:assert/strict";
import {
  buildHeader,
  parseHeader,
  prevhashFromStratum,
  stratumPrevhash,
} from "../lib/bitcoin/header.ts";
import { bytesToHex, hexToBytes, reverseBytes } from "../lib/bitcoin/hex.ts";
import { sha256d } from "../lib/bitcoin/sha256.ts";
import {
  bitsToTarget,
  hashMeetsTarget,
  hashToDifficulty,
  targetToBytesLE,
} from "../lib/bitcoin/target.ts";

interface HeaderVector {
  name: string;
  hex?: string;
  hash: string;
  version: number;
  prevhash: string;
  merkleRoot: string;
  time: number;
  bits: string;
  nonce: number;
}
interface ShareVector {
  prevhashStratum: string;
  prevhashRpc: string;
  version: number;
  bits: string;
  ntime: number;
  merkleRoot: string;
  nonce: number;
  difficultyFloor: number;
}
const readJson = async <T>(name: string): Promise<T> =>
  JSON.parse(await Deno.readTextFile(new URL(`./vectors/bitcoin/${name}`, import.meta.url)));
const { headers } = await readJson<{ headers: HeaderVector[] }>("headers.json");
const { share } = await readJson<{ share: ShareVector }>("mining.json");
const internal = (rpc: string) => reverseBytes(hexToBytes(rpc));

Deno.test("real headers: built from their fields, they hash to the block hash and meet their bits", () => {
  for (const v of headers) {
    const bits = parseInt(v.bits, 16);
    const header = buildHeader(
      v.version,
      internal(v.prevhash),
      internal(v.merkleRoot),
      v.time,
      bits,
      v.nonce,
    );
    if (v.hex !== undefined) assert.equal(bytesToHex(header), v.hex, v.name);
    const hash = sha256d(header);
    assert.equal(bytesToHex(reverseBytes(hash)), v.hash, v.name);
    assert.ok(hashMeetsTarget(hash, targetToBytesLE(bitsToTarget(bits))), `${v.name} PoW`);
  }
});

Deno.test("parseHeader reads back every field", () => {
  for (const v of headers.filter((h) => h.hex !== undefined)) {
    const h = parseHeader(hexToBytes(v.hex!));
    assert.equal(h.version, v.version);
    assert.equal(bytesToHex(reverseBytes(h.prevhash)), v.prevhash);
    assert.equal(bytesToHex(reverseBytes(h.merkleRoot)), v.merkleRoot);
    assert.equal(h.time, v.time);
    assert.equal(h.bits, parseInt(v.bits, 16));
    assert.equal(h.nonce, v.nonce);
  }
  assert.throws(() => parseHeader(new Uint8Array(79)), /80 bytes/);
});

Deno.test("buildHeader writes into a given buffer and keeps uint32 fields unsigned", () => {
  const out = new Uint8Array(80);
  const zero = new Uint8Array(32);
  const returned = buildHeader(-1, zero, zero, 0xffffffff, 0x1d00ffff, 0xfedcba98, out);
  assert.equal(returned, out);
  assert.equal(bytesToHex(out.subarray(0, 4)), "ffffffff");
  const parsed = parseHeader(out);
  assert.equal(parsed.version, -1);
  assert.equal(parsed.time, 0xffffffff);
  assert.equal(parsed.nonce, 0xfedcba98);
  assert.throws(() => buildHeader(1, new Uint8Array(31), zero, 0, 0, 0), RangeError);
});

Deno.test("Stratum prevhash: each 4-byte word of the internal hash byte-swapped", () => {
  const prev = internal(share.prevhashRpc);
  assert.equal(stratumPrevhash(prev), share.prevhashStratum);
  assert.deepEqual(prevhashFromStratum(share.prevhashStratum), prev);
  // Genesis: the RPC hex's 8-char words in reverse order.
  const genesis = internal("000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f");
  const rpcWords = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f".match(
    /.{8}/g,
  )!;
  assert.equal(stratumPrevhash(genesis), rpcWords.reverse().join(""));
  assert.equal(
    stratumPrevhash(genesis),
    "0a8ce26f72b3f1b646a2a6c14ff763ae65831e939c085ae10019d66800000000",
  );
  assert.throws(() => prevhashFromStratum("00"), RangeError);
  assert.throws(() => stratumPrevhash(new Uint8Array(31)), RangeError);
});

Deno.test("a real mainnet share hashes to the difficulty the miner found", () => {
  const header = buildHeader(
    share.version,
    prevhashFromStratum(share.prevhashStratum),
    hexToBytes(share.merkleRoot),
    share.ntime,
    parseInt(share.bits, 16),
    share.nonce,
  );
  const difficulty = hashToDifficulty(sha256d(header));
  assert.equal(Math.floor(difficulty), share.difficultyFloor);
});
