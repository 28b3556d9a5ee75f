/**
 * Censoring for public JSON: worker names, payout addresses and hashes are shortened so a status
 * page can be embedded anywhere without publishing who mines to which address.
 *
 * Rules (as the reference pool, plus a guard on long worker suffixes):
 * - only `[A-Za-z0-9._-]` survive in names and hashes;
 * - an address or the part of a worker name before the first `.` becomes first 8 + `...` + last 8
 *   when longer than 19 characters; the `.suffix` is kept, and shortened the same way when it is
 *   itself longer than 19 characters (so `rig.ADDRESS` cannot leak an address either);
 * - hashes become `...` + last 16 hex;
 * - free text (ban reasons, error messages) has every address-like token shortened.
 *
 * @module
 */

const UNSAFE_ID_CHARS = /[^A-Za-z0-9._-]/g;

/** Keeps only `[A-Za-z0-9._-]`; when longer than `head + tail + 3` returns `head…tail` joined by `...`. */
export function shortDisplayId(value: string, head: number, tail: number): string {
  const clean = value.replace(UNSAFE_ID_CHARS, "");
  if (clean.length <= head + tail + 3) return clean;
  return clean.slice(0, head) + "..." + (tail > 0 ? clean.slice(clean.length - tail) : "");
}

/** A payout address as `first8...last8`. */
export function censorAddress(address: string): string {
  return shortDisplayId(address, 8, 8);
}

/** A worker name as `first8...last8` of the part before the first `.`, with the `.suffix` kept. */
export function censorWorker(name: string): string {
  const clean = name.replace(UNSAFE_ID_CHARS, "");
  const dot = clean.indexOf(".");
  if (dot < 0) return shortDisplayId(clean, 8, 8);
  const base = shortDisplayId(clean.slice(0, dot), 8, 8);
  const suffix = shortDisplayId(clean.slice(dot + 1), 8, 8);
  return base + "." + suffix;
}

/** A hash as `...` + its last 16 characters. */
export function censorHash(hash: string): string {
  return shortDisplayId(hash, 0, 16);
}

// bech32/bech32m addresses of every network, and base58 (P2PKH/P2SH, main and test prefixes).
const ADDRESS_TOKEN =
  /\b(?:bc|tb|bcrt)1[ac-hj-np-z02-9]{6,87}\b|\b(?:BC|TB|BCRT)1[AC-HJ-NP-Z02-9]{6,87}\b|\b[123mn][1-9A-HJ-NP-Za-km-z]{24,34}\b/g;

/**
 * Free text made safe to publish: every known secret (full worker names, addresses) and every
 * address-like token is censored, control characters become spaces, and the result is cut to
 * `maxLength` characters.
 */
export function censorText(
  text: string,
  secrets: Iterable<string> = [],
  maxLength = 160,
): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length > 19 && out.includes(secret)) {
      out = out.split(secret).join(censorWorker(secret));
    }
  }
  // deno-lint-ignore no-control-regex
  out = out.replace(ADDRESS_TOKEN, censorAddress).replace(/[\u0000-\u001f\u007f]/g, " ");
  return out.length > maxLength ? out.slice(0, maxLength - 1) + "…" : out;
}

/** A Stratum user agent split into a miner type and version, both sanitised and bounded. */
export function parseUserAgent(agent: string): { name: string; version?: string } | undefined {
  const clean = censorText(agent, [], 64).replace(/[^A-Za-z0-9._ /()+-]/g, "").trim();
  if (clean === "") return undefined;
  const match = /^([^/\s]+)[/\s]+(.+)$/.exec(clean);
  if (!match) return { name: clean.slice(0, 32) };
  return { name: match[1].slice(0, 32), version: match[2].trim().slice(0, 32) };
}
