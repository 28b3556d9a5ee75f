/**
 * BlockSubmitter: builds a found block, journals it to disk and submits it to the node at once.
 *
 * A found block is never lost: the journal entry (with the full block hex) is written durably while
 * `submitblock` is already on its way; transport failures are retried quickly while the tip has not
 * moved; after a restart, `recover()` resubmits journaled blocks that are still current. Each block
 * is recorded exactly once, keyed by its hash.
 *
 * @module
 */

import { bytesToHex, reverseBytes } from "../bitcoin/mod.ts";
import { sha256d } from "../bitcoin/mod.ts";
import { merkleRootFromBranch } from "../bitcoin/mod.ts";
import { buildHeader } from "../bitcoin/mod.ts";
import { coinbaseWithWitness, joinCoinbase } from "../bitcoin/mod.ts";
import { serializeBlockHex } from "../bitcoin/mod.ts";
import type { BlockCandidate, BlockSink, BlockSubmitResult } from "./types.ts";
import type { PoolJob } from "./jobs.ts";
import type { RpcCaller } from "../node/mod.ts";
import type { TipState } from "./tips.ts";

/** Where a found block stands. */
export type FoundBlockStatus = "pending" | "accepted" | "rejected" | "stale";

/** One found block as journaled and recorded. */
export interface FoundBlockRecord {
  /** Block height. */
  readonly height: number;
  /** Block hash, RPC hex. */
  readonly hash: string;
  /** Previous block hash, RPC hex. */
  readonly prevhash: string;
  /** Full worker name the block is credited to. */
  readonly worker: string;
  /** Difficulty of the share that was the block. */
  readonly shareDifficulty: number;
  /** When the share was found (ms since the epoch). */
  readonly foundAt: number;
  /** Coinbase value, satoshis (decimal string: JSON has no bigint). */
  readonly coinbaseValueSats: string;
  /** Paid to the miner, satoshis. */
  readonly workerPayoutSats: string;
  /** Pool fee kept by the pool, satoshis. */
  readonly poolFeeSats: string;
  /** Donation, satoshis. */
  readonly donationSats: string;
  /** Where the block stands. */
  status: FoundBlockStatus;
  /** The node's reason for a rejection, or the last transport error. */
  reason?: string;
  /** submitblock calls made so far. */
  attempts: number;
  /** True when, as it settled, the block was on the node's main chain at its height. */
  confirmed?: boolean;
  /** When the status last changed (ms since the epoch). */
  updatedAt: number;
}

/** The latest failure to write or read the block journal. */
export interface JournalError {
  /** What failed, without file paths (it is shown on the public server page). */
  readonly message: string;
  /** When (ms since the epoch). */
  readonly at: number;
}

/** An I/O error as a short reason: Deno's `… (os error N): open '/path'` without the path. */
function ioReason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const os = /^(.*?\(os error \d+\))/.exec(text);
  return os ? os[1] : text.replace(/'[^']*'/g, "'…'");
}

interface JournalFile extends FoundBlockRecord {
  /** The serialized block, hex. */
  blockHex: string;
}

/** Options of the submitter. */
export interface BlockSubmitterOptions {
  /** The node. */
  readonly rpc: RpcCaller;
  /** Directory for the journal (created if missing). */
  readonly journalDir: string;
  /**
   * The pool's tip owner: a block is retried and resubmitted only while its parent is the tip, and
   * a tip is marked solved there when the node accepts the pool's block on it.
   */
  readonly tips: TipState;
  /** Gap between submit retries (ms). */
  readonly retryDelayMs?: number;
  /** Give up retrying transport failures after this long (ms). */
  readonly retryForMs?: number;
  /** Per-call timeout of submitblock (ms). */
  readonly submitTimeoutMs?: number;
  /** Called once per block when its status settles (accepted, rejected or stale). */
  readonly onRecord?: (record: FoundBlockRecord) => void;
  /** Called after every durable journal write and for every journaled block recovered. */
  readonly onJournal?: (record: FoundBlockRecord) => void;
  /**
   * Called once per new found block after its first journal write and before it goes to the node;
   * when set, the block waits for the journal (and this hook) before it is submitted. For tests
   * that stop the pool at exactly that point, the crash `recover()` exists for.
   */
  readonly afterJournal?: (record: FoundBlockRecord) => void | Promise<void>;
  /** Clock (ms since the epoch). */
  readonly now?: () => number;
}

/** Serializes a candidate into the full block and returns its hash and hex. */
export function assembleBlock(
  c: BlockCandidate<PoolJob>,
): { hash: string; hex: string; header: Uint8Array } {
  const { job, coinbase, share } = c;
  const legacy = joinCoinbase(
    coinbase.coinb1,
    share.extranonce1,
    share.extranonce2,
    coinbase.coinb2,
  );
  const root = merkleRootFromBranch(sha256d(legacy), job.merkleBranch);
  const header = buildHeader(share.version, job.prevhash, root, share.ntime, job.bits, share.nonce);
  const hash = bytesToHex(reverseBytes(sha256d(header)));
  const coinbaseTx = job.witnessCommitment ? coinbaseWithWitness(legacy) : legacy;
  return { hash, hex: serializeBlockHex(header, coinbaseTx, job.txHex ?? []), header };
}

function withoutBlockHex(rec: JournalFile): FoundBlockRecord {
  const { blockHex: _hex, ...record } = rec;
  return record;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Submits found blocks; the only writer of the block journal. */
export class BlockSubmitter implements BlockSink<PoolJob> {
  #o:
    & Required<Omit<BlockSubmitterOptions, "onRecord" | "onJournal" | "afterJournal">>
    & Pick<BlockSubmitterOptions, "onRecord" | "onJournal" | "afterJournal">;
  #records = new Map<string, JournalFile>();
  #ready: Promise<void>;
  #journalError: JournalError | undefined;
  /** The submission in flight per tip (prevhash, RPC hex): later blocks on it wait for it. */
  readonly #submitting = new Map<string, Promise<BlockSubmitResult>>();
  #journalErrors = 0;

  /** Creates the submitter; the journal directory is created on first use. */
  constructor(opts: BlockSubmitterOptions) {
    this.#o = {
      retryDelayMs: 250,
      retryForMs: 60_000,
      submitTimeoutMs: 10_000,
      now: Date.now,
      ...opts,
    };
    // A journal that cannot be created must not stop the pool (nor be an unhandled rejection):
    // blocks still go to the node, and the failure is shown as the accounting error.
    this.#ready = Deno.mkdir(opts.journalDir, { recursive: true }).catch((error) =>
      this.#noteJournalError("cannot create the block journal directory", error)
    );
  }

  /** The latest journal failure (write, read or directory), if any since start. */
  get journalError(): JournalError | undefined {
    return this.#journalError;
  }

  /** Journal failures since start. */
  get journalErrors(): number {
    return this.#journalErrors;
  }

  /** Every known found block, newest first. */
  records(): FoundBlockRecord[] {
    return [...this.#records.values()]
      .map((r) => {
        const { blockHex: _hex, ...record } = r;
        return record;
      })
      .sort((a, b) => b.height - a.height || b.foundAt - a.foundAt);
  }

  /** The serialized block (hex) of a known found block, or undefined. */
  blockHex(hash: string): string | undefined {
    return this.#records.get(hash)?.blockHex;
  }

  /**
   * Operator: sends a known block to the node once more, whatever its status, and resolves with
   * the node's answer (`"accepted"` for null, else its reason). The record is left as it is.
   * Undefined when the block is not known.
   */
  async resubmit(hash: string): Promise<string | undefined> {
    const rec = this.#records.get(hash);
    if (rec === undefined) return undefined;
    const res = await this.#o.rpc.call<string | null>("submitblock", [rec.blockHex], {
      timeoutMs: this.#o.submitTimeoutMs,
      retries: 0,
    });
    return res === null || res === undefined || res === "" ? "accepted" : String(res);
  }

  /** Builds, journals and submits a block; resolves with the node's verdict. */
  async submit(c: BlockCandidate<PoolJob>): Promise<BlockSubmitResult> {
    const { hash, hex } = assembleBlock(c);
    const existing = this.#records.get(hash);
    if (existing && existing.status !== "pending") {
      return { accepted: existing.status === "accepted", hash, reason: existing.reason };
    }
    const job = c.job;
    const sum = (role: string) =>
      c.coinbase.outputs.filter((out) => out.role === role).reduce((a, out) => a + out.value, 0n)
        .toString();
    const record: JournalFile = {
      height: job.height,
      hash,
      prevhash: bytesToHex(reverseBytes(job.prevhash)),
      worker: c.worker,
      shareDifficulty: c.verdict.difficulty,
      foundAt: this.#o.now(),
      coinbaseValueSats: job.coinbaseValue.toString(),
      workerPayoutSats: sum("miner"),
      poolFeeSats: sum("pool-fee"),
      donationSats: sum("donation"),
      status: "pending",
      attempts: 0,
      updatedAt: this.#o.now(),
      blockHex: hex,
    };
    this.#records.set(hash, record);
    // The block goes to the node at once; the journal is written while it travels. The verdict is
    // not reported before the journal is durable, so a crash can only lose work the node already has.
    const journaled = this.#writeJournal(record);
    const afterJournal = this.#o.afterJournal;
    if (afterJournal !== undefined) {
      await journaled;
      await afterJournal(withoutBlockHex(record));
    }
    // Another block of ours on the same tip may be on its way to the node already (two miners,
    // or one fast one, within a submit's round trip). Wait for its verdict: accepted, it has made
    // this block a competitor of the pool's own block, so this one is not sent; otherwise it goes.
    const ahead = this.#submitting.get(record.prevhash);
    const first = ahead === undefined ? undefined : await ahead.catch(() => undefined);
    if (first?.accepted) {
      this.#settle(
        record,
        "stale",
        `not submitted: the pool's block ${first.hash} on this tip was accepted first`,
      );
      await journaled;
      await this.#writeJournal(record);
      return { accepted: false, hash, reason: record.reason, stale: true };
    }
    const result = this.#submitWithRetry(record);
    this.#submitting.set(record.prevhash, result);
    try {
      await journaled;
      const done = await result;
      await this.#writeJournal(record);
      return done;
    } finally {
      if (this.#submitting.get(record.prevhash) === result) {
        this.#submitting.delete(record.prevhash);
      }
    }
  }

  /** Resubmits journaled blocks that are still pending; marks those that went stale. */
  async recover(): Promise<FoundBlockRecord[]> {
    await this.#ready;
    const out: FoundBlockRecord[] = [];
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(this.#o.journalDir));
    } catch (error) {
      this.#noteJournalError("cannot read the block journal", error);
      return out;
    }
    for (const entry of entries) {
      if (!entry.isFile || !entry.name.endsWith(".json")) continue;
      let file: JournalFile;
      try {
        file = JSON.parse(await Deno.readTextFile(`${this.#o.journalDir}/${entry.name}`));
      } catch {
        continue; // a torn temp write never reaches a .json name, so this is foreign; skip it
      }
      if (this.#records.has(file.hash)) continue;
      this.#records.set(file.hash, file);
      if (file.status === "pending") {
        if (await this.#nodeHasBlock(file.hash)) {
          file.confirmed = await this.#onMainChain(file.hash, file.height);
          this.#settle(file, "accepted");
        } else if (this.#o.tips.isCurrent(file.prevhash)) {
          await this.#submitWithRetry(file);
        } else {
          this.#settle(file, "stale", "tip moved on before the block was submitted");
        }
        await this.#writeJournal(file);
      } else {
        this.#o.onJournal?.(withoutBlockHex(file));
      }
      out.push(file);
    }
    return out;
  }

  async #submitWithRetry(rec: JournalFile): Promise<BlockSubmitResult> {
    const started = this.#o.now();
    for (;;) {
      rec.attempts++;
      try {
        // No client-side retries: after each failure this loop first asks whether the node has
        // the block, instead of resending megabytes blind for up to four timeouts.
        const res = await this.#o.rpc.call<string | null>("submitblock", [rec.blockHex], {
          timeoutMs: this.#o.submitTimeoutMs,
          retries: 0,
        });
        if (res === null || res === undefined || res === "") {
          rec.confirmed = await this.#onMainChain(rec.hash, rec.height);
          this.#settle(rec, "accepted");
          return { accepted: true, hash: rec.hash };
        }
        if (
          (res === "duplicate" || res === "inconclusive" || res === "duplicate-inconclusive") &&
          await this.#nodeHasBlock(rec.hash)
        ) {
          rec.confirmed = await this.#onMainChain(rec.hash, rec.height);
          this.#settle(rec, "accepted");
          return { accepted: true, hash: rec.hash };
        }
        this.#settle(rec, "rejected", String(res));
        return { accepted: false, hash: rec.hash, reason: String(res) };
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        rec.reason = reason;
        // A timeout may still have delivered the block.
        if (await this.#nodeHasBlock(rec.hash)) {
          rec.confirmed = await this.#onMainChain(rec.hash, rec.height);
          this.#settle(rec, "accepted");
          return { accepted: true, hash: rec.hash };
        }
        const elapsed = this.#o.now() - started;
        if (!this.#o.tips.isCurrent(rec.prevhash) || elapsed > this.#o.retryForMs) {
          const stale = !this.#o.tips.isCurrent(rec.prevhash);
          this.#settle(rec, stale ? "stale" : "pending", reason);
          return { accepted: false, hash: rec.hash, reason };
        }
        await sleep(this.#o.retryDelayMs);
      }
    }
  }

  /** True when the node's main chain has `hash` at `height` (side-chain blocks do not count). */
  async #onMainChain(hash: string, height: number): Promise<boolean> {
    try {
      return await this.#o.rpc.call<string>("getblockhash", [height], { timeoutMs: 5_000 }) ===
        hash;
    } catch {
      return false;
    }
  }

  async #nodeHasBlock(hash: string): Promise<boolean> {
    try {
      const header = await this.#o.rpc.call<{ confirmations?: number } | null>(
        "getblockheader",
        [hash, true],
        { timeoutMs: 5_000 },
      );
      return !!header && (header.confirmations ?? 0) >= 1;
    } catch {
      return false;
    }
  }

  #settle(rec: JournalFile, status: FoundBlockStatus, reason?: string): void {
    rec.status = status;
    if (reason !== undefined) rec.reason = reason;
    else delete rec.reason;
    rec.updatedAt = this.#o.now();
    // The pool's block is on the chain: no more blocks on its parent (they would only compete).
    if (status === "accepted") this.#o.tips.markSolved(rec.prevhash);
    if (status !== "pending") {
      const { blockHex: _hex, ...record } = rec;
      this.#o.onRecord?.(record);
    }
  }

  /**
   * Writes `rec` durably. A failure is recorded ({@linkcode journalError}), not thrown: the block
   * and the node's verdict on it matter more than the journal, and the miner gets that verdict.
   */
  async #writeJournal(rec: JournalFile): Promise<void> {
    await this.#ready;
    const path = `${this.#o.journalDir}/${rec.height}-${rec.hash}.json`;
    const tmp = `${path}.tmp`;
    try {
      const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
      try {
        const bytes = new TextEncoder().encode(JSON.stringify(rec));
        for (let off = 0; off < bytes.length;) off += await file.write(bytes.subarray(off));
        await file.syncData();
      } finally {
        file.close();
      }
      await Deno.rename(tmp, path);
    } catch (error) {
      this.#noteJournalError(`cannot journal block ${rec.height}`, error);
      return;
    }
    this.#o.onJournal?.(withoutBlockHex(rec));
  }

  #noteJournalError(what: string, error: unknown): void {
    this.#journalErrors++;
    this.#journalError = { message: `${what}: ${ioReason(error)}`, at: this.#o.now() };
  }
}
