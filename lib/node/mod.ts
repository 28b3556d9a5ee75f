/**
 * The generator: talks to Bitcoin Core. The RPC client (cookie or password, retries, health,
 * latency), ZMQ block notices, and the template feed that turns `getblocktemplate`, longpoll, ZMQ
 * and a timer into one stream of templates.
 *
 * @example
 * ```ts
 * import { RpcClient } from "./mod.ts";
 * const rpc = new RpcClient({ url: "http://127.0.0.1:18443/", user: "u", password: "p" });
 * // await rpc.call<number>("getblockcount");
 * rpc.close();
 * ```
 *
 * @module
 */

export * from "./block_tip.ts";
export * from "./cookie.ts";
export * from "./empty_work.ts";
export * from "./latency.ts";
export * from "./link_health.ts";
export * from "./rpc.ts";
export * from "./template.ts";
export * from "./template_feed.ts";
export * from "./tip_sources.ts";
export * from "./zmq.ts";
