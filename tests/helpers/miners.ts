/**
 * Stratum miners for tests against a live pool: connect and get work, regtest payout addresses,
 * submit a plain share or a block found in-process.
 *
 * @module
 */

import assert from "node:assert/strict";
import { StratumClient } from "../../stratum/client.ts";
import { findShare } from "../../stratum/miner.ts";
import { base58CheckEncode } from "../../lib/bitcoin/base58.ts";
import { encodeSegwitAddress } from "../../lib/bitcoin/bech32.ts";
import { prevhashFromStratum } from "../../lib/bitcoin/header.ts";
import { bytesToHex, reverseBytes } from "../../lib/bitcoin/hex.ts";
import { NETWORKS } from "../../lib/bitcoin/networks.ts";
import { bitsToTarget, hashToBigInt } from "../../lib/bitcoin/target.ts";

/** A regtest P2PKH address (base58, version 0x6f) whose 20-byte key hash is `fill` repeated. */
export function regtestP2pkh(fill: number): string {
  const payload = new Uint8Array(21).fill(fill);
  payload[0] = NETWORKS.regtest.p2pkhVersion;
  return base58CheckEncode(payload);
}

/** A regtest P2WPKH address (`bcrt1q…`) whose 20-byte program is `fill` repeated. */
export function regtestP2wpkh(fill: number): string {
  return encodeSegwitAddress("bcrt", 0, new Uint8Array(20).fill(fill));
}

/** How `connectMiner` connects. */
export interface ConnectMinerOptions {
  /** User agent sent with `mining.subscribe` (default `denopool-test/1.0`). */
  readonly agent?: string;
  /** Host to dial (default `127.0.0.1`; `localhost` when `tls` is on, to match the certificate). */
  readonly host?: string;
  /** Stratum over TLS. */
  readonly tls?: boolean;
  /** CA certificates (PEM) that TLS trusts. */
  readonly caCerts?: string[];
  /** Negotiate version rolling (`mining.configure`, mask `1fffe000`) before subscribing. */
  readonly configure?: boolean;
  /** Per-request timeout of the client, in ms. */
  readonly requestTimeoutMs?: number;
  /** Wait for the first `mining.notify` before returning (default true). */
  readonly awaitWork?: boolean;
}

/** Connects a miner, subscribes and authorizes `user` (asserting each answer), waits for work. */
export async function connectMiner(
  port: number,
  user: string,
  options: ConnectMinerOptions = {},
): Promise<StratumClient> {
  const client = await StratumClient.connect({
    host: options.host ?? (options.tls ? "localhost" : "127.0.0.1"),
    port,
    tls: options.tls,
    caCerts: options.caCerts,
    requestTimeoutMs: options.requestTimeoutMs,
  });
  if (options.configure) {
    const reply = await client.configure(["version-rolling"], {
      "version-rolling.mask": "1fffe000",
      "version-rolling.min-bit-count": 2,
    });
    assert.equal(reply.error, null);
  }
  assert.equal((await client.subscribe(options.agent ?? "denopool-test/1.0")).error, null);
  const auth = await client.authorize(user, "x");
  assert.equal(auth.error, null);
  assert.equal(auth.result, true);
  if (options.awaitWork ?? true) await client.waitFor("mining.notify", () => true, 10_000);
  return client;
}

/** The RPC-hex prevhash (display order) of a `mining.notify`'s params. */
export function notifyPrevhash(params: readonly unknown[]): string {
  return bytesToHex(reverseBytes(prevhashFromStratum(params[1] as string)));
}

/** A fresh extranonce2 per search in this process, so no two searches can find the same share. */
let extranonce2Counter = 0;

/**
 * Submits one accepted share that is not a block on the client's current job (on regtest about
 * half of all hashes are blocks; those are skipped).
 */
export async function submitPlainShare(client: StratumClient, user: string): Promise<void> {
  const network = bitsToTarget(parseInt(client.job!.nbits, 16));
  const extranonce2Start = ++extranonce2Counter;
  let startNonce = 0;
  for (let attempt = 0; attempt < 64; attempt++) {
    const share = findShare(client, { extranonce2Start, startNonce, maxNonces: 1 << 20 });
    assert.ok(share, "a share within the nonce budget");
    if (hashToBigInt(share.hash) > network) {
      const reply = await client.submit(user, share);
      assert.equal(reply.result, true, `share answered ${JSON.stringify(reply.error)}`);
      return;
    }
    startNonce = parseInt(share.nonce, 16) + 1;
  }
  assert.fail("64 block hashes in a row: is the share target easier than the network's?");
}

/** Mines a block on the client's current job and submits it; returns its hash (RPC hex). */
export async function submitBlock(client: StratumClient, user: string): Promise<string> {
  const target = bitsToTarget(parseInt(client.job!.nbits, 16));
  const share = findShare(client, {
    target,
    extranonce2Start: ++extranonce2Counter,
    maxNonces: 1 << 20,
  });
  assert.ok(share, "a block within the nonce budget");
  const reply = await client.submit(user, share);
  assert.equal(reply.result, true, `block answered ${JSON.stringify(reply.error)}`);
  return bytesToHex(reverseBytes(share.hash));
}
