import assert from "node:assert/strict";
import { parseNotify, StratumClient, type StratumJob } from "../stratum/client.ts";
import {
  extranonce2Hex,
  findShare,
  findShareOnJob,
  type FoundShare,
  type MiningContext,
  prepareMiningJob,
  rolledVersion,
  scanNonces,
  versionBitsAt,
  writeMiningHeader,
} from "../stratum/miner.ts";
import { bytesToHex, hexToBytes, reverseBytes } from "../lib/bitcoin/hex.ts";
import { sha256d } from "../lib/bitcoin/sha256.ts";
import { merkleRootFromBranch } from "../lib/bitcoin/merkle.ts";
import { buildHeader, prevhashFromStratum } from "../lib/bitcoin/header.ts";
import {
  bitsToTarget,
  difficultyToTarget,
  hashToBigInt,
  targetToBytesLE,
} from "../lib/bitcoin/target.ts";

/**
 * The mainnet genesis block as Stratum work: its coinbase split around a 2-byte extranonce1
 * ("0104", the push of 4 in its scriptSig) and a 2-byte extranonce2 ("4554": the push length 69
 * and the "T" of "The Times…"), so mining it must land on the real nonce and block hash.
 */
const GENESIS_COINBASE_TEXT =
  "5468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73";
const GENESIS = {
  job: parseNotify([
    "genesis",
    "00".repeat(32),
    "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d04ffff001d",
    GENESIS_COINBASE_TEXT.slice(2) +
    "ffffffff0100f2052a01000000434104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac00000000",
    [],
    "00000001",
    "1d00ffff",
    "495fab29",
    true,
  ])!,
  extranonce1: "0104",
  extranonce2: 0x4554,
  nonce: 0x7c2bac1d,
  hash: "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
  merkleRoot: "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b",
};

/** A regtest-like job with a two-step merkle branch (fixed bytes, so results are deterministic). */
const REGTEST_JOB: StratumJob = parseNotify([
  "2a",
  "4d16b6f85af6e2198f44ae2a6de67f78487ae5611b77c6c0440b921e00000000",
  "02000000010000000000000000000000000000000000000000000000000000000000000000ffffffff1703e80300",
  "ffffffff0100f2052a010000001600147b2a0c8f9c1d0b3e5a4f6e7d8c9b0a1f2e3d4c5b00000000",
  [
    "ed0ddbc8ab6cb4cc1fa5b7e0d4c71d7a4b1d32c1d6cd8e7fd1d0e0b6a8c61d2a",
    "c1b8f9e6f0e2a5b8f62f7c4b8e1c2a4f0d6e3b5a79c8d2e1f0a3b4c5d6e7f8a9",
  ],
  "20000000",
  "207fffff",
  "66a1b2c3",
  true,
])!;

const CONTEXT: MiningContext = { extranonce1: "0000002a", extranonce2Size: 4 };

/**
 * Rebuilds the header of a found share from the notify fields and the submit fields alone, the
 * way a pool does, and returns its sha256d: independent of the client's mining code.
 */
function poolSideHash(
  job: StratumJob,
  extranonce1: string,
  share: FoundShare,
  versionMask = 0,
): { header: Uint8Array; hash: Uint8Array } {
  const coinbase = hexToBytes(job.coinb1 + extranonce1 + share.extranonce2 + job.coinb2);
  const root = merkleRootFromBranch(sha256d(coinbase), job.merkleBranch.map(hexToBytes));
  const version = share.versionBits === undefined
    ? job.version
    : ((job.version & ~versionMask) | (parseInt(share.versionBits, 16) & versionMask)) >>> 0;
  const header = buildHeader(
    version,
    prevhashFromStratum(job.prevhash),
    root,
    parseInt(share.ntime, 16),
    parseInt(job.nbits, 16),
    parseInt(share.nonce, 16),
  );
  return { header, hash: sha256d(header) };
}

Deno.test("mining the genesis work finds the genesis nonce and block hash", () => {
  const share = findShareOnJob(GENESIS.job, {
    extranonce1: GENESIS.extranonce1,
    extranonce2Size: 2,
  }, {
    target: bitsToTarget(0x1d00ffff),
    extranonce2Start: GENESIS.extranonce2,
    startNonce: GENESIS.nonce - 500,
    maxNonces: 1000,
  });
  assert.ok(share, "no share found");
  assert.equal(share.nonce, "7c2bac1d");
  assert.equal(share.extranonce2, "4554");
  assert.equal(share.ntime, "495fab29");
  assert.equal(share.versionBits, undefined);
  assert.equal(share.hashes, 501);
  assert.equal(bytesToHex(reverseBytes(share.hash)), GENESIS.hash);
  assert.equal(bytesToHex(reverseBytes(share.header.subarray(36, 68))), GENESIS.merkleRoot);
});

Deno.test("a share found at a low difficulty meets its target when rebuilt pool-side", () => {
  const difficulty = 2 ** -22;
  const share = findShareOnJob(REGTEST_JOB, { ...CONTEXT, difficulty });
  assert.ok(share);
  const target = difficultyToTarget(difficulty);
  assert.equal(share.target, target);
  const rebuilt = poolSideHash(REGTEST_JOB, CONTEXT.extranonce1, share);
  assert.deepEqual(rebuilt.header, share.header);
  assert.deepEqual(rebuilt.hash, share.hash);
  assert.ok(hashToBigInt(rebuilt.hash) <= target);
  assert.equal(share.jobId, "2a");
  assert.match(share.extranonce2, /^[0-9a-f]{8}$/);
  assert.match(share.nonce, /^[0-9a-f]{8}$/);
  // The search stops at the first qualifying nonce: every earlier one was above the target.
  const header = share.header.slice();
  for (let nonce = 0; nonce < parseInt(share.nonce, 16); nonce++) {
    header[76] = nonce;
    header[77] = nonce >>> 8;
    header[78] = nonce >>> 16;
    header[79] = nonce >>> 24;
    assert.ok(hashToBigInt(sha256d(header)) > target, `nonce ${nonce} met the target earlier`);
  }
});

Deno.test("with version rolling the rolled bits stay inside the mask and the hash verifies", () => {
  const mask = 0x1fffe000;
  const share = findShareOnJob(REGTEST_JOB, {
    ...CONTEXT,
    difficulty: 2 ** -20,
    versionMask: mask,
  }, { rollVersionBits: true });
  assert.ok(share?.versionBits);
  const bits = parseInt(share.versionBits, 16);
  assert.notEqual(bits, 0);
  assert.equal(bits & ~mask, 0);
  assert.equal(share.version, (0x20000000 | bits) >>> 0);
  // The header carries the rolled version, little-endian.
  assert.equal(new DataView(share.header.buffer).getUint32(0, true), share.version);
  const rebuilt = poolSideHash(REGTEST_JOB, CONTEXT.extranonce1, share, mask);
  assert.deepEqual(rebuilt.hash, share.hash);
  assert.ok(hashToBigInt(rebuilt.hash) <= share.target);
});

Deno.test("a mask that overlaps the job version replaces the bits inside it (BIP310)", () => {
  const mask = 0x3fffe000; // regtest-style: includes bit 29, which the job version has set
  const bits = versionBitsAt(5, mask);
  const share = findShareOnJob(REGTEST_JOB, {
    ...CONTEXT,
    difficulty: 2 ** -20,
    versionMask: mask,
  }, { rollVersionBits: bits });
  assert.ok(share);
  assert.equal(share.versionBits, bits.toString(16).padStart(8, "0"));
  assert.equal(share.version, (0x20000000 & ~mask) | bits);
  const rebuilt = poolSideHash(REGTEST_JOB, CONTEXT.extranonce1, share, mask);
  assert.deepEqual(rebuilt.hash, share.hash);
});

Deno.test("version rolling is refused outside the mask or without one", () => {
  assert.throws(
    () =>
      findShareOnJob(REGTEST_JOB, { ...CONTEXT, difficulty: 1, versionMask: 0x1fffe000 }, {
        rollVersionBits: 0x00001000,
      }),
    RangeError,
  );
  assert.throws(
    () => findShareOnJob(REGTEST_JOB, { ...CONTEXT, difficulty: 1 }, { rollVersionBits: true }),
    /no mask/,
  );
  assert.throws(() => findShareOnJob(REGTEST_JOB, CONTEXT), /set_difficulty/);
});

Deno.test("the search gives up after maxNonces hashes", () => {
  const share = findShareOnJob(REGTEST_JOB, CONTEXT, { target: 0n, maxNonces: 3000 });
  assert.equal(share, undefined);
});

Deno.test("when a nonce range runs out the search moves on to the next extranonce2", () => {
  const start = 0xfffffff0; // 16 nonces per extranonce2
  const share = findShareOnJob(REGTEST_JOB, CONTEXT, {
    target: difficultyToTarget(2 ** -22),
    startNonce: start,
  });
  assert.ok(share);
  const nonce = parseInt(share.nonce, 16);
  assert.ok(nonce >= start);
  const unit = parseInt(share.extranonce2, 16);
  assert.ok(unit > 0, "this fixed job has no share in the first 16 nonces");
  assert.equal(share.hashes, unit * 16 + (nonce - start) + 1);
  const rebuilt = poolSideHash(REGTEST_JOB, CONTEXT.extranonce1, share);
  assert.deepEqual(rebuilt.hash, share.hash);
});

Deno.test("scanNonces agrees with hashing each header in full", () => {
  const work = prepareMiningJob(REGTEST_JOB, CONTEXT.extranonce1, 4);
  const header = writeMiningHeader(work, "0000beef", REGTEST_JOB.version, REGTEST_JOB.ntime);
  const target = difficultyToTarget(2 ** -22);
  const hash = new Uint8Array(32);
  const found: number[] = [];
  for (let start = 0; found.length < 3;) {
    const nonce = scanNonces(header, targetToBytesLE(target), start, 100_000, hash);
    assert.ok(nonce >= 0);
    const check = header.slice();
    new DataView(check.buffer).setUint32(76, nonce, true);
    assert.deepEqual(sha256d(check), hash);
    assert.ok(hashToBigInt(hash) <= target);
    found.push(nonce);
    start = nonce + 1;
  }
  assert.deepEqual([...found].sort((a, b) => a - b), found);
  assert.equal(scanNonces(header, targetToBytesLE(0n), 0, 1000, hash), -1);
  // The end of the nonce space is an end, not a wrap-around.
  assert.equal(scanNonces(header, targetToBytesLE(0n), 0xfffffff0, 1000, hash), -1);
});

Deno.test("extranonce2Hex, versionBitsAt and rolledVersion", () => {
  assert.equal(extranonce2Hex(0, 4), "00000000");
  assert.equal(extranonce2Hex(0x4554, 2), "4554");
  assert.equal(extranonce2Hex(0x1_0000_0001, 4), "00000001");
  assert.equal(extranonce2Hex(258, 8), "0000000000000102");
  assert.equal(versionBitsAt(0, 0x1fffe000), 0);
  assert.equal(versionBitsAt(1, 0x1fffe000), 0x00002000);
  assert.equal(versionBitsAt(3, 0x1fffe000), 0x00006000);
  assert.equal(versionBitsAt(0xffff, 0x1fffe000), 0x1fffe000);
  assert.equal(versionBitsAt(0b101, 0x00a00100), 0x00800100);
  assert.equal(rolledVersion(0x20000000, 0x1fffe000, 0x00006000), 0x20006000);
  assert.equal(rolledVersion(0x20000000, 0x3fffe000, 0x00006000), 0x00006000);
});

Deno.test("client: notify → findShare → submit, checked by a stand-in pool", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const pool = (async () => {
    const conn = await listener.accept();
    const encoder = new TextEncoder();
    const send = (message: unknown) => conn.write(encoder.encode(JSON.stringify(message) + "\n"));
    const decoder = new TextDecoder();
    const buffer = new Uint8Array(8192);
    let tail = "";
    const verdicts: boolean[] = [];
    try {
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null) break;
        tail += decoder.decode(buffer.subarray(0, n), { stream: true });
        const lines = tail.split("\n");
        tail = lines.pop()!;
        for (const line of lines) {
          const { id, method, params } = JSON.parse(line);
          if (method === "mining.subscribe") {
            await send({ id, result: [[["mining.notify", "1"]], "0000002a", 4], error: null });
          } else if (method === "mining.configure") {
            await send({
              id,
              result: { "version-rolling": true, "version-rolling.mask": "1fffe000" },
              error: null,
            });
          } else if (method === "mining.authorize") {
            await send({ id, result: true, error: null });
            await send({ id: null, method: "mining.set_difficulty", params: [2 ** -21] });
            await send({
              id: null,
              method: "mining.notify",
              params: [
                REGTEST_JOB.jobId,
                REGTEST_JOB.prevhash,
                REGTEST_JOB.coinb1,
                REGTEST_JOB.coinb2,
                REGTEST_JOB.merkleBranch,
                "20000000",
                REGTEST_JOB.nbits,
                "66a1b2c3",
                true,
              ],
            });
          } else if (method === "mining.submit") {
            const [, jobId, en2, ntime, nonce, versionBits] = params;
            const share = { jobId, extranonce2: en2, ntime, nonce, versionBits } as FoundShare;
            const { hash } = poolSideHash(REGTEST_JOB, "0000002a", share, 0x1fffe000);
            const ok = hashToBigInt(hash) <= difficultyToTarget(2 ** -21);
            verdicts.push(ok);
            await send({ id, result: ok, error: ok ? null : [23, "low difficulty share", null] });
          }
        }
      }
    } finally {
      conn.close();
    }
    return verdicts;
  })();

  const client = await StratumClient.connect({
    host: "127.0.0.1",
    port: (listener.addr as Deno.NetAddr).port,
  });
  try {
    await client.subscribe("test/1");
    await client.configure(["version-rolling"], { "version-rolling.mask": "ffffffff" });
    await client.authorize("bcrt1qtest.rig", "x");
    await client.waitFor("mining.notify");
    assert.equal(client.difficulty, 2 ** -21);
    const plain = findShare(client);
    const rolled = findShare(client, { rollVersionBits: true, extranonce2Start: 100 });
    assert.ok(plain && rolled);
    assert.equal((await client.submit("bcrt1qtest.rig", plain)).result, true);
    assert.equal((await client.submit("bcrt1qtest.rig", rolled)).result, true);
  } finally {
    client.close();
  }
  assert.deepEqual(await pool, [true, true]);
  listener.close();
});
