/**
 * Seeded fuzzers for the Stratum input path: the line framer, the JSON-RPC request parser and a
 * `Session` fed random and mutated lines for every method. Each fuzzer checks invariants against
 * a reference model and throws on the first violation, naming the seed and iteration so it can be
 * replayed.
 *
 * `tests/fuzz_stratum_test.ts` runs a bounded count in CI; for more:
 * `deno run -A tools/fuzz.ts --iterations 200000 --seed 7`.
 *
 * @module
 */

import { concatBytes } from "../lib/bitcoin/hex.ts";
import { InlineShareChecker } from "../lib/shares/check.ts";
import { BanList } from "../lib/pool/bans.ts";
import { WorkerRegistry, WorkerStats } from "../lib/pool/worker_stats.ts";
import type { Job } from "../lib/pool/types.ts";
import { LineFramer } from "../stratum/framing.ts";
import { parseRequest } from "../stratum/protocol.ts";
import { ShareDeduper } from "../stratum/dedupe.ts";
import { Session, type SessionConfig, type SessionHost } from "../stratum/session.ts";
import {
  makeJob,
  prevhashOf,
  RecordingBlockSink,
  resolveRegtestPayout,
  TEST_ADDRESS,
  TestJobSource,
} from "../stratum/testing.ts";
import { SeededRandom } from "../lib/shares/synthetic.ts";

/** A small, fast, seeded PRNG (mulberry32): the same seed gives the same run everywhere. */
export class Rng extends SeededRandom {
  /** A uniform float in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** `n` random bytes (the high byte of each draw, so recorded seeds replay as before). */
  override bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

/** What a fuzz run did. */
export interface FuzzReport {
  /** Iterations run. */
  readonly iterations: number;
  /** Lines (or inputs) produced and checked. */
  readonly inputs: number;
  /** Replies or outputs checked. */
  readonly outputs: number;
}

/** A broken invariant, with what is needed to replay it. */
export class FuzzFailure extends Error {
  /** Creates a failure for `fuzzer` at `seed`/`iteration`. */
  constructor(fuzzer: string, seed: number, iteration: number, detail: string) {
    super(`${fuzzer} seed ${seed} iteration ${iteration}: ${detail}`);
    this.name = "FuzzFailure";
  }
}

const encoder = new TextEncoder();

// ---- framer ---------------------------------------------------------------------------------

/** The framer's contract, computed the slow and obvious way over the whole stream. */
function referenceFrames(
  stream: Uint8Array,
  max: number,
): { lines: string[]; oversize: boolean } {
  const lines: string[] = [];
  let start = 0;
  for (;;) {
    const nl = stream.indexOf(0x0a, start);
    const end = nl < 0 ? stream.length : nl;
    if (end - start > max) return { lines, oversize: true };
    if (nl < 0) return { lines, oversize: false };
    let raw = stream.subarray(start, nl);
    if (raw.length > 0 && raw[raw.length - 1] === 0x0d) raw = raw.subarray(0, raw.length - 1);
    const blank = raw.every((b) => b === 0x20 || b === 0x09 || b === 0x0d);
    if (!blank) lines.push(new TextDecoder().decode(raw));
    start = nl + 1;
  }
}

/** Random stream material: JSON lines, CRLF, blank keep-alives, split UTF-8, binary, long runs. */
function randomStream(rng: Rng, max: number): Uint8Array {
  const parts: Uint8Array[] = [];
  const count = 1 + rng.int(12);
  for (let i = 0; i < count; i++) {
    switch (rng.int(7)) {
      case 0:
        parts.push(encoder.encode(JSON.stringify({ id: i, method: "mining.ping", params: [] })));
        break;
      case 1:
        parts.push(encoder.encode("\r\n"));
        break;
      case 2:
        parts.push(encoder.encode(rng.pick([" \t \n", "\n", "\r\r\n", "  \r\n"])));
        break;
      case 3:
        parts.push(encoder.encode(rng.pick(["é", "€", "𝄞", "日本", "\u0000"])));
        break;
      case 4:
        parts.push(rng.bytes(rng.int(64)));
        break;
      case 5:
        parts.push(new Uint8Array(rng.int(max + 64)).fill(0x61 + rng.int(26)));
        break;
      default:
        parts.push(encoder.encode("\n"));
    }
  }
  return concatBytes(...parts);
}

/**
 * Feeds random streams, cut into random chunks (single bytes up to whole streams), to a
 * `LineFramer` and checks its lines and its oversize verdict against {@link referenceFrames}.
 */
export function fuzzFramer(seed: number, iterations: number): FuzzReport {
  const rng = new Rng(seed);
  let inputs = 0;
  let outputs = 0;
  for (let it = 0; it < iterations; it++) {
    const max = rng.pick([8, 64, 300, 1024]);
    const stream = randomStream(rng, max);
    const expected = referenceFrames(stream, max);
    const framer = new LineFramer(max);
    const got: string[] = [];
    let oversize = false;
    let off = 0;
    while (off < stream.length && !oversize) {
      const size = rng.chance(0.3) ? 1 : 1 + rng.int(Math.max(1, stream.length - off));
      const chunk = stream.slice(off, off + size); // a copy: the server reuses its read buffer
      off += size;
      if (framer.push(chunk, (line) => void got.push(line)) === "oversize") oversize = true;
      chunk.fill(0xee); // the framer must not keep references into a chunk it was given
      if (framer.pendingBytes > max) {
        throw new FuzzFailure("framer", seed, it, `holds ${framer.pendingBytes} > cap ${max}`);
      }
    }
    inputs++;
    outputs += got.length;
    const same = oversize === expected.oversize && got.length === expected.lines.length &&
      got.every((line, i) => line === expected.lines[i]);
    if (!same) {
      throw new FuzzFailure(
        "framer",
        seed,
        it,
        `got ${JSON.stringify({ got, oversize })}, expected ${JSON.stringify(expected)}`,
      );
    }
  }
  return { iterations, inputs, outputs };
}

// ---- parser ---------------------------------------------------------------------------------

const METHODS = [
  "mining.subscribe",
  "mining.authorize",
  "mining.auth",
  "mining.submit",
  "mining.configure",
  "mining.suggest_difficulty",
  "mining.set_difficulty",
  "mining.suggest_target",
  "mining.set_target",
  "mining.extranonce.subscribe",
  "mining.get_transactions",
  "mining.ping",
  "client.ping",
  "client.get_version",
  "mining.capabilities",
  "mining.nonexistent",
] as const;

/** A random JSON value of bounded depth: the awkward ones (huge, negative, NaN-like) included. */
function randomValue(rng: Rng, depth = 0): unknown {
  switch (rng.int(depth > 2 ? 7 : 9)) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.pick([0, -1, 1, 0.5, 1e308, -1e308, 2 ** 53, 4294967296, -0, 1e-320]);
    case 3:
      return rng.int(2 ** 32);
    case 4:
      return rng.pick(["", "x", "00000000", "ffffffff", "0x12", "zzzzzzzz", "1fffe000", "1e9"]);
    case 5:
      return Array.from(
        { length: rng.int(9) },
        () => rng.pick("0123456789abcdefABCDEFg ".split("")),
      )
        .join("");
    case 6:
      return "a".repeat(rng.pick([255, 256, 257, 5000]));
    case 7:
      return Array.from({ length: rng.int(6) }, () => randomValue(rng, depth + 1));
    default: {
      // No prototype: a `__proto__` key stays a plain key, as it is in parsed JSON.
      const o: Record<string, unknown> = Object.create(null);
      for (let i = rng.int(4); i > 0; i--) {
        o[rng.pick(["version-rolling.mask", "minimum-difficulty.value", "__proto__", "a", ""])] =
          randomValue(rng, depth + 1);
      }
      return o;
    }
  }
}

/** Flips, drops, duplicates or inserts bytes of `text`. */
function mutate(rng: Rng, text: string): string {
  const chars = [...text];
  for (let n = 1 + rng.int(4); n > 0 && chars.length > 0; n--) {
    const at = rng.int(chars.length);
    switch (rng.int(4)) {
      case 0:
        chars.splice(at, 1);
        break;
      case 1:
        chars.splice(at, 0, rng.pick(['"', "{", "}", "[", "]", ",", ":", "\\", "\u0000", "é"]));
        break;
      case 2:
        chars[at] = String.fromCharCode(rng.int(128));
        break;
      default:
        chars.length = at; // truncated
    }
  }
  return chars.join("");
}

/**
 * Throws random and mutated text at `parseRequest`: it must never throw, and its answer must be a
 * well-formed request (string method, array params, a valid id) or a failure with a valid id.
 */
export function fuzzParser(seed: number, iterations: number): FuzzReport {
  const rng = new Rng(seed);
  const validId = (id: unknown) =>
    id === null || (typeof id === "number" && Number.isFinite(id)) ||
    (typeof id === "string" && id.length <= 256);
  for (let it = 0; it < iterations; it++) {
    const base = JSON.stringify({
      id: rng.chance(0.2) ? randomValue(rng) : it,
      method: rng.chance(0.1) ? randomValue(rng) : rng.pick(METHODS),
      params: rng.chance(0.8) ? randomValue(rng) : [randomValue(rng), randomValue(rng)],
    });
    const line = rng.chance(0.5) ? mutate(rng, base) : base;
    let parsed: ReturnType<typeof parseRequest>;
    try {
      parsed = parseRequest(line);
    } catch (error) {
      throw new FuzzFailure("parser", seed, it, `threw ${error} on ${JSON.stringify(line)}`);
    }
    const ok = "error" in parsed
      ? (parsed.error === "parse" || parsed.error === "invalid") && validId(parsed.id)
      : typeof parsed.method === "string" && Array.isArray(parsed.params) && validId(parsed.id);
    if (!ok) {
      throw new FuzzFailure("parser", seed, it, `bad shape ${JSON.stringify(parsed)}`);
    }
  }
  return { iterations, inputs: iterations, outputs: iterations };
}

// ---- session --------------------------------------------------------------------------------

/** A session's reply or notification line, checked for shape. */
function checkOutputLine(line: string): { id: unknown; isReply: boolean } | string {
  if (!line.endsWith("\n") || line.indexOf("\n") !== line.length - 1) return "not one line";
  let msg: Record<string, unknown>;
  try {
    msg = JSON.parse(line);
  } catch {
    return "not JSON";
  }
  if (typeof msg !== "object" || msg === null || Array.isArray(msg)) return "not an object";
  if (typeof msg.method === "string") {
    return Array.isArray(msg.params) && msg.id === null
      ? { id: null, isReply: false }
      : "bad notification";
  }
  if (!("result" in msg) || !("error" in msg)) return "reply without result/error";
  const e = msg.error;
  if (e !== null) {
    if (!Array.isArray(e) || e.length !== 3 || !Number.isInteger(e[0])) return "bad error triple";
    if (typeof e[1] !== "string" || e[2] !== null || msg.result !== null) return "bad error";
  }
  return { id: msg.id, isReply: true };
}

/** Params for `method`: valid ones (so deeper states are reached), random ones, or mixes. */
function paramsFor(rng: Rng, method: string, job: Job, extranonce2Size: number): unknown {
  if (rng.chance(0.4)) return rng.chance(0.5) ? randomValue(rng) : [randomValue(rng)];
  const hex = (n: number) =>
    Array.from(rng.bytes(n), (b) => b.toString(16).padStart(2, "0")).join("");
  switch (method) {
    case "mining.subscribe":
      return rng.chance(0.5) ? ["fuzz/1.0"] : ["fuzz/1.0", hex(4)];
    case "mining.authorize":
    case "mining.auth":
      return [
        rng.chance(0.7) ? `${TEST_ADDRESS}.fuzz` : JSON.stringify(randomValue(rng)),
        "d=0.001",
      ];
    case "mining.submit": {
      const p: unknown[] = [
        `${TEST_ADDRESS}.fuzz`,
        rng.chance(0.8) ? job.id : JSON.stringify(randomValue(rng)),
        rng.chance(0.8) ? hex(extranonce2Size) : randomValue(rng),
        rng.chance(0.8) ? job.curtime.toString(16).padStart(8, "0") : randomValue(rng),
        rng.chance(0.8) ? hex(4) : randomValue(rng),
      ];
      if (rng.chance(0.3)) p.push(rng.chance(0.5) ? "00002000" : randomValue(rng));
      return p;
    }
    case "mining.configure":
      return [
        rng.pick([["version-rolling"], ["minimum-difficulty", "subscribe-extranonce"], [1, null]]),
        { "version-rolling.mask": rng.pick(["1fffe000", "ffffffff", 0, "zz"]) },
      ];
    default:
      return [randomValue(rng)];
  }
}

/**
 * Drives `Session.handleLine` with random and mutated lines for every method, on sessions that
 * subscribe and authorize often enough to reach share judging. Checks: it never throws; every
 * output line is one well-formed JSON-RPC reply or notification; a request with an id gets at
 * most one reply, and exactly one while the session is open (shares: once judged).
 */
export async function fuzzSession(seed: number, iterations: number): Promise<FuzzReport> {
  const rng = new Rng(seed);
  const jobs = new TestJobSource();
  const job = makeJob({ seq: 1, prevhash: prevhashOf(7) });
  jobs.publish(job);
  const extranonce2Size = 4;
  const config: SessionConfig = {
    extranonce2Size,
    poolPassword: undefined,
    versionMask: 0x1fffe000,
    initialDifficulty: 2 ** -30,
    vardiff: { minDifficulty: 2 ** -40 },
    invalidShares: { threshold: 30 },
    clientBlacklist: ["badminer"],
    initialWorkDelayMs: 0,
    ntimeMaxForwardSec: 7000,
    recentJobs: 4,
    serverVersion: "fuzz",
    resolvePayout: resolveRegtestPayout,
  };
  let nextEn1 = 1;
  const host: SessionHost = {
    config,
    jobs,
    checker: new InlineShareChecker("ts"),
    blocks: new RecordingBlockSink(),
    bans: new BanList(),
    dedupe: new ShareDeduper(),
    registry: new WorkerRegistry(),
    now: () => 1_750_000_000_000,
    log: () => {},
    allocateExtranonce1: () => ({ extranonce1: nextEn1++ }),
    releaseExtranonce1: () => {},
  };
  let inputs = 0;
  let outputs = 0;
  const linesPerSession = 40;
  for (let it = 0; it < iterations; it += linesPerSession) {
    const written: string[] = [];
    let closed = false;
    const session = new Session(host, {
      write: (line) => void written.push(line),
      close: () => void (closed = true),
    }, new WorkerStats(String(it), "127.0.0.1", false, host.now()));
    // Request ids handed out this session, and whether the session was open when each was sent.
    const sent = new Map<number, { method: string; openAtSend: boolean }>();
    for (let i = 0; i < linesPerSession && it + i < iterations; i++) {
      const id = it + i + 1;
      const method = rng.chance(0.05) ? JSON.stringify(randomValue(rng)) : rng.pick(METHODS);
      let line = JSON.stringify({
        id,
        method,
        params: paramsFor(rng, method, job, extranonce2Size),
      });
      // Early lines subscribe and authorize cleanly, so later ones reach the deeper paths.
      if (i === 0 && rng.chance(0.8)) {
        line = JSON.stringify({ id, method: "mining.subscribe", params: ["fuzz/1.0"] });
      } else if (i === 1 && rng.chance(0.8)) {
        line = JSON.stringify({ id, method: "mining.authorize", params: [`${TEST_ADDRESS}.f`] });
      } else if (rng.chance(0.04)) line = mutate(rng, line);
      const parsed = parseRequest(line);
      const isRequest = !("error" in parsed) && parsed.method !== "" && parsed.id === id;
      if (isRequest) sent.set(id, { method: parsed.method, openAtSend: !closed });
      try {
        session.handleLine(line);
      } catch (error) {
        throw new FuzzFailure("session", seed, it + i, `threw ${error} on ${line}`);
      }
      inputs++;
    }
    // Let share checks settle (the inline checker answers in a microtask).
    for (let k = 0; k < 3; k++) await new Promise((r) => setTimeout(r, 0));
    const closedBySession = closed;
    session.close();
    const replies = new Map<unknown, number>();
    for (const line of written) {
      const shape = checkOutputLine(line);
      if (typeof shape === "string") {
        throw new FuzzFailure("session", seed, it, `${shape}: ${JSON.stringify(line)}`);
      }
      // Error replies to lines whose id was lost carry `null`; several of those are fine.
      if (shape.isReply && shape.id !== null) {
        replies.set(shape.id, (replies.get(shape.id) ?? 0) + 1);
      }
      outputs++;
    }
    for (const [id, n] of replies) {
      if (n > 1) throw new FuzzFailure("session", seed, it, `id ${id} answered ${n} times`);
    }
    for (const [id, { method, openAtSend }] of sent) {
      // A share whose session closed before it was judged gets no answer: the socket is gone.
      const mustAnswer = openAtSend && (method !== "mining.submit" || !closedBySession);
      if (mustAnswer && !replies.has(id)) {
        throw new FuzzFailure("session", seed, it, `${method} id ${id} got no reply`);
      }
    }
  }
  return { iterations, inputs, outputs };
}

/** Reads `--name N` from `args`. */
function flag(args: readonly string[], name: string, fallback: number): number {
  const at = args.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const n = Number(args[at + 1]);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} needs a non-negative integer`);
  return n;
}

if (import.meta.main) {
  const iterations = flag(Deno.args, "iterations", 100_000);
  const seed = flag(Deno.args, "seed", 1);
  const started = performance.now();
  for (
    const [name, run] of [
      ["framer", () => fuzzFramer(seed, iterations)],
      ["parser", () => fuzzParser(seed, iterations)],
      ["session", () => fuzzSession(seed, iterations)],
    ] as const
  ) {
    const report = await run();
    console.log(
      `${name}: ${report.iterations} iterations, ${report.inputs} inputs, ${report.outputs} outputs`,
    );
  }
  console.log(`fuzz: seed ${seed}, ${Math.round(performance.now() - started)} ms, no failures`);
}
