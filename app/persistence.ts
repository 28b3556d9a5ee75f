/**
 * Persistence wired to a running pool: restores bans and best shares at startup, records found
 * blocks, samples pool and saved-worker history every minute, and runs the Clerk routes and the
 * Discord side (notifier, link bot, rate-limited queue) when they are configured.
 *
 * @module
 */

import type { Routes } from "../routes/routes.ts";
import type { Config } from "../lib/config/mod.ts";
import type { BanEntry, BanList, BanListener } from "../lib/pool/mod.ts";
import { CHURN_BAN_REASON } from "../lib/pool/mod.ts";
import type { FoundBlockRecord } from "../lib/pool/mod.ts";
import type { WorkerRegistry } from "../lib/pool/mod.ts";
import { hexToBytes, reverseBytes } from "../lib/bitcoin/mod.ts";
import { ClerkVerifier } from "../lib/auth/clerk.ts";
import { SessionReader } from "../lib/auth/session.ts";
import { DiscordRest } from "../lib/discord/mod.ts";
import { MessageQueue } from "../lib/discord/mod.ts";
import { WorkerNotifier } from "../lib/discord/mod.ts";
import { DiscordLinkBot } from "../lib/discord/mod.ts";
import { Periodic, type Timers } from "../lib/periodic.ts";
import { createAuthRoutes } from "../routes/auth.ts";
import { type DomainStores, type PoolStore, WorkerNameHashes } from "../lib/store/mod.ts";

/** Tuning of {@linkcode startPersistence} (defaults in brackets); tests shorten them. */
export interface PersistenceOptions {
  /** History sampling period, ms [60 000]. */
  readonly sampleIntervalMs?: number;
  /** Notifier pass period, ms [30 000]. */
  readonly notifyIntervalMs?: number;
  /** Offline threshold, ms [`discord.offline_threshold_seconds`]. */
  readonly offlineAfterMs?: number;
  /** Back-online threshold, ms [`discord.online_threshold_seconds`]. */
  readonly onlineAfterMs?: number;
  /** Link-bot polling period, ms [5 000]. */
  readonly pollIntervalMs?: number;
  /** Least time between two Discord messages, ms [2 000]. */
  readonly discordMinIntervalMs?: number;
  /** Operator log. */
  readonly log?: (message: string) => void;
  /** Timers of the history sampler (default: the global ones); tests pass a manual clock. */
  readonly timers?: Timers;
}

/** What {@linkcode startPersistence} needs from the pool. */
export interface PersistenceParts {
  /** The configuration. */
  readonly config: Config;
  /** The open store (closed by `stop`). */
  readonly store: PoolStore;
  /** Live workers (and the pool's best shares). */
  readonly registry: WorkerRegistry;
}

/** The running persistence side. */
export interface Persistence {
  /** The store. */
  readonly store: PoolStore;
  /** Session refresh and saved-worker routes for the status app's `auth` mount. */
  readonly authRoutes: Routes;
  /** The saved-worker notifier, when Discord is configured. */
  readonly notifier?: WorkerNotifier;
  /** The link bot, when Discord is configured. */
  readonly bot?: DiscordLinkBot;
  /** The outgoing Discord queue, when Discord is configured. */
  readonly queue?: MessageQueue;
  /** Stores a found block record (journal writes and settled blocks). */
  journalBlock(record: FoundBlockRecord): void;
  /** Stores a settled block and sends its notice. */
  blockSettled(record: FoundBlockRecord): void;
  /** One history pass now, beside the timed ones (the sampler runs one every minute). */
  sample(): Promise<void>;
  /** Writes that are still in flight, settled. */
  flush(): Promise<void>;
  /**
   * Stops the sampler and the Discord side (each waits for its pass in flight), takes a last
   * sample, flushes writes and closes the store.
   */
  stop(): Promise<void>;
}

/**
 * True for a reconnect-churn ban: short-lived protection of one process, never written to the
 * store nor restored from it. Bans stored before sources were recorded are known by key and reason.
 */
export function isChurnBan(entry: BanEntry): boolean {
  return entry.source === "churn" ||
    (entry.source === undefined && entry.key.startsWith("ip:") &&
      entry.reason === CHURN_BAN_REASON);
}

/**
 * A ban listener that writes every ban change to the store (errors go to `log`), except
 * reconnect-churn bans, which live in memory only.
 */
export function persistBans(
  store: Pick<DomainStores, "bans">,
  track: (p: Promise<unknown>) => void,
): BanListener {
  return {
    onBan: (entry) => {
      if (!isChurnBan(entry)) track(store.bans.put(entry));
    },
    onUnban: (key) => track(store.bans.delete(key)),
  };
}

/** Where {@linkcode restoreBans} puts IP bans, and its clock. */
export interface RestoreBansOptions {
  /** The list for `ip:` keys (the admission's); without it they go to `bans` like the rest. */
  readonly ipBans?: BanList;
  /** Clock, ms since the epoch (bans ended by now are dropped). */
  readonly now?: number;
}

/**
 * Puts the stored bans still in force back: `ip:` keys into `ipBans`, the rest (workers, payout
 * addresses) into `bans`. Ended bans are dropped. A reconnect-churn ban an older version stored is
 * not restored but deleted: it protected the process that set it, and a farm reconnecting after a
 * restart must not meet it. Returns how many came back.
 */
export async function restoreBans(
  store: Pick<DomainStores, "bans">,
  bans: BanList,
  options: RestoreBansOptions = {},
): Promise<number> {
  const now = options.now ?? Date.now();
  let restored = 0;
  for (const b of await store.bans.list()) {
    if (b.until <= now) continue;
    if (isChurnBan(b)) {
      await store.bans.delete(b.key);
      continue;
    }
    const list = options.ipBans !== undefined && b.key.startsWith("ip:") ? options.ipBans : bans;
    list.ban(b.key, b.reason, b.until - now, now, b.source);
    restored++;
  }
  return restored;
}

/** True when Discord is fully configured (bot token, server and channel ids). */
export function discordConfigured(config: Config): boolean {
  return config.discord.serverId !== "" && config.discord.channelId !== "" &&
    config.secrets.discordBotToken !== "";
}

/** Starts history sampling, the auth routes and (when configured) the Discord side. */
export async function startPersistence(
  parts: PersistenceParts,
  options: PersistenceOptions = {},
): Promise<Persistence> {
  const { config, store, registry } = parts;
  const log = options.log ?? (() => {});
  const pending = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    const tracked = p.catch((e) => log(`store: ${e instanceof Error ? e.message : e}`))
      .finally(() => pending.delete(tracked));
    pending.add(tracked);
  };
  const hashes = new WorkerNameHashes();

  // The pool-wide best shares come back into the live table.
  for (const s of await store.bestShares.list()) {
    registry.bestShares.offer(s.worker, s.difficulty, reverseBytes(hexToBytes(s.hash)), s.at);
  }

  const onlineHashes = () => {
    const set = new Set<string>();
    for (const w of registry.list(Date.now())) set.add(hashes.get(w.name));
    return set;
  };

  let sessions: SessionReader | undefined;
  if (config.auth.clerkJwksUrl !== "") {
    const verifier = new ClerkVerifier({
      jwksUrl: config.auth.clerkJwksUrl,
      issuer: config.auth.clerkIssuer,
      audience: config.auth.clerkAudience,
      authorizedParties: config.auth.clerkAuthorizedParties,
    });
    // Fetched now so a broken URL shows in the log at once; later fetches follow key rotation.
    await verifier.refresh().catch((e) =>
      log(`clerk: JWKS: ${e instanceof Error ? e.message : e}`)
    );
    sessions = new SessionReader({
      verifier,
      cookieName: config.auth.clerkSessionCookieName,
      onSeen: (userId) => track(store.users.touch(userId)),
    });
  }

  const discordOn = discordConfigured(config);
  const publicUrl = config.server.statusPublicUrl.replace(/\/+$/, "");
  const statusUrl = publicUrl
    ? `${publicUrl}/saved-workers`
    : config.status.brandDomain
    ? `https://${config.status.brandDomain}/saved-workers`
    : undefined;
  let queue: MessageQueue | undefined;
  let notifier: WorkerNotifier | undefined;
  let bot: DiscordLinkBot | undefined;
  if (discordOn) {
    const rest = new DiscordRest({
      baseUrl: config.discord.apiBaseUrl,
      token: config.secrets.discordBotToken,
    });
    const channelId = config.discord.channelId;
    const onError = (e: unknown) => log(`discord: ${e instanceof Error ? e.message : e}`);
    queue = new MessageQueue({
      send: async (m) =>
        void await rest.createMessage(channelId, m.content, { users: m.mentionUserIds }),
      minIntervalMs: options.discordMinIntervalMs ?? 2_000,
      onError,
    });
    const q = queue;
    notifier = new WorkerNotifier({
      store,
      onlineHashes,
      enqueue: (m) => void q.enqueue(m),
      offlineAfterMs: options.offlineAfterMs ?? config.discord.offlineThresholdSeconds * 1000,
      onlineAfterMs: options.onlineAfterMs ?? config.discord.onlineThresholdSeconds * 1000,
      statusUrl,
      onError,
    });
    bot = new DiscordLinkBot({ rest, store, channelId, onError });
    notifier.start(options.notifyIntervalMs ?? 30_000);
    bot.start(options.pollIntervalMs ?? 5_000);
  }

  const authRoutes = createAuthRoutes({
    sessions,
    publicUrl: publicUrl || undefined,
    savedWorkers: {
      store,
      liveWorkers: (now) => registry.list(now),
      discordEnabled: discordOn,
    },
  });

  let lastBest = "";
  const sample = async () => {
    const now = Date.now();
    const minute = Math.floor(now / 60_000);
    const live = registry.list(now);
    await store.history.putPool({
      minute,
      hashrate: registry.totalHashrate(now),
      workers: live.length,
    });
    const byHash = new Map<string, { hashrate: number; best: number }>();
    for (const w of live) {
      const h = hashes.get(w.name);
      const agg = byHash.get(h) ?? { hashrate: 0, best: 0 };
      agg.hashrate += w.hashrate;
      agg.best = Math.max(agg.best, w.bestDifficulty);
      byHash.set(h, agg);
    }
    for (const [h, agg] of byHash) {
      if ((await store.savedWorkers.usersWhoSaved(h)).length === 0) continue;
      await store.history.putWorker(
        h,
        { minute, hashrate: agg.hashrate, bestDifficulty: agg.best },
        new Date(now),
      );
    }
    const best = registry.bestShares.list();
    const key = JSON.stringify(best);
    if (key !== lastBest) {
      await store.bestShares.put(best);
      lastBest = key;
    }
  };
  const tracked = () => {
    const run = sample();
    track(run);
    return run;
  };
  // One sample at a time, the next a period after the last one ended (a slow store delays it
  // rather than piling samples up). Periodic runs a pass at once; that one is skipped, so the
  // first sample comes a period after start, once the miners are back (not a zero at boot).
  let waited = false;
  const sampler = new Periodic<void>({
    run: () => waited ? tracked() : void (waited = true),
    intervalMs: options.sampleIntervalMs ?? 60_000,
    timers: options.timers,
    onError: () => {}, // `track` logs it
  });
  void sampler.start();

  let stopped: Promise<void> | undefined;
  return {
    store,
    authRoutes,
    notifier,
    bot,
    queue,
    journalBlock: (record) => track(store.blocks.put(record)),
    blockSettled(record) {
      track(store.blocks.put(record));
      if (notifier && record.status === "accepted") track(notifier.notifyBlock(record));
    },
    sample: () => tracked(),
    async flush() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    stop() {
      stopped ??= (async () => {
        await sampler.stop();
        await notifier?.stop();
        await bot?.stop();
        await queue?.stop();
        track(sample());
        while (pending.size > 0) await Promise.all([...pending]);
        // Writes not tracked here (bans from the Stratum side) are queued in the store itself.
        await store.flush();
        store.close();
      })();
      return stopped;
    },
  };
}
