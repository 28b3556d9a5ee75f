import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  readWordsBE,
  Sha256,
  sha256d,
  sha256d64Words,
  sha256dHeaderWords,
  writeWordsBE,
} from "../lib/bitcoin/sha256.ts";
import { generatedSection } from "../bench/sha256_codegen.ts";
import { seededBytes } from "./helpers/random.ts";

const nodeSha256d = (b: Uint8Array) =>
  new Uint8Array(createHash("sha256").update(createHash("sha256").update(b).digest()).digest());

/** `bytes` as big-endian words. */
const words = (bytes: Uint8Array) =>
  readWordsBE(bytes, 0, bytes.length / 4, new Int32Array(bytes.length / 4));
/** `w` as big-endian bytes. */
const bytesOf = (w: Int32Array) => writeWordsBE(w, 0, w.length, new Uint8Array(w.length * 4));

Deno.test("readWordsBE and writeWordsBE are inverse big-endian conversions, at offsets", () => {
  const bytes = Uint8Array.of(0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02, 0x03, 0x80, 0, 0, 0);
  const w = readWordsBE(bytes, 4, 2, new Int32Array(3), 1);
  assert.deepEqual([...w], [0, 0x00010203, 0x80000000 | 0]);
  const back = writeWordsBE(w, 1, 2, new Uint8Array(10).fill(0xaa), 2);
  assert.deepEqual([...back], [0xaa, 0xaa, 0, 1, 2, 3, 0x80, 0, 0, 0]);
});

Deno.test("sha256d64Words equals sha256d of the 64 bytes, also folded in place", () => {
  for (let seed = 1; seed <= 200; seed++) {
    const message = seededBytes(seed, 64);
    const block = new Int32Array(24);
    readWordsBE(message, 0, 16, block, 4);
    const out = new Int32Array(10);
    sha256d64Words(block, 4, out, 1);
    assert.deepEqual(bytesOf(out.subarray(1, 9)), nodeSha256d(message), `seed ${seed}`);
    // In place over the left half, as a merkle fold does.
    sha256d64Words(block, 4, block, 4);
    assert.deepEqual(bytesOf(block.subarray(4, 12)), nodeSha256d(message), `in place ${seed}`);
  }
});

Deno.test("sha256dHeaderWords equals sha256d of the 80 bytes", () => {
  for (let seed = 1; seed <= 200; seed++) {
    const header = seededBytes(seed * 7, 80);
    const out = new Int32Array(8);
    sha256dHeaderWords(words(header), 0, out, 0);
    assert.deepEqual(bytesOf(out), nodeSha256d(header), `seed ${seed}`);
  }
});

Deno.test("digestDoubleWordsInto gives sha256d of prefix and suffix from a midstate", () => {
  const prefix = seededBytes(3, 128);
  const base = new Sha256().update(prefix);
  for (const suffixLen of [0, 1, 55, 56, 63, 64, 100, 150]) {
    const suffix = seededBytes(suffixLen + 11, suffixLen);
    const whole = new Uint8Array(128 + suffixLen);
    whole.set(prefix);
    whole.set(suffix, 128);
    const out = new Int32Array(9);
    base.clone().update(suffix).digestDoubleWordsInto(out, 1);
    assert.deepEqual(bytesOf(out.subarray(1)), sha256d(whole), `suffix ${suffixLen}`);
    assert.deepEqual(sha256d(whole), nodeSha256d(whole));
  }
});

Deno.test("the unrolled compression functions are the ones bench/sha256_codegen.ts generates", async () => {
  const source = await Deno.readTextFile(new URL("../lib/bitcoin/sha256.ts", import.meta.url));
  // Every generated function is in the file by name (the full text check is `--check`).
  for (const match of generatedSection().matchAll(/^function (\w+)\(/gm)) {
    assert.ok(source.includes(`function ${match[1]}(`), match[1]);
  }
  const check = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../bench/sha256_codegen.ts", import.meta.url).pathname, "--check"],
  }).output();
  assert.ok(check.success, new TextDecoder().decode(check.stderr));
});
