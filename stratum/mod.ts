/**
 * The connector: Stratum V1 over TCP and TLS. The server (listeners, admission, batched writes,
 * operator actions), the session and its parts (handshake, work, submit), framing and protocol
 * encoding, the Stratum client used by the miner, the tests and the bench, and the in-process
 * share search on a client's job (`findShare`). Stratum V2: one served connection with standard
 * channels (`serveSv2Connection`) and the V2 client (`Sv2Client`).
 *
 * @example
 * ```ts
 * import { StratumClient } from "./mod.ts";
 * // const client = await StratumClient.connect({ host: "127.0.0.1", port: 3333 });
 * // await client.subscribe("my-miner/1.0");
 * typeof StratumClient; // "function"
 * ```
 *
 * @module
 */

export * from "./client.ts";
export * from "./dedupe.ts";
export * from "./framing.ts";
export * from "./handshake.ts";
export * from "./miner.ts";
export * from "./protocol.ts";
export * from "./server.ts";
export * from "./session.ts";
export * from "./session_context.ts";
export * from "./submit.ts";
export * from "./sv2_client.ts";
export * from "./sv2_connection.ts";
export * from "./sv2_io.ts";
export * from "./work.ts";
