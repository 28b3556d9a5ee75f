/**
 * Clerk session JWT verification with jose against the configured JWKS.
 *
 * Rules: RS256 only (so `alg: none` and HS256 "signed" with the public key are refused before any
 * key is looked at); the header must name a `kid` found in the JWKS; `iss` must equal the issuer;
 * `aud` and `azp` are checked when configured; `exp` and `sub` are required; `exp`/`nbf` allow a
 * small clock skew. An unknown `kid` refetches the JWKS (key rotation), at most once per cooldown,
 * so a flood of made-up `kid`s cannot turn the pool into a JWKS hammer.
 *
 * @module
 */

import { errors as joseErrors, importJWK, type JWK, jwtVerify, type KeyLike } from "jose";

/** Options of {@linkcode ClerkVerifier}. */
export interface ClerkVerifierOptions {
  /** URL of the JWKS (`[auth].clerk_jwks_url`). */
  readonly jwksUrl: string;
  /** Required `iss` (`[auth].clerk_issuer`). */
  readonly issuer: string;
  /** Required `aud` when non-empty. */
  readonly audience?: string;
  /** Allowed `azp` values when non-empty (the token must carry one of them). */
  readonly authorizedParties?: readonly string[];
  /** Clock skew allowed on `exp`/`nbf`, seconds (default 5). */
  readonly clockSkewSeconds?: number;
  /** Least time between two JWKS fetches caused by unknown `kid`s, ms (default 5 min). */
  readonly refetchCooldownMs?: number;
  /** Timeout of one JWKS fetch, ms (default 5 s). */
  readonly fetchTimeoutMs?: number;
  /** Clock, ms since the epoch (default `Date.now`). */
  readonly now?: () => number;
  /** HTTP client (default the global `fetch`). */
  readonly fetch?: typeof fetch;
}

/** A verified Clerk session. */
export interface ClerkSession {
  /** Clerk user id (`sub`). */
  readonly userId: string;
  /** Clerk session id (`sid`), when present. */
  readonly sessionId?: string;
  /** When the token expires (`exp`). */
  readonly expiresAt: Date;
}

/** A token that failed verification; `reason` is for logs, never for the client. */
export class InvalidTokenError extends Error {
  /** Why the token was refused. */
  constructor(reason: string) {
    super(reason);
    this.name = "InvalidTokenError";
  }
}

/** Longest token accepted (Clerk session tokens are well under 4 KiB). */
export const MAX_TOKEN_LENGTH = 8192;

/** Verifies Clerk session tokens; holds the JWKS keys by `kid`. */
export class ClerkVerifier {
  readonly #o: Required<Omit<ClerkVerifierOptions, "audience" | "authorizedParties">> & {
    audience: string;
    authorizedParties: readonly string[];
  };
  #keys = new Map<string, KeyLike | Uint8Array>();
  #lastFetch = Number.NEGATIVE_INFINITY;
  #inflight: Promise<void> | undefined;
  /** JWKS fetches made so far (for tests and the operator page). */
  fetches = 0;

  /** A verifier for one Clerk instance; the JWKS is fetched on first use. */
  constructor(options: ClerkVerifierOptions) {
    this.#o = {
      clockSkewSeconds: 5,
      refetchCooldownMs: 5 * 60_000,
      fetchTimeoutMs: 5_000,
      now: Date.now,
      fetch: globalThis.fetch.bind(globalThis),
      ...options,
      audience: options.audience ?? "",
      authorizedParties: options.authorizedParties ?? [],
    };
  }

  /** Fetches the JWKS now (at startup; later fetches happen on unknown `kid`s). */
  refresh(): Promise<void> {
    this.#inflight ??= this.#fetchKeys().finally(() => this.#inflight = undefined);
    return this.#inflight;
  }

  /** Verifies `token`; resolves with the session or rejects with {@linkcode InvalidTokenError}. */
  async verify(token: string): Promise<ClerkSession> {
    if (typeof token !== "string" || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
      throw new InvalidTokenError("token missing or too long");
    }
    const o = this.#o;
    let payload;
    try {
      ({ payload } = await jwtVerify(token, (header) => this.#keyFor(header.kid), {
        algorithms: ["RS256"],
        issuer: o.issuer,
        audience: o.audience || undefined,
        clockTolerance: o.clockSkewSeconds,
        currentDate: new Date(o.now()),
        requiredClaims: ["exp", "sub"],
      }));
    } catch (err) {
      if (err instanceof InvalidTokenError) throw err;
      if (err instanceof joseErrors.JOSEError) throw new InvalidTokenError(err.code);
      throw new InvalidTokenError(err instanceof Error ? err.message : String(err));
    }
    if (typeof payload.sub !== "string" || payload.sub === "") {
      throw new InvalidTokenError("empty sub");
    }
    if (o.authorizedParties.length > 0) {
      if (typeof payload.azp !== "string" || !o.authorizedParties.includes(payload.azp)) {
        throw new InvalidTokenError("azp not authorized");
      }
    }
    return {
      userId: payload.sub,
      sessionId: typeof payload.sid === "string" ? payload.sid : undefined,
      expiresAt: new Date(payload.exp! * 1000),
    };
  }

  async #keyFor(kid: string | undefined): Promise<KeyLike | Uint8Array> {
    if (kid === undefined) throw new InvalidTokenError("no kid");
    const known = this.#keys.get(kid);
    if (known) return known;
    // Key rotation: refetch, unless a fetch ran within the cooldown (then the kid is made up).
    if (this.#inflight) await this.#inflight.catch(() => {});
    else if (this.#o.now() - this.#lastFetch >= this.#o.refetchCooldownMs) {
      await this.refresh().catch(() => {});
    }
    const key = this.#keys.get(kid);
    if (!key) throw new InvalidTokenError("unknown kid");
    return key;
  }

  async #fetchKeys(): Promise<void> {
    this.#lastFetch = this.#o.now();
    this.fetches++;
    const res = await this.#o.fetch(this.#o.jwksUrl, {
      headers: { accept: "application/json" },
      signal: AbortSignal.timeout(this.#o.fetchTimeoutMs),
    });
    if (!res.ok) {
      await res.body?.cancel();
      throw new InvalidTokenError(`JWKS fetch: HTTP ${res.status}`);
    }
    const body = await res.json() as { keys?: unknown };
    if (!Array.isArray(body.keys)) throw new InvalidTokenError("JWKS without keys");
    const next = new Map<string, KeyLike | Uint8Array>();
    for (const jwk of body.keys as JWK[]) {
      if (jwk?.kty !== "RSA" || typeof jwk.kid !== "string") continue;
      if (jwk.alg !== undefined && jwk.alg !== "RS256") continue;
      if (jwk.use !== undefined && jwk.use !== "sig") continue;
      try {
        next.set(jwk.kid, await importJWK({ ...jwk, alg: "RS256" }, "RS256"));
      } catch {
        // a malformed key is skipped; the others stay usable
      }
    }
    this.#keys = next;
  }
}
