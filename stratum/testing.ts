/**
 * Test support for the Stratum server: a settable job feed, a job builder, a recording block
 * sink, a payout resolver backed by the real address code, a line-level TCP/TLS miner, and a
 * nonce grinder built on the share checker's reference computation.
 *
 * Used by `tests/stratum_*_test.ts`; nothing in the pool imports it.
 *
 * @module
 */

import { AddressError, addressToScript, scriptToAddress } from "../lib/bitcoin/mod.ts";
import { bytesToHex } from "../lib/bitcoin/mod.ts";
import { NETWORKS } from "../lib/bitcoin/mod.ts";
import type {
  BlockCandidate,
  BlockSink,
  BlockSubmitResult,
  CoinbaseParts,
  Job,
  JobSource,
  ShareInput,
} from "../lib/pool/mod.ts";
import { refVerdict } from "../lib/shares/testing.ts";
import type { PayoutResolution } from "../lib/pool/mod.ts";

let nextKey = 1;

/** Settings of a test job. */
export interface TestJobOptions {
  /** Job sequence number (also the id, as hex). */
  readonly seq: number;
  /** Previous block hash (32 bytes); jobs with the same one are on the same tip. */
  readonly prevhash: Uint8Array;
  /** True for a new tip. */
  readonly clean?: boolean;
  /** Network target (default: regtest's `0x207fffff` is NOT used; a hard target unless given). */
  readonly networkTarget?: bigint;
  /** Template curtime (default 1 750 000 000). */
  readonly curtime?: number;
  /** Version mask the template allows (default `0x1fffe000`). */
  readonly versionMask?: number;
  /** Height (default 1000). */
  readonly height?: number;
}

/** A 32-byte prevhash filled with `byte`. */
export function prevhashOf(byte: number): Uint8Array {
  return new Uint8Array(32).fill(byte);
}

/** A real `Job` over arbitrary coinbase bytes (the hashing path does not parse them). */
export function makeJob(o: TestJobOptions): Job {
  const bits = 0x1d00ffff;
  const curtime = o.curtime ?? 1_750_000_000;
  const branch = [new Uint8Array(32).fill(0x11), new Uint8Array(32).fill(0x22)];
  const coinbases = new Map<string, CoinbaseParts>();
  return {
    seq: o.seq,
    id: o.seq.toString(16),
    height: o.height ?? 1000,
    prevhash: o.prevhash,
    prevhashStratum: bytesToHex(o.prevhash),
    version: 0x20000000,
    bits,
    bitsHex: "1d00ffff",
    curtime,
    mintime: curtime - 600,
    networkTarget: o.networkTarget ?? (0xffffn << 208n),
    merkleBranch: branch,
    merkleBranchHex: branch.map(bytesToHex),
    clean: o.clean ?? true,
    createdAt: 0,
    coinbaseValue: 5_000_000_000n,
    txCount: 3,
    versionMask: o.versionMask ?? 0x1fffe000,
    coinbaseFor(script: Uint8Array): CoinbaseParts {
      const k = bytesToHex(script);
      let parts = coinbases.get(k);
      if (parts === undefined) {
        const coinb1 = new Uint8Array([1, 0, 0, 0, 1, o.seq & 0xff, ...script.subarray(0, 8)]);
        const coinb2 = new Uint8Array([0xff, 0xff, 0xff, 0xff, ...script, 0, 0, 0, 0]);
        parts = {
          key: nextKey++,
          coinb1,
          coinb2,
          coinb1Hex: bytesToHex(coinb1),
          coinb2Hex: bytesToHex(coinb2),
          outputs: [{ script, value: 5_000_000_000n, role: "miner" }],
        };
        coinbases.set(k, parts);
      }
      return parts;
    },
  };
}

/** A job feed the test controls. */
export class TestJobSource implements JobSource {
  readonly #jobs = new Map<string, Job>();
  readonly #listeners = new Set<(job: Job) => void>();
  #current: Job | undefined;
  /** False while the pool must not hand out work. */
  ready = true;
  /** Why not ready. */
  notReadyReason: string | undefined = undefined;

  /** The newest job. */
  current(): Job | undefined {
    return this.#current;
  }

  /** A published job by id. */
  get(id: string): Job | undefined {
    return this.#jobs.get(id);
  }

  /** Subscribes to new jobs. */
  onJob(listener: (job: Job) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Makes `job` current and tells the listeners. */
  publish(job: Job): void {
    this.#jobs.set(job.id, job);
    this.#current = job;
    for (const l of this.#listeners) l(job);
  }

  /** Forgets a job (as a JobManager does when it ages out). */
  forget(id: string): void {
    this.#jobs.delete(id);
  }
}

/** A block sink that records candidates and answers `accepted` (or a set reason). */
export class RecordingBlockSink implements BlockSink {
  /** Every candidate submitted, in order. */
  readonly candidates: BlockCandidate[] = [];
  /** When set, the node "rejects" with this reason. */
  rejectWith: string | undefined = undefined;

  /** Records the candidate and answers. */
  submit(candidate: BlockCandidate): Promise<BlockSubmitResult> {
    this.candidates.push(candidate);
    const hash = bytesToHex(Uint8Array.from(candidate.verdict.hash).reverse());
    return Promise.resolve(
      this.rejectWith === undefined
        ? { accepted: true, hash }
        : { accepted: false, hash, reason: this.rejectWith },
    );
  }
}

/** A valid regtest P2WPKH address (witness program `0x42…`). */
export const TEST_ADDRESS: string = scriptToAddress(
  new Uint8Array([0x00, 0x14, ...new Uint8Array(20).fill(0x42)]),
  NETWORKS.regtest,
)!;

/** `ADDRESS[.worker]` → payout on regtest, with the address code's reason on failure. */
export function resolveRegtestPayout(user: string): PayoutResolution {
  const dot = user.indexOf(".");
  const address = dot < 0 ? user : user.slice(0, dot);
  try {
    return {
      script: addressToScript(address, NETWORKS.regtest),
      address,
      worker: dot < 0 ? "" : user.slice(dot + 1),
    };
  } catch (error) {
    return { error: error instanceof AddressError ? error.message : String(error) };
  }
}

/** One JSON message received by a {@link TestMiner}. */
export type Message = {
  id?: unknown;
  method?: string;
  params?: unknown[];
  result?: unknown;
  error?: unknown;
};

/** A line-level Stratum client for tests: raw writes, replies by id, notifications in order. */
export class TestMiner {
  /** Every message received, in order. */
  readonly received: Message[] = [];
  /** Resolves when the server closed the connection. */
  readonly closed: Promise<void>;
  readonly #conn: Deno.Conn;
  #nextId = 1;
  #waiters: (() => void)[] = [];
  #isClosed = false;

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
    this.closed = this.#readLoop();
  }

  /** Connects over plain TCP. */
  static async connect(port: number): Promise<TestMiner> {
    return new TestMiner(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /** Connects over TLS trusting `caCert` (PEM). */
  static async connectTls(port: number, caCert: string): Promise<TestMiner> {
    return new TestMiner(
      await Deno.connectTls({ hostname: "localhost", port, caCerts: [caCert] }),
    );
  }

  /** True once the server closed the connection. */
  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Writes raw text. */
  async writeRaw(text: string | Uint8Array): Promise<void> {
    const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
    let off = 0;
    while (off < bytes.length) off += await this.#conn.write(bytes.subarray(off));
  }

  /** Sends a request and returns its reply. */
  async request(method: string, params: unknown[] = []): Promise<Message> {
    const id = this.#nextId++;
    await this.writeRaw(JSON.stringify({ id, method, params }) + "\n");
    return await this.waitFor((m) => m.id === id && m.method === undefined);
  }

  /** Waits for the first received message (from `from` on) matching `match`. */
  async waitFor(match: (m: Message) => boolean, timeoutMs = 3000, from = 0): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = from; i < this.received.length; i++) {
        if (match(this.received[i])) return this.received[i];
      }
      if (this.#isClosed) throw new Error("connection closed while waiting");
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("timed out waiting for a message");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits for the next notification `method` after index `from`. */
  notification(method: string, from = 0, timeoutMs = 3000): Promise<Message> {
    return this.waitFor((m) => m.method === method, timeoutMs, from);
  }

  /** Subscribes and authorizes; returns extranonce1 hex and the first set_difficulty + notify. */
  async handshake(
    user = TEST_ADDRESS + ".rig1",
    password = "x",
    userAgent = "testminer/1.0",
  ): Promise<{ extranonce1: string; difficulty: number; notify: Message }> {
    const sub = await this.request("mining.subscribe", [userAgent]);
    const extranonce1 = (sub.result as unknown[])[1] as string;
    const auth = await this.request("mining.authorize", [user, password]);
    if (auth.result !== true) throw new Error(`authorize failed: ${JSON.stringify(auth.error)}`);
    const setDiff = await this.notification("mining.set_difficulty");
    const notify = await this.notification("mining.notify");
    return { extranonce1, difficulty: setDiff.params![0] as number, notify };
  }

  /** Closes the client side. */
  close(): void {
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }

  async #readLoop(): Promise<void> {
    const decoder = new TextDecoder();
    const buf = new Uint8Array(65536);
    let text = "";
    try {
      for (;;) {
        const n = await this.#conn.read(buf);
        if (n === null) break;
        text += decoder.decode(buf.subarray(0, n), { stream: true });
        let nl: number;
        while ((nl = text.indexOf("\n")) >= 0) {
          const line = text.slice(0, nl);
          text = text.slice(nl + 1);
          if (line.trim() !== "") this.received.push(JSON.parse(line));
        }
        this.#wake();
      }
    } catch {
      // reset or closed locally
    }
    this.#isClosed = true;
    this.#wake();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}

/** The miner-chosen fields of a share to grind. */
export interface GrindInput {
  /** Job the share is for. */
  readonly job: Job;
  /** The user's payout script (to pick the coinbase). */
  readonly script: Uint8Array;
  /** extranonce1 hex. */
  readonly extranonce1: string;
  /** extranonce2 hex. */
  readonly extranonce2: string;
  /** Header time. */
  readonly ntime: number;
  /** Full header version. */
  readonly version?: number;
  /** Share target the verdict is judged against. */
  readonly shareTarget: bigint;
}

/**
 * The first nonce (from `start`) whose reference verdict satisfies `want`, computed with the share
 * checker's independent reference (node:crypto), so tests never hard-code a result.
 */
export function grindNonce(
  g: GrindInput,
  want: (v: { meetsShareTarget: boolean; meetsNetworkTarget: boolean }) => boolean,
  start = 0,
): number {
  const hex = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (x) => parseInt(x, 16));
  const coinbase = g.job.coinbaseFor(g.script);
  for (let nonce = start; nonce < start + 100_000; nonce++) {
    const share: ShareInput = {
      extranonce1: hex(g.extranonce1),
      extranonce2: hex(g.extranonce2),
      ntime: g.ntime,
      nonce,
      version: g.version ?? g.job.version,
      shareTarget: g.shareTarget,
    };
    if (want(refVerdict(g.job, coinbase, share))) return nonce;
  }
  throw new Error("no nonce found in 100000 tries");
}
