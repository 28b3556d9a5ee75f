/**
 * Measurement helpers shared by the benchmarks: a mergeable latency histogram, process CPU and
 * RSS readings from `/proc`, the machine description and the JSON report writer.
 *
 * @module
 */

/** Relative width of one histogram bucket: percentiles are exact to within 2 %. */
const BUCKET_GROWTH = 1.02;
const LOG_GROWTH = Math.log(BUCKET_GROWTH);
/** Smallest latency the histogram tells apart (1 µs); everything below lands in bucket 0. */
const MIN_MS = 0.001;
/** Buckets up to 1e5 ms (100 s); slower answers go to the last bucket (max is kept exactly). */
const BUCKETS = Math.ceil(Math.log(1e5 / MIN_MS) / LOG_GROWTH) + 1;

/** Latency percentiles and extremes in milliseconds. */
export interface LatencySummary {
  /** Values recorded. */
  readonly count: number;
  /** Arithmetic mean. */
  readonly mean: number;
  /** Median (upper bound of its 2 % bucket). */
  readonly p50: number;
  /** 95th percentile (upper bound of its bucket). */
  readonly p95: number;
  /** 99th percentile (upper bound of its bucket). */
  readonly p99: number;
  /** Largest value, exact. */
  readonly max: number;
}

/**
 * A log-bucketed latency histogram (2 % buckets from 1 µs to 100 s). Recording is O(1) and
 * allocation-free, and histograms from several processes merge exactly (`toJSON`/`merge`).
 */
export class LatencyHistogram {
  readonly #counts = new Uint32Array(BUCKETS);
  #count = 0;
  #sum = 0;
  #max = 0;

  /** Records one latency in milliseconds. */
  record(ms: number): void {
    const index = ms <= MIN_MS
      ? 0
      : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / MIN_MS) / LOG_GROWTH));
    this.#counts[index]++;
    this.#count++;
    this.#sum += ms;
    if (ms > this.#max) this.#max = ms;
  }

  /** Values recorded so far. */
  get count(): number {
    return this.#count;
  }

  /** Adds the values of `other` (a live histogram or its `toJSON` form). */
  merge(other: LatencyHistogram | LatencyHistogramJson): void {
    const json = other instanceof LatencyHistogram ? other.toJSON() : other;
    for (const [index, n] of json.buckets) this.#counts[index] += n;
    this.#count += json.count;
    this.#sum += json.sum;
    if (json.max > this.#max) this.#max = json.max;
  }

  /** The value below which `fraction` (0..1) of the recorded values lie (bucket upper bound). */
  quantile(fraction: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil(fraction * this.#count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i];
      if (seen >= rank) return Math.min(this.#max, MIN_MS * BUCKET_GROWTH ** i);
    }
    return this.#max;
  }

  /** Percentiles, mean and max. */
  summary(): LatencySummary {
    return {
      count: this.#count,
      mean: this.#count === 0 ? 0 : this.#sum / this.#count,
      p50: this.quantile(0.5),
      p95: this.quantile(0.95),
      p99: this.quantile(0.99),
      max: this.#max,
    };
  }

  /** A compact JSON form (non-empty buckets only) for sending between processes. */
  toJSON(): LatencyHistogramJson {
    const buckets: [number, number][] = [];
    for (let i = 0; i < BUCKETS; i++) if (this.#counts[i] > 0) buckets.push([i, this.#counts[i]]);
    return { count: this.#count, sum: this.#sum, max: this.#max, buckets };
  }
}

/** The JSON form of a {@linkcode LatencyHistogram}. */
export interface LatencyHistogramJson {
  /** Values recorded. */
  readonly count: number;
  /** Sum of the values (ms). */
  readonly sum: number;
  /** Largest value (ms). */
  readonly max: number;
  /** `[bucket index, count]` for every non-empty bucket. */
  readonly buckets: readonly (readonly [number, number])[];
}

/** Rounds to `digits` decimals (keeps reports readable). */
export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** A latency summary with every figure rounded to µs. */
export function roundSummary(s: LatencySummary): LatencySummary {
  return {
    count: s.count,
    mean: round(s.mean, 3),
    p50: round(s.p50, 3),
    p95: round(s.p95, 3),
    p99: round(s.p99, 3),
    max: round(s.max, 3),
  };
}

/** Kernel clock ticks per second in `/proc/<pid>/stat` (USER_HZ, 100 on Linux x86-64 and arm64). */
const USER_HZ = 100;

/** CPU time (user + system, all threads) of process `pid` in milliseconds, from `/proc`. */
export function processCpuMs(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // The command name may hold spaces; fields are counted from after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / USER_HZ;
}

/**
 * CPU time of this process's main thread in milliseconds, at nanosecond resolution (the
 * scheduler's own account in `/proc/thread-self/schedstat`); where a figure is main-thread work
 * (the Stratum server, the fan-out) this beats the 10 ms ticks of `processCpuMs`.
 */
export function mainThreadCpuMs(): number {
  const stat = Deno.readTextFileSync(`/proc/${Deno.pid}/task/${Deno.pid}/schedstat`);
  return Number(stat.slice(0, stat.indexOf(" "))) / 1e6;
}

/** Resident set size of process `pid` in bytes, from `/proc/<pid>/status`. */
export function processRssBytes(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (match === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

/** Measures the CPU share process `pid` used between `start()` and `stop()`. */
export class CpuSampler {
  readonly #pid: number;
  #cpu0 = 0;
  #wall0 = 0;

  /** A sampler for process `pid`. */
  constructor(pid: number) {
    this.#pid = pid;
  }

  /** Marks the start of the window. */
  start(): void {
    this.#cpu0 = processCpuMs(this.#pid);
    this.#wall0 = performance.now();
  }

  /** CPU % since `start()` (100 = one core busy; up to 100 × cores). */
  stop(): number {
    const cpu = this.cpuMs();
    const wall = performance.now() - this.#wall0;
    return wall > 0 ? (cpu / wall) * 100 : 0;
  }

  /** CPU time of the process since `start()`, ms (all threads, 10 ms ticks). */
  cpuMs(): number {
    return processCpuMs(this.#pid) - this.#cpu0;
  }
}

/** The machine a figure was measured on. */
export interface MachineInfo {
  /** Logical CPUs. */
  readonly cores: number;
  /** CPU model name from `/proc/cpuinfo`. */
  readonly cpuModel: string;
  /** Total memory in MiB. */
  readonly memoryMiB: number;
  /** Kernel release. */
  readonly kernel: string;
  /** Deno, V8 and TypeScript versions. */
  readonly deno: string;
  /** Open files allowed per process (soft limit), when known. */
  readonly openFilesLimit: number | undefined;
  /** 1-minute load average when the run started (other work on the machine). */
  readonly loadAverage: number;
}

/** Describes this machine (Linux `/proc`). */
export function machineInfo(): MachineInfo {
  const cpuinfo = readOr("/proc/cpuinfo");
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? "unknown";
  const limits = readOr("/proc/self/limits");
  const nofile = /^Max open files\s+(\d+)/m.exec(limits)?.[1];
  return {
    cores: navigator.hardwareConcurrency,
    cpuModel: model,
    memoryMiB: Math.round(Deno.systemMemoryInfo().total / 1048576),
    kernel: Deno.osRelease(),
    deno: `deno ${Deno.version.deno}, v8 ${Deno.version.v8}, typescript ${Deno.version.typescript}`,
    openFilesLimit: nofile === undefined ? undefined : Number(nofile),
    loadAverage: Deno.loadavg()[0],
  };
}

function readOr(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

/** The envelope of every JSON report. */
export interface BenchReport<T> {
  /** Which benchmark. */
  readonly bench: string;
  /** The exact command line. */
  readonly command: string;
  /** ISO date of the run. */
  readonly date: string;
  /** Where it ran. */
  readonly machine: MachineInfo;
  /** The figures. */
  readonly results: T;
}

/** Wraps `results` with the command, date and machine. */
export function makeReport<T>(bench: string, command: string, results: T): BenchReport<T> {
  return { bench, command, date: new Date().toISOString(), machine: machineInfo(), results };
}

/** Writes `report` as pretty JSON to `path` (creating its directory); returns the path. */
export async function writeReport(path: string, report: BenchReport<unknown>): Promise<string> {
  const slash = path.lastIndexOf("/");
  if (slash > 0) await Deno.mkdir(path.slice(0, slash), { recursive: true });
  await Deno.writeTextFile(path, JSON.stringify(report, null, 2) + "\n");
  return path;
}

/** The default report path: `artifacts/bench/<bench>-<timestamp>.json`. */
export function defaultReportPath(bench: string): string {
  const stamp = new Date().toISOString().replaceAll(":", "").replace(/\.\d+Z$/, "Z");
  return `artifacts/bench/${bench}-${stamp}.json`;
}

/**
 * Milliseconds since the epoch with sub-millisecond resolution, comparable across processes on
 * one machine (each process's `timeOrigin` is read from the same wall clock).
 */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}
