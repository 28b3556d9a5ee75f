/**
 * IP address literals and CIDR ranges as bytes.
 *
 * @example
 * ```ts
 * import { IpRanges, parseIp } from "./mod.ts";
 * new IpRanges(["10.0.0.0/8"]).has(parseIp("10.1.2.3")!); // true
 * ```
 *
 * @module
 */

export * from "./ip.ts";
