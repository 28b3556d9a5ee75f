/**
 * The status listeners on `Deno.serve`: plain HTTP, optional HTTPS, each behind the guard of
 * `http_front.ts` (header, body and idle deadlines, a cap on connections per client address).
 * With HTTPS on, plain HTTP only answers `307 Temporary Redirect` to the same path and query on
 * HTTPS; the host comes from `status_public_url` when set, else from the request's Host header
 * with the TLS port.
 *
 * Whether a request is HTTPS is decided once, here, by `isHttpsRequest`: TLS to the pool, or a
 * trusted proxy's `Forwarded: proto=https` / `X-Forwarded-Proto: https`. An HTTPS request reaches
 * the app with an `https:` URL (so the routes' `Secure` cookies and scheme checks read the URL),
 * and a plain-HTTP request a trusted proxy marks as HTTPS is served, not redirected. The app's
 * `info.remoteAddr` is the real peer of the socket, not the loopback hop behind the guard.
 *
 * @module
 */

import { IpRanges } from "../net/mod.ts";
import { hostWithoutPort } from "./host.ts";
import { isHttpsRequest } from "./client_ip.ts";
import {
  type FrontRequestInfo,
  type HttpFront,
  type HttpLimits,
  serveFront,
} from "./http_front.ts";

export { hostWithoutPort } from "./host.ts";

/** A listen address; port 0 picks a free port. */
export interface ListenAddress {
  /** Interface to bind (`0.0.0.0`, `127.0.0.1`, `::`). */
  readonly hostname: string;
  /** TCP port. */
  readonly port: number;
}

/** Anything with a Web-standard fetch handler (a Hono app; `info` becomes its env on Deno). */
export interface FetchApp {
  /** Answers one request; `info` carries the peer address from `Deno.serve`. */
  fetch(request: Request, info: Deno.ServeHandlerInfo): Response | Promise<Response>;
}

/** Options of {@linkcode serveStatus}. */
export interface ServeStatusOptions {
  /** Plain HTTP listener (`status_listen`); omitted → none. */
  readonly listen?: ListenAddress;
  /** HTTPS listener (`status_tls_listen`); needs `cert` and `key`. */
  readonly tlsListen?: ListenAddress;
  /** PEM certificate chain for HTTPS. */
  readonly cert?: string;
  /** PEM private key for HTTPS. */
  readonly key?: string;
  /** `status_public_url`: its host (and port) is where plain HTTP redirects to. */
  readonly publicUrl?: string;
  /** The status app. */
  readonly app: FetchApp;
  /** `server.trusted_proxies`: whose `Forwarded`/`X-Forwarded-Proto` is believed; not capped. */
  readonly trustedProxies?: readonly string[];
  /** Deadlines and the per-IP cap of the listeners (defaults: `http_front.ts`). */
  readonly limits?: Omit<HttpLimits, "uncapped">;
  /** Aborting it shuts the listeners down. */
  readonly signal?: AbortSignal;
  /**
   * Longest `shutdown()` waits for requests in flight (default 2 s). `Deno.serve` waits for ever
   * for a client that never finishes sending its request; past this, shutdown returns anyway.
   */
  readonly shutdownGraceMs?: number;
}

/** The running listeners. */
export interface StatusServer {
  /** Bound HTTP address, when listening. */
  readonly http?: ListenAddress;
  /** Bound HTTPS address, when listening. */
  readonly https?: ListenAddress;
  /** Closes the listeners and waits (boundedly, see `shutdownGraceMs`) for open requests. */
  shutdown(): Promise<void>;
  /** Settles when every listener has closed. */
  readonly finished: Promise<void>;
  /** The guards' counters, HTTPS then HTTP (whichever listen). */
  readonly fronts: readonly HttpFront[];
}

/**
 * The 307 answer of the plain-HTTP listener when HTTPS is on: same path and query on
 * `https://<publicUrl host>` or `https://<Host header host>:<tlsPort>` (port omitted when 443).
 * A request without a usable host gets 400.
 */
export function httpsRedirect(request: Request, tlsPort: number, publicUrl?: string): Response {
  const url = new URL(request.url);
  let authority: string | undefined;
  if (publicUrl) {
    authority = new URL(publicUrl).host;
  } else {
    const hostname = hostWithoutPort(request.headers.get("host") ?? "");
    if (hostname !== undefined) authority = tlsPort === 443 ? hostname : `${hostname}:${tlsPort}`;
  }
  if (authority === undefined) {
    return new Response("bad request: missing or malformed Host header\n", {
      status: 400,
      headers: { "Content-Type": "text/plain; charset=utf-8" },
    });
  }
  const location = `https://${authority}${url.pathname}${url.search}`;
  return new Response(`redirecting to ${location}\n`, {
    status: 307,
    headers: { "Location": location, "Content-Type": "text/plain; charset=utf-8" },
  });
}

/** `request` with an `https:` URL (the guard's server behind it only ever sees `http:`). */
export function withHttpsUrl(request: Request): Request {
  const url = request.url;
  if (url.startsWith("https:")) return request;
  // Not `new Request(url, request)`: that copies the signal, whose reading Deno warns about.
  return new Request(`https:${url.slice(url.indexOf(":") + 1)}`, {
    method: request.method,
    headers: request.headers,
    body: request.body,
    redirect: request.redirect,
  });
}

function bound(addr: Deno.NetAddr): ListenAddress {
  return { hostname: addr.hostname, port: addr.port };
}

/** Starts the HTTP and/or HTTPS listeners for `app`. */
export function serveStatus(options: ServeStatusOptions): StatusServer {
  const fronts: HttpFront[] = [];
  let https: ListenAddress | undefined;
  let http: ListenAddress | undefined;
  const trusted = new IpRanges(options.trustedProxies ?? []);
  const common = {
    ...options.limits,
    uncapped: trusted,
    signal: options.signal,
    shutdownGraceMs: options.shutdownGraceMs,
  };
  const isHttps = (request: Request, info: FrontRequestInfo) =>
    isHttpsRequest(info.remoteAddr.hostname, request.headers, trusted, info.tls);
  const serveApp = (request: Request, info: FrontRequestInfo, secure: boolean) =>
    options.app.fetch(secure ? withHttpsUrl(request) : request, info);

  if (options.tlsListen) {
    if (!options.cert || !options.key) throw new Error("status TLS listener needs cert and key");
    const front = serveFront({
      ...common,
      hostname: options.tlsListen.hostname,
      port: options.tlsListen.port,
      cert: options.cert,
      key: options.key,
      handler: (request, info) => serveApp(request, info, true),
    });
    fronts.push(front);
    https = bound(front.addr);
  }
  if (options.listen) {
    const tlsPort = https?.port;
    let front: HttpFront;
    try {
      front = serveFront({
        ...common,
        hostname: options.listen.hostname,
        port: options.listen.port,
        handler: (request, info) => {
          const secure = isHttps(request, info);
          if (tlsPort === undefined || secure) return serveApp(request, info, secure);
          return httpsRedirect(request, tlsPort, options.publicUrl);
        },
      });
    } catch (error) {
      for (const f of fronts) void f.shutdown();
      throw error;
    }
    fronts.push(front);
    http = bound(front.addr);
  }
  return {
    http,
    https,
    fronts,
    // Each guard bounds its own wait for answers in progress by `shutdownGraceMs`.
    shutdown: async () => {
      await Promise.all(fronts.map((f) => f.shutdown()));
    },
    finished: Promise.all(fronts.map((f) => f.finished)).then(() => {}),
  };
}
