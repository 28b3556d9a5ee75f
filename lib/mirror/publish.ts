/**
 * The pool's side of a KV-fed status mirror: whether it publishes (`status.mirror_publish`) and the
 * publisher's lifecycle inside a running pool, logging each failing snapshot once per outage.
 *
 * Kept apart from `kv.ts` so the mirror's module graph never sees pool configuration.
 *
 * @module
 */

import type { JsonSnapshots, SnapshotName } from "../status/snapshots.ts";
import { KvSnapshotPublisher } from "./kv.ts";

/** The `[status]` keys that decide publishing. */
export interface MirrorPublishSettings {
  /** `status.store_url` ("" = a local file under the data dir). */
  readonly storeUrl: string;
  /** `status.mirror_publish`: always, never, or only with a shared store. */
  readonly mirrorPublish: "on" | "off" | "auto";
}

/**
 * True when the pool publishes its snapshots: "on", or "auto" with a `store_url` set (a store a
 * mirror can reach; the default local file is private to the pool's data dir).
 */
export function publishesSnapshots(status: MirrorPublishSettings): boolean {
  switch (status.mirrorPublish) {
    case "on":
      return true;
    case "off":
      return false;
    case "auto":
      return status.storeUrl !== "";
  }
}

/** Options of {@linkcode startSnapshotPublishing}. */
export interface SnapshotPublishingOptions {
  /** Operator log (one line when a snapshot starts failing, one when it is written again). */
  readonly log?: (message: string) => void;
  /** How often to look for refreshed snapshots (ms, 1000). */
  readonly checkMs?: number;
}

/** A running publisher; `stop()` writes the last snapshots and then lets go of the store. */
export interface SnapshotPublishing {
  /** Stops the timer, publishes what changed last; the store may be closed after it resolves. */
  stop(): Promise<void>;
}

/** Publishes `snapshots` to `kv` now and on every refresh until stopped. */
export async function startSnapshotPublishing(
  snapshots: JsonSnapshots,
  kv: Deno.Kv,
  options: SnapshotPublishingOptions = {},
): Promise<SnapshotPublishing> {
  const log = options.log ?? (() => {});
  const failing = new Set<SnapshotName>();
  const publisher = new KvSnapshotPublisher(snapshots, {
    kv,
    checkMs: options.checkMs,
    onError: (name, error) => {
      if (failing.has(name)) return;
      failing.add(name);
      log(`status publish: ${name}: ${error instanceof Error ? error.message : String(error)}`);
    },
    onWritten: (name) => {
      if (failing.delete(name)) log(`status publish: ${name}: written again`);
    },
  });
  await publisher.start();
  return { stop: () => publisher.stop() };
}
