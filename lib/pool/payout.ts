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

/** Addresses whose script a resolver keeps, shared by every connection of that address. */
const SHARED_ADDRESSES = 4096;

/**
 * Makes the `resolvePayout` function the Stratum server uses for `network`. The rigs of one
 * address (a farm: thousands of connections) share one address string and one script: the
 * resolver keeps the most recent {@link SHARED_ADDRESSES} of them.
 */
export function payoutResolver(network: Network): ResolvePayout {
  const shared = new Map<string, { address: string; script: Uint8Array }>();
  return (user: string): PayoutResolution => {
    const name = user.trim();
    if (name === "") return { error: "worker name required" };
    if (name.length > MAX_USER_LENGTH) return { error: "worker name too long" };
    const dot = name.indexOf(".");
    const given = dot < 0 ? name : name.slice(0, dot);
    const worker = dot < 0 ? "" : name.slice(dot + 1);
    const known = shared.get(given);
    if (known !== undefined) return { script: known.script, address: known.address, worker };
    try {
      const script = addressToScript(given, network);
      // A flat copy: `given` may be a slice that keeps the whole user name alive.
      const address = [...given].join("");
      if (shared.size >= SHARED_ADDRESSES) shared.delete(shared.keys().next().value!);
      shared.set(given, { address, script });
      return { script, address, worker };
    } catch (err) {
      const reason = err instanceof AddressError ? err.message : String(err);
      return { error: `worker name has no valid ${network.name} address: ${reason}` };
    }
  };
}
