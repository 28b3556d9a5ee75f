import assert from "node:assert/strict";
import {
  censorAddress,
  censorHash,
  censorText,
  censorWorker,
  parseUserAgent,
  shortDisplayId,
} from "../lib/status/censor.ts";
import { SAMPLE_ADDRESS_BASE58, SAMPLE_ADDRESS_BECH32 } from "../lib/status/memory.ts";

const A = SAMPLE_ADDRESS_BECH32; // bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq
const B = SAMPLE_ADDRESS_BASE58; // 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2

Deno.test("shortDisplayId keeps [A-Za-z0-9._-] and shortens past head + tail + 3", () => {
  assert.equal(shortDisplayId("abc<script>def", 8, 8), "abcscriptdef");
  assert.equal(shortDisplayId("x".repeat(19), 8, 8), "x".repeat(19));
  assert.equal(shortDisplayId("0123456789abcdefghij", 8, 8), "01234567...cdefghij");
  assert.equal(shortDisplayId("", 8, 8), "");
});

Deno.test("an address becomes first 8 ... last 8", () => {
  assert.equal(censorAddress(A), "bc1qar0s...zzwf5mdq");
  assert.equal(censorAddress(B), "1BvBMSEY...7xJaNVN2");
});

Deno.test("a worker keeps its .suffix and loses the middle of its address", () => {
  assert.equal(censorWorker(`${A}.rig1`), "bc1qar0s...zzwf5mdq.rig1");
  assert.equal(censorWorker(B), "1BvBMSEY...7xJaNVN2");
  assert.equal(censorWorker("short.rig"), "short.rig");
  // Only the first dot splits: the rest of the suffix is kept.
  assert.equal(censorWorker(`${A}.rack.7`), "bc1qar0s...zzwf5mdq.rack.7");
});

Deno.test("a worker suffix that is itself an address is shortened too", () => {
  const censored = censorWorker(`${A}.${B}`);
  assert.equal(censored, "bc1qar0s...zzwf5mdq.1BvBMSEY...7xJaNVN2");
  assert.ok(!censored.includes(A) && !censored.includes(B));
});

Deno.test("a worker name cannot smuggle markup or spaces", () => {
  assert.equal(censorWorker(`<img src=x>${A}.rig"1`), "imgsrcxb...zzwf5mdq.rig1");
});

Deno.test("a hash becomes ... + its last 16 hex", () => {
  const hash = "0000000000000000000111112222233333444445555566666777778888899999";
  assert.equal(hash.length, 64);
  assert.equal(censorHash(hash), "...6777778888899999");
});

Deno.test("free text has addresses of every kind shortened and control characters removed", () => {
  const regtest = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";
  const testnet = "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx";
  const p2sh = "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy";
  const text = `paid ${A}, ${B}, ${regtest}, ${testnet} and ${p2sh}\nnext`;
  const out = censorText(text);
  for (const address of [A, B, regtest, testnet, p2sh]) assert.ok(!out.includes(address), address);
  assert.ok(out.includes("bc1qar0s...zzwf5mdq"));
  assert.ok(out.includes("3J98t1Wp...nqRhWNLy"));
  assert.ok(!out.includes("\n"));
});

Deno.test("free text: known secrets are censored even when they do not look like addresses", () => {
  const secret = "my-very-secret-worker-identity.rig";
  const out = censorText(`ban for ${secret}`, [secret]);
  assert.ok(!out.includes(secret));
  assert.equal(out, "ban for my-very-...identity.rig");
});

Deno.test("free text is cut to the length asked for", () => {
  const out = censorText("x".repeat(500), [], 64);
  assert.equal(out.length, 64);
  assert.ok(out.endsWith("…"));
});

Deno.test("user agents split into software and version", () => {
  assert.deepEqual(parseUserAgent("cgminer/4.12.1"), { name: "cgminer", version: "4.12.1" });
  assert.deepEqual(parseUserAgent("bitaxe/BM1370/v2.9.0"), {
    name: "bitaxe",
    version: "BM1370/v2.9.0",
  });
  assert.deepEqual(parseUserAgent("cpuminer 2.5.1"), { name: "cpuminer", version: "2.5.1" });
  assert.deepEqual(parseUserAgent("NerdMiner"), { name: "NerdMiner" });
  assert.equal(parseUserAgent("  "), undefined);
  assert.deepEqual(parseUserAgent(`evil/${A}`), { name: "evil", version: "bc1qar0s...zzwf5mdq" });
});
