/**
 * Who is signed in: reads the session cookie of a request and verifies it, with a small cache of
 * verified tokens so the saved-workers page polling every few seconds costs no RSA verification.
 *
 * @module
 */

import type { ClerkSession, ClerkVerifier } from "./clerk.ts";
import { readCookie } from "./request.ts";

/** Options of {@linkcode SessionReader}. */
export interface SessionReaderOptions {
  /** Verifies tokens. */
  readonly verifier: ClerkVerifier;
  /** Session cookie name. */
  readonly cookieName: string;
  /** Called (at most once a minute per user) when a signed-in user makes a request. */
  readonly onSeen?: (userId: string) => void;
  /** Verified tokens cached (default 1024). */
  readonly cacheSize?: number;
  /** Clock, ms since the epoch. */
  readonly now?: () => number;
}

/** Reads and verifies the session of requests. */
export class SessionReader {
  /** The verifier in use (the refresh route verifies new tokens with it). */
  readonly verifier: ClerkVerifier;
  /** Session cookie name. */
  readonly cookieName: string;
  readonly #o: SessionReaderOptions;
  readonly #cache = new Map<string, ClerkSession>();
  readonly #seen = new Map<string, number>();
  readonly #now: () => number;

  /** A reader for one cookie name and verifier. */
  constructor(options: SessionReaderOptions) {
    this.#o = options;
    this.verifier = options.verifier;
    this.cookieName = options.cookieName;
    this.#now = options.now ?? Date.now;
  }

  /** The verified session of `request`, or undefined when there is none or it is invalid. */
  async session(request: Request): Promise<ClerkSession | undefined> {
    const token = readCookie(request.headers.get("cookie"), this.cookieName);
    if (!token) return undefined;
    const now = this.#now();
    let session = this.#cache.get(token);
    if (session && session.expiresAt.getTime() <= now) {
      this.#cache.delete(token);
      session = undefined;
    }
    if (!session) {
      try {
        session = await this.verifier.verify(token);
      } catch {
        return undefined;
      }
      if (this.#cache.size >= (this.#o.cacheSize ?? 1024)) {
        this.#cache.delete(this.#cache.keys().next().value!);
      }
      this.#cache.set(token, session);
    }
    this.#noteSeen(session.userId, now);
    return session;
  }

  #noteSeen(userId: string, now: number): void {
    if (!this.#o.onSeen) return;
    const last = this.#seen.get(userId);
    if (last !== undefined && now - last < 60_000) return;
    if (this.#seen.size > 10_000) this.#seen.clear();
    this.#seen.set(userId, now);
    this.#o.onSeen(userId);
  }
}
