/**
 * Pure Stratum V2 protocol code: bytes in, bytes out. The binary data types and frame header
 * (`codec.ts`), the Common and Mining messages (`messages.ts`), the Noise NX handshake and its
 * encrypted transport (`noise.ts`), the server certificate (`certificate.ts`) and the authority
 * key strings (`keys.ts`). No sockets, timers, config or logging.
 *
 * @example
 * ```ts
 * import { decodeFrameHeader, encodeFrameHeader } from "./mod.ts";
 * const header = encodeFrameHeader({ extensionType: 0, channelMsg: false, msgType: 0, msgLength: 82 });
 * decodeFrameHeader(header).msgLength; // 82
 * ```
 *
 * @module
 */

export * from "./errors.ts";
export * from "./codec.ts";
export * from "./messages.ts";
export * from "./keys.ts";
export * from "./certificate.ts";
export * from "./noise.ts";
