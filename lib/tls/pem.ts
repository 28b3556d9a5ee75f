/**
 * PEM armour (RFC 7468): DER bytes ⇄ `-----BEGIN LABEL-----` base64 text.
 *
 * @module
 */

/** Wraps DER bytes in PEM armour with the given label (e.g. `CERTIFICATE`, `PRIVATE KEY`). */
export function derToPem(label: string, der: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < der.length; i += 0x8000) {
    binary += String.fromCharCode(...der.subarray(i, i + 0x8000));
  }
  const base64 = btoa(binary);
  const lines: string[] = [];
  for (let i = 0; i < base64.length; i += 64) lines.push(base64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** The DER bytes of every PEM block with `label` in `text`, in order (none → empty array). */
export function pemToDer(label: string, text: string): Uint8Array<ArrayBuffer>[] {
  const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const pattern = new RegExp(
    `-----BEGIN ${escaped}-----([\\s\\S]*?)-----END ${escaped}-----`,
    "g",
  );
  const blocks: Uint8Array<ArrayBuffer>[] = [];
  for (const match of text.matchAll(pattern)) {
    const binary = atob(match[1].replace(/\s+/g, ""));
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    blocks.push(bytes);
  }
  return blocks;
}
