/**
 * The one HTTP call the channels make, with its failures sorted for the queue: a network error, a
 * timeout, HTTP 429 and 5xx are retryable {@linkcode DeliveryError}s (429 with its `Retry-After`),
 * any other non-2xx is final. The response body is read (and returned) so connections are reused.
 *
 * @module
 */

import { DeliveryError } from "./queue.ts";

/** The answer of a successful call. */
export interface HttpAnswer {
  /** HTTP status (2xx). */
  readonly status: number;
  /** Body text. */
  readonly text: string;
}

/** Sends one request; resolves on 2xx, rejects with a {@linkcode DeliveryError} otherwise. */
export async function deliverHttp(
  fetcher: typeof fetch,
  url: string,
  init: RequestInit,
  what: string,
): Promise<HttpAnswer> {
  let res: Response;
  try {
    res = await fetcher(url, init);
  } catch (err) {
    throw new DeliveryError(`${what}: ${err instanceof Error ? err.message : String(err)}`, true);
  }
  const text = await res.text().catch(() => "");
  if (res.ok) return { status: res.status, text };
  const retryable = res.status === 429 || res.status >= 500;
  const after = Number(res.headers.get("retry-after"));
  throw new DeliveryError(
    `${what}: HTTP ${res.status} ${text.slice(0, 200)}`.trim(),
    retryable,
    res.status === 429 && Number.isFinite(after) && after >= 0 ? after * 1000 : undefined,
  );
}

/** `value` as an HTTP header: as is when printable ASCII, else an RFC 2047 UTF-8 encoded word. */
export function headerText(value: string): string {
  const flat = value.replace(/[\r\n]+/g, " ");
  if (/^[\x20-\x7e]*$/.test(flat)) return flat;
  const bytes = new TextEncoder().encode(flat);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return `=?UTF-8?B?${btoa(binary)}?=`;
}
