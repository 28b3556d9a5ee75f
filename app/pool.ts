/**
 * The running pool: wires the node (RPC, ZMQ, template feed), the job manager, the share worker
 * pool, the block submitter and the Stratum listeners from one validated `Config`.
 *
 * ckpool's split: the feed is the generator, JobManager + Stratum sessions the stratifier, the
 * Stratum server the connector. Nothing here runs per share.
 *
 * @module
 */

import { blockSubsidy, NETWORKS } from "../lib/bitcoin/mod.ts";
import { addressToScript } from "../lib/bitcoin/mod.ts";
import type { Config, TipSourceConfig } from "../lib/config/mod.ts";
import { parseHostPort } from "../lib/config/mod.ts";
import { RpcClient } from "../lib/node/mod.ts";
import { defaultCookiePath } from "../lib/node/mod.ts";
import { ZmqBlockSubscriber } from "../lib/node/mod.ts";
import { TemplateFeed } from "../lib/node/mod.ts";
import {
  RpcTipSource,
  type TipHint,
  type TipSource,
  type TipSourceHealth,
  ZmqTipSource,
} from "../lib/node/mod.ts";
import { SharePool } from "../lib/shares/mod.ts";
import { loadOrCreateCert } from "../lib/tls/mod.ts";
import { StratumServer, type StratumServerOptions } from "../stratum/mod.ts";
import { JobManager, type PoolJob } from "../lib/pool/mod.ts";
import { TipState } from "../lib/pool/mod.ts";
import { BlockSubmitter, type FoundBlockRecord } from "../lib/pool/mod.ts";
import { payoutResolver } from "../lib/pool/mod.ts";
import { BanList } from "../lib/pool/mod.ts";
import { openStore, storeLocation } from "../lib/store/store.ts";
import {
  persistBans,
  type Persistence,
  type PersistenceOptions,
  restoreBans,
  startPersistence,
} from "./persistence.ts";
import { startStatusService, type StatusService } from "./status_service.ts";
import { publishesSnapshots, startSnapshotPublishing } from "../lib/mirror/publish.ts";
import { type AdminService, startAdmin } from "./admin.ts";
import { Hono } from "hono";
import { mountRoutes, type Routes } from "../routes/routes.ts";

/** Hooks for embedding the pool (demo, tests). */
export interface StartPoolOptions {
  /** Operator log; default `console.log`. */
  readonly log?: (message: string) => void;
  /** Called once per found block when its status settles. */
  readonly onBlock?: (record: FoundBlockRecord) => void;
  /** Tuning of the store side (history, notifier and bot periods, thresholds). */
  readonly persistence?: PersistenceOptions;
  /**
   * Called once per found block once it is journaled, before it is submitted (see
   * `BlockSubmitterOptions.afterJournal`); for tests that crash the pool at that point.
   */
  readonly afterJournal?: (record: FoundBlockRecord) => void | Promise<void>;
}

/** A pool that is running; `stop()` shuts it down cleanly. */
export interface RunningPool {
  /** The validated configuration it runs on. */
  readonly config: Config;
  /** Node RPC client (health and latency figures). */
  readonly rpc: RpcClient;
  /** Template feed (tip, ZMQ health, errors). */
  readonly feed: TemplateFeed;
  /** Jobs built from templates. */
  readonly jobs: JobManager;
  /** Share checker. */
  readonly shares: SharePool;
  /** Found blocks. */
  readonly blocks: BlockSubmitter;
  /** Stratum listeners and sessions. */
  readonly stratum: StratumServer;
  /** When the pool started (ms since the epoch). */
  readonly startedAt: number;
  /** Status snapshots and the status/metrics listeners with their bound ports. */
  readonly status: StatusService;
  /** The store, the auth/saved-worker routes and the notifications. */
  readonly persistence: Persistence;
  /** The admin panel, when `admin.enabled`. */
  readonly admin: AdminService | undefined;
  /** Stops listeners, feed and workers; tells miners first. */
  stop(message?: string): Promise<void>;
}

function listenAddress(value: string, key: string): { hostname: string; port: number } {
  const hp = parseHostPort(value);
  if (!hp) throw new Error(`${key}: not a host:port address: ${value}`);
  return hp;
}

/** Starts every part of the pool from `config`. Resolves once the Stratum listeners are up. */
export async function startPool(
  config: Config,
  hooks: StartPoolOptions = {},
): Promise<RunningPool> {
  const log = hooks.log ?? ((m: string) => console.log(m));
  const network = NETWORKS[config.node.network];
  const dataDir = config.server.dataDir;
  await Deno.mkdir(dataDir, { recursive: true });

  const hasPassword = config.secrets.rpcUser !== "" && config.secrets.rpcPassword !== "";
  const rpc = new RpcClient({
    url: config.node.rpcUrl,
    timeoutMs: config.node.rpcTimeoutSeconds * 1000,
    ...(hasPassword ? { user: config.secrets.rpcUser, password: config.secrets.rpcPassword } : {
      cookieFile: config.node.rpcCookiePath ||
        defaultCookiePath({ cookieSubdir: network.cookieSubdir }),
    }),
  });
  const zmq = config.node.zmqHashblock || config.node.zmqRawblock
    ? new ZmqBlockSubscriber({
      hashblockAddr: config.node.zmqHashblock,
      rawblockAddr: config.node.zmqRawblock,
    })
    : undefined;
  const feed = new TemplateFeed({
    rpc,
    rules: network.gbtRules,
    zmq,
    longpoll: config.node.longpoll,
    refreshIntervalMs: config.node.refreshIntervalSeconds * 1000,
    minIntervalMs: config.node.minRefreshIntervalMs,
    staleAfterMs: config.node.staleAfterSeconds * 1000,
    expectChain: network.chain,
    network,
    emptyFirst: config.node.emptyFirst,
    tipSources: config.node.tipSources.map(tipSourceFrom),
  });

  const shares = await SharePool.create({
    workers: config.mining.hashWorkers || undefined,
    minWorkers: config.mining.hashWorkersAtRest,
    backend: config.mining.hashBackend,
    // About 0.1 s at start: the first burst of shares then meets compiled code.
    warmUpChecks: 20_000,
  });
  // The one owner of the tip: the job manager sets it, the submitter marks tips solved, the share
  // policy reads both.
  const tips = new TipState();
  const jobs = new JobManager({
    tips,
    poolScript: config.mining.payoutAddress
      ? addressToScript(config.mining.payoutAddress, network)
      : undefined,
    poolFeePercent: config.mining.poolFeePercent,
    donationScript: config.mining.donationAddress
      ? addressToScript(config.mining.donationAddress, network)
      : undefined,
    donationPercent: config.mining.donationPercent,
    tag: new TextEncoder().encode(config.mining.poolTag),
    extranonce1Size: 4,
    extranonce2Size: config.stratum.extranonce2Size,
    versionMask: config.stratum.versionRollingMask,
    onRetire: (job) => shares.retireJob(job.seq),
    subsidy: (height) => blockSubsidy(height, network),
  });
  // The store opens first so bans and found blocks are recorded from the first moment.
  const store = await openStore(storeLocation(config));
  // Set once persistence has started (it needs the Stratum registry, made after the submitter).
  const late: { persistence?: Persistence } = {};
  const storeError = (e: unknown) => log(`store: ${e instanceof Error ? e.message : e}`);
  const bans = new BanList(persistBans(store, (p) => void p.catch(storeError)));
  const blocks = new BlockSubmitter({
    rpc,
    onJournal: (record) => {
      if (late.persistence) late.persistence.journalBlock(record);
      else void store.blocks.put(record).catch(storeError);
    },
    journalDir: `${dataDir}/blocks`,
    afterJournal: hooks.afterJournal,
    tips,
    onRecord: (record) => {
      // The Stratum session logs each block as it is submitted; here only what settles later.
      if (record.status === "stale") {
        log(`block ${record.height} ${record.hash}: stale (${record.reason})`);
      }
      // A block of ours moves the tip: fetch new work at once rather than wait for a notice.
      if (record.status === "accepted") feed.ownBlockAccepted(record.hash, record.height);
      late.persistence?.blockSettled(record);
      hooks.onBlock?.(record);
    },
  });

  feed.onTemplate((update) => jobs.addTemplate(update.template, update.clean));
  let stopped: Promise<void> | undefined;
  feed.onReadyChange((ready, reason) => {
    jobs.setNotReady(ready ? undefined : reason);
    // The feed reports itself not running while the pool stops: not news to the operator.
    if (stopped === undefined) {
      log(ready ? "template feed ready" : `template feed not ready: ${reason}`);
    }
  });

  const stratumOptions: StratumServerOptions<PoolJob> = await stratumOptionsFrom(config, {
    jobs,
    checker: shares,
    blocks,
    bans,
    resolvePayout: payoutResolver(network),
    log,
  });
  const stratum = new StratumServer(stratumOptions);
  // Bans come back before Stratum listens: worker and address bans into the shared list, IP bans
  // into the admission's own list, persisted from here on like the rest. Reconnect-churn bans are
  // neither restored nor persisted: they protect one process, not a record to keep.
  const ipBans = stratum.admission.bans;
  const restoredBans = await restoreBans(store, bans, { ipBans });
  if (restoredBans > 0) log(`store: ${restoredBans} ban(s) restored`);
  if (ipBans !== bans) ipBans.setListener(persistBans(store, (p) => void p.catch(storeError)));
  const persisted = await startPersistence(
    {
      config,
      store,
      registry: stratum.registry,
      node: () => ({ up: feed.ready, reason: feed.notReadyReason }),
    },
    { ...hooks.persistence, log },
  );
  late.persistence = persisted;

  // The operator's stored overrides are in force before the first template and
  // the first miner.
  let admin: AdminService | undefined;
  try {
    admin = await startAdmin({
      config,
      stratum,
      bans,
      blocks,
      jobs,
      feed,
      rpc,
      kv: persisted.store.kv,
      log,
    });
  } catch (error) {
    await persisted.stop();
    await feed.stop();
    shares.close();
    rpc.close();
    throw error;
  }

  await feed.start();
  jobs.setNotReady(feed.ready ? undefined : feed.notReadyReason);
  // The listener above only hears flips: say so when the node is not there from the start.
  if (!feed.ready) log(`template feed not ready: ${feed.notReadyReason}`);
  // Blocks found before a restart: resubmit those still current, exactly once.
  const recovered = await blocks.recover();
  if (recovered.length > 0) log(`block journal: ${recovered.length} block(s) known`);
  stratum.start();
  const bound = (configured: string, port: number | undefined) =>
    port === undefined ? configured : configured.replace(/:\d+$/, `:${port}`);
  log(
    `stratum listening on ${bound(config.stratum.listen, stratum.port)}` +
      (config.stratum.tlsListen
        ? ` and ${bound(config.stratum.tlsListen, stratum.tlsPort)} (TLS)`
        : "") +
      `; network ${network.name}; hash backend ${shares.backend}`,
  );
  let status: StatusService;
  try {
    status = await startStatusService({ config, rpc, feed, blocks, stratum, shares }, {
      log,
      auth: withAdmin(persisted.authRoutes, admin?.routes),
    });
  } catch (error) {
    await stratum.stop();
    await admin?.stop();
    await persisted.stop();
    await feed.stop();
    shares.close();
    rpc.close();
    throw error;
  }
  // Status mirrors fed from the shared store (`deno task mirror` with KV_URL) read what this writes.
  const publishing = publishesSnapshots(config.status)
    ? await startSnapshotPublishing(status.cache, persisted.store.kv, { log })
    : undefined;
  if (publishing) log("status snapshots published to the store for mirrors");

  return {
    config,
    rpc,
    feed,
    jobs,
    shares,
    blocks,
    stratum,
    startedAt: Date.now(),
    status,
    persistence: persisted,
    admin,
    stop(message?: string) {
      stopped ??= (async () => {
        // Miners first: they hear why and can fail over while the rest winds down.
        await stratum.stop(message);
        await status.stop();
        await admin?.stop();
        // The last snapshots go to the store before it closes: mirrors keep serving them.
        await publishing?.stop();
        // Last, the store: everything above may still write to it while stopping.
        await persisted.stop();
        await feed.stop();
        jobs.close();
        shares.close();
        rpc.close();
      })();
      return stopped;
    },
  };
}

/** A configured `[[node.tip_sources]]` table as a tip source (RPC poll, ZMQ, or both). */
function tipSourceFrom(c: TipSourceConfig): TipSource {
  const zmq = c.zmqHashblock || c.zmqRawblock
    ? new ZmqTipSource({
      name: c.name,
      trusted: c.trusted,
      zmq: new ZmqBlockSubscriber({ hashblockAddr: c.zmqHashblock, rawblockAddr: c.zmqRawblock }),
    })
    : undefined;
  const rpc = c.rpcUrl
    ? new RpcTipSource({
      name: c.name,
      trusted: c.trusted,
      pollMs: c.pollMs,
      rpc: new RpcClient({
        url: c.rpcUrl,
        timeoutMs: 5_000,
        ...(c.rpcUser !== "" ? { user: c.rpcUser, password: c.rpcPassword } : {
          cookieFile: c.rpcCookiePath,
        }),
      }),
    })
    : undefined;
  if (zmq && rpc) return new BothTipSources(zmq, rpc);
  return (zmq ?? rpc)!;
}

/** `[[node.tip_sources]]` with both ZMQ and RPC: one source, whichever of the two speaks first. */
class BothTipSources implements TipSource {
  readonly name: string;
  readonly trusted: boolean;
  constructor(readonly zmq: TipSource, readonly rpc: TipSource) {
    this.name = zmq.name;
    this.trusted = zmq.trusted;
  }
  start(onHint: (hint: TipHint) => void): void {
    this.zmq.start(onHint);
    this.rpc.start(onHint);
  }
  async close(): Promise<void> {
    await Promise.all([this.zmq.close(), this.rpc.close()]);
  }
  health(): TipSourceHealth {
    const z = this.zmq.health(), r = this.rpc.health();
    return { healthy: z.healthy || r.healthy, lastError: r.lastError ?? z.lastError };
  }
}

/** The status server's extra routes: the auth routes, plus the admin panel when it has no listener. */
function withAdmin(auth: Routes | undefined, admin: Routes | undefined): Routes | undefined {
  if (admin === undefined) return auth;
  const both = new Hono();
  if (auth !== undefined) mountRoutes(both, auth);
  mountRoutes(both, admin);
  return both;
}

async function stratumOptionsFrom(
  config: Config,
  parts: Pick<
    StratumServerOptions<PoolJob>,
    "jobs" | "checker" | "blocks" | "bans" | "resolvePayout" | "log"
  >,
): Promise<StratumServerOptions<PoolJob>> {
  const s = config.stratum;
  const plain = s.listen ? listenAddress(s.listen, "stratum.listen") : undefined;
  let tls: StratumServerOptions["tls"];
  if (s.tlsListen) {
    const at = listenAddress(s.tlsListen, "stratum.tls_listen");
    let cert: string, key: string;
    if (s.tlsCert && s.tlsKey) {
      [cert, key] = await Promise.all([Deno.readTextFile(s.tlsCert), Deno.readTextFile(s.tlsKey)]);
    } else {
      const pair = await loadOrCreateCert(config.server.dataDir, {
        commonName: "denopool",
        dnsNames: ["localhost"],
        ipAddresses: ["127.0.0.1"],
      });
      cert = pair.certPem;
      key = pair.keyPem;
    }
    tls = { port: at.port, hostname: at.hostname, cert, key };
  }
  const d = config.difficulty;
  const b = config.bans;
  // A threshold of 0 means "off" in the config.
  const off = (n: number) => (n > 0 ? n : Number.POSITIVE_INFINITY);
  return {
    ...parts,
    hostname: plain?.hostname ?? tls?.hostname,
    port: plain?.port,
    tls,
    poolPassword: s.password || undefined,
    extranonce2Size: s.extranonce2Size,
    versionMask: s.versionRollingMask,
    initialDifficulty: d.start,
    vardiff: {
      targetSharesPerMinute: d.targetSharesPerMinute,
      minDifficulty: d.min,
      maxDifficulty: d.max > 0 ? d.max : Number.POSITIVE_INFINITY,
      minRetargetMs: d.vardiff ? d.retargetSeconds * 1000 : Number.POSITIVE_INFINITY,
    },
    invalidShares: {
      threshold: off(b.invalidThreshold),
      windowMs: b.invalidWindowSeconds * 1000,
      banMs: b.banSeconds * 1000,
    },
    admission: {
      maxConnections: s.maxConnections,
      maxPerIp: off(s.maxConnectionsPerIp),
      acceptRatePerSecond: s.acceptRatePerSecond,
      acceptBurst: s.acceptBurst,
      churnMaxConnects: off(b.reconnectThreshold),
      churnWindowMs: b.reconnectWindowSeconds * 1000,
      churnBanMs: b.reconnectBanSeconds * 1000,
      churnMinLifetimeMs: b.reconnectShortSeconds * 1000,
      exempt: b.exempt,
    },
    clientBlacklist: s.clientBlacklist,
    maxLineBytes: s.maxLineBytes,
    messagesPerMinute: s.messagesPerMinute,
    maxSharesInFlight: s.maxSharesInFlight,
    maxSharesInFlightPerConnection: s.maxSharesInFlightPerConnection,
    idleTimeoutMs: s.idleTimeoutSeconds * 1000,
  };
}
