/**
 * `deno task miner`: a CPU Stratum v1 miner for testing a pool (regtest, testnet, the demo).
 *
 * ```sh
 * deno task miner --url stratum+tcp://127.0.0.1:3333 --user ADDRESS.rig1 --threads 2
 * deno task miner --url stratum+ssl://127.0.0.1:3334 --user ADDRESS.rig1 --ca data/tls_cert.pem
 * ```
 *
 * Hashing runs in `--threads` Web Workers (`tools/miner_worker.ts`); each works on its own
 * extranonce2 (and, with `--version-rolling`, its own rolled version bits), scanning the whole
 * nonce space. `runMiner` is the same miner as a function, for embedding (the demo).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { StratumClient, type StratumJob } from "../stratum/client.ts";
import {
  extranonce2Hex,
  type MiningJob,
  prepareMiningJob,
  rolledVersion,
  u32Hex,
  versionBitsForUnit,
  writeMiningHeader,
} from "../stratum/miner.ts";
import {
  bitsToTarget,
  difficultyToTarget,
  hashMeetsTarget,
  targetToBytesLE,
} from "../lib/bitcoin/target.ts";
import type { MinerToWorker, WorkerToMiner } from "./miner_worker.ts";

/** Where and how to mine. */
export interface MinerOptions {
  /** `stratum+tcp://host:port` or `stratum+ssl://host:port` (also `tcp://`, `ssl://`, `tls://`). */
  readonly url: string;
  /** Worker name, `ADDRESS.worker`. */
  readonly user: string;
  /** Password. Default `"x"`. */
  readonly pass?: string;
  /** Hashing threads (Web Workers). Default 1. */
  readonly threads?: number;
  /** Ask for BIP310 version rolling and roll version bits inside the granted mask. */
  readonly versionRolling?: boolean;
  /** Extra trusted certificates (PEM) for TLS, e.g. the pool's self-signed certificate. */
  readonly caCerts?: readonly string[];
  /** Send `mining.suggest_difficulty` with this value after subscribing. */
  readonly suggestDifficulty?: number;
  /** Stop after this many seconds. Default: run until `signal` aborts. */
  readonly durationSeconds?: number;
  /** Stops the miner when aborted. */
  readonly signal?: AbortSignal;
  /** Reconnect (with backoff) when the pool drops the connection. Default true. */
  readonly reconnect?: boolean;
  /** First reconnect delay; it doubles per failed attempt up to 30 s. Default 1000 ms. */
  readonly reconnectDelayMs?: number;
  /** Called about once per `progressIntervalMs` with the running totals. */
  readonly onProgress?: (stats: MinerStats) => void;
  /** Progress period. Default 1000 ms. */
  readonly progressIntervalMs?: number;
  /** Receives event lines (connected, block found, rejects, errors). Default: none. */
  readonly log?: (line: string) => void;
}

/** Running totals of a miner. */
export interface MinerStats {
  /** Headers hashed. */
  hashes: number;
  /** Recent hash rate, H/s (exponential moving average over ~10 s). */
  hashrate: number;
  /** Shares the pool accepted. */
  accepted: number;
  /** Shares the pool rejected. */
  rejected: number;
  /** Accepted shares that also met the network target. */
  blocks: number;
  /** Reject counts by the pool's message. */
  rejectReasons: Record<string, number>;
  /** Current share difficulty. */
  difficulty: number | undefined;
  /** Current job id. */
  jobId: string | undefined;
  /** True while connected, subscribed and authorized. */
  connected: boolean;
  /** Times the miner (re)connected and authorized. */
  sessions: number;
  /** Milliseconds since the miner started. */
  elapsedMs: number;
  /** The last connection or protocol error, if any. */
  lastError: string | undefined;
}

/** Thrown for a URL or option the miner cannot use. */
export class MinerOptionsError extends Error {
  /** Makes the error with a human reason. */
  constructor(reason: string) {
    super(reason);
    this.name = "MinerOptionsError";
  }
}

/** Host, port and transport of a Stratum URL. */
export interface StratumEndpoint {
  /** Host name or IP (IPv6 without brackets). */
  readonly host: string;
  /** TCP port. */
  readonly port: number;
  /** True for `stratum+ssl` / `ssl` / `tls` / `stratum+tls`. */
  readonly tls: boolean;
}

/** Parses `stratum+tcp://host:port` / `stratum+ssl://host:port` (and the short schemes). */
export function parseStratumUrl(url: string): StratumEndpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new MinerOptionsError(`not a URL: ${JSON.stringify(url)} (want stratum+tcp://host:port)`);
  }
  const scheme = parsed.protocol.replace(/:$/, "");
  const tls = ["stratum+ssl", "stratum+tls", "ssl", "tls"].includes(scheme);
  if (!tls && !["stratum+tcp", "stratum", "tcp"].includes(scheme)) {
    throw new MinerOptionsError(`unknown scheme ${scheme}: use stratum+tcp:// or stratum+ssl://`);
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = Number(parsed.port);
  if (!host) throw new MinerOptionsError(`no host in ${url}`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new MinerOptionsError(`no valid port in ${url}`);
  }
  return { host, port, tls };
}

/** A hash rate with an SI prefix, e.g. `1.23 MH/s`. */
export function formatHashrate(hashesPerSecond: number): string {
  const units = ["H/s", "kH/s", "MH/s", "GH/s", "TH/s", "PH/s"];
  let value = hashesPerSecond;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 2)} ${units[unit]}`;
}

/** The one-line progress display. */
export function formatProgress(stats: MinerStats): string {
  const difficulty = stats.difficulty === undefined
    ? "-"
    : String(Number(stats.difficulty.toPrecision(4)));
  return [
    formatHashrate(stats.hashrate),
    `accepted ${stats.accepted}`,
    `rejected ${stats.rejected}`,
    `blocks ${stats.blocks}`,
    `diff ${difficulty}`,
    stats.connected ? `job ${stats.jobId ?? "-"}` : "disconnected",
  ].join(" | ");
}

/** One header handed to a worker: which extranonce2 and version it stands for. */
interface Unit {
  readonly extranonce2: string;
  readonly versionBits: number | undefined;
}

/** A job as dispatched to the workers. */
interface Dispatch {
  readonly generation: number;
  readonly job: StratumJob;
  readonly work: MiningJob;
  readonly shareTarget: Uint8Array;
  readonly networkTarget: Uint8Array;
  readonly units: Map<number, Unit>;
  readonly versionMask: number;
  /** True once a later clean job made this one useless. */
  superseded: boolean;
}

const HASHRATE_WINDOW_MS = 10_000;
const KEPT_DISPATCHES = 8;

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs the miner until `durationSeconds` pass or `signal` aborts, then stops the workers, closes
 * the connection and resolves with the final totals. Rejects only when it cannot start (bad
 * options) or the pool refuses authorization.
 */
export async function runMiner(options: MinerOptions): Promise<MinerStats> {
  const endpoint = parseStratumUrl(options.url);
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
    throw new MinerOptionsError(`threads must be an integer in 1..256, got ${threads}`);
  }
  const log = options.log ?? (() => {});
  const startedAt = Date.now();
  const stats: MinerStats = {
    hashes: 0,
    hashrate: 0,
    accepted: 0,
    rejected: 0,
    blocks: 0,
    rejectReasons: {},
    difficulty: undefined,
    jobId: undefined,
    connected: false,
    sessions: 0,
    elapsedMs: 0,
    lastError: undefined,
  };

  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) stop.abort();
  const durationTimer = options.durationSeconds === undefined
    ? undefined
    : setTimeout(() => stop.abort(), options.durationSeconds * 1000);
  const stopped = new Promise<void>((resolve) => {
    if (stop.signal.aborted) resolve();
    stop.signal.addEventListener("abort", () => resolve(), { once: true });
  });

  // Hash rate: an exponential moving average of per-tick rates.
  let hashesAtLastTick = 0;
  let lastTick = Date.now();
  const progressTimer = setInterval(() => {
    const now = Date.now();
    const dt = Math.max(1, now - lastTick);
    const rate = ((stats.hashes - hashesAtLastTick) * 1000) / dt;
    const alpha = 1 - Math.exp(-dt / HASHRATE_WINDOW_MS);
    stats.hashrate = stats.hashrate === 0 ? rate : stats.hashrate + alpha * (rate - stats.hashrate);
    hashesAtLastTick = stats.hashes;
    lastTick = now;
    stats.elapsedMs = now - startedAt;
    options.onProgress?.({ ...stats, rejectReasons: { ...stats.rejectReasons } });
  }, options.progressIntervalMs ?? 1000);

  const workers: Worker[] = [];
  for (let i = 0; i < threads; i++) {
    workers.push(new Worker(new URL("./miner_worker.ts", import.meta.url), { type: "module" }));
  }
  const post = (worker: Worker, message: MinerToWorker) => worker.postMessage(message);

  let client: StratumClient | undefined;
  const dispatches = new Map<number, Dispatch>();
  let generation = 0;
  let unitCounter = 0;
  let current: Dispatch | undefined;
  const submissions = new Set<Promise<void>>();

  const assignUnit = (worker: Worker, dispatch: Dispatch) => {
    const unit = unitCounter++;
    const extranonce2 = extranonce2Hex(unit, dispatch.work.extranonce2Size);
    const versionBits = dispatch.versionMask === 0
      ? undefined
      : versionBitsForUnit(unit, dispatch.versionMask);
    const version = versionBits === undefined
      ? dispatch.job.version
      : rolledVersion(dispatch.job.version, dispatch.versionMask, versionBits);
    dispatch.units.set(unit, { extranonce2, versionBits });
    const header = writeMiningHeader(dispatch.work, extranonce2, version, dispatch.job.ntime);
    post(worker, {
      type: "work",
      generation: dispatch.generation,
      unit,
      header,
      target: dispatch.shareTarget,
      startNonce: 0,
      count: 0x1_0000_0000,
    });
  };

  const startJob = (job: StratumJob) => {
    if (!client || client.extranonce1 === undefined || client.extranonce2Size === undefined) return;
    if (client.difficulty === undefined) return; // wait for set_difficulty; it re-triggers
    if (job.clean) { for (const old of dispatches.values()) old.superseded = true; }
    const dispatch: Dispatch = {
      generation: ++generation,
      job,
      work: prepareMiningJob(job, client.extranonce1, client.extranonce2Size),
      shareTarget: targetToBytesLE(difficultyToTarget(client.difficulty)),
      networkTarget: targetToBytesLE(bitsToTarget(parseInt(job.nbits, 16))),
      units: new Map(),
      versionMask: options.versionRolling ? client.versionMask ?? 0 : 0,
      superseded: false,
    };
    dispatches.set(dispatch.generation, dispatch);
    for (const old of dispatches.keys()) {
      if (old <= dispatch.generation - KEPT_DISPATCHES) dispatches.delete(old);
    }
    current = dispatch;
    stats.jobId = job.jobId;
    stats.difficulty = client.difficulty;
    for (const worker of workers) assignUnit(worker, dispatch);
  };

  const submitShare = (dispatch: Dispatch, unitId: number, nonce: number, hash: Uint8Array) => {
    const unit = dispatch.units.get(unitId);
    const session = client;
    if (!unit || !session || session.isClosed || dispatch.superseded) return;
    const isBlock = hashMeetsTarget(hash, dispatch.networkTarget);
    const submitted = session.submit(options.user, {
      jobId: dispatch.job.jobId,
      extranonce2: unit.extranonce2,
      ntime: u32Hex(dispatch.job.ntime),
      nonce: u32Hex(nonce),
      versionBits: unit.versionBits === undefined ? undefined : u32Hex(unit.versionBits),
    }).then((reply) => {
      if (reply.result === true && reply.error == null) {
        stats.accepted++;
        if (isBlock) {
          stats.blocks++;
          log(`block found on job ${dispatch.job.jobId} (nonce ${u32Hex(nonce)})`);
        }
      } else {
        stats.rejected++;
        const reason = Array.isArray(reply.error) && typeof reply.error[1] === "string"
          ? reply.error[1]
          : JSON.stringify(reply.error ?? reply.result);
        stats.rejectReasons[reason] = (stats.rejectReasons[reason] ?? 0) + 1;
        if (stats.rejectReasons[reason] === 1) log(`share rejected: ${reason}`);
      }
    }).catch((error) => {
      stats.lastError = errorText(error);
    });
    const tracked = submitted.finally(() => submissions.delete(tracked));
    submissions.add(tracked);
  };

  workers.forEach((worker) => {
    worker.onmessage = (event: MessageEvent<WorkerToMiner>) => {
      const message = event.data;
      if (message.type === "hashes") {
        stats.hashes += message.count;
      } else if (message.type === "found") {
        const dispatch = dispatches.get(message.generation);
        if (dispatch) submitShare(dispatch, message.unit, message.nonce, message.hash);
      } else if (message.type === "done") {
        if (current && message.generation === current.generation && !stop.signal.aborted) {
          assignUnit(worker, current);
        }
      }
    };
    worker.onerror = (event) => {
      event.preventDefault();
      stats.lastError = `hashing worker failed: ${event.message}`;
      log(stats.lastError);
      stop.abort();
    };
  });

  /** One session: connect, subscribe, authorize, mine until the connection ends. */
  const session = async (): Promise<void> => {
    client = await StratumClient.connect({
      host: endpoint.host,
      port: endpoint.port,
      tls: endpoint.tls,
      caCerts: options.caCerts,
    });
    const active = client;
    const offNotify = active.on("mining.notify", () => active.job && startJob(active.job));
    const offDifficulty = active.on("mining.set_difficulty", () => {
      stats.difficulty = active.difficulty;
      // The first difficulty may arrive after the first job: start on it then.
      if (!current && active.job) startJob(active.job);
    });
    // New extranonces make every header in flight useless: rebuild the work at once.
    const offExtranonce = active.on("mining.set_extranonce", () => {
      if (active.job) startJob({ ...active.job, clean: true });
    });
    try {
      const subscribed = await active.subscribe("denopool-miner/0.1");
      if (subscribed.error != null) {
        throw new Error(`subscribe refused: ${JSON.stringify(subscribed.error)}`);
      }
      if (options.versionRolling) {
        const configured = await active.configure(["version-rolling"], {
          "version-rolling.mask": "ffffffff",
          "version-rolling.min-bit-count": 2,
        });
        if (active.versionMask === undefined) {
          log(
            `version rolling not granted: ${JSON.stringify(configured.result ?? configured.error)}`,
          );
        }
      }
      if (options.suggestDifficulty !== undefined) {
        await active.suggestDifficulty(options.suggestDifficulty);
      }
      const authorized = await active.authorize(options.user, options.pass ?? "x");
      if (authorized.result !== true) {
        throw new MinerOptionsError(
          `authorization refused for ${options.user}: ${JSON.stringify(authorized.error)}`,
        );
      }
      stats.connected = true;
      stats.sessions++;
      log(`connected to ${options.url} as ${options.user}`);
      // A job that arrived before authorization finished is mined now.
      if (!current && active.job) startJob(active.job);
      await Promise.race([active.closed, stopped]);
      if (active.isClosed && !stop.signal.aborted) {
        stats.lastError = active.closeReason;
        log(`connection lost: ${active.closeReason}`);
      }
    } finally {
      stats.connected = false;
      offNotify();
      offDifficulty();
      offExtranonce();
      current = undefined;
      for (const dispatch of dispatches.values()) dispatch.superseded = true;
      for (const worker of workers) post(worker, { type: "stop" });
    }
  };

  try {
    const firstDelayMs = options.reconnectDelayMs ?? 1000;
    let backoffMs = firstDelayMs;
    while (!stop.signal.aborted) {
      const before = stats.sessions;
      try {
        await session();
      } catch (error) {
        if (error instanceof MinerOptionsError) throw error;
        stats.lastError = errorText(error);
        const hint = /certificate/i.test(stats.lastError) && endpoint.tls
          ? " (trust the pool's certificate with --ca PATH, or skip the check with --insecure)"
          : "";
        log(`pool ${options.url}: ${stats.lastError}${hint}`);
      }
      if (stop.signal.aborted || options.reconnect === false) break;
      if (stats.sessions > before) backoffMs = firstDelayMs;
      await Promise.race([new Promise((resolve) => setTimeout(resolve, backoffMs)), stopped]);
      backoffMs = Math.min(backoffMs * 2, 30_000);
    }
    // Let replies to shares already sent arrive (briefly) so the totals are complete.
    await Promise.race([
      Promise.allSettled([...submissions]),
      new Promise((resolve) => setTimeout(resolve, 2000)),
    ]);
  } finally {
    stop.abort();
    client?.close();
    clearInterval(progressTimer);
    if (durationTimer !== undefined) clearTimeout(durationTimer);
    options.signal?.removeEventListener("abort", onAbort);
    for (const worker of workers) worker.terminate();
  }
  stats.elapsedMs = Date.now() - startedAt;
  return stats;
}

const USAGE = `Usage: deno task miner --url stratum+tcp://HOST:PORT --user ADDRESS.worker [options]

  --url URL            stratum+tcp://host:port or stratum+ssl://host:port
  --user NAME          worker name, ADDRESS.worker
  --pass TEXT          password (default x)
  --threads N          hashing threads (default 1)
  --version-rolling    ask for BIP310 version rolling
  --suggest-difficulty D
                       send mining.suggest_difficulty D
  --ca PATH            trust this PEM certificate for stratum+ssl (e.g. the pool's self-signed one)
  --insecure           do not check the pool's TLS certificate at all
  --duration S         stop after S seconds (default: until Ctrl-C)
  --help               this text`;

/** Options of the command line, before files are read. */
export interface MinerCommandLine {
  /** Miner options (without `caCerts`, see `caPath`). */
  readonly options: MinerOptions;
  /** `--ca` file to read. */
  readonly caPath: string | undefined;
  /** `--insecure`. */
  readonly insecure: boolean;
  /** `--help`. */
  readonly help: boolean;
}

/** Parses the miner's command line; throws `MinerOptionsError` with a reason when it is wrong. */
export function parseMinerArgs(args: readonly string[]): MinerCommandLine {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        url: { type: "string" },
        user: { type: "string" },
        pass: { type: "string" },
        threads: { type: "string" },
        "version-rolling": { type: "boolean" },
        "suggest-difficulty": { type: "string" },
        ca: { type: "string" },
        insecure: { type: "boolean" },
        duration: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new MinerOptionsError(errorText(error));
  }
  const help = values.help === true;
  const number = (name: string, text: string | undefined, check: (n: number) => boolean) => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isFinite(n) || !check(n)) throw new MinerOptionsError(`bad --${name} ${text}`);
    return n;
  };
  if (!help && !values.url) throw new MinerOptionsError("--url is required");
  if (!help && !values.user) throw new MinerOptionsError("--user is required");
  const options: MinerOptions = {
    url: values.url ?? "",
    user: values.user ?? "",
    pass: values.pass,
    threads: number("threads", values.threads, (n) => Number.isInteger(n) && n >= 1 && n <= 256),
    versionRolling: values["version-rolling"] === true,
    suggestDifficulty: number("suggest-difficulty", values["suggest-difficulty"], (n) => n > 0),
    durationSeconds: number("duration", values.duration, (n) => n > 0),
  };
  if (!help) parseStratumUrl(options.url);
  return { options, caPath: values.ca, insecure: values.insecure === true, help };
}

/** The command: parse, run with a one-line progress display, stop cleanly on Ctrl-C. */
async function main(args: readonly string[]): Promise<number> {
  let commandLine: MinerCommandLine;
  try {
    commandLine = parseMinerArgs(args);
  } catch (error) {
    console.error(`${errorText(error)}\n\n${USAGE}`);
    return 2;
  }
  if (commandLine.help) {
    console.log(USAGE);
    return 0;
  }
  const endpoint = parseStratumUrl(commandLine.options.url);
  if (commandLine.insecure && Deno.env.get("DENOPOOL_MINER_UNCHECKED_TLS") !== "1") {
    // Deno checks TLS certificates unless the process runs with this flag, so run again with it,
    // limited to the pool's host.
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        `--unsafely-ignore-certificate-errors=${endpoint.host}`,
        import.meta.filename ?? new URL(import.meta.url).pathname,
        ...args,
      ],
      env: { DENOPOOL_MINER_UNCHECKED_TLS: "1" },
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    const forward = () => child.kill("SIGINT");
    Deno.addSignalListener("SIGINT", forward);
    const status = await child.status;
    Deno.removeSignalListener("SIGINT", forward);
    return status.code;
  }
  const caCerts = commandLine.caPath === undefined
    ? undefined
    : [await Deno.readTextFile(commandLine.caPath)];

  const controller = new AbortController();
  const onSigint = () => controller.abort();
  Deno.addSignalListener("SIGINT", onSigint);
  const tty = Deno.stderr.isTerminal();
  const encoder = new TextEncoder();
  let lastPlainLine = 0;
  const writeLine = (text: string) => Deno.stderr.writeSync(encoder.encode(text));
  try {
    const stats = await runMiner({
      ...commandLine.options,
      caCerts,
      signal: controller.signal,
      log: (line) => writeLine(`${tty ? "\r\x1b[2K" : ""}[miner] ${line}\n`),
      onProgress: (progress) => {
        if (tty) {
          writeLine(`\r\x1b[2K${formatProgress(progress)}`);
        } else if (progress.elapsedMs - lastPlainLine >= 10_000) {
          lastPlainLine = progress.elapsedMs;
          writeLine(`${formatProgress(progress)}\n`);
        }
      },
    });
    writeLine(
      `${tty ? "\r\x1b[2K" : ""}[miner] stopped after ${(stats.elapsedMs / 1000).toFixed(1)} s: ` +
        `${stats.hashes} hashes, ${formatProgress(stats)}\n`,
    );
    return 0;
  } catch (error) {
    writeLine(`${tty ? "\n" : ""}[miner] ${errorText(error)}\n`);
    return 1;
  } finally {
    Deno.removeSignalListener("SIGINT", onSigint);
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
