/**
 * Checks of the URLs users give as their own targets (an ntfy topic, a webhook): the pool will
 * POST to them, so they must be `http(s)` URLs without credentials, at most 512 characters, and —
 * unless the operator allows it (`notify.allow_private_user_urls`) — must not name a loopback,
 * private, link-local or otherwise internal address or host name. Host names are not resolved
 * here: the check keeps honest mistakes and plain attempts out, not a name that resolves inward.
 *
 * @module
 */

import { IpRanges, parseIp } from "../net/mod.ts";

/** Longest target URL accepted. */
export const MAX_TARGET_URL_LENGTH = 512;

const INTERNAL = new IpRanges([
  "0.0.0.0/8",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.0.0.0/24",
  "192.168.0.0/16",
  "198.18.0.0/15",
  "224.0.0.0/3",
  "::/127",
  "fc00::/7",
  "fe80::/10",
  "ff00::/8",
]);

const INTERNAL_NAMES = /(?:^|\.)(?:localhost|local|internal|intranet|lan|home\.arpa)$/i;

/** Options of {@linkcode checkTargetUrl}. */
export interface TargetUrlOptions {
  /** Accept loopback and private addresses (a lab pool). */
  readonly allowPrivate?: boolean;
}

/**
 * Why `value` cannot be a user's target URL, or undefined when it can.
 *
 * @example
 * ```ts
 * import { checkTargetUrl } from "./targets.ts";
 *
 * console.log(checkTargetUrl("https://ntfy.sh/my-rigs")); // undefined
 * console.log(checkTargetUrl("http://127.0.0.1:9000/")); // "an address on the internet, …"
 * ```
 */
export function checkTargetUrl(value: string, options: TargetUrlOptions = {}): string | undefined {
  if (value.length > MAX_TARGET_URL_LENGTH) {
    return `a URL of at most ${MAX_TARGET_URL_LENGTH} characters`;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "an http or https URL";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return "an http or https URL";
  if (url.username !== "" || url.password !== "") return "a URL without a user name or password";
  if (url.hostname === "") return "an http or https URL";
  if (options.allowPrivate) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const ip = parseIp(host);
  if (ip ? INTERNAL.has(ip) : INTERNAL_NAMES.test(host) || !host.includes(".")) {
    return "an address on the internet, not a local or private one";
  }
  return undefined;
}
