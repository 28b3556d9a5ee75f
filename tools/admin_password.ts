/**
 * `deno task admin-password`: sets the admin panel's password. It reads the password (twice, not
 * echoed, on a terminal; once from a pipe), hashes it with PBKDF2-SHA256 and a fresh salt, and
 * writes `admin_password_hash` into `secrets.toml`, keeping every other key. The file is made
 * readable by its owner only.
 *
 * ```
 * deno task admin-password [--secrets PATH]     # default ./secrets.toml
 * printf '%s\n' "$PASSWORD" | deno task admin-password --secrets /etc/denopool/secrets.toml
 * ```
 *
 * @module
 */

import { parse, stringify } from "smol-toml";
import { hashPassword } from "../lib/admin/password.ts";
import { SECRETS_FILE_NAME } from "../lib/config/load.ts";

/** Shortest password accepted. */
export const MIN_PASSWORD_LENGTH = 10;

/** Writes `hash` as `admin_password_hash` into the TOML file at `path`, keeping its other keys. */
export async function writePasswordHash(path: string, hash: string): Promise<void> {
  let doc: Record<string, unknown> = {};
  try {
    doc = parse(await Deno.readTextFile(path));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) {
      throw new Error(`${path}: ${error instanceof Error ? error.message : error}`);
    }
  }
  doc.admin_password_hash = hash;
  const tmp = `${path}.tmp-${crypto.randomUUID()}`;
  await Deno.writeTextFile(tmp, stringify(doc) + "\n", { mode: 0o600 });
  await Deno.chmod(tmp, 0o600);
  await Deno.rename(tmp, path);
}

async function readLine(prompt: string, hidden: boolean): Promise<string> {
  const enc = new TextEncoder();
  if (prompt !== "") await Deno.stderr.write(enc.encode(prompt));
  if (hidden) Deno.stdin.setRaw(true);
  const chars: number[] = [];
  const buf = new Uint8Array(1);
  try {
    for (;;) {
      const n = await Deno.stdin.read(buf);
      if (n === null) break;
      const c = buf[0];
      if (c === 0x0a || c === 0x0d) break;
      if (hidden && c === 0x03) throw new Error("cancelled");
      if (hidden && (c === 0x7f || c === 0x08)) {
        chars.pop();
        continue;
      }
      chars.push(c);
    }
  } finally {
    if (hidden) {
      Deno.stdin.setRaw(false);
      await Deno.stderr.write(enc.encode("\n"));
    }
  }
  return new TextDecoder().decode(new Uint8Array(chars));
}

/** Reads the password (confirmed on a terminal) and checks its length. */
export async function readPassword(): Promise<string> {
  const tty = Deno.stdin.isTerminal();
  const password = await readLine(tty ? "admin password: " : "", tty);
  if (tty && await readLine("again: ", true) !== password) {
    throw new Error("the two passwords differ");
  }
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new Error(`the password needs at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  return password;
}

if (import.meta.main) {
  let path = SECRETS_FILE_NAME;
  const args = [...Deno.args];
  while (args.length > 0) {
    const arg = args.shift()!;
    if (arg === "--secrets" && args.length > 0) path = args.shift()!;
    else if (arg.startsWith("--secrets=")) path = arg.slice("--secrets=".length);
    else {
      console.error(`admin-password: unknown argument ${arg}; usage: [--secrets PATH]`);
      Deno.exit(2);
    }
  }
  try {
    const hash = await hashPassword(await readPassword());
    await writePasswordHash(path, hash);
    console.error(`admin-password: admin_password_hash written to ${path}`);
  } catch (error) {
    console.error(`admin-password: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  }
}
