/**
 * Process and OS metrics for `/api/server`, sampled from Deno and `node:process`.
 *
 * Mapping onto the contract's Go-flavoured names:
 * - `process_goroutines` ← `activeResources`: the count of live async resources (sockets, timers,
 *   workers' message ports, …) from `process.getActiveResourcesInfo()`, the nearest thing a Deno
 *   process has to a goroutine count (each is a pending task the event loop serves);
 * - `go_mem_alloc_bytes` ← V8 `heapUsed`; `go_mem_sys_bytes` ← `heapTotal + external`;
 * - `process_cpu_percent` ← user+system CPU time between two samples over the wall time between
 *   them (100 = one full core); 0 on the first sample;
 * - `system_mem_free_bytes` ← `MemAvailable` (what new work can use), `used` = total − available.
 *
 * @module
 */

import process from "node:process";

/** One sample of process and OS metrics. */
export interface SystemMetrics {
  /** Time since the process (or the injected start) began, nanoseconds. */
  readonly uptimeNs: number;
  /** Live async resources (the goroutine stand-in). */
  readonly activeResources: number;
  /** CPU use since the previous sample, percent of one core. */
  readonly cpuPercent: number;
  /** V8 heap in use (bytes). */
  readonly heapUsedBytes: number;
  /** V8 heap reserved plus external memory (bytes). */
  readonly heapReservedBytes: number;
  /** Resident set size (bytes). */
  readonly rssBytes: number;
  /** Total system memory (bytes). */
  readonly memTotalBytes: number;
  /** MemAvailable (bytes). */
  readonly memAvailableBytes: number;
  /** Load averages over 1, 5 and 15 minutes. */
  readonly load: readonly [number, number, number];
}

/** Where a sampler reads from; every member is injectable for tests. */
export interface SystemProbe {
  /** Monotonic milliseconds (performance.now()). */
  monotonicMs(): number;
  /** Cumulative process CPU time in microseconds (user + system). */
  cpuMicros(): number;
  /** Live async resources. */
  activeResources(): number;
  /** Deno.memoryUsage(). */
  memory(): { rss: number; heapTotal: number; heapUsed: number; external: number };
  /** Deno.systemMemoryInfo(): total and available bytes. */
  systemMemory(): { total: number; available: number };
  /** Deno.loadavg(). */
  loadavg(): number[];
}

/** The probe backed by the running process (needs `--allow-sys` for memory info and loadavg). */
export const processProbe: SystemProbe = {
  monotonicMs: () => performance.now(),
  cpuMicros: () => {
    const usage = process.cpuUsage();
    return usage.user + usage.system;
  },
  activeResources: () => process.getActiveResourcesInfo().length,
  memory: () => Deno.memoryUsage(),
  systemMemory: () => {
    try {
      const info = Deno.systemMemoryInfo();
      return { total: info.total, available: info.available };
    } catch {
      return { total: 0, available: 0 };
    }
  },
  loadavg: () => {
    try {
      return Deno.loadavg();
    } catch {
      return [0, 0, 0];
    }
  },
};

/** Samples {@linkcode SystemMetrics}; CPU percent is the delta since the previous call. */
export class SystemSampler {
  readonly #probe: SystemProbe;
  readonly #startMs: number;
  #lastWallMs: number;
  #lastCpuMicros: number;

  /** `startMs` is the monotonic time uptime counts from (default: now). */
  constructor(probe: SystemProbe = processProbe, startMs?: number) {
    this.#probe = probe;
    this.#lastWallMs = probe.monotonicMs();
    this.#lastCpuMicros = probe.cpuMicros();
    this.#startMs = startMs ?? this.#lastWallMs;
  }

  /** Takes a sample now. */
  sample(): SystemMetrics {
    const probe = this.#probe;
    const wall = probe.monotonicMs();
    const cpu = probe.cpuMicros();
    const wallDelta = wall - this.#lastWallMs;
    const cpuPercent = wallDelta > 0 ? ((cpu - this.#lastCpuMicros) / 1000 / wallDelta) * 100 : 0;
    this.#lastWallMs = wall;
    this.#lastCpuMicros = cpu;
    const memory = probe.memory();
    const system = probe.systemMemory();
    const load = probe.loadavg();
    return {
      uptimeNs: Math.round((wall - this.#startMs) * 1e6),
      activeResources: probe.activeResources(),
      cpuPercent: Math.max(0, cpuPercent),
      heapUsedBytes: memory.heapUsed,
      heapReservedBytes: memory.heapTotal + memory.external,
      rssBytes: memory.rss,
      memTotalBytes: system.total,
      memAvailableBytes: Math.min(system.available, system.total),
      load: [load[0] ?? 0, load[1] ?? 0, load[2] ?? 0],
    };
  }
}
