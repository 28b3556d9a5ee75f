/**
 * Request helpers of the authenticated routes: the same-origin guard for cookie-authenticated
 * POSTs, a JSON-or-form body parser (its size limit is `hono/body-limit`, applied by the routes),
 * and the session cookie.
 *
 * @module
 */

/**
 * True when a state-changing request comes from the site itself: `Sec-Fetch-Site: cross-site` is
 * refused, and `Origin` and `Referer`, when present, must name `canonicalHost` (host[:port]).
 * `Origin: null` passes only beside `Sec-Fetch-Site: same-origin`: the pages send
 * `Referrer-Policy: no-referrer`, under which browsers send `Origin: null` on the site's own POSTs;
 * anywhere else (a sandboxed frame, a cross-site redirect) it is refused.
 */
export function isSameOriginRequest(headers: Headers, canonicalHost: string): boolean {
  const want = canonicalHost.toLowerCase();
  if (want === "") return false;
  const fetchSite = (headers.get("sec-fetch-site") ?? "").toLowerCase();
  if (fetchSite === "cross-site") return false;
  for (const name of ["origin", "referer"]) {
    const value = headers.get(name);
    if (value === null) continue;
    if (name === "origin" && value === "null" && fetchSite === "same-origin") continue;
    let host: string;
    try {
      host = new URL(value).host.toLowerCase();
    } catch {
      return false;
    }
    if (host !== want) return false;
  }
  return true;
}

/** The host the site is known by: the public URL's host when set, else the request's Host. */
export function canonicalHost(publicUrl: string | undefined, request: Request): string {
  if (publicUrl) return new URL(publicUrl).host;
  return request.headers.get("host") ?? new URL(request.url).host;
}

/** Largest request body the authenticated routes read (bytes). */
export const MAX_BODY_BYTES = 16 * 1024;

/** A request body that could not be read. */
export class BodyError extends Error {
  /** HTTP status to answer with. */
  readonly status: 400 | 413 | 415;
  /** `status` and a short reason. */
  constructor(status: 400 | 413 | 415, message: string) {
    super(message);
    this.name = "BodyError";
    this.status = status;
  }
}

/**
 * The fields of a JSON object or a form (`application/x-www-form-urlencoded` or
 * `multipart/form-data`) body. An empty body gives `{}`. It reads the whole body: the caller
 * bounds it first (the routes read bodies through `hono/body-limit` at {@linkcode MAX_BODY_BYTES},
 * `routes/middleware.ts`).
 */
export async function parseBodyFields(request: Request): Promise<Record<string, unknown>> {
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.length === 0) return {};
  const type = (request.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  const text = new TextDecoder().decode(bytes);
  if (type === "application/json" || type === "" || type.endsWith("+json")) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new BodyError(400, "invalid JSON");
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new BodyError(400, "JSON body must be an object");
    }
    return value as Record<string, unknown>;
  }
  if (type === "application/x-www-form-urlencoded") {
    return Object.fromEntries(new URLSearchParams(text));
  }
  if (type === "multipart/form-data") {
    const form = await new Response(bytes, { headers: request.headers }).formData();
    const out: Record<string, unknown> = {};
    for (const [k, v] of form) if (typeof v === "string") out[k] = v;
    return out;
  }
  throw new BodyError(415, "unsupported content type");
}

/** A boolean field: JSON `true`/`false`, or form `true/false/1/0/on/off`; undefined otherwise. */
export function booleanField(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (typeof value !== "string") return undefined;
  const v = value.trim().toLowerCase();
  if (v === "true" || v === "1" || v === "on") return true;
  if (v === "false" || v === "0" || v === "off") return false;
  return undefined;
}

/** Options of {@linkcode sessionCookie}. */
export interface SessionCookieOptions {
  /** Cookie name (`[auth].clerk_session_cookie_name`). */
  readonly name: string;
  /** When the session token expires; the cookie goes with it. */
  readonly expiresAt: Date;
  /** Set `Secure` (TLS request or https public URL). */
  readonly secure: boolean;
}

/** `Set-Cookie` value of the session cookie: Path=/, HttpOnly, SameSite=Lax, Expires = token exp. */
export function sessionCookie(token: string, o: SessionCookieOptions): string {
  const maxAge = Math.max(0, Math.floor((o.expiresAt.getTime() - Date.now()) / 1000));
  return `${o.name}=${token}; Path=/; Expires=${o.expiresAt.toUTCString()}; Max-Age=${maxAge}; ` +
    `HttpOnly; SameSite=Lax${o.secure ? "; Secure" : ""}`;
}

/** The value of cookie `name` in a `Cookie` header, if present. */
export function readCookie(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * True when the session cookie must be `Secure`: an `https:` request URL or an https public URL.
 * The status server gives the URL `https:` for TLS to the pool and for a trusted proxy's
 * `X-Forwarded-Proto: https` / `Forwarded: proto=https` (`isHttpsRequest`), never for others.
 */
export function wantsSecureCookie(request: Request, publicUrl: string | undefined): boolean {
  return new URL(request.url).protocol === "https:" ||
    (publicUrl !== undefined && publicUrl.startsWith("https:"));
}
