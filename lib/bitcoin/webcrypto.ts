/**
 * Double SHA-256 through the platform's WebCrypto (`crypto.subtle`), for callers that prefer the
 * native implementation and can await.
 *
 * @module
 */

/** Double SHA-256 of `data` (internal byte order) via `crypto.subtle.digest`. */
export async function sha256dAsync(data: Uint8Array): Promise<Uint8Array> {
  // WebCrypto wants ArrayBuffer-backed input; copy only when the bytes live in a SharedArrayBuffer.
  const input = data.buffer instanceof ArrayBuffer
    ? data as Uint8Array<ArrayBuffer>
    : new Uint8Array(data);
  const first = await crypto.subtle.digest("SHA-256", input);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", first));
}
