/**
 * Consistent export and import of the store as JSON Lines.
 *
 * Deno KV has no snapshot read across list batches, so the export takes a lock instead: every
 * commit of the store (`core.ts`) checks that `BACKUP_LOCK_KEY` does not exist (a check inside the
 * commit, no extra read), so once the backup has set it, no commit can land until it is deleted;
 * writers wait (they never fail) and a lock whose backup died expires after 30 s. As a second guard the write
 * counter (`WRITES_KEY`, bumped by every commit) must not move during the listing. Several pool
 * nodes sharing one remote store all honour the same lock.
 *
 * File layout: a header line, one line per entry, a trailer line with the entry count and the
 * SHA-256 of the entry lines, so a truncated or edited file is refused on restore. Entries that
 * expire (bans, codes, history) carry their absolute expiry and get the remaining life back on
 * restore; those already expired are skipped.
 *
 * @module
 */

import superjson from "superjson";
import { Sha256 } from "../bitcoin/mod.ts";
import { bytesToHex } from "../bitcoin/mod.ts";
import { decodeValue, encodeValue } from "./codec.ts";
import { BACKUP_LOCK_KEY, KEY_VERSION, WRITES_KEY } from "./keys.ts";
import { BACKUP_LOCK_TTL_MS, waitForBackupLock } from "./core.ts";
import { HISTORY_EXPIRE_MS } from "./history.ts";
import type { OneTimeCode } from "./codes.ts";
import type { BanEntry } from "../pool/mod.ts";

/** Format name in the header line. */
export const BACKUP_FORMAT = "denopool-kv-backup";

/** Layout version of the file. */
export const BACKUP_VERSION = 1;

/** Raised when a backup cannot be taken or a file cannot be restored. */
export class BackupError extends Error {
  /** A human reason. */
  constructor(message: string) {
    super(message);
    this.name = "BackupError";
  }
}

/** What an export or import handled. */
export interface BackupSummary {
  /** Entries written or restored. */
  readonly entries: number;
  /** Entries skipped on restore because they had expired. */
  readonly expired: number;
  /** Listing attempts the export needed to see a quiet store. */
  readonly attempts: number;
  /** The store's write counter the export is consistent with. */
  readonly writes: string;
}

interface EntryLine {
  /** superjson of the key. */
  k: string;
  /** The stored value (a superjson string). */
  v: string;
  /** Absolute expiry (ms since the epoch) for entries that expire. */
  x?: number;
}

/** Absolute expiry of an entry from its own content; undefined for entries that never expire. */
function expiryOf(
  key: Deno.KvKey,
  value: string,
  codeExpiry: Map<string, number>,
): number | undefined {
  switch (key[1]) {
    case "ban":
      return decodeValue<BanEntry>(value).until;
    case "code":
      return decodeValue<OneTimeCode>(value).expiresAt.getTime();
    case "code-of":
      return codeExpiry.get(decodeValue<string>(value)) ?? 0;
    case "pool-history":
      return Number(key[2]) * 60_000 + HISTORY_EXPIRE_MS;
    case "worker-history":
      return Number(key[3]) * 60_000 + HISTORY_EXPIRE_MS;
    default:
      return undefined;
  }
}

/**
 * Takes the backup lock: from its commit on, no commit of the store can land (they wait), so what is
 * listed next is one state. Waits for another backup's lock to go; a dead one expires.
 */
export async function acquireBackupLock(kv: Deno.Kv, ttlMs = BACKUP_LOCK_TTL_MS): Promise<void> {
  for (;;) {
    const until = Date.now() + ttlMs;
    const res = await kv.atomic().check({ key: BACKUP_LOCK_KEY, versionstamp: null })
      .set(BACKUP_LOCK_KEY, encodeValue({ until }), { expireIn: ttlMs }).commit();
    if (res.ok) return;
    await waitForBackupLock(kv);
  }
}

/** Releases the backup lock. */
export async function releaseBackupLock(kv: Deno.Kv): Promise<void> {
  await kv.delete(BACKUP_LOCK_KEY);
}

async function listLocked(
  kv: Deno.Kv,
  maxAttempts: number,
): Promise<{ entries: Deno.KvEntry<string>[]; attempts: number; writes: bigint }> {
  await acquireBackupLock(kv);
  try {
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const before = await kv.get<Deno.KvU64>(WRITES_KEY, { consistency: "strong" });
      const entries: Deno.KvEntry<string>[] = [];
      for await (
        const e of kv.list<string>({ prefix: [KEY_VERSION] }, {
          consistency: "strong",
          batchSize: 500,
        })
      ) {
        if (e.key[1] === "meta") continue;
        entries.push(e);
      }
      // A writer that does not honour the lock (an older version) still cannot slip through.
      const after = await kv.get<Deno.KvU64>(WRITES_KEY, { consistency: "strong" });
      if (before.versionstamp === after.versionstamp) {
        return { entries, attempts: attempt, writes: after.value?.value ?? 0n };
      }
    }
  } finally {
    await releaseBackupLock(kv);
  }
  throw new BackupError(`the store kept changing during ${maxAttempts} listings`);
}

/**
 * Writes a consistent export of every `v1` entry to `out` as JSON Lines. `now` stamps the header;
 * `maxAttempts` bounds the listings tried while writes keep landing.
 */
export async function exportStore(
  kv: Deno.Kv,
  out: WritableStreamDefaultWriter<Uint8Array>,
  options: { now?: number; maxAttempts?: number } = {},
): Promise<BackupSummary> {
  const { entries, attempts, writes } = await listLocked(kv, options.maxAttempts ?? 5);
  const codeExpiry = new Map<string, number>();
  for (const e of entries) {
    if (e.key[1] === "code") {
      codeExpiry.set(String(e.key[2]), decodeValue<OneTimeCode>(e.value).expiresAt.getTime());
    }
  }
  const enc = new TextEncoder();
  const digest = new Sha256();
  const header = {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    created_at: new Date(options.now ?? Date.now()).toISOString(),
    writes: writes.toString(),
    entries: entries.length,
  };
  await out.write(enc.encode(JSON.stringify(header) + "\n"));
  for (const e of entries) {
    const line: EntryLine = { k: superjson.stringify(e.key), v: e.value };
    const x = expiryOf(e.key, e.value, codeExpiry);
    if (x !== undefined) line.x = x;
    const bytes = enc.encode(JSON.stringify(line) + "\n");
    digest.update(bytes);
    await out.write(bytes);
  }
  const trailer = { end: true, entries: entries.length, sha256: bytesToHex(digest.digest()) };
  await out.write(enc.encode(JSON.stringify(trailer) + "\n"));
  return { entries: entries.length, expired: 0, attempts, writes: writes.toString() };
}

async function* lines(input: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of input.pipeThrough(new TextDecoderStream())) {
    rest += chunk;
    let nl: number;
    while ((nl = rest.indexOf("\n")) >= 0) {
      yield rest.slice(0, nl);
      rest = rest.slice(nl + 1);
    }
  }
  if (rest !== "") yield rest;
}

const BATCH_MUTATIONS = 200;
const BATCH_BYTES = 512 * 1024;

/**
 * Restores an export into `kv`. The file is read and verified (format, count, SHA-256) before
 * anything is written. A store that already holds `v1` entries is refused unless `replace` is set,
 * in which case they are deleted first. Expired entries are skipped.
 */
export async function importStore(
  kv: Deno.Kv,
  input: ReadableStream<Uint8Array>,
  options: { now?: number; replace?: boolean } = {},
): Promise<BackupSummary> {
  const now = options.now ?? Date.now();
  const enc = new TextEncoder();
  const digest = new Sha256();
  const parsed: EntryLine[] = [];
  let header: { format?: unknown; version?: unknown; writes?: unknown } | undefined;
  let trailer: { end?: unknown; entries?: unknown; sha256?: unknown } | undefined;
  let lineNo = 0;
  for await (const text of lines(input)) {
    lineNo++;
    if (text === "") continue;
    if (trailer) throw new BackupError(`line ${lineNo}: data after the trailer`);
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(text);
    } catch {
      throw new BackupError(`line ${lineNo}: not JSON`);
    }
    if (!header) {
      header = obj;
      if (obj.format !== BACKUP_FORMAT || obj.version !== BACKUP_VERSION) {
        throw new BackupError(`not a ${BACKUP_FORMAT} v${BACKUP_VERSION} file`);
      }
      continue;
    }
    if (obj.end === true) {
      trailer = obj;
      continue;
    }
    if (typeof obj.k !== "string" || typeof obj.v !== "string") {
      throw new BackupError(`line ${lineNo}: an entry needs "k" and "v" strings`);
    }
    if (obj.x !== undefined && typeof obj.x !== "number") {
      throw new BackupError(`line ${lineNo}: "x" must be a number`);
    }
    digest.update(enc.encode(text + "\n"));
    parsed.push(obj as unknown as EntryLine);
  }
  if (!header) throw new BackupError("empty file");
  if (!trailer) throw new BackupError("no trailer: the file is truncated");
  if (trailer.entries !== parsed.length) {
    throw new BackupError(`trailer says ${trailer.entries} entries, found ${parsed.length}`);
  }
  if (trailer.sha256 !== bytesToHex(digest.digest())) {
    throw new BackupError("checksum mismatch: the file was changed or damaged");
  }

  await acquireBackupLock(kv);
  try {
    return await writeEntries(kv, parsed, now, options.replace ?? false);
  } finally {
    await releaseBackupLock(kv);
  }
}

async function writeEntries(
  kv: Deno.Kv,
  parsed: readonly EntryLine[],
  now: number,
  replace: boolean,
): Promise<BackupSummary> {
  const existing: Deno.KvKey[] = [];
  for await (const e of kv.list({ prefix: [KEY_VERSION] })) {
    if (e.key[1] !== "meta") existing.push(e.key);
  }
  if (existing.length > 0 && !replace) {
    throw new BackupError(`the store already holds ${existing.length} entries (use replace)`);
  }
  for (let i = 0; i < existing.length; i += BATCH_MUTATIONS) {
    const op = kv.atomic();
    for (const key of existing.slice(i, i + BATCH_MUTATIONS)) op.delete(key);
    await commitOrThrow(op);
  }

  let op = kv.atomic();
  let mutations = 0;
  let bytes = 0;
  let restored = 0;
  let expired = 0;
  for (const line of parsed) {
    const key = superjson.parse<Deno.KvKey>(line.k);
    if (!Array.isArray(key) || key[0] !== KEY_VERSION || key[1] === "meta") {
      throw new BackupError(`entry key outside ${KEY_VERSION}: ${line.k}`);
    }
    if (line.x !== undefined && line.x <= now) {
      expired++;
      continue;
    }
    if (mutations >= BATCH_MUTATIONS || bytes + line.v.length * 3 > BATCH_BYTES) {
      await commitOrThrow(op);
      op = kv.atomic();
      mutations = 0;
      bytes = 0;
    }
    op.set(key, line.v, line.x === undefined ? undefined : { expireIn: line.x - now });
    mutations++;
    bytes += line.v.length * 3;
    restored++;
  }
  op.sum(WRITES_KEY, 1n);
  await commitOrThrow(op);
  const writes = (await kv.get<Deno.KvU64>(WRITES_KEY)).value?.value ?? 0n;
  return { entries: restored, expired, attempts: 1, writes: writes.toString() };
}

async function commitOrThrow(op: Deno.AtomicOperation): Promise<void> {
  const res = await op.commit();
  if (!res.ok) throw new BackupError("a restore batch did not commit");
}
