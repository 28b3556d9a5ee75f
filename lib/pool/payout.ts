/**
 * Stratum user names → payout scripts: `ADDRESS[.worker]`, the address valid for the network.
 *
 * @module
 */

import { AddressError, addressToScript } from "../bitcoin/mod.ts";
import type { Network } from "../bitcoin/mod.ts";
import type { PayoutResolution, ResolvePayout } from "./types.ts";

/** Longest user name accepted (bytes of UTF-16 code units; names are ASCII in practice). */
export const MAX_USER_LENGTH = 256;

/** Makes the `resolvePayout` function the Stratum server uses for `network`. */
export function payoutResolver(network: Network): ResolvePayout {
  return (user: string): PayoutResolution => {
    const name = user.trim();
    if (name === "") return { error: "worker name required" };
    if (name.length > MAX_USER_LENGTH) return { error: "worker name too long" };
    const dot = name.indexOf(".");
    const address = dot < 0 ? name : name.slice(0, dot);
    const worker = dot < 0 ? "" : name.slice(dot + 1);
    try {
      return { script: addressToScript(address, network), address, worker };
    } catch (err) {
      const reason = err instanceof AddressError ? err.message : String(err);
      return { error: `worker name has no valid ${network.name} address: ${reason}` };
    }
  };
}
