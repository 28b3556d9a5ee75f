/**
 * The worker-name hash: SHA-256 of a worker name's UTF-8 bytes as 64 lowercase hex. It keys saved
 * workers in the store and is what a visitor's browser sends to look a worker up (computed there by
 * `static/sha256.js`), so the full name never travels in a URL or a log. One definition for the
 * store (`lib/store/`), the lookup routes (`routes/pages/lookup.ts`) and the Discord notifier.
 *
 * @module
 */

import { sha256 } from "../bitcoin/mod.ts";
import { bytesToHex } from "../bitcoin/mod.ts";

const encoder = new TextEncoder();

/** SHA-256 of a worker name's UTF-8 bytes as 64 lowercase hex (saved-worker key, lookup hash). */
export function workerNameHash(name: string): string {
  return bytesToHex(sha256(encoder.encode(name)));
}
