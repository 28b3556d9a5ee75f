/**
 * Status snapshots through a shared Deno KV store: the pool publishes its pre-serialised public
 * payloads (`KvSnapshotPublisher`), and any number of status mirrors read them (`KvSnapshotReader`)
 * without ever reaching the pool itself.
 *
 * Layout under `[...prefix, name]` (prefix `["denopool", "status"]`): a meta record
 * `{ id, updatedAt, nextUpdateAt, chunks, bytes }`, and the body in chunks of at most 60 000 bytes
 * (Deno KV values are limited to 64 KiB) at `[...prefix, name, id, i]`. A new payload gets a new
 * `id`; its chunks and meta are committed in one atomic operation, and the previous payload's
 * chunks are deleted after, so a reader never sees half of one payload.
 *
 * @module
 */

import {
  DEFAULT_INTERVALS,
  perSnapshot,
  SNAPSHOT_ENDPOINT,
  SNAPSHOT_NAMES,
  type SnapshotName,
  widestSnapshot,
} from "../status/endpoints.ts";
import { Periodic } from "../periodic.ts";
import { type Clock, type JsonSnapshots, systemClock } from "../status/snapshots.ts";
import { type MirrorPayload, MirrorSnapshots } from "./store.ts";

/** Default key prefix. */
export const KV_PREFIX: readonly string[] = ["denopool", "status"];

/** Largest chunk written (bytes). */
export const KV_CHUNK_BYTES = 60_000;

/**
 * How long after a payload's `nextUpdateAt` a reader looks for its successor (ms): the publisher
 * checks every second, and a write takes a moment.
 */
export const KV_READ_LAG_MS = 1_500;

/** The snapshot names published, in order: the endpoint table's. */
export const KV_NAMES: readonly SnapshotName[] = SNAPSHOT_NAMES;

/** The meta record of one published payload. */
export interface KvSnapshotMeta {
  /** Identifies this payload's chunks. */
  readonly id: string;
  /** When the pool built it (ms). */
  readonly updatedAt: number;
  /** When the pool meant to rebuild it (ms). */
  readonly nextUpdateAt: number;
  /** Number of chunks. */
  readonly chunks: number;
  /** Body length in bytes. */
  readonly bytes: number;
}

/** Writes one payload under `prefix`; returns its meta. */
export async function writeKvSnapshot(
  kv: Deno.Kv,
  name: SnapshotName,
  payload: MirrorPayload,
  prefix: readonly string[] = KV_PREFIX,
): Promise<KvSnapshotMeta> {
  const metaKey = [...prefix, name];
  const previous = await kv.get<KvSnapshotMeta>(metaKey);
  const id = `${payload.updatedAt.toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
  const chunks = Math.max(1, Math.ceil(payload.body.length / KV_CHUNK_BYTES));
  const meta: KvSnapshotMeta = {
    id,
    updatedAt: payload.updatedAt,
    nextUpdateAt: payload.nextUpdateAt,
    chunks,
    bytes: payload.body.length,
  };
  const op = kv.atomic().check(previous);
  for (let i = 0; i < chunks; i++) {
    op.set(
      [...prefix, name, id, i],
      payload.body.slice(i * KV_CHUNK_BYTES, (i + 1) * KV_CHUNK_BYTES),
    );
  }
  op.set(metaKey, meta);
  const result = await op.commit();
  if (!result.ok) throw new Error(`${name}: another publisher wrote at the same time`);
  if (previous.value) {
    for (let i = 0; i < previous.value.chunks; i++) {
      await kv.delete([...prefix, name, previous.value.id, i]);
    }
  }
  return meta;
}

/** Reads one payload, or undefined when none is published (or it vanished mid-read). */
export async function readKvSnapshot(
  kv: Deno.Kv,
  name: SnapshotName,
  prefix: readonly string[] = KV_PREFIX,
  known?: number,
): Promise<MirrorPayload | undefined> {
  const meta = (await kv.get<KvSnapshotMeta>([...prefix, name])).value;
  if (!meta || meta.updatedAt === known) return undefined;
  const body = new Uint8Array(meta.bytes);
  let offset = 0;
  for (let first = 0; first < meta.chunks; first += 10) {
    const keys = [];
    for (let i = first; i < Math.min(meta.chunks, first + 10); i++) {
      keys.push([...prefix, name, meta.id, i]);
    }
    for (const entry of await kv.getMany<Uint8Array[]>(keys)) {
      if (!(entry.value instanceof Uint8Array)) return undefined;
      body.set(entry.value, offset);
      offset += entry.value.length;
    }
  }
  if (offset !== meta.bytes) return undefined;
  return { body, updatedAt: meta.updatedAt, nextUpdateAt: meta.nextUpdateAt };
}

/** Options shared by the KV publisher and reader. */
export interface KvLoopOptions {
  /** The store. */
  readonly kv: Deno.Kv;
  /** Key prefix (default {@linkcode KV_PREFIX}). */
  readonly prefix?: readonly string[];
  /** Clock and timers. */
  readonly clock?: Clock;
  /** Told about every failure (nothing here logs). */
  readonly onError?: (name: SnapshotName, error: unknown) => void;
}

/** Options of {@linkcode KvSnapshotPublisher}. */
export interface KvPublisherOptions extends KvLoopOptions {
  /** How often to look for refreshed snapshots (ms, 1000). */
  readonly checkMs?: number;
  /** Told about every payload written. */
  readonly onWritten?: (name: SnapshotName, meta: KvSnapshotMeta) => void;
}

/**
 * Publishes a pool's snapshots to KV: every `checkMs` (1 s) it writes each payload whose
 * `updatedAt` changed since it last wrote it, so every refresh reaches KV within about a second
 * (a refresh that another one replaces within that second is skipped: only the newest matters).
 */
export class KvSnapshotPublisher {
  readonly #snapshots: JsonSnapshots;
  readonly #options: KvPublisherOptions;
  readonly #written = new Map<SnapshotName, number>();
  readonly #task: Periodic<number>;

  /** A publisher of `snapshots`; call {@linkcode start} or {@linkcode publish}. */
  constructor(snapshots: JsonSnapshots, options: KvPublisherOptions) {
    this.#snapshots = snapshots;
    this.#options = options;
    this.#task = new Periodic<number>({
      run: () => this.#publishChanged(),
      intervalMs: options.checkMs ?? 1_000,
      timers: options.clock ?? systemClock,
      // #publishChanged reports each snapshot's failure itself and does not throw.
      onError: () => {},
    });
  }

  /**
   * Writes every changed payload now; resolves with how many were written. Never rejects. A
   * publish already running is joined, so two never write the same payload at once.
   */
  async publish(): Promise<number> {
    return await this.#task.trigger() ?? 0;
  }

  async #publishChanged(): Promise<number> {
    let written = 0;
    for (const name of KV_NAMES) {
      const snap = widestSnapshot(SNAPSHOT_ENDPOINT[name], this.#snapshots);
      if (!snap || this.#written.get(name) === snap.updatedAt) continue;
      try {
        const meta = await writeKvSnapshot(this.#options.kv, name, snap, this.#options.prefix);
        this.#written.set(name, snap.updatedAt);
        written++;
        this.#options.onWritten?.(name, meta);
      } catch (error) {
        this.#options.onError?.(name, error);
      }
    }
    return written;
  }

  /** Publishes now and then every `checkMs`. */
  async start(): Promise<void> {
    await this.#task.start();
  }

  /**
   * Stops the timer, waits for a write in flight and publishes what changed since, so the store
   * holds the pool's last snapshots; after it resolves the KV store may be closed.
   */
  async stop(): Promise<void> {
    const wasRunning = this.#task.started;
    await this.#task.stop();
    if (wasRunning) await this.publish();
  }
}

/**
 * Fills a {@linkcode MirrorSnapshots} from KV. Each snapshot is read again shortly after the
 * `nextUpdateAt` it was published with (so a pool's own cadences are followed, whatever they are
 * configured to), but at least as often as the default cadences (so an early refresh on a new block
 * shows within seconds). A payload that has not changed costs one KV read. A read that fails marks
 * the mirror stale; a payload that simply has not changed does not (the pages judge its age by its
 * own times, so a pool that stopped publishing shows as stale there).
 */
export class KvSnapshotReader {
  /** The snapshots read (serve these). */
  readonly store: MirrorSnapshots;
  readonly #options: KvLoopOptions;
  readonly #clock: Clock;
  readonly #failing = new Set<SnapshotName>();
  readonly #tasks: Record<SnapshotName, Periodic<boolean>>;

  /** A reader that does nothing until {@linkcode start} or {@linkcode read}. */
  constructor(options: KvLoopOptions & { store?: MirrorSnapshots }) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.store = options.store ?? new MirrorSnapshots();
    this.#tasks = perSnapshot(({ name }) =>
      new Periodic<boolean>({
        run: () => this.#readOne(name),
        intervalMs: () => this.nextReadIn(name),
        timers: this.#clock,
        onError: (error) => options.onError?.(name, error),
      })
    );
  }

  /** Milliseconds until `name` is read again. */
  nextReadIn(name: SnapshotName): number {
    const most = DEFAULT_INTERVALS[name];
    const payload = this.store.get(name);
    if (!payload) return most;
    const wait = payload.nextUpdateAt + KV_READ_LAG_MS - this.#clock.now();
    // Overdue: the pool is late or gone; keep looking at the default pace, not in a tight loop.
    return wait > 0 ? Math.min(wait, most) : most;
  }

  /** True while the latest read of any snapshot failed. */
  stale(): boolean {
    return this.#failing.size > 0;
  }

  /**
   * Reads `name` (or every snapshot) now, joining a read in flight, and restarts its timer;
   * resolves true when every read worked. Never rejects.
   */
  async read(name?: SnapshotName): Promise<boolean> {
    const names = name === undefined ? KV_NAMES : [name];
    const ok = await Promise.all(names.map((n) => this.#tasks[n].trigger()));
    return ok.every((v) => v === true);
  }

  async #readOne(name: SnapshotName): Promise<boolean> {
    try {
      const known = this.store.get(name)?.updatedAt;
      const payload = await readKvSnapshot(this.#options.kv, name, this.#options.prefix, known);
      if (payload) this.store.set(name, payload);
      this.#failing.delete(name);
      return true;
    } catch (error) {
      this.#failing.add(name);
      this.#options.onError?.(name, error);
      return false;
    }
  }

  /** Reads everything now, then each snapshot on its cadence. */
  async start(): Promise<void> {
    await Promise.all(KV_NAMES.map((name) => this.#tasks[name].start()));
  }

  /**
   * Stops every timer at once, then resolves when the reads in flight have settled; after it
   * resolves the KV store may be closed.
   */
  async stop(): Promise<void> {
    await Promise.all(KV_NAMES.map((name) => this.#tasks[name].stop()));
  }
}
