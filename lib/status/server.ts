/**
 * The status listeners on `Deno.serve`: plain HTTP, optional HTTPS. With HTTPS on, plain HTTP only
 * answers `307 Temporary Redirect` to the same path and query on HTTPS; the host comes from
 * `status_public_url` when set, else from the request's Host header with the TLS port.
 *
 * @module
 */

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
}

const HOST_NAME = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)$/;

/** The hostname part of a Host header (`[::1]` kept bracketed), or undefined when malformed. */
export function hostWithoutPort(host: string): string | undefined {
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d{1,5}))?$/.exec(host.trim());
  if (!match || match[1] === "" || !HOST_NAME.test(match[1])) return undefined;
  return match[1];
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

function bound(addr: Deno.Addr): ListenAddress {
  const net = addr as Deno.NetAddr;
  return { hostname: net.hostname, port: net.port };
}

/** Starts the HTTP and/or HTTPS listeners for `app`. */
export function serveStatus(options: ServeStatusOptions): StatusServer {
  const servers: Deno.HttpServer[] = [];
  let https: ListenAddress | undefined;
  let http: ListenAddress | undefined;
  const quiet = () => {};
  const handler = (request: Request, info: Deno.ServeHandlerInfo) =>
    options.app.fetch(request, info);

  if (options.tlsListen) {
    if (!options.cert || !options.key) throw new Error("status TLS listener needs cert and key");
    const server = Deno.serve({
      hostname: options.tlsListen.hostname,
      port: options.tlsListen.port,
      cert: options.cert,
      key: options.key,
      signal: options.signal,
      onListen: quiet,
    }, handler);
    servers.push(server);
    https = bound(server.addr);
  }
  if (options.listen) {
    const tlsPort = https?.port;
    const server = Deno.serve(
      {
        hostname: options.listen.hostname,
        port: options.listen.port,
        signal: options.signal,
        onListen: quiet,
      },
      tlsPort === undefined
        ? handler
        : (request) => httpsRedirect(request, tlsPort, options.publicUrl),
    );
    servers.push(server);
    http = bound(server.addr);
  }
  return {
    http,
    https,
    shutdown: async () => {
      // A slow or hostile client holding a half-sent request must not hold the pool's stop.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, options.shutdownGraceMs ?? 2_000);
      });
      await Promise.race([Promise.all(servers.map((s) => s.shutdown())), grace]);
      clearTimeout(timer);
    },
    finished: Promise.all(servers.map((s) => s.finished)).then(() => {}),
  };
}
