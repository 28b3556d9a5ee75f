/**
 * The status side of a running pool: live sources → `SnapshotCache` on the configured cadences
 * (rebuilt early on a new tip) → the Hono status app on `server.status_listen` and
 * `server.status_tls_listen` (plain HTTP then only redirects, 307), and `/metrics` on
 * `server.metrics_listen`. `server.no_json` removes every `/api/*` route. The worker lookup and
 * the page actions are limited per client address (`server.trusted_proxies` decides whose
 * `X-Forwarded-For`, `X-Forwarded-Proto` and `Forwarded` are believed). Every listener is guarded
 * by the `server.http_*` deadlines and per-IP cap ({@linkcode httpLimitsFrom}).
 *
 * @module
 */

import { userChannels } from "./persistence.ts";
import { NETWORKS } from "../lib/bitcoin/mod.ts";
import type { Config } from "../lib/config/mod.ts";
import { parseHostPort } from "../lib/config/mod.ts";
import { type ListenAddress, serveStatus, type StatusServer } from "../lib/status/server.ts";
import type { HttpLimits } from "../lib/status/http_front.ts";
import { statusRateGate, type StatusRateGateOptions } from "../lib/status/client_ip.ts";
import { perSnapshot, type SnapshotName } from "../lib/status/endpoints.ts";
import { SnapshotCache } from "../lib/status/snapshots.ts";
import { loadOrCreateCert } from "../lib/tls/mod.ts";
import { createStatusApp, type Routes } from "../routes/app.ts";
import { createMetricsRoutes } from "../routes/metrics.ts";
import { createPageRoutes, sourcesWorkerLookup } from "../routes/pages.ts";
import {
  type LiveStatusOptions,
  LiveStatusSources,
  type StatusParts,
  statusStaticFrom,
} from "./status_sources.ts";

/** The running status side. */
export interface StatusService {
  /** The live sources (also the `/metrics` source). */
  readonly sources: LiveStatusSources;
  /** The snapshots the JSON API serves. */
  readonly cache: SnapshotCache;
  /** Bound plain-HTTP status address (the redirector when HTTPS is on), when listening. */
  readonly http?: ListenAddress;
  /** Bound HTTPS status address, when listening. */
  readonly https?: ListenAddress;
  /** Bound `/metrics` address, when listening. */
  readonly metrics?: ListenAddress;
  /** Stops the listeners, the snapshot timers and the sampler. */
  stop(): Promise<void>;
}

/** Options of {@linkcode startStatusService}. */
export interface StatusServiceOptions extends LiveStatusOptions {
  /** Software version shown in `/api/openapi.json`. */
  readonly version?: string;
  /** Authenticated routes (session refresh, saved workers, page actions), when persistence runs. */
  readonly auth?: Routes;
  /** Per-client limits of the lookup and the page actions (default: the module's constants). */
  readonly rateLimits?: Pick<StatusRateGateOptions, "lookupPerMinute" | "actionPerMinute">;
}

function address(value: string, key: string): ListenAddress | undefined {
  if (value === "") return undefined;
  const hp = parseHostPort(value);
  if (!hp) throw new Error(`${key}: not a host:port address: ${value}`);
  return hp;
}

/** The HTTP guard's deadlines and per-IP cap from `[server]` `http_*` (status, metrics, admin). */
export function httpLimitsFrom(
  server: Config["server"],
): Required<Omit<HttpLimits, "uncapped" | "maxHeadBytes">> {
  return {
    headerTimeoutMs: server.httpHeaderTimeoutMs,
    bodyTimeoutMs: server.httpBodyTimeoutMs,
    idleTimeoutMs: server.httpIdleTimeoutMs,
    maxConnectionsPerIp: server.httpMaxConnectionsPerIp,
  };
}

/** The refresh period of each snapshot from `[status]` `<name>RefreshSeconds` (seconds → ms). */
export function snapshotIntervals(config: Pick<Config, "status">): Record<SnapshotName, number> {
  return perSnapshot(({ name }) => config.status[`${name}RefreshSeconds` as const] * 1000);
}

/**
 * Starts the status side of `parts`. Resolves once the first snapshots are built and the
 * listeners are bound (port 0 picks a free port; read it back from the result).
 */
export async function startStatusService(
  parts: StatusParts,
  options: StatusServiceOptions = {},
): Promise<StatusService> {
  const { config } = parts;
  const server = config.server;
  const log = options.log ?? (() => {});
  const sources = new LiveStatusSources(parts, options);
  const cache = new SnapshotCache({
    sources,
    statics: statusStaticFrom(config),
    intervals: snapshotIntervals(config),
    onError: () => {}, // a failed rebuild keeps the last bytes; the node being down is logged elsewhere
  });
  sources.start();
  const offTip = sources.onNewTip(() => void cache.refresh());
  await cache.start();

  const servers: StatusServer[] = [];
  const stopAll = async () => {
    offTip();
    // The timers stop at once; a node build in flight is not waited for: it ends when the RPC
    // client closes after this (or on its own timeout), and waiting would hold the pool's stop.
    void cache.stop();
    await sources.stop(); // the hashrate sampler: in memory, never waits on the node
    await Promise.all(servers.map((s) => s.shutdown()));
  };
  try {
    const listen = address(server.statusListen, "server.status_listen");
    const tlsListen = address(server.statusTlsListen, "server.status_tls_listen");
    let cert: string | undefined;
    let key: string | undefined;
    if (tlsListen) {
      if (server.statusTlsCert && server.statusTlsKey) {
        [cert, key] = await Promise.all([
          Deno.readTextFile(server.statusTlsCert),
          Deno.readTextFile(server.statusTlsKey),
        ]);
      } else {
        const pair = await loadOrCreateCert(server.dataDir, {
          commonName: "denopool",
          dnsNames: ["localhost"],
          ipAddresses: ["127.0.0.1"],
        });
        cert = pair.certPem;
        key = pair.keyPem;
      }
    }
    let status: StatusServer | undefined;
    if (listen || tlsListen) {
      const publicHost = server.statusPublicUrl ? new URL(server.statusPublicUrl).hostname : "";
      const pages = await createPageRoutes({
        snapshots: cache,
        noJson: server.noJson,
        workers: sourcesWorkerLookup(sources, NETWORKS[config.node.network]),
        site: {
          brandName: config.status.brandName,
          network: config.node.network,
          stratumHost: publicHost || undefined,
          stratumPort: parts.stratum.port,
          stratumTlsPort: parts.stratum.tlsPort,
          poolFeePercent: config.mining.poolFeePercent,
          clerkPublishableKey: config.auth.clerkJwksUrl
            ? config.secrets.clerkPublishableKey || undefined
            : undefined,
          notifyChannels: userChannels(config),
        },
      });
      const app = createStatusApp({
        snapshots: cache,
        noJson: server.noJson,
        auth: options.auth,
        pages,
        openApi: {
          title: `${config.status.brandName} JSON API`,
          version: options.version,
          serverUrl: server.statusPublicUrl || undefined,
        },
      });
      const gate = statusRateGate({ trustedProxies: server.trustedProxies, ...options.rateLimits });
      status = serveStatus({
        listen,
        tlsListen,
        cert,
        key,
        publicUrl: server.statusPublicUrl || undefined,
        trustedProxies: server.trustedProxies,
        limits: httpLimitsFrom(server),
        app: {
          fetch: (request, info) => {
            const peer = (info.remoteAddr as Deno.NetAddr).hostname;
            // Deno.serve's info is Hono's env on Deno (hono/deno getConnInfo reads it).
            return gate(request, peer) ?? app.fetch(request, info);
          },
        },
      });
      servers.push(status);
    }
    const metricsListen = address(server.metricsListen, "server.metrics_listen");
    let metrics: StatusServer | undefined;
    if (metricsListen) {
      metrics = serveStatus({
        listen: metricsListen,
        app: createMetricsRoutes(sources),
        trustedProxies: server.trustedProxies,
        limits: httpLimitsFrom(server),
      });
      servers.push(metrics);
    }
    if (status?.https) log(`status on https://${hostPort(status.https)}`);
    if (status?.http) {
      log(
        status.https
          ? `status http://${hostPort(status.http)} redirects to HTTPS`
          : `status on http://${hostPort(status.http)}${server.noJson ? " (JSON API off)" : ""}`,
      );
    }
    if (metrics?.http) log(`metrics on http://${hostPort(metrics.http)}/metrics`);
    return {
      sources,
      cache,
      http: status?.http,
      https: status?.https,
      metrics: metrics?.http,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function hostPort(a: ListenAddress): string {
  return a.hostname.includes(":") ? `[${a.hostname}]:${a.port}` : `${a.hostname}:${a.port}`;
}
