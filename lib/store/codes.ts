/**
 * One-time codes that link a Discord user to a pool user: the signed-in user asks for a code,
 * posts it in the pool's Discord channel, and the link bot redeems it. A user has at most one live
 * code; a code lives {@linkcode ONE_TIME_CODE_TTL_MS} and works once.
 *
 * @module
 */

import { decodeValue, encodeValue } from "./codec.ts";
import type { KvCore } from "./core.ts";
import { keys } from "./keys.ts";

/** Life of a one-time Discord link code (ms). */
export const ONE_TIME_CODE_TTL_MS = 5 * 60_000;

/** A one-time code handed out to link Discord. */
export interface OneTimeCode {
  /** The code, `XXXXX-XXXXX`. */
  readonly code: string;
  /** The user it links. */
  readonly userId: string;
  /** When it stops working. */
  readonly expiresAt: Date;
}

// Crockford-like alphabet: no I, L, O, U (no misreading, no words).
const CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ0123456789";

/** A fresh random one-time code, `XXXXX-XXXXX` (50 bits). */
export function newOneTimeCode(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(10));
  let out = "";
  for (let i = 0; i < 10; i++) {
    if (i === 5) out += "-";
    out += CODE_ALPHABET[bytes[i] & 31];
  }
  return out;
}

/** Normalises user input of a code (case, spaces); undefined when it cannot be one. */
export function normaliseOneTimeCode(input: unknown): string | undefined {
  if (typeof input !== "string") return undefined;
  const s = input.trim().toUpperCase();
  return /^[A-Z0-9]{5}-[A-Z0-9]{5}$/.test(s) ? s : undefined;
}

/** Adds to `op` the deletion of `code`, and of the user's live-code entry `of` when it names it. */
function dropCode(
  op: Deno.AtomicOperation,
  code: string,
  userId: string,
  of: Deno.KvEntryMaybe<string>,
): Deno.AtomicOperation {
  op.delete(keys.code(code));
  if (of.value !== null && decodeValue<string>(of.value) === code) op.delete(keys.codeOf(userId));
  return op;
}

/** Stored one-time link codes. */
export interface CodeStore {
  /** A new one-time code for `userId`; an older live code of the user stops working. */
  create(userId: string): Promise<OneTimeCode>;
  /** The live code of `userId`, if any. */
  live(userId: string): Promise<OneTimeCode | undefined>;
  /** Uses up a code: returns its user when it was live, and deletes it either way. */
  redeem(code: string): Promise<string | undefined>;
  /** Clears `code` when it belongs to `userId`; true when something was cleared. */
  clear(userId: string, code: string): Promise<boolean>;
}

/**
 * {@linkcode CodeStore} on Deno KV: `["v1","code",code]` and the user's one live code
 * `["v1","code-of",userId]`, both expiring with the code.
 */
export class KvCodeStore implements CodeStore {
  readonly #core: KvCore;

  /** A code store on `core`. */
  constructor(core: KvCore) {
    this.#core = core;
  }

  /** A new one-time code for `userId`; an older live code of the user stops working. */
  create(userId: string): Promise<OneTimeCode> {
    const core = this.#core;
    return core.transact(async () => {
      const previous = await core.kv.get<string>(keys.codeOf(userId));
      const code = newOneTimeCode();
      const created: OneTimeCode = {
        code,
        userId,
        expiresAt: new Date(core.now() + ONE_TIME_CODE_TTL_MS),
      };
      const op = core.atomic().check(previous).check({ key: keys.code(code), versionstamp: null });
      if (previous.value !== null) op.delete(keys.code(decodeValue<string>(previous.value)));
      op.set(keys.code(code), encodeValue(created), { expireIn: ONE_TIME_CODE_TTL_MS });
      op.set(keys.codeOf(userId), encodeValue(code), { expireIn: ONE_TIME_CODE_TTL_MS });
      return { op, result: created };
    });
  }

  /** The live code of `userId`, if any. */
  async live(userId: string): Promise<OneTimeCode | undefined> {
    const of = await this.#core.get<string>(keys.codeOf(userId));
    if (of === undefined) return undefined;
    const found = await this.#core.get<OneTimeCode>(keys.code(of));
    return found && found.expiresAt.getTime() > this.#core.now() ? found : undefined;
  }

  /** Uses up a code: returns its user when it was live, and deletes it either way. */
  redeem(code: string): Promise<string | undefined> {
    const core = this.#core;
    return core.transact(async () => {
      const entry = await core.kv.get<string>(keys.code(code));
      if (entry.value === null) return { result: undefined };
      const found = decodeValue<OneTimeCode>(entry.value);
      const of = await core.kv.get<string>(keys.codeOf(found.userId));
      const op = dropCode(core.atomic().check(entry, of), code, found.userId, of);
      return { op, result: found.expiresAt.getTime() > core.now() ? found.userId : undefined };
    });
  }

  /** Clears `code` when it belongs to `userId`; true when something was cleared. */
  clear(userId: string, code: string): Promise<boolean> {
    const core = this.#core;
    return core.transact(async () => {
      const entry = await core.kv.get<string>(keys.code(code));
      if (entry.value === null) return { result: false };
      if (decodeValue<OneTimeCode>(entry.value).userId !== userId) return { result: false };
      const of = await core.kv.get<string>(keys.codeOf(userId));
      const op = dropCode(core.atomic().check(entry, of), code, userId, of);
      return { op, result: true };
    });
  }
}
