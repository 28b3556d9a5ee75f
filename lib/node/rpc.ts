/**
 * JSON-RPC client for the operator's Bitcoin node over `fetch`: password or cookie auth, per-call
 * timeouts, retries with exponential backoff and jitter, health tracking and latency statistics.
 *
 * Errors never escape as unhandled rejections: every failure rejects the caller's promise with an
 * {@linkcode RpcError}, and health listeners run guarded.
 *
 * @module
 */

import { CookieError, CookieFile, type RpcCredentials } from "./cookie.ts";
import { LatencyStats } from "./latency.ts";
import { LinkHealth } from "./link_health.ts";

/** Bitcoin Core's "node is warming up" error code (loading the block index, …). */
export const RPC_IN_WARMUP: number = -28;

/** What went wrong in a failed call. */
export type RpcErrorKind =
  /** The node answered with a JSON-RPC error (`code` is the node's code). */
  | "rpc"
  /** HTTP error without a JSON-RPC reply (`code` is the HTTP status). */
  | "http"
  /** Rejected credentials or unusable cookie file (`code` is the HTTP status, 0 for the file). */
  | "auth"
  /** Connection refused, reset, DNS, … (`code` 0). */
  | "network"
  /** The call took longer than its timeout (`code` 0). */
  | "timeout"
  /** The reply was not a JSON-RPC response: HTML, no `result`, not an object (`code` 0). */
  | "parse"
  /** The caller's signal aborted the call, or the client was closed (`code` 0). */
  | "aborted";

/** A failed RPC call: the node's error, or why no answer came. */
export class RpcError extends Error {
  /** The node's JSON-RPC error code for kind "rpc", the HTTP status for "http"/"auth", else 0. */
  readonly code: number;
  /** The RPC method that failed. */
  readonly method: string;
  /** The class of failure. */
  readonly kind: RpcErrorKind;
  /** True when trying again later may succeed. */
  readonly retryable: boolean;

  /** Creates an error for `method`. */
  constructor(
    method: string,
    kind: RpcErrorKind,
    code: number,
    message: string,
    retryable: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "RpcError";
    this.method = method;
    this.kind = kind;
    this.code = code;
    this.retryable = retryable;
  }
}

/** Connection health as plain data for the status API. */
export interface RpcHealth {
  /** True after the last call reached the node (or a node error other than warm-up). */
  readonly rpcHealthy: boolean;
  /** Healthy → unhealthy transitions. */
  readonly disconnects: number;
  /** Unhealthy → healthy transitions (the first success is a connect, not a reconnect). */
  readonly reconnects: number;
  /** Calls that ended in an error (after retries). */
  readonly errors: number;
  /** Message of the latest error. */
  readonly lastError: string | undefined;
  /** When the latest error happened (ms since the epoch). */
  readonly lastErrorAt: number | undefined;
}

/** Options of one call. */
export interface RpcCallOptions {
  /** Timeout of each attempt in ms; default the client's (longpoll calls: its longpoll timeout). */
  readonly timeoutMs?: number;
  /** A longpoll call: own connection pool and long timeout, no latency sample. */
  readonly longpoll?: boolean;
  /** Retries after the first attempt; default the client's. */
  readonly retries?: number;
  /** Aborts the call (and its retries). */
  readonly signal?: AbortSignal;
}

/**
 * The part of the RPC client that its users (template feed, block submitter) call: an
 * {@linkcode RpcClient} fits, and tests pass a stand-in.
 *
 * @example A stand-in node that knows one method
 * ```ts
 * const rpc: RpcCaller = {
 *   call: <T>(method: string) =>
 *     method === "getbestblockhash"
 *       ? Promise.resolve("00".repeat(32) as T)
 *       : Promise.reject(new Error(`${method}: not here`)),
 * };
 * ```
 */
export interface RpcCaller {
  /** Calls `method` and resolves to its result; rejects on a transport or RPC error. */
  call<T = unknown>(
    method: string,
    params?: readonly unknown[],
    options?: RpcCallOptions,
  ): Promise<T>;
}

/** How to reach and authenticate with the node. */
export interface RpcClientOptions {
  /** Endpoint, e.g. `http://127.0.0.1:8332/`. */
  readonly url: string;
  /** RPC user (with `password`). */
  readonly user?: string;
  /** RPC password (with `user`). */
  readonly password?: string;
  /** Cookie file to authenticate with instead of user/password (see `defaultCookiePath`). */
  readonly cookieFile?: string;
  /** JSON-RPC dialect; default "1.0" (what every Core version and bcoin speak). */
  readonly jsonrpc?: "1.0" | "2.0";
  /** Timeout of one attempt in ms; default 30 s. */
  readonly timeoutMs?: number;
  /** Timeout of one longpoll attempt in ms; default 30 min. */
  readonly longpollTimeoutMs?: number;
  /** Retries after the first attempt; default 3. */
  readonly retries?: number;
  /** First backoff delay in ms; default 250. Doubles each retry. */
  readonly backoffBaseMs?: number;
  /** Largest backoff delay in ms; default 5000. */
  readonly backoffMaxMs?: number;
  /** Wall clock in ms since the epoch (error times, latency window); default `Date.now`. */
  readonly now?: () => number;
  /** Random source in [0, 1) for jitter; default `Math.random`. */
  readonly random?: () => number;
  /** Latency statistics to record into; default a fresh one-hour window on `now`. */
  readonly latency?: LatencyStats;
}

/** Called when `rpcHealthy` flips. */
export type HealthListener = (health: RpcHealth, error: RpcError | undefined) => void;

interface JsonRpcReply {
  result?: unknown;
  error?: unknown;
}

/** A JSON-RPC client for one node. */
export class RpcClient implements RpcCaller {
  /** Endpoint URL. */
  readonly url: string;
  /** Latency statistics per method (non-longpoll calls that got an answer). */
  readonly latency: LatencyStats;

  readonly #jsonrpc: "1.0" | "2.0";
  readonly #timeoutMs: number;
  readonly #longpollTimeoutMs: number;
  readonly #retries: number;
  readonly #backoffBaseMs: number;
  readonly #backoffMaxMs: number;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #cookie: CookieFile | undefined;
  readonly #staticAuth: string | undefined;
  readonly #client = Deno.createHttpClient({});
  readonly #longpollClient = Deno.createHttpClient({});
  readonly #closer = new AbortController();
  readonly #listeners = new Set<HealthListener>();
  #id = 0;
  readonly #link = new LinkHealth();
  #errors = 0;
  #lastError: string | undefined;
  #lastErrorAt: number | undefined;

  /** Creates a client; nothing is sent until the first call. */
  constructor(options: RpcClientOptions) {
    this.url = options.url;
    this.#jsonrpc = options.jsonrpc ?? "1.0";
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#longpollTimeoutMs = options.longpollTimeoutMs ?? 30 * 60_000;
    this.#retries = options.retries ?? 3;
    this.#backoffBaseMs = options.backoffBaseMs ?? 250;
    this.#backoffMaxMs = options.backoffMaxMs ?? 5_000;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.latency = options.latency ?? new LatencyStats({ now: this.#now });
    if (options.cookieFile !== undefined) {
      this.#cookie = new CookieFile(options.cookieFile);
    } else if (options.user !== undefined && options.password !== undefined) {
      this.#staticAuth = basic({ user: options.user, password: options.password });
    }
  }

  /** Current health figures. */
  get health(): RpcHealth {
    return {
      rpcHealthy: this.#link.healthy,
      disconnects: this.#link.disconnects,
      reconnects: this.#link.reconnects,
      errors: this.#errors,
      lastError: this.#lastError,
      lastErrorAt: this.#lastErrorAt,
    };
  }

  /** True while the node answers. */
  get rpcHealthy(): boolean {
    return this.#link.healthy;
  }

  /** Calls `listener` whenever `rpcHealthy` flips; returns a function that removes it. */
  onHealthChange(listener: HealthListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Calls `method` with `params` and resolves to its `result`. Retries network errors, timeouts,
   * HTTP 5xx without a JSON-RPC body, warm-up (-28) and, with a cookie, 401 after re-reading it.
   * Rejects with an {@linkcode RpcError}.
   */
  async call<T = unknown>(
    method: string,
    params: readonly unknown[] = [],
    options: RpcCallOptions = {},
  ): Promise<T> {
    const retries = options.retries ?? this.#retries;
    let attempt = 0;
    let rereadCookie = false;
    for (;;) {
      let error: RpcError;
      try {
        const result = await this.#attempt(method, params, options);
        this.#setHealthy(true, undefined);
        return result as T;
      } catch (err) {
        error = err instanceof RpcError ? err : new RpcError(
          method,
          "network",
          0,
          `${method}: ${err instanceof Error ? err.message : String(err)}`,
          true,
          { cause: err },
        );
      }
      if (error.kind === "auth" && error.code === 401 && this.#cookie && !rereadCookie) {
        // The node may have restarted with a new cookie; read it again before anything else.
        rereadCookie = true;
        this.#cookie.invalidate();
        continue;
      }
      const stopped = this.#closer.signal.aborted || options.signal?.aborted;
      if (!error.retryable || attempt >= retries || stopped) {
        this.#fail(error);
        throw error;
      }
      try {
        await this.#sleep(this.#backoff(attempt++), options.signal);
      } catch {
        const aborted = new RpcError(method, "aborted", 0, `${method}: aborted`, false, {
          cause: error,
        });
        this.#fail(aborted);
        throw aborted;
      }
    }
  }

  /** Aborts calls in flight and releases the connection pools. Calls made later fail at once. */
  close(): void {
    if (this.#closer.signal.aborted) return;
    this.#closer.abort(new Error("RPC client closed"));
    this.#client.close();
    this.#longpollClient.close();
  }

  async #attempt(method: string, params: readonly unknown[], options: RpcCallOptions) {
    if (this.#closer.signal.aborted) {
      throw new RpcError(method, "aborted", 0, `${method}: client closed`, false);
    }
    const authorization = await this.#authorization(method);
    const longpoll = options.longpoll === true;
    const timeoutMs = options.timeoutMs ?? (longpoll ? this.#longpollTimeoutMs : this.#timeoutMs);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const abort = () => controller.abort();
    this.#closer.signal.addEventListener("abort", abort);
    options.signal?.addEventListener("abort", abort);
    const body = JSON.stringify({ jsonrpc: this.#jsonrpc, id: ++this.#id, method, params });
    const started = performance.now();
    let status: number;
    let text: string;
    try {
      const response = await fetch(this.url, {
        method: "POST",
        headers: { authorization, "content-type": "application/json" },
        body,
        signal: controller.signal,
        client: longpoll ? this.#longpollClient : this.#client,
      });
      status = response.status;
      text = await response.text();
    } catch (cause) {
      if (this.#closer.signal.aborted || options.signal?.aborted) {
        throw new RpcError(method, "aborted", 0, `${method}: aborted`, false, { cause });
      }
      if (controller.signal.aborted) {
        throw new RpcError(method, "timeout", 0, `${method}: no answer in ${timeoutMs} ms`, true, {
          cause,
        });
      }
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new RpcError(method, "network", 0, `${method}: ${reason}`, true, { cause });
    } finally {
      clearTimeout(timer);
      this.#closer.signal.removeEventListener("abort", abort);
      options.signal?.removeEventListener("abort", abort);
    }
    const seconds = (performance.now() - started) / 1000;
    return this.#parse(method, status, text, longpoll ? undefined : seconds);
  }

  #parse(method: string, status: number, text: string, seconds: number | undefined): unknown {
    if (status === 401 || status === 403) {
      throw new RpcError(
        method,
        "auth",
        status,
        `${method}: HTTP ${status}, credentials rejected`,
        this.#cookie !== undefined,
      );
    }
    let reply: unknown;
    try {
      reply = JSON.parse(text);
    } catch {
      const snippet = text.slice(0, 120).replace(/\s+/g, " ");
      if (status >= 500) {
        throw new RpcError(method, "http", status, `${method}: HTTP ${status}: ${snippet}`, true);
      }
      throw new RpcError(method, "parse", 0, `${method}: reply is not JSON: ${snippet}`, false);
    }
    if (typeof reply !== "object" || reply === null || Array.isArray(reply)) {
      throw new RpcError(method, "parse", 0, `${method}: reply is not a JSON-RPC object`, false);
    }
    const { result, error } = reply as JsonRpcReply;
    if (error !== undefined && error !== null) {
      if (seconds !== undefined) this.latency.record(method, seconds);
      const { code, message } = rpcErrorFields(error);
      throw new RpcError(
        method,
        "rpc",
        code,
        `${method}: ${message} (${code})`,
        code === RPC_IN_WARMUP,
      );
    }
    if (status < 200 || status >= 300) {
      throw new RpcError(method, "http", status, `${method}: HTTP ${status}`, status >= 500);
    }
    if (!Object.hasOwn(reply, "result")) {
      throw new RpcError(
        method,
        "parse",
        0,
        `${method}: reply has neither result nor error`,
        false,
      );
    }
    if (seconds !== undefined) this.latency.record(method, seconds);
    return result;
  }

  async #authorization(method: string): Promise<string> {
    if (this.#staticAuth !== undefined) return this.#staticAuth;
    if (this.#cookie === undefined) return "";
    try {
      return basic(await this.#cookie.read());
    } catch (cause) {
      // A missing cookie usually means the node is (re)starting: retry like a network error.
      const reason = cause instanceof CookieError ? cause.message : String(cause);
      throw new RpcError(method, "auth", 0, `${method}: ${reason}`, true, { cause });
    }
  }

  #backoff(attempt: number): number {
    const full = Math.min(this.#backoffMaxMs, this.#backoffBaseMs * 2 ** attempt);
    return full / 2 + (full / 2) * this.#random();
  }

  #sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      const signals = signal ? [this.#closer.signal, signal] : [this.#closer.signal];
      if (signals.some((s) => s.aborted)) return reject(new Error("aborted"));
      const done = () => {
        clearTimeout(timer);
        for (const s of signals) s.removeEventListener("abort", onAbort);
      };
      const onAbort = () => {
        done();
        reject(new Error("aborted"));
      };
      const timer = setTimeout(() => {
        done();
        resolve();
      }, ms);
      for (const s of signals) s.addEventListener("abort", onAbort);
    });
  }

  #fail(error: RpcError): void {
    this.#errors++;
    this.#lastError = error.message;
    this.#lastErrorAt = this.#now();
    // The node answered (a node error other than warm-up): the connection itself is fine.
    const reached = error.kind === "rpc" && error.code !== RPC_IN_WARMUP;
    if (error.kind === "aborted") return;
    this.#setHealthy(reached, error);
  }

  #setHealthy(healthy: boolean, error: RpcError | undefined): void {
    if (!this.#link.set(healthy)) return;
    const health = this.health;
    for (const listener of this.#listeners) {
      try {
        listener(health, error);
      } catch {
        // A faulty listener must not break the client or leave a rejection behind.
      }
    }
  }
}

function basic(credentials: RpcCredentials): string {
  const raw = new TextEncoder().encode(`${credentials.user}:${credentials.password}`);
  let binary = "";
  for (const byte of raw) binary += String.fromCharCode(byte);
  return `Basic ${btoa(binary)}`;
}

function rpcErrorFields(error: unknown): { code: number; message: string } {
  if (typeof error === "object" && error !== null) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    return {
      code: typeof code === "number" ? code : 0,
      message: typeof message === "string" ? message : JSON.stringify(error),
    };
  }
  return { code: 0, message: String(error) };
}
