/**
 * `deno task bench api`: requests per second and latency of the JSON API of a running pool.
 *
 * Our pool runs in its own process on a regtest node (as for `load`), with `miners` idle Stratum
 * connections from a generator process so the snapshots describe live workers. This process is
 * the HTTP client: `concurrency` keep-alive request loops per endpoint, each for `seconds`.
 *
 * @module
 */

import { startBenchPool, startGenerator } from "./load.ts";
import { LatencyHistogram, type LatencySummary, round, roundSummary } from "./stats.ts";

/** Settings of the API benchmark. */
export interface ApiOptions {
  /** Seconds per endpoint and concurrency. */
  readonly seconds: number;
  /** Requests kept in flight, one run each. */
  readonly concurrency: readonly number[];
  /** Idle miners connected while measuring. */
  readonly miners: number;
  /** Progress lines. */
  readonly log: (line: string) => void;
}

/** One endpoint at one concurrency. */
export interface ApiRow {
  /** Path requested. */
  readonly path: string;
  /** Requests in flight. */
  readonly concurrency: number;
  /** Completed requests per second. */
  readonly requestsPerSecond: number;
  /** Request → full body latency, ms. */
  readonly latency: LatencySummary;
  /** Answers other than 200. */
  readonly errors: number;
  /** Body size, bytes. */
  readonly bodyBytes: number;
}

/** The API benchmark's figures. */
export interface ApiResults {
  /** Miners connected during the run. */
  readonly miners: number;
  /** Rows. */
  readonly rows: readonly ApiRow[];
}

/** The endpoints measured. */
export const API_PATHS = ["/api/overview", "/api/pool-hashrate"] as const;

async function hammer(url: string, concurrency: number, ms: number): Promise<ApiRow> {
  const latency = new LatencyHistogram();
  let errors = 0;
  let bodyBytes = 0;
  const end = performance.now() + ms;
  const start = performance.now();
  const loop = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      const response = await fetch(url);
      const body = await response.arrayBuffer();
      latency.record(performance.now() - t0);
      if (response.status !== 200) errors++;
      bodyBytes = body.byteLength;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const elapsed = performance.now() - start;
  return {
    path: new URL(url).pathname,
    concurrency,
    requestsPerSecond: round((latency.count * 1000) / elapsed, 1),
    latency: roundSummary(latency.summary()),
    errors,
    bodyBytes,
  };
}

/** Runs the API benchmark against our own pool. */
export async function runApi(options: ApiOptions): Promise<ApiResults> {
  const own = await startBenchPool({
    shareDifficulty: 1e-10,
    hashWorkers: 0,
    hashBackend: "ts",
    log: options.log,
  });
  const generator = options.miners > 0
    ? startGenerator({
      index: 0,
      host: "127.0.0.1",
      port: own.ready.port,
      connections: options.miners,
      rampPerSecond: 1000,
      address: own.address,
      versionRolling: false,
      readyTimeoutMs: 30_000,
    })
    : undefined;
  try {
    const statusPort = own.ready.statusPort;
    if (statusPort === undefined) throw new Error("the pool has no status listener");
    let miners = 0;
    if (generator !== undefined) miners = (await generator.next("connected", 60_000)).ready;
    // Let the snapshots pick the workers up (their refresh runs on timers).
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const rows: ApiRow[] = [];
    for (const path of API_PATHS) {
      const url = `http://127.0.0.1:${statusPort}${path}`;
      await hammer(url, 4, 300); // warm-up
      for (const concurrency of options.concurrency) {
        const row = await hammer(url, concurrency, options.seconds * 1000);
        rows.push(row);
        options.log(
          `${path.padEnd(20)} c=${String(concurrency).padEnd(4)} ${
            String(row.requestsPerSecond).padStart(9)
          } req/s  p50 ${row.latency.p50} p99 ${row.latency.p99} max ${row.latency.max} ms  ` +
            `(${row.bodyBytes} B, ${row.errors} errors)`,
        );
      }
    }
    return { miners, rows };
  } finally {
    if (generator !== undefined) {
      await generator.send({ cmd: "stop" }).catch(() => {});
      await Promise.race([generator.status, new Promise((r) => setTimeout(r, 5000))]);
      await generator.kill();
    }
    await own.stop();
  }
}
