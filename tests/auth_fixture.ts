/**
 * A Clerk stand-in for tests: an RSA key pair made here, its JWKS served by a local `Deno.serve`,
 * session tokens signed for any user, and the real authenticated routes on a fresh store.
 *
 * @module
 */

import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { ClerkVerifier } from "../lib/auth/clerk.ts";
import { SessionReader } from "../lib/auth/session.ts";
import { createAuthRoutes } from "../routes/auth.ts";
import { openStore, type PoolStore } from "../lib/store/store.ts";
import type { WorkerSnapshot } from "../lib/pool/worker_stats.ts";
import type { NotifyTargetsOptions } from "../routes/saved_workers.ts";

/** Issuer of the stand-in's tokens. */
export const TEST_ISSUER = "https://clerk.pool.test";

/** The site the routes believe they are (for the same-origin guard). */
export const TEST_SITE = "http://pool.test";

/** A JWKS server and a signer of session tokens. */
export interface ClerkStandIn {
  /** The JWKS URL (`auth.clerk_jwks_url`). */
  readonly jwksUrl: string;
  /** A session token for `userId`, valid for `seconds`. */
  sign(userId: string, seconds?: number): Promise<string>;
  /** Stops the JWKS server. */
  close(): Promise<void>;
}

/** Starts the JWKS server with a fresh key pair. */
export async function startClerkStandIn(): Promise<ClerkStandIn> {
  const pair = await generateKeyPair("RS256", { extractable: true });
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "RS256", use: "sig" };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => Response.json({ keys: [jwk] }),
  );
  return {
    jwksUrl: `http://127.0.0.1:${server.addr.port}/.well-known/jwks.json`,
    async sign(userId, seconds = 3600) {
      const now = Math.floor(Date.now() / 1000);
      return await new SignJWT({ sub: userId, iss: TEST_ISSUER, iat: now, exp: now + seconds })
        .setProtectedHeader({ alg: "RS256", kid: "k1" })
        .sign(pair.privateKey);
    },
    close: () => server.shutdown(),
  };
}

/** The authenticated routes on a temporary store, with a Clerk stand-in. */
export interface AuthRoutesFixture {
  /** The Clerk stand-in. */
  readonly clerk: ClerkStandIn;
  /** The store behind the routes. */
  readonly store: PoolStore;
  /** Live workers the routes see; tests push and remove. */
  readonly live: WorkerSnapshot[];
  /** A request to the routes as `TEST_SITE`. */
  request(path: string, init?: RequestInit): Promise<Response>;
}

/** Runs `fn` against fresh routes (cookie `__session` unless `cookieName`); cleans up after. */
export async function withAuthRoutes(
  fn: (f: AuthRoutesFixture) => Promise<void>,
  options: {
    publicUrl?: string;
    cookieName?: string;
    withoutClerk?: boolean;
    notify?: NotifyTargetsOptions;
  } = {},
): Promise<void> {
  const clerk = await startClerkStandIn();
  const dir = await Deno.makeTempDir({ prefix: "denopool-auth-" });
  const store = await openStore(`${dir}/store/denopool.kv`);
  const live: WorkerSnapshot[] = [];
  const sessions = options.withoutClerk ? undefined : new SessionReader({
    verifier: new ClerkVerifier({ jwksUrl: clerk.jwksUrl, issuer: TEST_ISSUER }),
    cookieName: options.cookieName ?? "__session",
  });
  const app = createAuthRoutes({
    sessions,
    publicUrl: options.publicUrl,
    savedWorkers: { store, liveWorkers: () => live, discordEnabled: false, notify: options.notify },
  });
  try {
    await fn({
      clerk,
      store,
      live,
      request: async (path, init) => await app.request(`${TEST_SITE}${path}`, init),
    });
  } finally {
    store.close();
    await clerk.close();
    await Deno.remove(dir, { recursive: true });
  }
}
