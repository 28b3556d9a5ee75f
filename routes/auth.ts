/**
 * The authenticated routes: `POST /api/auth/session-refresh` (Clerk session → cookie) plus the
 * saved-worker routes of `saved_workers.ts`, as one Hono app for the status app's `auth` mount.
 *
 * Session refresh, per the contract: 404 when Clerk is not configured; 403 for a cross-site call
 * (`Sec-Fetch-Site: cross-site`, or an `Origin`/`Referer` whose host is not the site's; see
 * `isSameOriginRequest` for the `Origin: null` the pages' no-referrer policy makes browsers send); the
 * token from a JSON or form body (400 `missing token`); 401 `invalid token` when verification
 * fails; else the cookie is set (HttpOnly, SameSite=Lax, Secure over TLS or with an https public
 * URL, expiring with the token) and `{"ok":true,"expires_at":…}` is returned.
 *
 * Sign-out: `GET /logout` (the page's link) and `POST /logout` clear the session cookie (empty,
 * `Max-Age=0`, an expiry in 1970) and answer `303` to `/`. Both carry the same-origin guard, so
 * another site cannot sign a user out; 404 when Clerk is not configured.
 *
 * @module
 */

import { Hono } from "hono";
import type { Context } from "hono";
import { BodyError, sessionCookie, wantsSecureCookie } from "../lib/auth/request.ts";
import type { SessionReader } from "../lib/auth/session.ts";
import { privateError, readBodyFields, sameOrigin } from "./middleware.ts";
import { mountRoutes, type Routes } from "./routes.ts";
import { createSavedWorkerRoutes, type SavedWorkerRoutesOptions } from "./saved_workers.ts";

/** Options of {@linkcode createAuthRoutes}. */
export interface AuthRoutesOptions {
  /** Clerk sessions; undefined when Clerk is not configured (every route answers 404). */
  readonly sessions?: SessionReader;
  /** `server.status_public_url` ("" or undefined = the request's Host). */
  readonly publicUrl?: string;
  /** The saved-worker routes' data; omitted → only the session refresh is served. */
  readonly savedWorkers?: Omit<SavedWorkerRoutesOptions, "sessions" | "publicUrl">;
}

const PRIVATE = "private, no-store";

/** Options of {@linkcode clearedSessionCookie}. */
export interface ClearedCookieOptions {
  /** Cookie name (`[auth].clerk_session_cookie_name`). */
  readonly name: string;
  /** Set `Secure` like the cookie being cleared (a browser ignores a mismatched clear). */
  readonly secure: boolean;
}

/** `Set-Cookie` value that removes the session cookie: empty, `Max-Age=0`, expired in 1970. */
export function clearedSessionCookie(o: ClearedCookieOptions): string {
  return `${o.name}=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; ` +
    `SameSite=Lax${o.secure ? "; Secure" : ""}`;
}

/**
 * The session refresh and, when configured, the saved-worker routes. Each route answers in this
 * order: 404 without Clerk, 403 from another site (`sameOrigin`), then its own checks (the body
 * through `hono/body-limit`, `readBodyFields`).
 */
export function createAuthRoutes(options: AuthRoutesOptions): Routes {
  const app = new Hono();
  const publicUrl = options.publicUrl || undefined;
  const sessions = options.sessions;
  if (!sessions) {
    const notFound = (c: Context) => privateError(c, 404, "not found");
    app.post("/api/auth/session-refresh", notFound);
    app.get("/logout", notFound);
    app.post("/logout", notFound);
  } else {
    const sameSite = sameOrigin(publicUrl);
    app.post("/api/auth/session-refresh", sameSite, async (c) => {
      let fields: Record<string, unknown>;
      try {
        fields = await readBodyFields(c);
      } catch (err) {
        if (err instanceof BodyError) {
          return err.status === 400
            ? privateError(c, 400, "missing token")
            : privateError(c, err.status, err.message);
        }
        throw err;
      }
      const token = typeof fields.token === "string" ? fields.token.trim() : "";
      if (token === "") return privateError(c, 400, "missing token");
      let expiresAt: Date;
      try {
        expiresAt = (await sessions.verifier.verify(token)).expiresAt;
      } catch {
        return privateError(c, 401, "invalid token");
      }
      c.header(
        "Set-Cookie",
        sessionCookie(token, {
          name: sessions.cookieName,
          expiresAt,
          secure: wantsSecureCookie(c.req.raw, publicUrl),
        }),
      );
      c.header("Cache-Control", PRIVATE);
      return c.json({ ok: true, expires_at: expiresAt.toISOString() });
    });

    const logout = (c: Context) => {
      c.header(
        "Set-Cookie",
        clearedSessionCookie({
          name: sessions.cookieName,
          secure: wantsSecureCookie(c.req.raw, publicUrl),
        }),
      );
      c.header("Cache-Control", PRIVATE);
      return c.redirect("/", 303);
    };
    app.get("/logout", sameSite, logout);
    app.post("/logout", sameSite, logout);
  }

  if (options.savedWorkers) {
    mountRoutes(app, createSavedWorkerRoutes({ ...options.savedWorkers, sessions, publicUrl }));
  }
  return app;
}
