/**
 * `deno task bench soak`: workers come and go for a long run, and the pool must come back to its
 * idle size. Our pool runs in its own process on a regtest node (as in the load bench); each round
 * a fresh generator process opens `connections` workers with names never used before, submits at
 * `rate` for `duration` seconds, and disconnects. After every round, and after a final idle wait,
 * the pool reports its memory after two forced collections. The result: RSS, JS heap and
 * `external` per round, the RSS slope after the first minute, and how far the idle pool ended from
 * its size before the load.
 *
 * @module
 */

import { startBenchPool, startGenerator } from "./load.ts";
import type { GeneratorSettings } from "./load_generator.ts";
import { LatencyHistogram } from "./stats.ts";
import { sleep } from "../tests/helpers/wait.ts";

/** Settings of a soak run. */
export interface SoakOptions {
  /** Rounds, each with a new set of workers. */
  readonly rounds: number;
  /** Workers per round. */
  readonly connections: number;
  /** Aggregate submits per second during a round. */
  readonly rate: number;
  /** Seconds of load per round. */
  readonly durationSeconds: number;
  /** Seconds of idle after the last round. */
  readonly idleSeconds: number;
  /** Share worker threads of the pool (0 = one per core). */
  readonly hashWorkers: number;
  /** Progress lines. */
  readonly log: (line: string) => void;
}

/** The pool's memory at one point, MiB. */
export interface MemoryPoint {
  /** Seconds since the load began. */
  readonly atSeconds: number;
  /** What had happened by then. */
  readonly label: string;
  /** Resident set size. */
  readonly rssMiB: number;
  /** JS heap in use. */
  readonly heapUsedMiB: number;
  /** ArrayBuffers and other memory outside the JS heap. */
  readonly externalMiB: number;
}

/** What a soak run found. */
export interface SoakResults {
  /** Before the first round, after the pool settled with no miner. */
  readonly before: MemoryPoint;
  /** After each round's workers left, then after the idle wait (last). */
  readonly points: readonly MemoryPoint[];
  /** Submits answered over the run. */
  readonly answered: number;
  /** Least-squares slope of RSS over the points after the first minute, MiB per minute. */
  readonly rssSlopeMiBPerMinute: number | undefined;
  /** Idle RSS after the run over RSS before it. */
  readonly idleRssRatio: number;
  /** Idle `external` after the run minus before, MiB. */
  readonly idleExternalDeltaMiB: number;
}

const MiB = 1048576;
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Least-squares slope of `y` over `x`; undefined with fewer than two points. */
export function slope(points: readonly { x: number; y: number }[]): number | undefined {
  if (points.length < 2) return undefined;
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0, den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? undefined : num / den;
}

/** Runs the soak against our own pool. */
export async function runSoak(options: SoakOptions): Promise<SoakResults> {
  const log = options.log;
  const own = await startBenchPool({
    shareDifficulty: 1e-10,
    hashWorkers: options.hashWorkers,
    hashBackend: "auto",
    log,
  });
  try {
    const started = performance.now();
    const measure = async (label: string): Promise<MemoryPoint> => {
      await own.pool.send({ cmd: "mem" });
      const m = await own.pool.next("mem", 30_000);
      const point = {
        atSeconds: round((performance.now() - started) / 1000),
        label,
        rssMiB: round(m.rss / MiB),
        heapUsedMiB: round(m.heapUsed / MiB),
        externalMiB: round(m.external / MiB),
      };
      log(
        `${label}: RSS ${point.rssMiB} MiB, heap ${point.heapUsedMiB} MiB, external ${point.externalMiB} MiB (t=${point.atSeconds} s)`,
      );
      return point;
    };
    await sleep(1000);
    const before = await measure("before");
    const points: MemoryPoint[] = [];
    let answered = 0;
    for (let r = 0; r < options.rounds; r++) {
      const settings: GeneratorSettings = {
        index: 1000 + r, // names g<index>c<n>: a set of workers the pool has never seen
        host: "127.0.0.1",
        port: own.ready.port,
        connections: options.connections,
        rampPerSecond: 5000,
        address: own.address,
        versionRolling: false,
        readyTimeoutMs: 30_000,
      };
      const generator = startGenerator(settings);
      try {
        const connected = await generator.next("connected", 120_000);
        await generator.send({
          cmd: "load",
          rate: options.rate,
          durationMs: options.durationSeconds * 1000,
          drainMs: 3000,
        });
        const result = await generator.next("load", options.durationSeconds * 1000 + 60_000);
        answered += result.answered;
        const latency = new LatencyHistogram();
        latency.merge(result.latency);
        log(
          `round ${r + 1}: ${connected.ready} workers, ${result.answered} answered, p99 ${
            round(latency.summary().p99, 2)
          } ms`,
        );
        await generator.send({ cmd: "stop" }).catch(() => {});
        await Promise.race([generator.status, sleep(5000)]);
      } finally {
        await generator.kill();
      }
      await sleep(2000); // the pool sees the sockets close
      points.push(await measure(`after round ${r + 1}`));
    }
    await sleep(options.idleSeconds * 1000);
    const idle = await measure(`after ${options.idleSeconds} s idle`);
    points.push(idle);
    const late = points.filter((p) => p.atSeconds >= 60).map((p) => ({
      x: p.atSeconds / 60,
      y: p.rssMiB,
    }));
    const s = slope(late);
    return {
      before,
      points,
      answered,
      rssSlopeMiBPerMinute: s === undefined ? undefined : round(s, 2),
      idleRssRatio: round(idle.rssMiB / before.rssMiB, 3),
      idleExternalDeltaMiB: round(idle.externalMiB - before.externalMiB, 2),
    };
  } finally {
    await own.stop();
  }
}
