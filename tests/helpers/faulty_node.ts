/**
 * A JSON-RPC proxy in front of a real regtest node that misbehaves on demand: it can go down
 * (connections refused), hang, answer slowly, answer HTTP 500, answer odd JSON-RPC shapes or
 * rewrite the node's real replies (initial block download, a rejected `submitblock`, …).
 *
 * Faults are set per RPC method (or `"*"` for every method) and apply to calls made after they
 * are set. The proxy listens on a loopback port only.
 *
 * @module
 */

/** A reply the node sent, as parsed JSON. */
export type RpcReply = { result?: unknown; error?: unknown; id?: unknown };

/** How the proxy misbehaves for a method. */
export type Fault =
  /** Never answer (until the fault is cleared or the proxy goes down; then 503). */
  | { readonly kind: "hang" }
  /** Forward, but only after `ms`. */
  | { readonly kind: "delay"; readonly ms: number }
  /**
   * Forward at once, but hold the node's reply for `ms` (a node that takes that long to build its
   * answer: the reply reflects the chain when the call was made, like a slow `getblocktemplate`).
   */
  | { readonly kind: "slow"; readonly ms: number }
  /** Answer `status` with `body` (default an HTML error page) without asking the node. */
  | { readonly kind: "status"; readonly status: number; readonly body?: string }
  /** Answer 200 with `body` as is, without asking the node. */
  | { readonly kind: "body"; readonly body: string }
  /** Forward, then replace the node's reply with `rewrite(reply)` (serialized as JSON). */
  | { readonly kind: "rewrite"; readonly rewrite: (reply: RpcReply) => unknown };

/** The proxy. */
export interface FaultyNode {
  /** Proxy URL to give the pool as `node.rpc_url`. */
  readonly url: string;
  /** Loopback port of the proxy. */
  readonly port: number;
  /** Calls that reached the proxy, per method (faulted ones included). */
  readonly calls: Map<string, number>;
  /** When the latest reply of each method left the proxy (`performance.timeOrigin + now()`, ms). */
  readonly repliedAt: Map<string, number>;
  /** The latest 1000 calls that reached the proxy: method and params, oldest first. */
  readonly log: { method: string; params: unknown }[];
  /** Sets (or with `undefined` clears) the fault of `method` (`"*"`: every method). */
  fault(method: string, fault: Fault | undefined): void;
  /** Clears every fault. */
  clearFaults(): void;
  /** Stops listening: new connections are refused, calls in flight are cut (HTTP 503). */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): void;
  /** True while listening. */
  readonly isUp: boolean;
  /** Stops the proxy for good. */
  close(): Promise<void>;
}

const HTML_500 = "<html><body><h1>500 Internal Server Error</h1></body></html>";

/** Starts a proxy forwarding to `targetUrl` (the real node's RPC URL). */
export function startFaultyNode(targetUrl: string): FaultyNode {
  const faults = new Map<string, Fault>();
  const calls = new Map<string, number>();
  const repliedAt = new Map<string, number>();
  const log: { method: string; params: unknown }[] = [];
  const inFlight = new Set<AbortController>();
  const hung = new Set<() => void>();
  let server: Deno.HttpServer | undefined;
  let port = 0;

  const releaseHung = () => {
    for (const release of hung) release();
    hung.clear();
  };

  const handler = async (request: Request): Promise<Response> => {
    const body = await request.text();
    let method = "";
    try {
      const parsed = JSON.parse(body);
      if (typeof parsed?.method === "string") method = parsed.method;
      log.push({ method, params: parsed?.params });
      if (log.length > 1000) log.shift();
    } catch {
      // not JSON: forwarded as is
    }
    calls.set(method, (calls.get(method) ?? 0) + 1);
    const fault = faults.get(method) ?? faults.get("*");
    if (fault?.kind === "hang") {
      await new Promise<void>((resolve) => hung.add(resolve));
      return new Response("proxy released a hung call", { status: 503 });
    }
    if (fault?.kind === "status") {
      return new Response(fault.body ?? HTML_500, {
        status: fault.status,
        headers: { "content-type": "text/html" },
      });
    }
    if (fault?.kind === "body") {
      return new Response(fault.body, { headers: { "content-type": "application/json" } });
    }
    const controller = new AbortController();
    inFlight.add(controller);
    try {
      const wait = (ms: number) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ms);
          controller.signal.addEventListener("abort", () => {
            clearTimeout(timer);
            resolve();
          });
        });
      if (fault?.kind === "delay") {
        await wait(fault.ms);
        if (controller.signal.aborted) return new Response("proxy going down", { status: 503 });
      }
      const upstream = await fetch(targetUrl, {
        method: "POST",
        headers: {
          "authorization": request.headers.get("authorization") ?? "",
          "content-type": "application/json",
        },
        body,
        signal: controller.signal,
      });
      const text = await upstream.text();
      if (fault?.kind === "slow") {
        await wait(fault.ms);
        if (controller.signal.aborted) return new Response("proxy going down", { status: 503 });
      }
      repliedAt.set(method, performance.timeOrigin + performance.now());
      if (fault?.kind === "rewrite") {
        const rewritten = fault.rewrite(JSON.parse(text) as RpcReply);
        return new Response(JSON.stringify(rewritten), {
          headers: { "content-type": "application/json" },
        });
      }
      return new Response(text, {
        status: upstream.status,
        headers: { "content-type": upstream.headers.get("content-type") ?? "application/json" },
      });
    } catch {
      return new Response("proxy: upstream unreachable", { status: 502 });
    } finally {
      inFlight.delete(controller);
    }
  };

  const listen = () => {
    server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, handler);
    port = (server.addr as Deno.NetAddr).port;
  };
  listen();

  const stop = async () => {
    const s = server;
    server = undefined;
    if (s === undefined) return;
    for (const c of inFlight) c.abort();
    releaseHung();
    await s.shutdown();
  };

  return {
    get url() {
      return `http://127.0.0.1:${port}/`;
    },
    get port() {
      return port;
    },
    calls,
    repliedAt,
    log,
    fault(method, fault) {
      if (fault === undefined) faults.delete(method);
      else faults.set(method, fault);
      if (fault?.kind !== "hang") releaseHung();
    },
    clearFaults() {
      faults.clear();
      releaseHung();
    },
    down: stop,
    up() {
      if (server === undefined) listen();
    },
    get isUp() {
      return server !== undefined;
    },
    close: stop,
  };
}
