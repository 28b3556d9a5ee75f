/**
 * Raw HTTP/1.1 over TCP from a chosen loopback address: `Deno.connect` cannot pick its source
 * address, `node:net` can (`localAddress`), and on Linux every 127.x.y.z is the loopback, so a
 * test can be several clients at once (127.0.0.2, 127.0.0.3, …).
 *
 * @module
 */

import net from "node:net";

/** A parsed HTTP answer. */
export interface RawAnswer {
  /** Status code (0 when nothing parseable came back). */
  readonly status: number;
  /** Header fields (`Set-Cookie` lines kept apart: `headers.getSetCookie()`). */
  readonly headers: Headers;
  /** The body as text. */
  readonly body: string;
}

/** Opens a TCP connection to `127.0.0.1:port` from `localAddress`. */
export function connectFrom(port: number, localAddress = "127.0.0.1"): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port, localAddress });
    socket.once("connect", () => {
      socket.removeListener("error", reject);
      socket.on("error", () => {}); // a reset after connecting shows as "close"
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/**
 * Resolves true when `socket` closes within `ms`, false otherwise (the socket stays open). It
 * lets the socket flow (a paused socket never sees the server's FIN): attach a `data` listener
 * first to keep what arrives.
 */
export function closedWithin(socket: net.Socket, ms: number): Promise<boolean> {
  if (socket.destroyed || socket.readyState === "closed") return Promise.resolve(true);
  socket.resume();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.removeListener("close", onClose);
      resolve(false);
    }, ms);
    const onClose = () => {
      clearTimeout(timer);
      resolve(true);
    };
    socket.once("close", onClose);
  });
}

/** Parses one HTTP/1.1 answer (head and whatever body followed it). */
export function parseAnswer(text: string): RawAnswer {
  const split = text.indexOf("\r\n\r\n");
  const head = split < 0 ? text : text.slice(0, split);
  const lines = head.split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0])?.[1] ?? 0);
  const headers = new Headers();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return { status, headers, body: split < 0 ? "" : text.slice(split + 4) };
}

/**
 * Sends `request` (sent as is: add `Connection: close`) from `localAddress` and reads until the
 * server closes, within `timeoutMs` (default 10 s).
 */
export async function rawRequest(
  port: number,
  request: string,
  localAddress = "127.0.0.1",
  timeoutMs = 10_000,
): Promise<RawAnswer> {
  const socket = await connectFrom(port, localAddress);
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  socket.write(request);
  const closed = await closedWithin(socket, timeoutMs);
  socket.destroy();
  if (!closed) throw new Error(`no close within ${timeoutMs} ms after ${request.split("\r\n")[0]}`);
  return parseAnswer(Buffer.concat(chunks).toString("latin1"));
}

/** A `GET` of `path` with `Connection: close` and extra header lines. */
export function getRequest(path: string, headers: Record<string, string> = {}): string {
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}Connection: close\r\n\r\n`;
}
