/**
 * The status site's HTTP concerns, as Hono middleware where Hono has one:
 *
 * - security headers through `hono/secure-headers`, each configured to send exactly the headers
 *   the site always sent (every default it would add on its own is switched off);
 * - the request-body limit of the authenticated routes through `hono/body-limit`;
 * - ETag revalidation (`304 Not Modified`) of the static files through `hono/etag`;
 * - the same-origin guard of cookie-authenticated requests, which stays hand-written (see
 *   {@linkcode sameOrigin} for why `hono/csrf` does not fit).
 *
 * Pinned by `tests/http_headers_test.ts`: every kind of answer, with its exact headers.
 *
 * Cost, measured in one process against the hand-written versions (`app.fetch`, 30 000 requests
 * per round, 12 interleaved rounds, medians, three runs): `/api/overview` 1.02–1.10× the old rate
 * (its own nosniff copies are gone), a static file 0.85–0.91× (about 1.5 µs more, for files
 * browsers keep for a year), a page 0.94–1.01×. Nothing here had to stay hand-written for speed.
 *
 * Everything here is for this folder's route modules only (`@internal`): what the rest of the code
 * sees of them is the `Routes` they return.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { etag } from "hono/etag";
import { createMiddleware } from "hono/factory";
import { secureHeaders } from "hono/secure-headers";
import {
  BodyError,
  canonicalHost,
  isSameOriginRequest,
  MAX_BODY_BYTES,
  parseBodyFields,
} from "../lib/auth/request.ts";

/** Every header `secureHeaders` sends by default, switched off: each use names its own. */
const NO_DEFAULT_HEADERS = {
  crossOriginEmbedderPolicy: false,
  crossOriginResourcePolicy: false,
  crossOriginOpenerPolicy: false,
  originAgentCluster: false,
  referrerPolicy: false,
  strictTransportSecurity: false,
  xContentTypeOptions: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xFrameOptions: false,
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
} as const;

/**
 * `X-Content-Type-Options: nosniff` on every answer: the status app's one header for all.
 *
 * @internal
 */
export function noSniff(): MiddlewareHandler {
  return secureHeaders({ ...NO_DEFAULT_HEADERS, xContentTypeOptions: true });
}

/**
 * The headers of everything the page routes answer (pages, static files, redirects, their
 * errors): nosniff, no referrer, no framing, a same-origin opener, and no camera, microphone,
 * geolocation or payment.
 *
 * @internal
 */
export function pageHeaders(): MiddlewareHandler {
  return secureHeaders({
    ...NO_DEFAULT_HEADERS,
    xContentTypeOptions: true,
    referrerPolicy: "no-referrer",
    xFrameOptions: "DENY",
    crossOriginOpenerPolicy: "same-origin",
    permissionsPolicy: { camera: [], microphone: [], geolocation: [], payment: [] },
  });
}

/**
 * The Content-Security-Policy of the HTML pages: nothing but the site's own scripts, styles,
 * images and connections, no inline code, no framing, forms only to the site. With Clerk
 * configured, its origin is allowed for scripts, connections and frames, plus the inline styles
 * and blob workers of its sign-in widget.
 *
 * @internal
 */
export function pageContentSecurityPolicy(clerkOrigin?: string): MiddlewareHandler {
  const clerk = clerkOrigin ? [clerkOrigin] : [];
  return secureHeaders({
    ...NO_DEFAULT_HEADERS,
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      scriptSrc: ["'self'", ...clerk],
      // Clerk's sign-in widget injects its own styles.
      styleSrc: clerkOrigin ? ["'self'", "'unsafe-inline'"] : ["'self'"],
      imgSrc: ["'self'", "data:", ...(clerkOrigin ? ["https://img.clerk.com"] : [])],
      connectSrc: ["'self'", ...clerk],
      ...(clerkOrigin ? { frameSrc: clerk, workerSrc: ["'self'", "blob:"] } : {}),
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
    },
  });
}

/**
 * `304 Not Modified` for a `GET`/`HEAD` whose `If-None-Match` names the answer's `ETag`. The
 * static files set their own ETag (a digest of their bytes, made once at start), so no body is
 * hashed per request.
 *
 * @internal
 */
export function revalidate(): MiddlewareHandler {
  return etag();
}

const PRIVATE = "private, no-store";

/**
 * A plain-text error of the authenticated routes (`Cache-Control: private, no-store`).
 *
 * @internal
 */
export function privateError(
  c: Context,
  status: 400 | 401 | 403 | 404 | 409 | 413 | 415,
  text: string,
): Response {
  c.header("Cache-Control", PRIVATE);
  return c.text(`${text}\n`, status);
}

/**
 * Refuses (`403 forbidden`) a request that does not come from the site itself, by
 * `isSameOriginRequest` against the public URL's host (or the request's Host).
 *
 * Not `hono/csrf`: with a matching `origin` function it fails 5 of the 22 auth tests, because it
 * checks only form and text bodies (a cross-site JSON refresh passes), never a `GET` (a cross-site
 * `GET /logout` passes), lets `Sec-Fetch-Site: same-origin` vouch for a foreign `Origin`, and
 * refuses a request with neither header (a script with a cookie) and the `Origin: null` that the
 * pages' own no-referrer POSTs carry.
 *
 * @internal
 */
export function sameOrigin(publicUrl: string | undefined): MiddlewareHandler {
  return createMiddleware(async (c, next) => {
    if (!isSameOriginRequest(c.req.raw.headers, canonicalHost(publicUrl, c.req.raw))) {
      return privateError(c, 403, "forbidden");
    }
    await next();
    return undefined;
  });
}

/** `hono/body-limit` at {@linkcode MAX_BODY_BYTES}; its answer is replaced by a `BodyError`. */
const limitBody = bodyLimit({ maxSize: MAX_BODY_BYTES, onError: (c) => c.body(null, 413) });

/**
 * The fields of the request's JSON or form body (`parseBodyFields`), read through
 * `hono/body-limit`: a body over {@linkcode MAX_BODY_BYTES} (declared or streamed) throws
 * `BodyError` 413 without being read further. Called where a handler reads its body, so the
 * checks before it (Clerk configured, same origin, signed in) answer first, as they always did.
 *
 * @internal
 */
export async function readBodyFields(c: Context): Promise<Record<string, unknown>> {
  let fields: Record<string, unknown> = {};
  const refused = await limitBody(c, async () => {
    fields = await parseBodyFields(c.req.raw);
  });
  if (refused) throw new BodyError(413, "body too large");
  return fields;
}
