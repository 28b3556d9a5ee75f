/**
 * One load-generator process for `deno task bench load`: holds a share of the Stratum connections
 * and submits shares on them when told. It is a lean Stratum client written for volume (one read
 * buffer per connection, one write per connection per tick, no per-share allocation beyond the
 * line itself), not the full client in `stratum/client.ts`.
 *
 * It talks to the orchestrator (`bench/load.ts`) in JSON lines: the settings come as the first
 * argument, commands arrive on stdin, events leave on stdout.
 *
 * - At start: opens `connections` connections at `rampPerSecond`, sends `mining.configure`
 *   (version rolling, when asked), `mining.subscribe` and `mining.authorize` in one write, and
 *   waits for the first `mining.notify`; then reports `connected`.
 * - `arm`: remembers every connection's current prevhash; the first clean notify on another
 *   prevhash is timed per connection. Reports `fanout` when all have one, or on `collect`.
 * - `load`: submits well-formed shares (the current job, its ntime, a counting nonce, rolled
 *   version bits within the mask) at `rate` per second, round-robin over the connections, for
 *   `durationMs`; waits up to `drainMs` for the last answers; reports `load`.
 * - `stop`: closes everything and exits.
 *
 * @module
 */

import { emitEvent, readCommands } from "./child.ts";
import { epochMs, LatencyHistogram, processCpuMs } from "./stats.ts";

/** Settings of one generator, passed as JSON in `Deno.args[0]`. */
export interface GeneratorSettings {
  /** Generator number (names its workers). */
  readonly index: number;
  /** Pool host. */
  readonly host: string;
  /** Pool Stratum port. */
  readonly port: number;
  /** Connections this generator holds. */
  readonly connections: number;
  /** Connections opened per second. */
  readonly rampPerSecond: number;
  /** Payout address; workers are `ADDRESS.g<index>c<n>`. */
  readonly address: string;
  /** Negotiate version rolling and roll bits in submits. */
  readonly versionRolling: boolean;
  /** Give up on a connection that has no work this long after connecting (ms). */
  readonly readyTimeoutMs: number;
}

/** Commands from the orchestrator. */
export type GeneratorCommand =
  | { readonly cmd: "arm" }
  | { readonly cmd: "collect" }
  | {
    readonly cmd: "load";
    readonly rate: number;
    /** Closed loop instead of a rate: every miner keeps this many submits unanswered (0 = off). */
    readonly inflight?: number;
    readonly durationMs: number;
    readonly drainMs: number;
  }
  | { readonly cmd: "stop" };

/** Events to the orchestrator. */
export type GeneratorEvent =
  | {
    readonly type: "connected";
    readonly ready: number;
    readonly failed: number;
    readonly errors: Record<string, number>;
    readonly rampMs: number;
  }
  | {
    readonly type: "fanout";
    readonly count: number;
    readonly of: number;
    readonly first: number;
    readonly last: number;
  }
  | {
    readonly type: "load";
    readonly sent: number;
    readonly answered: number;
    readonly answeredInWindow: number;
    readonly windowMs: number;
    readonly accepted: number;
    readonly rejected: Record<string, number>;
    readonly unanswered: number;
    readonly held: number;
    readonly latency: ReturnType<LatencyHistogram["toJSON"]>;
    readonly generatorCpuPercent: number;
    readonly lagMaxMs: number;
  }
  | { readonly type: "stopped" };

const encoder = new TextEncoder();
/** Submit ids start here; lower ids are the set-up requests. */
const FIRST_SUBMIT_ID = 16;

/** Counters of one load phase, shared by every connection of the generator. */
class LoadTally {
  sent = 0;
  answered = 0;
  answeredInWindow = 0;
  accepted = 0;
  rejected: Record<string, number> = {};
  inWindow = true;
  readonly latency = new LatencyHistogram();

  /** A short, stable name for a reject: the code and the message without its details. */
  reject(code: unknown, message: unknown): void {
    const text = typeof message === "string" ? message : "";
    const head = text.replace(/\s*\(.*$/, "").replace(/:.*$/, "").trim();
    const key = `${code} ${head}`;
    this.rejected[key] = (this.rejected[key] ?? 0) + 1;
  }
}

/** One Stratum connection. */
class Miner {
  readonly #conn: Deno.Conn;
  readonly #user: string;
  readonly #versionRolling: boolean;
  readonly #pending = new Map<number, number>();
  readonly #out: string[] = [];
  #writing = false;
  #nextId = FIRST_SUBMIT_ID;
  #nonce = 0;
  #jobId = "";
  #ntime = "";
  #prevhash = "";
  #versionMask = 0;
  #en2 = "";
  #closed = false;
  #onReady: (() => void) | undefined;
  /** Prevhash when fan-out timing was armed; "" when not armed. */
  armedPrevhash = "";
  /** Epoch ms of the first clean notify on a new prevhash since `arm`, 0 until then. */
  fanoutAt = 0;
  tally: LoadTally | undefined;
  /** Why set-up failed, when the pool refused it. */
  setupError: string | undefined;
  readonly ready: Promise<void>;
  readonly onFanout: () => void;

  constructor(conn: Deno.Conn, user: string, versionRolling: boolean, onFanout: () => void) {
    this.#conn = conn;
    this.#user = user;
    this.#versionRolling = versionRolling;
    this.onFanout = onFanout;
    this.ready = new Promise((resolve) => (this.#onReady = resolve));
    const setup: string[] = [];
    if (versionRolling) {
      setup.push(JSON.stringify({
        id: 1,
        method: "mining.configure",
        params: [["version-rolling"], {
          "version-rolling.mask": "1fffe000",
          "version-rolling.min-bit-count": 2,
        }],
      }));
    }
    setup.push(JSON.stringify({ id: 2, method: "mining.subscribe", params: ["denopool-bench/1"] }));
    setup.push(JSON.stringify({ id: 3, method: "mining.authorize", params: [user, "x"] }));
    this.#send(setup.join("\n") + "\n");
    void this.#readLoop();
  }

  get closed(): boolean {
    return this.#closed;
  }

  get prevhash(): string {
    return this.#prevhash;
  }

  /** Queues one well-formed share on the current job, timed from `now`. */
  submit(now: number): void {
    const id = this.#nextId++;
    const nonce = (this.#nonce++ >>> 0).toString(16).padStart(8, "0");
    let line =
      `{"id":${id},"method":"mining.submit","params":["${this.#user}","${this.#jobId}","${this.#en2}","${this.#ntime}","${nonce}"`;
    if (this.#versionRolling && this.#versionMask !== 0) {
      const bits = ((this.#nonce << 13) & this.#versionMask) >>> 0;
      line += `,"${bits.toString(16).padStart(8, "0")}"`;
    }
    this.#out.push(line + "]}\n");
    this.#pending.set(id, now);
  }

  /** Writes what `submit` queued (one write per connection per tick). */
  flush(): void {
    if (this.#out.length === 0) return;
    const text = this.#out.join("");
    this.#out.length = 0;
    this.#send(text);
  }

  /** Submits not answered yet. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Forgets unanswered submits (after the drain). */
  dropPending(): void {
    this.#pending.clear();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }

  #send(text: string): void {
    if (this.#closed) return;
    if (this.#writing) {
      this.#out.push(text);
      return;
    }
    this.#writing = true;
    void (async () => {
      try {
        let bytes = encoder.encode(text);
        for (;;) {
          let offset = 0;
          while (offset < bytes.length) offset += await this.#conn.write(bytes.subarray(offset));
          if (this.#out.length === 0) break;
          bytes = encoder.encode(this.#out.join(""));
          this.#out.length = 0;
        }
      } catch {
        this.close();
      } finally {
        this.#writing = false;
      }
    })();
  }

  async #readLoop(): Promise<void> {
    const buffer = new Uint8Array(65536);
    const decoder = new TextDecoder();
    let rest = "";
    try {
      for (;;) {
        const n = await this.#conn.read(buffer);
        if (n === null) break;
        const text = rest + decoder.decode(buffer.subarray(0, n), { stream: true });
        let start = 0;
        for (;;) {
          const end = text.indexOf("\n", start);
          if (end < 0) break;
          if (end > start) this.#onLine(text.slice(start, end));
          start = end + 1;
        }
        rest = text.slice(start);
      }
    } catch {
      // reset or closed
    }
    this.close();
  }

  #onLine(line: string): void {
    const now = performance.now();
    let message: {
      id?: unknown;
      method?: unknown;
      params?: unknown[];
      result?: unknown;
      error?: unknown;
    };
    try {
      message = JSON.parse(line);
    } catch {
      return;
    }
    if (typeof message.id === "number" && message.id >= FIRST_SUBMIT_ID) {
      const sentAt = this.#pending.get(message.id);
      const tally = this.tally;
      if (sentAt === undefined || tally === undefined) return;
      this.#pending.delete(message.id);
      tally.answered++;
      if (tally.inWindow) tally.answeredInWindow++;
      tally.latency.record(now - sentAt);
      if (message.result === true) tally.accepted++;
      else {
        const error = Array.isArray(message.error) ? message.error : [];
        tally.reject(error[0], error[1]);
      }
      return;
    }
    if (message.id === 3 && message.result !== true) {
      const error = Array.isArray(message.error) ? message.error : [];
      this.setupError = `authorize: ${String(error[1] ?? "refused").slice(0, 60)}`;
      this.close();
      return;
    }
    if (message.id === 2 && Array.isArray(message.result)) {
      const size = Number(message.result[2]);
      this.#en2 = "00".repeat(size);
      return;
    }
    if (message.method === "mining.set_version_mask" && Array.isArray(message.params)) {
      this.#versionMask = parseInt(String(message.params[0]), 16) >>> 0;
      return;
    }
    if (message.id === 1 && message.result && typeof message.result === "object") {
      const mask = (message.result as Record<string, unknown>)["version-rolling.mask"];
      if (typeof mask === "string") this.#versionMask = parseInt(mask, 16) >>> 0;
      return;
    }
    if (message.method === "mining.notify" && Array.isArray(message.params)) {
      const p = message.params;
      this.#jobId = String(p[0]);
      const prevhash = String(p[1]);
      this.#ntime = String(p[7]);
      if (
        this.armedPrevhash !== "" && this.fanoutAt === 0 && p[8] === true &&
        prevhash !== this.armedPrevhash
      ) {
        this.fanoutAt = epochMs();
        this.onFanout();
      }
      this.#prevhash = prevhash;
      if (this.#onReady !== undefined) {
        this.#onReady();
        this.#onReady = undefined;
      }
    }
  }
}

/** Writes one event line for the parent (typed to this process's events). */
const emit: (event: GeneratorEvent) => void = emitEvent;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function connectAll(settings: GeneratorSettings, miners: Miner[], onFanout: () => void) {
  const errors: Record<string, number> = {};
  const started = performance.now();
  const waits: Promise<void>[] = [];
  const fail = (reason: string) => (errors[reason] = (errors[reason] ?? 0) + 1);
  for (let i = 0; i < settings.connections; i++) {
    const due = (i * 1000) / settings.rampPerSecond;
    const wait = due - (performance.now() - started);
    if (wait >= 1) await sleep(wait);
    waits.push((async () => {
      let conn: Deno.TcpConn;
      try {
        conn = await Deno.connect({ hostname: settings.host, port: settings.port });
      } catch (error) {
        fail(error instanceof Error ? error.name : "connect");
        return;
      }
      conn.setNoDelay(true);
      const user = `${settings.address}.g${settings.index}c${i}`;
      const miner = new Miner(conn, user, settings.versionRolling, onFanout);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), settings.readyTimeoutMs);
      });
      const outcome = await Promise.race([miner.ready.then(() => "ready" as const), timeout]);
      clearTimeout(timer);
      if (outcome === "ready" && !miner.closed) miners.push(miner);
      else {
        fail(miner.setupError ?? (miner.closed ? "closed-before-work" : "no-work-in-time"));
        miner.close();
      }
    })());
  }
  await Promise.all(waits);
  return { errors, rampMs: performance.now() - started };
}

async function runLoad(
  miners: Miner[],
  rate: number,
  durationMs: number,
  drainMs: number,
  inflight = 0,
): Promise<GeneratorEvent> {
  const live = miners.filter((m) => !m.closed);
  const tally = new LoadTally();
  for (const m of live) m.tally = tally;
  const cpu0 = processCpuMs(Deno.pid);
  const start = performance.now();
  let next = 0;
  let lagMax = 0;
  let last = start;
  const touched = new Set<Miner>();
  while (live.length > 0) {
    const now = performance.now();
    lagMax = Math.max(lagMax, now - last);
    last = now;
    const elapsed = now - start;
    if (elapsed >= durationMs) break;
    if (inflight > 0) {
      // Closed loop: top every miner up to `inflight` unanswered submits, as pipelining miners do.
      for (const miner of live) {
        if (miner.closed) continue;
        while (miner.pending < inflight) {
          miner.submit(now);
          tally.sent++;
        }
        touched.add(miner);
      }
    }
    const due = inflight > 0 ? 0 : Math.floor((elapsed * rate) / 1000);
    while (tally.sent < due) {
      const miner = live[next];
      next = (next + 1) % live.length;
      if (miner.closed) continue;
      miner.submit(now);
      touched.add(miner);
      tally.sent++;
    }
    for (const miner of touched) miner.flush();
    touched.clear();
    await sleep(1);
  }
  const windowMs = performance.now() - start;
  tally.inWindow = false;
  const drainEnd = performance.now() + drainMs;
  while (performance.now() < drainEnd && live.some((m) => m.pending > 0 && !m.closed)) {
    await sleep(5);
  }
  let unanswered = 0;
  for (const m of live) {
    unanswered += m.pending;
    m.dropPending();
    m.tally = undefined;
  }
  const cpuMs = processCpuMs(Deno.pid) - cpu0;
  return {
    type: "load",
    sent: tally.sent,
    answered: tally.answered,
    answeredInWindow: tally.answeredInWindow,
    windowMs,
    accepted: tally.accepted,
    rejected: tally.rejected,
    unanswered,
    held: live.filter((m) => !m.closed).length,
    latency: tally.latency.toJSON(),
    generatorCpuPercent: (cpuMs / (performance.now() - start)) * 100,
    lagMaxMs: lagMax,
  };
}

async function main(): Promise<void> {
  const settings = JSON.parse(Deno.args[0]) as GeneratorSettings;
  const miners: Miner[] = [];
  let fanoutReported = true;
  const fanoutReport = (): GeneratorEvent => {
    let count = 0, first = Infinity, last = 0;
    let of = 0;
    for (const m of miners) {
      if (m.closed) continue;
      of++;
      if (m.fanoutAt === 0) continue;
      count++;
      first = Math.min(first, m.fanoutAt);
      last = Math.max(last, m.fanoutAt);
    }
    return { type: "fanout", count, of, first: count ? first : 0, last };
  };
  let notified = 0;
  const onFanout = () => {
    notified++;
    if (!fanoutReported && notified >= miners.filter((m) => !m.closed).length) {
      fanoutReported = true;
      emit(fanoutReport());
    }
  };
  const { errors, rampMs } = await connectAll(settings, miners, onFanout);
  let failed = 0;
  for (const n of Object.values(errors)) failed += n;
  emit({ type: "connected", ready: miners.length, failed, errors, rampMs });

  for await (const command of readCommands<GeneratorCommand>()) {
    switch (command.cmd) {
      case "arm":
        notified = 0;
        fanoutReported = false;
        for (const m of miners) {
          m.armedPrevhash = m.prevhash;
          m.fanoutAt = 0;
        }
        break;
      case "collect":
        if (!fanoutReported) {
          fanoutReported = true;
          emit(fanoutReport());
        }
        break;
      case "load":
        emit(
          await runLoad(
            miners,
            command.rate,
            command.durationMs,
            command.drainMs,
            command.inflight ?? 0,
          ),
        );
        break;
      case "stop":
        for (const m of miners) m.close();
        emit({ type: "stopped" });
        Deno.exit(0);
    }
  }
}

if (import.meta.main) await main();
