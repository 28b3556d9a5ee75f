/**
 * Microbenchmark of the double SHA-256 paths a pool uses: an 80-byte header and a 64-byte merkle
 * node, in TypeScript (`lib/bitcoin/sha256.ts`) and through WebCrypto. Prints ops/s.
 *
 * Run: `deno run bench/hash_micro.ts`
 *
 * @module
 */

import {
  headerMidstate,
  sha256d,
  sha256d64Into,
  sha256dHeaderFromMidstateInto,
  sha256dInto,
} from "../lib/bitcoin/sha256.ts";
import { sha256dAsync } from "../lib/bitcoin/webcrypto.ts";

const header = new Uint8Array(80).map((_, i) => (i * 31 + 7) & 0xff);
const left = header.subarray(0, 32);
const right = header.subarray(32, 64);
const out = new Uint8Array(32);

/** Runs `fn` for about `ms` milliseconds (after a warm-up) and returns operations per second. */
function rate(fn: () => void, ms = 1000): number {
  for (let i = 0; i < 20_000; i++) fn();
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 1000; i++) fn();
    n += 1000;
    now = performance.now();
  }
  return (n * 1000) / (now - start);
}

/** Same for an async function, awaiting each call (as a caller without batching would). */
async function rateAsync(fn: () => Promise<unknown>, ms = 1000): Promise<number> {
  for (let i = 0; i < 2000; i++) await fn();
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 100; i++) await fn();
    n += 100;
    now = performance.now();
  }
  return (n * 1000) / (now - start);
}

/** Async calls issued in batches of `batch` and awaited together. */
async function rateAsyncBatched(fn: () => Promise<unknown>, batch: number, ms = 1000) {
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    await Promise.all(Array.from({ length: batch }, fn));
    n += batch;
    now = performance.now();
  }
  return (n * 1000) / (now - start);
}

const fmt = (r: number) => `${Math.round(r).toLocaleString("en-US").padStart(12)} ops/s`;
const mid = headerMidstate(header);
const node64 = new Uint8Array(64);
node64.set(left);
node64.set(right, 32);

console.log("sha256d, 80-byte header");
console.log(`  TS sha256d (allocates)          ${fmt(rate(() => sha256d(header)))}`);
console.log(`  TS sha256dInto                  ${fmt(rate(() => sha256dInto(header, out)))}`);
console.log(
  `  TS from midstate (tail only)    ${
    fmt(rate(() => sha256dHeaderFromMidstateInto(mid, header, out)))
  }`,
);
console.log(
  `  WebCrypto, awaited one by one   ${fmt(await rateAsync(() => sha256dAsync(header)))}`,
);
console.log(
  `  WebCrypto, 256 in flight        ${
    fmt(await rateAsyncBatched(() => sha256dAsync(header), 256))
  }`,
);
console.log("sha256d, 64-byte merkle node");
console.log(`  TS sha256d64Into               ${fmt(rate(() => sha256d64Into(left, right, out)))}`);
console.log(`  TS sha256dInto (64 bytes)       ${fmt(rate(() => sha256dInto(node64, out)))}`);
console.log(
  `  WebCrypto, awaited one by one   ${fmt(await rateAsync(() => sha256dAsync(node64)))}`,
);
