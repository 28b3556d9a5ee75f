/**
 * Saved workers: `GET /api/saved-workers`, one worker's 24 h per-minute history
 * (`GET /api/saved-workers/history?hash=`), the notify switches, the one-time link codes (Discord
 * `!link`, Telegram `/link`), the user's own notification targets (`POST /notify/targets`: an
 * ntfy topic URL and a webhook URL, each checked by the `checkUrl` the composition layer passes),
 * and the page actions `POST /worker/save` / `POST /worker/remove`.
 *
 * Every route needs a Clerk session (401 `unauthorized` without one; 404 everywhere when Clerk is
 * not configured). Every POST is cookie-authenticated, so each one gets the same-origin guard of
 * the session refresh (403 `forbidden`) against cross-site form posts.
 *
 * A saved worker is online when a live connection authorized with a name whose SHA-256 is the
 * saved hash. Each live connection of it is one entry in `online_workers` (at most 16 per
 * worker, with `connection_seq`); `online_count` counts saved workers, not connections.
 *
 * @module
 */

import { Hono } from "hono";
import type { Context } from "hono";
import type { LiveConnection } from "../lib/status/sources.ts";
import {
  BodyError,
  booleanField,
  canonicalHost,
  isSameOriginRequest,
} from "../lib/auth/request.ts";
import type { ClerkSession } from "../lib/auth/clerk.ts";
import type { SessionReader } from "../lib/auth/session.ts";
import { readBodyFields } from "./middleware.ts";
import type { Routes } from "./routes.ts";
import {
  type DomainStores,
  HISTORY_MINUTES,
  isWorkerHash,
  MAX_SAVED_WORKERS,
  normaliseOneTimeCode,
  type SavedWorker,
  WorkerNameHashes,
} from "../lib/store/mod.ts";

/** Options of {@linkcode createSavedWorkerRoutes}. */
export interface SavedWorkerRoutesOptions {
  /** Clerk sessions; undefined → every route answers 404. */
  readonly sessions: SessionReader | undefined;
  /** The store: saved workers, their history, links, one-time codes, notification targets. */
  readonly store:
    & Pick<DomainStores, "savedWorkers" | "history" | "discord" | "codes">
    & Partial<Pick<DomainStores, "telegram" | "notifyPrefs">>;
  /** Live authorized workers now (the registry's `list`). */
  readonly liveWorkers: (now: number) => readonly LiveConnection[];
  /** Discord is configured (bot token, server and channel ids). */
  readonly discordEnabled: boolean;
  /** The other notification channels users may choose; absent → none. */
  readonly notify?: NotifyTargetsOptions;
  /** `server.status_public_url`, for the same-origin guard. */
  readonly publicUrl?: string;
  /** Where the page actions redirect after success (default `/saved-workers`). */
  readonly savedWorkersPage?: string;
  /** Clock, ms since the epoch. */
  readonly now?: () => number;
}

/** The notification channels a user may choose, beside Discord. */
export interface NotifyTargetsOptions {
  /** Users may set their own ntfy topic URL. */
  readonly ntfy: boolean;
  /** Users may set their own webhook URL. */
  readonly webhook: boolean;
  /** Users may link a Telegram chat with `/link CODE`. */
  readonly telegram: boolean;
  /** Why a URL cannot be a target, or undefined when it can (`lib/notify`'s check). */
  readonly checkUrl: (url: string) => string | undefined;
}

/** The user's notification targets in `GET /api/saved-workers`. */
export interface NotifyTargetsView {
  /** The channels this pool offers users ("ntfy", "webhook", "telegram"). */
  channels: string[];
  /** The user's ntfy topic URL, if set (ntfy offered). */
  ntfy_url?: string;
  /** The user's webhook URL, if set (webhook offered). */
  webhook_url?: string;
  /** The secret the user's webhook bodies are signed with (HMAC-SHA256), if a URL is set. */
  webhook_secret?: string;
  /** A Telegram chat is linked (Telegram offered). */
  telegram_linked?: boolean;
  /** Its notifications are on. */
  telegram_notify_enabled?: boolean;
}

/** Live connections listed per saved worker. */
export const MAX_CONNECTIONS_PER_WORKER = 16;

// deno-lint-ignore no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/** Longest worker name accepted by `/worker/save`. */
export const MAX_WORKER_NAME_LENGTH = 256;

/** One entry of `online_workers` / `offline_workers`. */
export interface SavedWorkerEntry {
  /** The name as saved. */
  name: string;
  /** SHA-256 of the name, 64 lowercase hex digits. */
  hash: string;
  /** True for an entry of a live connection. */
  online: boolean;
  /** The user's notify switch for this worker. */
  notify_enabled: boolean;
  /** Best share difficulty: the stored best, or this connection's when higher. */
  best_difficulty: number;
  /** When the worker was last seen online (RFC3339; now while online). */
  last_online_at?: string;
  /** When this connection's last share came (RFC3339). */
  last_share?: string;
  /** Hashrate of the connection (H/s; 0 offline). */
  hashrate: number;
  /** `~` while warming up, `≈` while settling; omitted when stable. */
  hashrate_accuracy?: string;
  /** Accepted shares per minute. */
  shares_per_minute: number;
  /** Accepted shares. */
  accepted: number;
  /** Rejected shares. */
  rejected: number;
  /** Current share difficulty. */
  difficulty: number;
  /** Milliseconds from the last notify to the first share after it. */
  notify_to_first_share_ms?: number;
  /** Median of those times (ms). */
  notify_to_first_share_p50_ms?: number;
  /** 95th percentile of those times (ms). */
  notify_to_first_share_p95_ms?: number;
  /** How many notify-to-share times the percentiles are over. */
  notify_to_first_share_samples?: number;
  /** The connection's number (online only). */
  connection_seq?: number;
  /** How long the connection has been open (s; online only). */
  connection_duration_seconds?: number;
}

/** The `GET /api/saved-workers` body. */
export interface SavedWorkersResponse {
  /** When the answer was made (RFC3339). */
  updated_at: string;
  /** Most workers a user may save. */
  saved_max: number;
  /** Workers the user has saved. */
  saved_count: number;
  /** Saved workers with at least one live connection. */
  online_count: number;
  /** The user has linked Discord (only when Discord is configured). */
  discord_registered?: boolean;
  /** The user's Discord notifications are on (only when Discord is configured). */
  discord_notify_enabled?: boolean;
  /** The user's other notification targets (only when the pool offers any). */
  notify?: NotifyTargetsView;
  /** Best share difficulty over every entry. */
  best_difficulty: number;
  /** One entry per live connection of a saved worker. */
  online_workers: SavedWorkerEntry[];
  /** One entry per saved worker with no live connection. */
  offline_workers: SavedWorkerEntry[];
}

/** One minute of a saved worker's history. */
export interface SavedWorkerHistoryPoint {
  /** Start of the minute, RFC3339. */
  at: string;
  /** Hashrate summed over the worker's connections in that minute (H/s). */
  hashrate: number;
  /** Best share difficulty seen on its live connections in that minute. */
  best_difficulty: number;
}

/** The `GET /api/saved-workers/history` body. */
export interface SavedWorkerHistoryResponse {
  /** When the answer was made (RFC3339). */
  updated_at: string;
  /** The worker's name hash, lowercase. */
  hash: string;
  /** The name as saved. */
  name: string;
  /** Seconds per sample (60). */
  interval_seconds: number;
  /** Seconds the history covers (86 400). */
  window_seconds: number;
  /** The minutes the worker was online, oldest first. */
  history: SavedWorkerHistoryPoint[];
}

const PRIVATE = "private, no-store";

function fail(c: Context, status: 400 | 401 | 403 | 404 | 409 | 413 | 415, text: string) {
  c.header("Cache-Control", PRIVATE);
  return c.text(`${text}\n`, status);
}

/** Builds the saved-workers JSON for one user from the store and the live workers. */
export async function savedWorkersView(
  userId: string,
  o: Pick<SavedWorkerRoutesOptions, "store" | "liveWorkers" | "discordEnabled" | "notify">,
  now: number,
  hashes: WorkerNameHashes = new WorkerNameHashes(),
): Promise<SavedWorkersResponse> {
  const saved = await o.store.savedWorkers.list(userId);
  const seen = await o.store.history.seen(saved.map((w) => w.hash));
  const byHash = new Map<string, LiveConnection[]>();
  if (saved.length > 0) {
    const wanted = new Set(saved.map((w) => w.hash));
    for (const live of o.liveWorkers(now)) {
      const h = hashes.get(live.name);
      if (!wanted.has(h)) continue;
      const list = byHash.get(h) ?? [];
      if (list.length < MAX_CONNECTIONS_PER_WORKER) list.push(live);
      byHash.set(h, list);
    }
  }
  const online: SavedWorkerEntry[] = [];
  const offline: SavedWorkerEntry[] = [];
  let best = 0;
  for (const w of saved) {
    const stored = seen.get(w.hash);
    const conns = byHash.get(w.hash);
    if (conns) {
      for (const live of conns) {
        const entry = onlineEntry(w, live, stored?.bestDifficulty ?? 0, now);
        best = Math.max(best, entry.best_difficulty);
        online.push(entry);
      }
    } else {
      const entry: SavedWorkerEntry = {
        name: w.name,
        hash: w.hash,
        online: false,
        notify_enabled: w.notifyEnabled,
        best_difficulty: stored?.bestDifficulty ?? 0,
        hashrate: 0,
        shares_per_minute: 0,
        accepted: 0,
        rejected: 0,
        difficulty: 0,
      };
      if (stored) entry.last_online_at = stored.lastOnlineAt.toISOString();
      best = Math.max(best, entry.best_difficulty);
      offline.push(entry);
    }
  }
  const body: SavedWorkersResponse = {
    updated_at: new Date(now).toISOString(),
    saved_max: MAX_SAVED_WORKERS,
    saved_count: saved.length,
    online_count: byHash.size,
    best_difficulty: best,
    online_workers: online,
    offline_workers: offline,
  };
  if (o.discordEnabled) {
    const link = await o.store.discord.get(userId);
    body.discord_registered = link !== undefined;
    body.discord_notify_enabled = link?.enabled ?? false;
  }
  const n = o.notify;
  if (n && (n.ntfy || n.webhook || n.telegram)) {
    const view: NotifyTargetsView = { channels: offered(n) };
    const prefs = await o.store.notifyPrefs?.get(userId) ?? {};
    if (n.ntfy && prefs.ntfyUrl) view.ntfy_url = prefs.ntfyUrl;
    if (n.webhook && prefs.webhookUrl) {
      view.webhook_url = prefs.webhookUrl;
      view.webhook_secret = prefs.webhookSecret;
    }
    if (n.telegram) {
      const link = await o.store.telegram?.get(userId);
      view.telegram_linked = link !== undefined;
      view.telegram_notify_enabled = link?.enabled ?? false;
    }
    body.notify = view;
  }
  return body;
}

function offered(n: NotifyTargetsOptions): string[] {
  return (["ntfy", "webhook", "telegram"] as const).filter((k) => n[k]);
}

/**
 * One saved worker's history for `userId`: the minutes of the last 24 h in which it was online,
 * oldest first. Undefined when the user has not saved `hash`.
 */
export async function savedWorkerHistory(
  userId: string,
  hash: string,
  store: Pick<DomainStores, "savedWorkers" | "history">,
  now: number,
): Promise<SavedWorkerHistoryResponse | undefined> {
  const h = hash.toLowerCase();
  const worker = (await store.savedWorkers.list(userId)).find((w) => w.hash === h);
  if (worker === undefined) return undefined;
  // The store keeps an hour more than the window (expiry is lazy); the answer is the window.
  const since = Math.floor(now / 60_000) - HISTORY_MINUTES + 1;
  const samples = await store.history.worker(h, since);
  return {
    updated_at: new Date(now).toISOString(),
    hash: h,
    name: worker.name,
    interval_seconds: 60,
    window_seconds: HISTORY_MINUTES * 60,
    history: samples.map((s) => ({
      at: new Date(s.minute * 60_000).toISOString(),
      hashrate: s.hashrate,
      best_difficulty: s.bestDifficulty,
    })),
  };
}

function onlineEntry(
  w: SavedWorker,
  live: LiveConnection,
  storedBest: number,
  now: number,
): SavedWorkerEntry {
  const entry: SavedWorkerEntry = {
    name: w.name,
    hash: w.hash,
    online: true,
    notify_enabled: w.notifyEnabled,
    best_difficulty: Math.max(storedBest, live.bestDifficulty),
    last_online_at: new Date(now).toISOString(),
    hashrate: live.hashrate,
    shares_per_minute: live.sharesPerMinute,
    accepted: live.accepted,
    rejected: live.rejected,
    difficulty: live.difficulty,
  };
  if (live.lastShareAt !== undefined) entry.last_share = new Date(live.lastShareAt).toISOString();
  if (live.hashrateAccuracy !== "") entry.hashrate_accuracy = live.hashrateAccuracy;
  if (live.notifyToFirstShareMs !== undefined) {
    entry.notify_to_first_share_ms = live.notifyToFirstShareMs;
  }
  if (live.notifyToFirstShareP50Ms !== undefined) {
    entry.notify_to_first_share_p50_ms = live.notifyToFirstShareP50Ms;
  }
  if (live.notifyToFirstShareP95Ms !== undefined) {
    entry.notify_to_first_share_p95_ms = live.notifyToFirstShareP95Ms;
  }
  if (live.notifyToFirstShareSamples > 0) {
    entry.notify_to_first_share_samples = live.notifyToFirstShareSamples;
  }
  const seq = parseInt(live.connectionId, 36);
  if (Number.isSafeInteger(seq)) entry.connection_seq = seq;
  entry.connection_duration_seconds = Math.max(0, (now - live.connectedAt) / 1000);
  return entry;
}

/** The saved-worker routes (full paths). */
export function createSavedWorkerRoutes(o: SavedWorkerRoutesOptions): Routes {
  const app = new Hono();
  const now = o.now ?? Date.now;
  const hashes = new WorkerNameHashes();
  const page = o.savedWorkersPage ?? "/saved-workers";

  /** The session, or an error response to return. */
  async function authed(c: Context, post: boolean): Promise<ClerkSession | Response> {
    if (!o.sessions) return fail(c, 404, "not found");
    if (post && !isSameOriginRequest(c.req.raw.headers, canonicalHost(o.publicUrl, c.req.raw))) {
      return fail(c, 403, "forbidden");
    }
    return await o.sessions.session(c.req.raw) ?? fail(c, 401, "unauthorized");
  }

  async function fields(c: Context): Promise<Record<string, unknown> | Response> {
    try {
      return await readBodyFields(c);
    } catch (err) {
      if (err instanceof BodyError) return fail(c, err.status, err.message);
      throw err;
    }
  }

  app.get("/api/saved-workers", async (c) => {
    const s = await authed(c, false);
    if (s instanceof Response) return s;
    const body = await savedWorkersView(s.userId, o, now(), hashes);
    c.header("Cache-Control", PRIVATE);
    return c.json(body);
  });

  app.get("/api/saved-workers/history", async (c) => {
    const s = await authed(c, false);
    if (s instanceof Response) return s;
    const hash = c.req.query("hash");
    if (!isWorkerHash(hash)) return fail(c, 400, "invalid hash");
    const body = await savedWorkerHistory(s.userId, hash, o.store, now());
    if (body === undefined) return fail(c, 404, "worker not found");
    c.header("Cache-Control", PRIVATE);
    return c.json(body);
  });

  app.post("/api/saved-workers/notify-enabled", async (c) => {
    const s = await authed(c, true);
    if (s instanceof Response) return s;
    const f = await fields(c);
    if (f instanceof Response) return f;
    if (!isWorkerHash(f.hash)) return fail(c, 400, "invalid hash");
    const enabled = booleanField(f.enabled);
    if (enabled === undefined) return fail(c, 400, "missing enabled");
    if (!(await o.store.savedWorkers.setNotify(s.userId, f.hash, enabled))) {
      return fail(c, 404, "worker not found");
    }
    c.header("Cache-Control", PRIVATE);
    return c.json({ ok: true, enabled });
  });

  app.post("/api/discord/notify-enabled", async (c) => {
    const s = await authed(c, true);
    if (s instanceof Response) return s;
    if (!o.discordEnabled) return fail(c, 404, "not found");
    const f = await fields(c);
    if (f instanceof Response) return f;
    const enabled = booleanField(f.enabled);
    if (enabled === undefined) return fail(c, 400, "missing enabled");
    if (!(await o.store.discord.setNotify(s.userId, enabled))) return fail(c, 404, "not found");
    c.header("Cache-Control", PRIVATE);
    return c.json({ ok: true, enabled });
  });

  app.post("/api/telegram/notify-enabled", async (c) => {
    const s = await authed(c, true);
    if (s instanceof Response) return s;
    if (!o.notify?.telegram || !o.store.telegram) return fail(c, 404, "not found");
    const f = await fields(c);
    if (f instanceof Response) return f;
    const enabled = booleanField(f.enabled);
    if (enabled === undefined) return fail(c, 400, "missing enabled");
    if (!(await o.store.telegram.setNotify(s.userId, enabled))) return fail(c, 404, "not found");
    c.header("Cache-Control", PRIVATE);
    return c.json({ ok: true, enabled });
  });

  // The user's own targets: a form post from the page (303 back to it) or JSON (a JSON answer).
  // An empty or absent field removes that target; a field of a channel not offered is refused.
  app.post("/notify/targets", async (c) => {
    const s = await authed(c, true);
    if (s instanceof Response) return s;
    const n = o.notify;
    const prefsStore = o.store.notifyPrefs;
    if (!n || !prefsStore || (!n.ntfy && !n.webhook)) return fail(c, 404, "not found");
    const f = await fields(c);
    if (f instanceof Response) return f;
    const url = (name: string, on: boolean): string | Response | undefined => {
      const raw = f[name];
      if (raw === undefined || raw === "") return undefined;
      if (!on) return fail(c, 400, `${name}: not offered here`);
      if (typeof raw !== "string" || CONTROL_CHARS.test(raw)) {
        return fail(c, 400, `invalid ${name}`);
      }
      const value = raw.trim();
      if (value === "") return undefined;
      const problem = n.checkUrl(value);
      return problem === undefined ? value : fail(c, 400, `${name}: expected ${problem}`);
    };
    const ntfyUrl = url("ntfy_url", n.ntfy);
    if (ntfyUrl instanceof Response) return ntfyUrl;
    const webhookUrl = url("webhook_url", n.webhook);
    if (webhookUrl instanceof Response) return webhookUrl;
    const saved = await prefsStore.set(s.userId, { ntfyUrl, webhookUrl });
    c.header("Cache-Control", PRIVATE);
    if ((c.req.header("content-type") ?? "").includes("application/json")) {
      return c.json({
        ok: true,
        ntfy_url: saved.ntfyUrl ?? null,
        webhook_url: saved.webhookUrl ?? null,
        webhook_secret: saved.webhookSecret ?? null,
      });
    }
    return c.redirect(page, 303);
  });

  app.post("/api/saved-workers/one-time-code", async (c) => {
    const s = await authed(c, true);
    if (s instanceof Response) return s;
    if (!o.discordEnabled && !o.notify?.telegram) return fail(c, 404, "not found");
    const code = await o.store.codes.create(s.userId);
    c.header("Cache-Control", PRIVATE);
    return c.json({ code: code.code, expires_at: code.expiresAt.toISOString() });
  });

  app.post("/api/saved-workers/one-time-code/clear", async (c) => {
    const s = await authed(c, true);
    if (s instanceof Response) return s;
    const f = await fields(c);
    if (f instanceof Response) return f;
    const code = normaliseOneTimeCode(f.code);
    const cleared = code !== undefined && await o.store.codes.clear(s.userId, code);
    c.header("Cache-Control", PRIVATE);
    return c.json({ cleared });
  });

  app.post("/worker/save", async (c) => {
    const s = await authed(c, true);
    if (s instanceof Response) return s;
    const f = await fields(c);
    if (f instanceof Response) return f;
    const worker = typeof f.worker === "string" ? f.worker.trim() : "";
    if (
      worker === "" || worker.length > MAX_WORKER_NAME_LENGTH ||
      CONTROL_CHARS.test(worker)
    ) {
      return fail(c, 400, "invalid worker");
    }
    const result = await o.store.savedWorkers.save(s.userId, worker);
    if (result === "full") return fail(c, 409, `at most ${MAX_SAVED_WORKERS} saved workers`);
    c.header("Cache-Control", PRIVATE);
    return c.redirect(page, 303);
  });

  app.post("/worker/remove", async (c) => {
    const s = await authed(c, true);
    if (s instanceof Response) return s;
    const f = await fields(c);
    if (f instanceof Response) return f;
    if (!isWorkerHash(f.hash)) return fail(c, 400, "invalid hash");
    await o.store.savedWorkers.remove(s.userId, f.hash);
    c.header("Cache-Control", PRIVATE);
    return c.redirect(page, 303);
  });

  return app;
}
