/**
 * The worker-name hash has one server definition (lib/status/worker_hash.ts, re-exported by the
 * store) and one browser copy (static/sha256.js, shipped as source): both give SHA-256 of the
 * name's UTF-8 bytes as lowercase hex, for ASCII, non-ASCII and block-boundary lengths alike.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { workerNameHash } from "../lib/status/worker_hash.ts";
import { workerNameHash as storeWorkerNameHash } from "../lib/store/store.ts";
import { workerNameHash as storeFaceWorkerNameHash } from "../lib/store/mod.ts";
import { sha256Hex, sha256HexSync } from "../static/sha256.js";

const NAMES = [
  "",
  "abc",
  "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq.rig1",
  "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080.fee",
  "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
  "addr.rig-é€𝄞日本",
  "x".repeat(55),
  "x".repeat(56),
  "x".repeat(64),
  "y".repeat(200),
];

Deno.test("workerNameHash is SHA-256 of the UTF-8 name as 64 lowercase hex", () => {
  // FIPS 180-2 vectors.
  assert.equal(
    workerNameHash("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assert.equal(
    workerNameHash(""),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  for (const name of NAMES) {
    const hash = workerNameHash(name);
    assert.match(hash, /^[0-9a-f]{64}$/);
    assert.equal(hash, createHash("sha256").update(name, "utf8").digest("hex"), name);
  }
});

Deno.test("the store's workerNameHash is the same function, not a copy", () => {
  assert.equal(storeWorkerNameHash, workerNameHash);
  assert.equal(storeFaceWorkerNameHash, workerNameHash);
});

Deno.test("the browser's static/sha256.js hashes names exactly as the server does", async () => {
  for (const name of NAMES) {
    const expected = workerNameHash(name);
    assert.equal(sha256HexSync(name), expected, `plain-JS path: ${name}`);
    assert.equal(await sha256Hex(name), expected, `WebCrypto path: ${name}`);
  }
});
