/**
 * One hashing thread of the miner (`tools/miner.ts`): scans the nonces of the headers it is
 * given with the project's sha256d (`scanNonces`) and reports shares and hash counts.
 *
 * Protocol (all messages are plain objects):
 * - in  `{ type: "work", generation, unit, header, target, startNonce, count }`: scan
 *   `header` (80 bytes, nonce ignored) from `startNonce` for `count` nonces against `target`
 *   (32 little-endian bytes). New work replaces the current work at the next slice boundary.
 * - in  `{ type: "stop" }`: stop scanning and stay idle.
 * - out `{ type: "found", generation, unit, nonce, hash }` for each share.
 * - out `{ type: "hashes", count }` after each slice (for the hashrate).
 * - out `{ type: "done", generation, unit }` when the range is exhausted.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { scanNonces } from "../stratum/miner.ts";

/** Work for one worker: one header (one extranonce2 and version) and a nonce range. */
export interface MinerWorkMessage {
  /** Discriminator. */
  readonly type: "work";
  /** Bumped by the miner for every new job; results carry it back. */
  readonly generation: number;
  /** The miner's name for this header (extranonce2 / version pair). */
  readonly unit: number;
  /** The 80-byte header; bytes 76..79 are overwritten. */
  readonly header: Uint8Array;
  /** Share target, 32 little-endian bytes. */
  readonly target: Uint8Array;
  /** First nonce. */
  readonly startNonce: number;
  /** Number of nonces to scan. */
  readonly count: number;
}

/** Tells a worker to go idle. */
export interface MinerStopMessage {
  /** Discriminator. */
  readonly type: "stop";
}

/** What the miner sends to a worker. */
export type MinerToWorker = MinerWorkMessage | MinerStopMessage;

/** What a worker sends back. */
export type WorkerToMiner =
  | {
    readonly type: "found";
    readonly generation: number;
    readonly unit: number;
    readonly nonce: number;
    readonly hash: Uint8Array;
  }
  | { readonly type: "hashes"; readonly count: number }
  | { readonly type: "done"; readonly generation: number; readonly unit: number };

/** Nonces per slice: small enough that new work is picked up within ~0.1 s. */
export const SLICE_NONCES = 1 << 16;

let current: MinerWorkMessage | undefined;
let running = false;
const hash = new Uint8Array(32);

/** Lets queued messages (new work, stop) run between slices without a timer's clamping. */
const yieldChannel = new MessageChannel();
let resumeAfterYield: (() => void) | undefined;
yieldChannel.port1.onmessage = () => resumeAfterYield?.();
const yieldToMessages = () =>
  new Promise<void>((resolve) => {
    resumeAfterYield = resolve;
    yieldChannel.port2.postMessage(0);
  });

function post(message: WorkerToMiner): void {
  self.postMessage(message);
}

async function run(): Promise<void> {
  running = true;
  while (current) {
    const work = current;
    const header = work.header;
    let nonce = work.startNonce;
    const end = Math.min(work.startNonce + work.count, 0x1_0000_0000);
    while (nonce < end && current === work) {
      const sliceEnd = Math.min(nonce + SLICE_NONCES, end);
      let from = nonce;
      while (from < sliceEnd) {
        const found = scanNonces(header, work.target, from, sliceEnd - from, hash);
        if (found < 0) break;
        post({
          type: "found",
          generation: work.generation,
          unit: work.unit,
          nonce: found,
          hash: hash.slice(),
        });
        from = found + 1;
      }
      post({ type: "hashes", count: sliceEnd - nonce });
      nonce = sliceEnd;
      await yieldToMessages();
    }
    if (current === work) {
      current = undefined;
      post({ type: "done", generation: work.generation, unit: work.unit });
    }
  }
  running = false;
}

self.onmessage = (event: MessageEvent<MinerToWorker>) => {
  const message = event.data;
  if (message.type === "stop") {
    current = undefined;
    return;
  }
  current = message;
  if (!running) void run();
};
