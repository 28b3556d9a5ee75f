/**
 * Reads back a coinbase the way a miner's block would carry it: the halves around the extranonces
 * are joined (extranonce bytes zeroed; they do not touch the outputs) and parsed as a transaction,
 * so what it reports is the bytes the miner hashes, not what the pool meant to put there. The
 * worker page uses it to show a miner whom a block of theirs would pay.
 *
 * @module
 */

import { scriptToAddress } from "./address.ts";
import { isWitnessCommitment, joinCoinbase } from "./coinbase.ts";
import { equalBytes } from "./hex.ts";
import type { Network } from "./networks.ts";
import { bip34HeightPush, readBip34Height } from "./script.ts";
import { parseTx } from "./tx.ts";

/** What one coinbase output is for. */
export type CoinbaseOutputRole = "miner" | "witness-commitment" | "other";

/** One output of a decoded coinbase. */
export interface DecodedCoinbaseOutput {
  /** Value in satoshis. */
  readonly valueSats: bigint;
  /** The output's address on the network, when the script is a standard one. */
  readonly address?: string;
  /** `miner` when the script is the miner's own payout script. */
  readonly role: CoinbaseOutputRole;
}

/** A coinbase read back from its halves. */
export interface DecodedCoinbase {
  /** BIP34 height from the scriptSig, when present. */
  readonly height?: number;
  /** Printable ASCII runs of 4 or more characters after the height push (the pool tag), joined. */
  readonly tag: string;
  /** Outputs in order. */
  readonly outputs: readonly DecodedCoinbaseOutput[];
  /** Sum of the output values in satoshis. */
  readonly totalSats: bigint;
  /** Sum of the outputs paying `minerScript`. */
  readonly minerSats: bigint;
}

/** Printable ASCII runs of at least `min` characters in `bytes`, joined by a space. */
function printableRuns(bytes: Uint8Array, min = 4): string {
  const runs: string[] = [];
  let run = "";
  for (const b of bytes) {
    if (b >= 0x20 && b < 0x7f) {
      run += String.fromCharCode(b);
    } else {
      if (run.length >= min) runs.push(run);
      run = "";
    }
  }
  if (run.length >= min) runs.push(run);
  return runs.join(" ").trim();
}

/**
 * Decodes the coinbase made of `coinb1`, `extranonceBytes` zero bytes and `coinb2`. Throws a
 * `TxParseError` when the bytes are not one transaction.
 */
export function decodeCoinbase(
  coinb1: Uint8Array,
  extranonceBytes: number,
  coinb2: Uint8Array,
  network: Network,
  minerScript?: Uint8Array,
): DecodedCoinbase {
  const tx = parseTx(
    joinCoinbase(coinb1, new Uint8Array(extranonceBytes), new Uint8Array(0), coinb2),
  );
  const scriptSig = tx.inputs[0]?.scriptSig ?? new Uint8Array(0);
  let totalSats = 0n;
  let minerSats = 0n;
  const outputs = tx.outputs.map((output): DecodedCoinbaseOutput => {
    totalSats += output.value;
    const role: CoinbaseOutputRole = minerScript && equalBytes(output.script, minerScript)
      ? "miner"
      : isWitnessCommitment(output.script)
      ? "witness-commitment"
      : "other";
    if (role === "miner") minerSats += output.value;
    const address = scriptToAddress(output.script, network);
    return address === undefined
      ? { valueSats: output.value, role }
      : { valueSats: output.value, address, role };
  });
  const height = readBip34Height(scriptSig);
  // After the height push: a small height is one opcode that may itself be printable (OP_8 is "X").
  const tag = printableRuns(
    height === undefined ? scriptSig : scriptSig.subarray(bip34HeightPush(height).length),
  );
  return height === undefined
    ? { tag, outputs, totalSats, minerSats }
    : { height, tag, outputs, totalSats, minerSats };
}
