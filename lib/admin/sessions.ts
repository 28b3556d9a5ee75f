/**
 * Admin sessions: random 256-bit session ids kept in memory with an absolute expiry, each with
 * its own CSRF token, and a per-address limit on login attempts. A restart signs every operator
 * out, which is the safe default for an admin panel.
 *
 * Pure apart from the random ids: every call that depends on time takes `now` (ms).
 *
 * @example
 * ```ts
 * import { AdminSessions } from "./sessions.ts";
 * const sessions = new AdminSessions({ lifetimeMs: 3_600_000 });
 * const s = sessions.create("192.0.2.1", 0);
 * sessions.get(s.id, 1_000)?.csrf === s.csrf; // true
 * sessions.get(s.id, 3_600_000); // undefined: expired
 * ```
 *
 * @module
 */

import { constantTimeEqualText } from "./password.ts";

/** One signed-in operator. */
export interface AdminSession {
  /** The cookie value (base64url of 32 random bytes). */
  readonly id: string;
  /** The CSRF token every POST of this session must carry. */
  readonly csrf: string;
  /** Address the login came from. */
  readonly ip: string;
  /** When it was created (ms). */
  readonly createdAt: number;
  /** When it ends (ms); no sliding renewal. */
  readonly expiresAt: number;
}

/** Options of {@linkcode AdminSessions}. */
export interface AdminSessionsOptions {
  /** How long a session lasts. */
  readonly lifetimeMs: number;
  /** Most sessions held at once; the oldest goes first (default 64). */
  readonly maxSessions?: number;
}

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The sessions of the admin panel. */
export class AdminSessions {
  readonly #sessions = new Map<string, AdminSession>();
  readonly #lifetimeMs: number;
  readonly #max: number;

  /** An empty set of sessions. */
  constructor(options: AdminSessionsOptions) {
    if (!(options.lifetimeMs > 0)) throw new RangeError("session lifetime must be positive");
    this.#lifetimeMs = options.lifetimeMs;
    this.#max = options.maxSessions ?? 64;
  }

  /** Sessions held now (expired ones included until looked up or pruned). */
  get size(): number {
    return this.#sessions.size;
  }

  /** Starts a session for a login from `ip`. */
  create(ip: string, now: number): AdminSession {
    this.prune(now);
    while (this.#sessions.size >= this.#max) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest === undefined) break;
      this.#sessions.delete(oldest);
    }
    const session: AdminSession = {
      id: randomToken(),
      csrf: randomToken(),
      ip,
      createdAt: now,
      expiresAt: now + this.#lifetimeMs,
    };
    this.#sessions.set(session.id, session);
    return session;
  }

  /** The live session with id `id`, if any (the lookup is by map key, the id is random). */
  get(id: string | undefined, now: number): AdminSession | undefined {
    if (id === undefined || id === "") return undefined;
    const s = this.#sessions.get(id);
    if (s === undefined) return undefined;
    if (s.expiresAt <= now) {
      this.#sessions.delete(id);
      return undefined;
    }
    return s;
  }

  /** True when `token` is the CSRF token of `session` (constant-time). */
  checkCsrf(session: AdminSession, token: string | undefined): boolean {
    return token !== undefined && constantTimeEqualText(token, session.csrf);
  }

  /** Ends a session (logout). */
  end(id: string): void {
    this.#sessions.delete(id);
  }

  /** Drops expired sessions. */
  prune(now: number): void {
    for (const [id, s] of this.#sessions) if (s.expiresAt <= now) this.#sessions.delete(id);
  }
}
