/**
 * What the pool notifies about, before any channel has a say: the events and the notices made
 * from them. An event is a fact (a block was found, a saved worker went offline); a notice is what
 * one audience is told about it (the whole pool, or one user), with a title, plain text, a
 * priority and tags that every channel can render its own way. Names in events are already
 * censored; full worker names never reach a channel.
 *
 * @module
 */

import { censorHash } from "../status/censor.ts";

/** One saved worker's confirmed change of state. */
export interface WorkerChange {
  /** Pool user who saved it. */
  readonly userId: string;
  /** Saved worker hash. */
  readonly hash: string;
  /** Censored display name. */
  readonly name: string;
  /** The new state. */
  readonly state: "online" | "offline";
  /** When the change was first observed (ms since the epoch). */
  readonly since: number;
}

/** A new best share of a saved worker. */
export interface BestShareChange {
  /** Pool user who saved it. */
  readonly userId: string;
  /** Saved worker hash. */
  readonly hash: string;
  /** Censored display name. */
  readonly name: string;
  /** The new best share difficulty. */
  readonly difficulty: number;
  /** The best before it. */
  readonly previous: number;
  /** When it was seen (ms since the epoch). */
  readonly at: number;
}

/** Everything the notifier reports. */
export type NotifyEvent =
  | {
    /** The pool found a block (accepted by the node). */
    readonly type: "block.found";
    /** Block height. */
    readonly height: number;
    /** Block hash, RPC hex. */
    readonly hash: string;
    /** Censored name of the worker that found it. */
    readonly worker: string;
    /** Hash of the full worker name (whose owners are told personally). */
    readonly workerHash: string;
    /** When it was found (ms since the epoch). */
    readonly at: number;
    /** Users who saved the worker (filled in by the hub). */
    readonly owners: readonly string[];
  }
  | {
    /** Saved workers of one user changed state (one pass, grouped). */
    readonly type: "workers.changed";
    /** The user. */
    readonly userId: string;
    /** The changes, in saved order. */
    readonly changes: readonly WorkerChange[];
    /** When the pass ran. */
    readonly at: number;
  }
  | {
    /** Saved workers of one user reached a new best share (one pass, grouped). */
    readonly type: "share.best";
    /** The user. */
    readonly userId: string;
    /** The new bests. */
    readonly shares: readonly BestShareChange[];
    /** When the pass ran. */
    readonly at: number;
  }
  | {
    /** The node stopped giving work (down for the threshold). */
    readonly type: "node.down";
    /** Why (the template feed's reason). */
    readonly reason: string;
    /** Since when (ms since the epoch). */
    readonly since: number;
    /** When it was confirmed. */
    readonly at: number;
  }
  | {
    /** The node is back. */
    readonly type: "node.up";
    /** Since when (ms since the epoch). */
    readonly since: number;
    /** When it was confirmed. */
    readonly at: number;
  };

/** The names of the event types. */
export type NotifyEventType = NotifyEvent["type"];

/** Who a notice is for. */
export type Audience =
  | { readonly kind: "pool" }
  | { readonly kind: "user"; readonly userId: string };

/** Urgency, as ntfy numbers it: 1 min, 3 default, 5 max. */
export type NoticePriority = 1 | 2 | 3 | 4 | 5;

/** What one audience is told about one event, channel-independent. */
export interface Notice {
  /** The event it tells of. */
  readonly event: NotifyEvent;
  /** Who it is for. */
  readonly audience: Audience;
  /**
   * Users this pool notice is also about (a block's owners): a shared room (Discord) mentions
   * them there, and their own notices are then not posted in the room again.
   */
  readonly mentions: readonly string[];
  /** True for a user notice whose user the pool notice of the same event mentions already. */
  readonly covered?: boolean;
  /** One short line. */
  readonly title: string;
  /** Plain text, one fact a line. */
  readonly text: string;
  /** Urgency. */
  readonly priority: NoticePriority;
  /** Tags (ntfy emoji short codes, also sent to webhooks). */
  readonly tags: readonly string[];
  /** Where to look (the saved-workers page), if known. */
  readonly url?: string;
}

/** Options of {@linkcode noticesFor}. */
export interface NoticeOptions {
  /** Link added to notices, e.g. `https://pool.example/saved-workers`. */
  readonly statusUrl?: string;
  /** Pool name in titles (default "denopool"). */
  readonly brand?: string;
}

/** Most lines of one grouped notice; the rest are summed up. */
export const MAX_NOTICE_LINES = 20;

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

function lines(all: readonly string[]): string {
  const shown = all.slice(0, MAX_NOTICE_LINES);
  if (all.length > MAX_NOTICE_LINES) shown.push(`…and ${all.length - MAX_NOTICE_LINES} more`);
  return shown.join("\n");
}

/** A difficulty in short form: 1234567 → "1.23M". */
export function shortDifficulty(d: number): string {
  const units = ["", "k", "M", "G", "T", "P", "E"];
  let i = 0;
  while (d >= 1000 && i < units.length - 1) {
    d /= 1000;
    i++;
  }
  return `${d >= 100 || i === 0 ? Math.round(d * 100) / 100 : d.toFixed(2)}${units[i]}`;
}

/**
 * The notices of one event: a block gives one pool notice (mentioning its owners) and one
 * personal notice per owner; the node's events give a pool notice; the saved workers' events a
 * notice for their user.
 *
 * @example
 * ```ts
 * import { noticesFor } from "./events.ts";
 *
 * const [notice] = noticesFor({ type: "node.up", since: 0, at: 60_000 });
 * console.log(notice.title); // "denopool: node back"
 * ```
 */
export function noticesFor(event: NotifyEvent, options: NoticeOptions = {}): Notice[] {
  const brand = options.brand ?? "denopool";
  const base = { event, mentions: [] as readonly string[], url: options.statusUrl };
  switch (event.type) {
    case "block.found": {
      const fact = `height ${event.height} by ${event.worker} (hash ${censorHash(event.hash)}) ` +
        `at ${iso(event.at)}`;
      const pool: Notice = {
        ...base,
        audience: { kind: "pool" },
        mentions: event.owners,
        title: `${brand}: block found at height ${event.height}`,
        text: `⛏️ Block found: ${fact}`,
        priority: 5,
        tags: ["pick", "tada"],
      };
      return [
        pool,
        ...event.owners.map((userId): Notice => ({
          ...base,
          audience: { kind: "user", userId },
          covered: true,
          title: `${brand}: your worker found block ${event.height}`,
          text: `⛏️ Your saved worker ${event.worker} found a block: ${fact}`,
          priority: 5,
          tags: ["pick", "tada"],
        })),
      ];
    }
    case "workers.changed": {
      const off = event.changes.filter((c) => c.state === "offline").length;
      const on = event.changes.length - off;
      const title = off > 0 && on === 0
        ? `${brand}: ${off === 1 ? event.changes[0].name : `${off} workers`} offline`
        : on > 0 && off === 0
        ? `${brand}: ${on === 1 ? event.changes[0].name : `${on} workers`} back online`
        : `${brand}: ${off} offline, ${on} back online`;
      const text = lines(
        event.changes.map((c) =>
          c.state === "offline"
            ? `🔴 ${c.name} went offline at ${iso(c.since)}`
            : `🟢 ${c.name} is back online (since ${iso(c.since)})`
        ),
      );
      return [{
        ...base,
        audience: { kind: "user", userId: event.userId },
        title,
        text,
        priority: off > 0 ? 4 : 3,
        tags: off > 0 ? ["red_circle"] : ["green_circle"],
      }];
    }
    case "share.best": {
      const text = lines(
        event.shares.map((s) =>
          `🏆 ${s.name}: new best share ${shortDifficulty(s.difficulty)}` +
          (s.previous > 0 ? ` (was ${shortDifficulty(s.previous)})` : "")
        ),
      );
      const first = event.shares[0];
      return [{
        ...base,
        audience: { kind: "user", userId: event.userId },
        title: event.shares.length === 1
          ? `${brand}: new best share of ${first.name}`
          : `${brand}: ${event.shares.length} new best shares`,
        text,
        priority: 3,
        tags: ["trophy"],
      }];
    }
    case "node.down":
      return [{
        ...base,
        audience: { kind: "pool" },
        title: `${brand}: node down`,
        text: `⚠️ The node gives no work since ${iso(event.since)}: ${event.reason}`,
        priority: 4,
        tags: ["warning"],
      }];
    case "node.up":
      return [{
        ...base,
        audience: { kind: "pool" },
        title: `${brand}: node back`,
        text: `✅ The node gives work again (since ${iso(event.since)})`,
        priority: 3,
        tags: ["white_check_mark"],
      }];
  }
}
