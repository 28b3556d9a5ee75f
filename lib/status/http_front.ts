/**
 * The guard in front of an HTTP listener: `Deno.serve` has no header-read deadline and no
 * connection hook, so the public socket is accepted here and only well-behaved HTTP/1.1 reaches
 * the server behind it.
 *
 * - **Per-IP cap.** Open connections are counted per client address (IPv6 per /64); past
 *   `maxConnectionsPerIp` a new one is closed at once and counted. The uncapped ranges (the
 *   trusted proxies, which carry many clients each) are exempt.
 * - **Deadlines.** A request's head (up to the empty line, at most `maxHeadBytes`) must arrive
 *   within `headerTimeoutMs` (for a connection's first request: from the accept, TLS handshake
 *   included), its body within `bodyTimeoutMs` of the head, and a keep-alive connection with no
 *   request or answer in progress is closed after `idleTimeoutMs`. A client trickling bytes
 *   cannot hold a connection past its deadline.
 * - **Nothing reaches the server before a whole head.** The inner connection is opened only when
 *   the first head is complete, so a connection that never sends one costs a socket and a timer.
 *
 * Behind the guard, `Deno.serve` listens on `127.0.0.1` at a free port; each guarded connection
 * gets its own inner TCP connection, and bytes are pumped both ways. The inner connection's local
 * port names the guarded one, so the handler is given the real peer address (and whether it came
 * over TLS) without any header being added to the request — nothing a client sends can pose as
 * it. A connection to the inner port from anywhere else is refused (`403`).
 *
 * With TLS, the public socket is still plain TCP, relayed to a TLS listener on `127.0.0.1` whose
 * decrypted side the guard reads. Deno keeps the socket of a `TlsConn` closed in mid-handshake
 * until the peer speaks again, so a client that starts a handshake and goes silent is cut by
 * closing its TCP socket and the loopback link under the TLS side.
 *
 * The guard follows HTTP/1.1 framing (`Content-Length`, `chunked`) only to place its deadlines;
 * the server behind it still parses every byte. Requests it cannot frame (both `Content-Length`
 * and `Transfer-Encoding`, a transfer coding other than `chunked` last, a bad length) are
 * refused with `400` and the connection closed; HTTP/2 is not offered (ALPN `http/1.1`).
 *
 * @example
 * ```ts
 * import { serveFront } from "./http_front.ts";
 * const front = serveFront({
 *   hostname: "127.0.0.1",
 *   port: 0,
 *   handler: (_request, info) => new Response(`hello ${info.remoteAddr.hostname}\n`),
 * });
 * await front.shutdown();
 * ```
 *
 * @module
 */

import { IpRanges, parseIp } from "../net/mod.ts";
import { rateKey } from "./client_ip.ts";

/** Default {@linkcode HttpLimits.headerTimeoutMs}. */
export const DEFAULT_HEADER_TIMEOUT_MS = 10_000;
/** Default {@linkcode HttpLimits.bodyTimeoutMs}. */
export const DEFAULT_BODY_TIMEOUT_MS = 10_000;
/** Default {@linkcode HttpLimits.idleTimeoutMs}. */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
/** Default {@linkcode HttpLimits.maxConnectionsPerIp}. */
export const DEFAULT_MAX_CONNECTIONS_PER_IP = 64;
/** Default {@linkcode HttpLimits.maxHeadBytes}. */
export const DEFAULT_MAX_HEAD_BYTES = 32 * 1024;

/** The deadlines and caps of a guarded listener. */
export interface HttpLimits {
  /**
   * Longest wait (ms) for a request's whole head: from the accept for a connection's first
   * request (TLS handshake included), from its first byte for a later one.
   */
  readonly headerTimeoutMs?: number;
  /** Longest wait (ms) for a request's whole body, from the end of its head. */
  readonly bodyTimeoutMs?: number;
  /** Longest wait (ms) for the next request on a keep-alive connection with nothing in progress. */
  readonly idleTimeoutMs?: number;
  /** Most open connections from one address (IPv6: one /64); 0 = no cap. */
  readonly maxConnectionsPerIp?: number;
  /** Largest request head (request line and header fields), bytes. */
  readonly maxHeadBytes?: number;
  /** Addresses and ranges the per-IP cap does not apply to (`server.trusted_proxies`). */
  readonly uncapped?: IpRanges | readonly string[];
}

/** What the handler learns about the connection a request came on. */
export interface FrontRequestInfo extends Deno.ServeHandlerInfo<Deno.NetAddr> {
  /** True when the client's connection to the guard is TLS. */
  readonly tls: boolean;
}

/** Answers one request that passed the guard. */
export type FrontHandler = (
  request: Request,
  info: FrontRequestInfo,
) => Response | Promise<Response>;

/** Options of {@linkcode serveFront}. */
export interface HttpFrontOptions extends HttpLimits {
  /** Interface to bind (`0.0.0.0`, `127.0.0.1`, `::`). */
  readonly hostname: string;
  /** TCP port; 0 picks a free one. */
  readonly port: number;
  /** PEM certificate chain: with `key`, the listener speaks TLS. */
  readonly cert?: string;
  /** PEM private key. */
  readonly key?: string;
  /** Answers the requests. */
  readonly handler: FrontHandler;
  /** Aborting it shuts the listener down (as `shutdown()`). */
  readonly signal?: AbortSignal;
  /** Longest `shutdown()` waits for answers in progress before closing everything (default 2 s). */
  readonly shutdownGraceMs?: number;
}

/** Counters of a guarded listener. */
export interface HttpFrontStats {
  /** Connections accepted and served (refused ones not included). */
  readonly accepted: number;
  /** Connections open now. */
  readonly open: number;
  /** Connections closed at once for the per-IP cap. */
  readonly refusedPerIp: number;
  /** Connections closed for a missed deadline (head, body or idle). */
  readonly timedOut: number;
  /** Connections closed for a request that could not be framed or whose head was too large. */
  readonly badRequests: number;
}

/** A running guarded listener. */
export interface HttpFront {
  /** The bound public address. */
  readonly addr: Deno.NetAddr;
  /** The counters so far. */
  stats(): HttpFrontStats;
  /**
   * Stops accepting, closes every connection with nothing in progress at once, lets answers in
   * progress finish for at most `shutdownGraceMs`, then closes the rest.
   */
  shutdown(): Promise<void>;
  /** Settles when the listener and the server behind it have closed. */
  readonly finished: Promise<void>;
}

const READ_BUFFER_BYTES = 16 * 1024;
const MAX_CHUNK_LINE_BYTES = 4096;
const CR = 0x0d;
const LF = 0x0a;

/** Where a connection is in its current request. */
const enum Phase {
  /** Between requests: waiting for the first byte of the next. */
  Idle,
  /** Reading a head. */
  Head,
  /** Reading a `Content-Length` body. */
  Body,
  /** Reading a chunk-size line. */
  ChunkSize,
  /** Reading chunk data. */
  ChunkData,
  /** Reading the CRLF after chunk data. */
  ChunkEnd,
  /** Reading the trailer section after the last chunk. */
  Trailers,
}

/** How a request's body is framed, from its head. */
export type BodyFraming =
  | { readonly kind: "length"; readonly length: number }
  | { readonly kind: "chunked" }
  | { readonly kind: "bad"; readonly reason: string };

const latin1 = new TextDecoder("latin1");

/**
 * The body framing of an HTTP/1.1 request head (request line and header fields, the final empty
 * line optional): `chunked` when `Transfer-Encoding` ends in `chunked`, else the `Content-Length`
 * (0 when absent). `bad` for what the guard will not frame: both headers, another final transfer
 * coding, a length that is not digits or repeated with different values, folded header lines, or
 * an HTTP/2 preface.
 *
 * @internal
 */
export function bodyFraming(head: Uint8Array): BodyFraming {
  const lines = latin1.decode(head).split("\n");
  if (lines[0].startsWith("PRI * HTTP/2")) return { kind: "bad", reason: "HTTP/2 preface" };
  let length: string | undefined;
  let codings: string | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i].endsWith("\r") ? lines[i].slice(0, -1) : lines[i];
    if (line === "") break;
    if (line[0] === " " || line[0] === "\t") return { kind: "bad", reason: "folded header line" };
    const colon = line.indexOf(":");
    if (colon <= 0) continue; // the server behind refuses it
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "content-length") length = length === undefined ? value : `${length},${value}`;
    else if (name === "transfer-encoding") {
      codings = codings === undefined ? value : `${codings},${value}`;
    }
  }
  if (codings !== undefined) {
    if (length !== undefined) {
      return { kind: "bad", reason: "both Content-Length and Transfer-Encoding" };
    }
    const last = codings.split(",").map((c) => c.trim().toLowerCase()).filter((c) => c !== "")
      .at(-1);
    return last === "chunked"
      ? { kind: "chunked" }
      : { kind: "bad", reason: "Transfer-Encoding without chunked last" };
  }
  if (length === undefined) return { kind: "length", length: 0 };
  const values = length.split(",").map((v) => v.trim());
  if (!values.every((v) => /^\d{1,15}$/.test(v) && v === values[0])) {
    return { kind: "bad", reason: "bad Content-Length" };
  }
  return { kind: "length", length: Number(values[0]) };
}

function positive(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`${name} must be a positive number`);
  return v;
}

interface Limits {
  readonly headerMs: number;
  readonly bodyMs: number;
  readonly idleMs: number;
  readonly perIp: number;
  readonly maxHead: number;
  readonly uncapped: IpRanges;
}

function limitsOf(o: HttpLimits): Limits {
  const perIp = o.maxConnectionsPerIp ?? DEFAULT_MAX_CONNECTIONS_PER_IP;
  if (!Number.isInteger(perIp) || perIp < 0) {
    throw new RangeError("maxConnectionsPerIp must be a whole number ≥ 0 (0 = no cap)");
  }
  return {
    headerMs: positive(o.headerTimeoutMs, DEFAULT_HEADER_TIMEOUT_MS, "headerTimeoutMs"),
    bodyMs: positive(o.bodyTimeoutMs, DEFAULT_BODY_TIMEOUT_MS, "bodyTimeoutMs"),
    idleMs: positive(o.idleTimeoutMs, DEFAULT_IDLE_TIMEOUT_MS, "idleTimeoutMs"),
    perIp,
    maxHead: positive(o.maxHeadBytes, DEFAULT_MAX_HEAD_BYTES, "maxHeadBytes"),
    uncapped: o.uncapped instanceof IpRanges ? o.uncapped : new IpRanges(o.uncapped ?? []),
  };
}

const encoder = new TextEncoder();

function plainAnswer(status: string): Uint8Array {
  const body = `${status.slice(4).toLowerCase()}\n`;
  return encoder.encode(
    `HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
  );
}

const BAD_REQUEST = plainAnswer("400 Bad Request");
const HEAD_TOO_LARGE = plainAnswer("431 Request Header Fields Too Large");

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await conn.write(at === 0 ? bytes : bytes.subarray(at));
}

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** One guarded connection and its inner twin. */
class Guarded {
  /** The public socket. */
  readonly outer: Deno.Conn;
  /** Where requests are read and answers written: `outer`, or for TLS the terminator's side. */
  client: Deno.Conn | undefined;
  /** TLS only: the loopback link from `outer` to the terminator. */
  link: Deno.TcpConn | undefined;
  linkPort = 0;
  readonly peer: Deno.NetAddr;
  readonly tls: boolean;
  /** Per-IP count key, when capped. */
  readonly capKey: string | undefined;
  inner: Deno.TcpConn | undefined;
  innerPort = 0;
  closed = false;
  /** Requests whose answer the handler is still making. */
  busy = 0;
  phase = Phase.Idle;
  /** Still on the connection's first request (its head deadline runs from the accept). */
  first = true;
  deadline: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  timerAt = Infinity;
  /** End-of-head matcher: 0 nothing, 1 after LF, 2 after LF CR. */
  eol = 0;
  headBytes = 0;
  headParts: Uint8Array[] = [];
  /** Bytes left of a `Content-Length` body or of chunk data. */
  remaining = 0;
  chunkDigits = 0;
  chunkInExtension = false;
  chunkLineBytes = 0;
  /** Client bytes held until the first head is complete and the inner connection is open. */
  pending: Uint8Array[] = [];
  pendingBytes = 0;

  constructor(outer: Deno.Conn, tls: boolean, capKey: string | undefined, deadline: number) {
    this.outer = outer;
    this.client = tls ? undefined : outer;
    this.peer = outer.remoteAddr as Deno.NetAddr;
    this.tls = tls;
    this.capKey = capKey;
    this.deadline = deadline;
  }
}

/** The outcome of scanning one chunk of client bytes. */
const enum Scan {
  Ok,
  /** The connection's first head just completed: open the inner connection. */
  FirstHead,
  Bad,
  TooLarge,
}

/**
 * Starts a guarded listener: `handler` answers every request that passes the guard (see the
 * module documentation), with the real peer address in `info.remoteAddr`.
 */
export function serveFront(options: HttpFrontOptions): HttpFront {
  const limits = limitsOf(options);
  const tls = options.cert !== undefined && options.key !== undefined;
  if ((options.cert === undefined) !== (options.key === undefined)) {
    throw new Error("a TLS listener needs both cert and key");
  }
  // The public socket is always plain TCP, which `close()` really closes. TLS is terminated on a
  // loopback listener behind it: a `TlsConn` closed mid-handshake keeps its socket until the peer
  // speaks, so a silent client is cut by closing the TCP link under it instead.
  const listener = Deno.listen({ hostname: options.hostname, port: options.port });
  let terminator: Deno.TlsListener | undefined;
  try {
    terminator = tls
      ? Deno.listenTls({
        hostname: "127.0.0.1",
        port: 0,
        cert: options.cert,
        key: options.key,
        alpnProtocols: ["http/1.1"],
      })
      : undefined;
  } catch (error) {
    listener.close();
    throw error;
  }
  /** TLS links by their local port, and terminator connections that came before their link. */
  const byLinkPort = new Map<number, Guarded>();
  const unclaimed = new Map<number, Deno.TlsConn>();
  const open = new Set<Guarded>();
  const byInnerPort = new Map<number, Guarded>();
  const perIp = new Map<string, number>();
  let accepted = 0;
  let refusedPerIp = 0;
  let timedOut = 0;
  let badRequests = 0;
  let closing = false;

  const inner = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
  }, async (request, info) => {
    const g = byInnerPort.get(info.remoteAddr.port);
    if (g === undefined || info.remoteAddr.hostname !== "127.0.0.1") {
      return new Response("forbidden\n", { status: 403 });
    }
    g.busy++;
    try {
      return await options.handler(request, {
        remoteAddr: g.peer,
        completed: info.completed,
        tls: g.tls,
      });
    } finally {
      g.busy--;
      if (g.phase === Phase.Idle) g.deadline = Date.now() + limits.idleMs;
    }
  });
  const innerAddr = inner.addr;

  const arm = (g: Guarded, at: number) => {
    if (g.timer !== undefined) clearTimeout(g.timer);
    g.timerAt = at;
    g.timer = setTimeout(() => onTimer(g), Math.max(0, at - Date.now()));
  };
  const setDeadline = (g: Guarded, at: number) => {
    g.deadline = at;
    if (at < g.timerAt) arm(g, at);
  };
  const close = (g: Guarded) => {
    if (g.closed) return;
    g.closed = true;
    if (g.timer !== undefined) clearTimeout(g.timer);
    g.timer = undefined;
    for (const conn of [g.client, g.link, g.outer]) {
      if (conn === undefined) continue;
      try {
        conn.close();
      } catch { /* already closed */ }
    }
    if (g.link) byLinkPort.delete(g.linkPort);
    if (g.inner) {
      byInnerPort.delete(g.innerPort);
      try {
        g.inner.close();
      } catch { /* already closed */ }
    }
    open.delete(g);
    if (g.capKey !== undefined) {
      const n = (perIp.get(g.capKey) ?? 1) - 1;
      if (n <= 0) perIp.delete(g.capKey);
      else perIp.set(g.capKey, n);
    }
  };
  const onTimer = (g: Guarded) => {
    g.timer = undefined;
    g.timerAt = Infinity;
    if (g.closed) return;
    const now = Date.now();
    if (now < g.deadline) return arm(g, g.deadline);
    if (g.phase === Phase.Idle && g.busy > 0) {
      // An answer is being made: not idle, the clock starts when it is done.
      g.deadline = now + limits.idleMs;
      return arm(g, g.deadline);
    }
    timedOut++;
    close(g);
  };

  const requestDone = (g: Guarded) => {
    g.phase = Phase.Idle;
    g.first = false;
    setDeadline(g, Date.now() + limits.idleMs);
  };

  /** Runs the framing state machine over `bytes`. */
  const scan = (g: Guarded, bytes: Uint8Array): Scan => {
    let result = Scan.Ok;
    let headFrom = 0; // where the head being read starts in `bytes`
    let i = 0;
    const n = bytes.length;
    while (i < n) {
      switch (g.phase) {
        case Phase.Idle: {
          const b = bytes[i];
          if (b === CR || b === LF) { // empty lines before a request are ignored (RFC 9112 2.2)
            i++;
            break;
          }
          g.phase = Phase.Head;
          g.eol = 0;
          g.headBytes = 0;
          g.headParts.length = 0;
          headFrom = i;
          if (!g.first) setDeadline(g, Date.now() + limits.headerMs);
          break;
        }
        case Phase.Head:
        case Phase.Trailers: {
          const start = i;
          let end = -1;
          for (; i < n; i++) {
            const b = bytes[i];
            if (b === LF) {
              if (g.eol !== 0) {
                end = ++i;
                break;
              }
              g.eol = 1;
            } else if (b === CR) g.eol = g.eol === 1 ? 2 : 0;
            else g.eol = 0;
          }
          g.headBytes += i - start;
          if (g.headBytes > limits.maxHead) return Scan.TooLarge;
          if (end < 0) {
            if (g.phase === Phase.Head) g.headParts.push(bytes.slice(headFrom, n));
            break;
          }
          if (g.phase === Phase.Trailers) {
            requestDone(g);
            break;
          }
          const head = g.headParts.length === 0
            ? bytes.subarray(headFrom, end)
            : concat([...g.headParts, bytes.subarray(0, end)], g.headBytes);
          g.headParts.length = 0;
          const framing = bodyFraming(head);
          if (framing.kind === "bad") return Scan.Bad;
          if (g.first) result = Scan.FirstHead;
          if (framing.kind === "chunked") {
            g.phase = Phase.ChunkSize;
            g.chunkDigits = 0;
            g.chunkInExtension = false;
            g.chunkLineBytes = 0;
            g.remaining = 0;
            setDeadline(g, Date.now() + limits.bodyMs);
          } else if (framing.length > 0) {
            g.phase = Phase.Body;
            g.remaining = framing.length;
            setDeadline(g, Date.now() + limits.bodyMs);
          } else {
            requestDone(g);
          }
          break;
        }
        case Phase.Body:
        case Phase.ChunkData: {
          const take = Math.min(g.remaining, n - i);
          g.remaining -= take;
          i += take;
          if (g.remaining === 0) {
            if (g.phase === Phase.Body) requestDone(g);
            else g.phase = Phase.ChunkEnd;
          }
          break;
        }
        case Phase.ChunkSize: {
          const b = bytes[i++];
          if (++g.chunkLineBytes > MAX_CHUNK_LINE_BYTES) return Scan.Bad;
          if (b === LF) {
            if (g.chunkDigits === 0) return Scan.Bad;
            if (g.remaining === 0) {
              g.phase = Phase.Trailers;
              g.eol = 1;
              g.headBytes = 0;
            } else g.phase = Phase.ChunkData;
            g.chunkDigits = 0;
            g.chunkInExtension = false;
            g.chunkLineBytes = 0;
          } else if (!g.chunkInExtension) {
            const d = b >= 0x30 && b <= 0x39
              ? b - 0x30
              : (b | 0x20) >= 0x61 && (b | 0x20) <= 0x66
              ? (b | 0x20) - 0x57
              : -1;
            if (d >= 0) {
              if (++g.chunkDigits > 12) return Scan.Bad;
              g.remaining = g.remaining * 16 + d;
            } else if (b === 0x3b || b === 0x20 || b === 0x09 || b === CR) {
              if (g.chunkDigits === 0) return Scan.Bad;
              g.chunkInExtension = true;
            } else return Scan.Bad;
          }
          break;
        }
        case Phase.ChunkEnd: {
          const b = bytes[i++];
          if (b === LF) {
            g.phase = Phase.ChunkSize;
            g.remaining = 0;
          } else if (b !== CR) return Scan.Bad;
          break;
        }
      }
    }
    return result;
  };

  const refuse = async (g: Guarded, answer: Uint8Array) => {
    badRequests++;
    // Before the inner connection exists nothing else writes to the client, so an answer fits.
    if (!g.inner && g.client) await writeAll(g.client, answer).catch(() => {});
    close(g);
  };

  const openInner = async (g: Guarded): Promise<void> => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: innerAddr.port });
    if (g.closed) {
      conn.close();
      return;
    }
    conn.setNoDelay(true);
    g.inner = conn;
    g.innerPort = (conn.localAddr as Deno.NetAddr).port;
    byInnerPort.set(g.innerPort, g);
    void pumpBack(g, conn);
    const held = concat(g.pending, g.pendingBytes);
    g.pending = [];
    g.pendingBytes = 0;
    await writeAll(conn, held);
  };

  /** Client → inner, through the framing scan. */
  const pumpForward = async (g: Guarded, client: Deno.Conn) => {
    const buf = new Uint8Array(READ_BUFFER_BYTES);
    try {
      for (;;) {
        const n = await client.read(buf);
        if (n === null) break;
        if (n === 0) continue;
        const bytes = buf.subarray(0, n);
        const outcome = scan(g, bytes);
        if (outcome === Scan.Bad) return await refuse(g, BAD_REQUEST);
        if (outcome === Scan.TooLarge) return await refuse(g, HEAD_TOO_LARGE);
        if (g.inner) {
          await writeAll(g.inner, bytes);
        } else {
          g.pending.push(bytes.slice());
          g.pendingBytes += n;
          if (outcome === Scan.FirstHead) await openInner(g);
        }
      }
      // The client is done sending: let an answer in progress finish, then the idle deadline or
      // the server's own close ends the connection.
      if (!g.inner || (g.phase === Phase.Idle && g.busy === 0)) close(g);
      else await g.inner.closeWrite().catch(() => close(g));
    } catch {
      close(g);
    }
  };

  /** Inner → client; any answer byte is progress for the idle deadline. */
  const pumpBack = async (g: Guarded, conn: Deno.TcpConn) => {
    const buf = new Uint8Array(READ_BUFFER_BYTES);
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        if (g.phase === Phase.Idle) g.deadline = Date.now() + limits.idleMs;
        await writeAll(g.client!, buf.subarray(0, n));
      }
    } catch { /* either side went away */ }
    close(g);
  };

  /** TLS: raw bytes between the public socket and the terminator. */
  const relay = async (g: Guarded, from: Deno.Conn, to: Deno.Conn, halfClose: boolean) => {
    const buf = new Uint8Array(READ_BUFFER_BYTES);
    try {
      for (;;) {
        const n = await from.read(buf);
        if (n === null) break;
        await writeAll(to, buf.subarray(0, n));
      }
      if (halfClose) return await to.closeWrite();
    } catch { /* either side went away */ }
    close(g);
  };

  /** TLS: a terminator connection meets its guarded connection (in whichever order they come). */
  const attach = (g: Guarded, conn: Deno.TlsConn) => {
    if (g.closed) {
      conn.close();
      return;
    }
    g.client = conn;
    void pumpForward(g, conn);
  };

  const openLink = async (g: Guarded) => {
    try {
      const link = await Deno.connect({ hostname: "127.0.0.1", port: terminator!.addr.port });
      if (g.closed) return link.close();
      link.setNoDelay(true);
      g.link = link;
      g.linkPort = (link.localAddr as Deno.NetAddr).port;
      void relay(g, g.outer, link, true);
      void relay(g, link, g.outer, false);
      const early = unclaimed.get(g.linkPort);
      if (early) {
        unclaimed.delete(g.linkPort);
        attach(g, early);
      } else byLinkPort.set(g.linkPort, g);
    } catch {
      close(g);
    }
  };

  const terminate = async (tlsListener: Deno.TlsListener) => {
    for (;;) {
      let conn: Deno.TlsConn;
      try {
        conn = await tlsListener.accept();
      } catch (error) {
        if (closing || error instanceof Deno.errors.BadResource) break;
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      const port = conn.remoteAddr.port;
      const g = conn.remoteAddr.hostname === "127.0.0.1" ? byLinkPort.get(port) : undefined;
      if (g) {
        byLinkPort.delete(port);
        attach(g, conn);
        continue;
      }
      // Its link's connect has not returned yet, or it is not one of ours: wait a moment.
      unclaimed.set(port, conn);
      setTimeout(() => {
        if (unclaimed.get(port) !== conn) return;
        unclaimed.delete(port);
        try {
          conn.close();
        } catch { /* gone */ }
      }, 1_000);
    }
  };

  const onAccept = (conn: Deno.TcpConn) => {
    const peer = conn.remoteAddr as Deno.NetAddr;
    let capKey: string | undefined;
    if (limits.perIp > 0) {
      const ip = parseIp(peer.hostname);
      if (!ip || !limits.uncapped.has(ip)) {
        capKey = rateKey(peer.hostname);
        const count = perIp.get(capKey) ?? 0;
        if (count >= limits.perIp) {
          refusedPerIp++;
          try {
            conn.close();
          } catch { /* gone */ }
          return;
        }
        perIp.set(capKey, count + 1);
      }
    }
    conn.setNoDelay(true);
    accepted++;
    const g = new Guarded(conn, tls, capKey, Date.now() + limits.headerMs);
    open.add(g);
    arm(g, g.deadline);
    if (tls) void openLink(g);
    else void pumpForward(g, conn);
  };

  const acceptLoop = async () => {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (closing || error instanceof Deno.errors.BadResource) break;
        // Out of file descriptors or a reset before accept: wait a moment, keep serving.
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      if (closing) {
        conn.close();
        break;
      }
      onAccept(conn);
    }
  };
  const accepting = Promise.all([acceptLoop(), terminator ? terminate(terminator) : undefined]);

  let stopped: Promise<void> | undefined;
  const shutdown = () => {
    stopped ??= (async () => {
      closing = true;
      for (const l of [listener, terminator]) {
        try {
          l?.close();
        } catch { /* already closed */ }
      }
      for (const conn of unclaimed.values()) conn.close();
      unclaimed.clear();
      for (const g of [...open]) {
        if (!g.inner || (g.phase === Phase.Idle && g.busy === 0)) close(g);
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, options.shutdownGraceMs ?? 2_000);
      });
      await Promise.race([inner.shutdown(), grace]);
      clearTimeout(timer);
      // Past the grace: every guarded connection goes, and with them their inner twins. An
      // answer still being made is not waited for (`finished` settles when it is done).
      for (const g of [...open]) close(g);
      await accepting;
    })();
    return stopped;
  };
  options.signal?.addEventListener("abort", () => void shutdown(), { once: true });
  if (options.signal?.aborted) void shutdown();

  return {
    addr: listener.addr as Deno.NetAddr,
    stats: () => ({ accepted, open: open.size, refusedPerIp, timedOut, badRequests }),
    shutdown,
    finished: Promise.all([accepting, inner.finished]).then(() => {}),
  };
}
