/**
 * Pure Bitcoin protocol code: bytes in, bytes out. Hex and byte helpers, SHA-256 (TypeScript and
 * WebCrypto), addresses (base58, bech32/bech32m), scripts, transactions, the merkle branch, targets
 * and difficulty, coinbase building and decoding, headers and blocks. No sockets, timers, config
 * or logging.
 *
 * @example
 * ```ts
 * import { bitsToTarget, difficultyToTarget, sha256d } from "./mod.ts";
 * sha256d(new Uint8Array(80)).length; // 32
 * difficultyToTarget(1) === bitsToTarget(0x1d00ffff); // true
 * ```
 *
 * @module
 */

export * from "./address.ts";
export * from "./base58.ts";
export * from "./bech32.ts";
export * from "./block.ts";
export * from "./coinbase.ts";
export * from "./coinbase_decode.ts";
export * from "./header.ts";
export * from "./hex.ts";
export * from "./merkle.ts";
export * from "./networks.ts";
export * from "./script.ts";
export * from "./sha256.ts";
export * from "./target.ts";
export * from "./tx.ts";
export * from "./webcrypto.ts";
