/**
 * New-block fan-out in isolation: a `StratumServer` in this process with a job feed the bench
 * controls, N miners in a child process (so their reading does not count as pool CPU), and a
 * series of new blocks. For each block it reports the synchronous pass (the server handing the
 * job to every session), the pool process's CPU time per notified connection (all threads,
 * `/proc/self/stat`), and the wall time from publishing the job to the first and the last miner
 * reading its clean `mining.notify`.
 *
 *   deno run -A bench/fanout.ts [--connections 1000] [--blocks 10] [--addresses 1] [--steps 12]
 *
 * `--addresses` is how many distinct payout addresses the miners use (miners of one address
 * share a coinbase, hence one notify line); `--steps` the merkle branch length (12: a mainnet
 * block, about a 1.1 KB notify). The CPU figure is the one to compare runs by on a shared machine.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { StratumServer } from "../stratum/server.ts";
import {
  makeJob,
  prevhashOf,
  RecordingBlockSink,
  resolveRegtestPayout,
  TestJobSource,
} from "../stratum/testing.ts";
import { scriptToAddress } from "../lib/bitcoin/address.ts";
import { NETWORKS } from "../lib/bitcoin/networks.ts";
import { InlineShareChecker } from "../lib/shares/check.ts";
import { bytesToHex } from "../lib/bitcoin/hex.ts";
import { readLines } from "./child.ts";
import { mainThreadCpuMs, processCpuMs, round } from "./stats.ts";

/** One block's figures. */
export interface FanoutRound {
  /** The synchronous pass over the sessions, ms. */
  readonly passMs: number;
  /** Publish → first miner read its notify, ms. */
  readonly firstMs: number;
  /** Publish → last miner read its notify, ms. */
  readonly lastMs: number;
  /** Pool process CPU (all threads, 10 ms ticks) from publish to the last read, per connection, µs. */
  readonly cpuMicrosPerNotify: number;
  /** The same for the main thread alone, at ns resolution, µs. */
  readonly mainThreadMicrosPerNotify: number;
}

const MINER_ROLE = "--miners";

/** The child: opens the connections, then reports when each notify of a given job arrives. */
async function runMiners(port: number, connections: number, addresses: string[]): Promise<void> {
  const encoder = new TextEncoder();
  const out = (msg: unknown) => console.log(JSON.stringify(msg));
  let ready = 0;
  let waitingFor = "";
  let got = 0;
  let first = 0;
  const open = async (i: number) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const user = `${addresses[i % addresses.length]}.m${i}`;
    await conn.write(encoder.encode(
      `{"id":1,"method":"mining.subscribe","params":["fanout/1"]}\n` +
        `{"id":2,"method":"mining.authorize","params":["${user}","x"]}\n`,
    ));
    const buffer = new Uint8Array(8192);
    const decoder = new TextDecoder();
    let pending = "";
    let working = false;
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) return;
      pending += decoder.decode(buffer.subarray(0, n), { stream: true });
      let nl;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (!line.includes('"method":"mining.notify"')) continue;
        const id = JSON.parse(line).params[0] as string;
        if (!working) {
          working = true;
          if (++ready === connections) out({ type: "ready" });
        } else if (id === waitingFor) {
          const now = performance.timeOrigin + performance.now();
          if (got++ === 0) first = now;
          if (got === connections) out({ type: "notified", first, last: now });
        }
      }
    }
  };
  for (let i = 0; i < connections; i += 200) {
    await Promise.all(Array.from({ length: Math.min(200, connections - i) }, (_, k) => {
      void open(i + k).catch((e) => out({ type: "error", message: String(e) }));
      return new Promise((r) => setTimeout(r, 1));
    }));
  }
  for await (const line of readLines(Deno.stdin.readable)) {
    waitingFor = line.trim();
    got = 0;
  }
}

/** Runs the fan-out benchmark and returns one entry per block. */
export async function runFanout(options: {
  connections: number;
  blocks: number;
  addresses: number;
  steps: number;
  log: (line: string) => void;
}): Promise<FanoutRound[]> {
  const jobs = new TestJobSource();
  const branch = Array.from({ length: options.steps }, (_, i) => new Uint8Array(32).fill(i + 1));
  const jobAt = (seq: number) => ({
    ...makeJob({ seq, prevhash: prevhashOf(seq & 0xff), clean: true }),
    merkleBranch: branch,
    merkleBranchHex: branch.map(bytesToHex),
  });
  jobs.publish(jobAt(1));
  const server = new StratumServer({
    hostname: "127.0.0.1",
    port: 0,
    jobs,
    checker: new InlineShareChecker("ts"),
    blocks: new RecordingBlockSink(),
    resolvePayout: resolveRegtestPayout,
    initialWorkDelayMs: 0,
    admission: {
      maxConnections: options.connections + 10,
      maxPerIp: options.connections + 10,
      acceptRatePerSecond: 1e9,
      acceptBurst: 1e9,
      churnMaxConnects: 1e9,
    },
    log: () => {},
  });
  server.start();
  // Distinct regtest P2WPKH addresses (witness program = the index), one coinbase each.
  const addresses = Array.from({ length: options.addresses }, (_, i) =>
    scriptToAddress(
      new Uint8Array([0x00, 0x14, ...new Uint8Array(16), i >>> 24, i >>> 16, i >>> 8, i]),
      NETWORKS.regtest,
    )!);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL(import.meta.url).pathname,
      MINER_ROLE,
      String(server.port),
      String(options.connections),
      addresses.join(","),
    ],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const next = async (): Promise<
    { type: string; first?: number; last?: number; message?: string }
  > => {
    for (;;) {
      const nl = buffered.indexOf("\n");
      if (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        return JSON.parse(line);
      }
      const { value, done } = await reader.read();
      if (done) throw new Error("miner process ended");
      buffered += value;
    }
  };
  const rounds: FanoutRound[] = [];
  try {
    const ready = await next();
    if (ready.type !== "ready") throw new Error(`miners: ${JSON.stringify(ready)}`);
    await new Promise((r) => setTimeout(r, 500));
    for (let b = 0; b < options.blocks; b++) {
      const job = jobAt(2 + b);
      await writer.write(new TextEncoder().encode(job.id + "\n"));
      await new Promise((r) => setTimeout(r, 100));
      const cpu0 = processCpuMs(Deno.pid);
      const main0 = mainThreadCpuMs();
      const t0 = performance.timeOrigin + performance.now();
      jobs.publish(job);
      const passMs = performance.timeOrigin + performance.now() - t0;
      const done = await next();
      const cpu = processCpuMs(Deno.pid) - cpu0;
      const main = mainThreadCpuMs() - main0;
      const round_: FanoutRound = {
        passMs: round(passMs, 2),
        firstMs: round(done.first! - t0, 2),
        lastMs: round(done.last! - t0, 2),
        cpuMicrosPerNotify: round((cpu * 1000) / options.connections, 1),
        mainThreadMicrosPerNotify: round((main * 1000) / options.connections, 2),
      };
      rounds.push(round_);
      options.log(
        `block ${
          b + 1
        }: pass ${round_.passMs} ms, first ${round_.firstMs} ms, last ${round_.lastMs} ms, ` +
          `pool CPU ${round_.cpuMicrosPerNotify} µs per notify (main thread ${round_.mainThreadMicrosPerNotify})`,
      );
      await new Promise((r) => setTimeout(r, 300));
    }
  } finally {
    await writer.close().catch(() => {});
    child.kill();
    await child.status;
    await server.stop();
  }
  return rounds;
}

if (import.meta.main) {
  if (Deno.args[0] === MINER_ROLE) {
    await runMiners(Number(Deno.args[1]), Number(Deno.args[2]), Deno.args[3].split(","));
    Deno.exit(0);
  }
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      connections: { type: "string", default: "1000" },
      blocks: { type: "string", default: "10" },
      addresses: { type: "string", default: "1" },
      steps: { type: "string", default: "12" },
    },
  });
  const rounds = await runFanout({
    connections: Number(values.connections),
    blocks: Number(values.blocks),
    addresses: Number(values.addresses),
    steps: Number(values.steps),
    log: (line) => console.log(line),
  });
  const sorted = (f: (r: FanoutRound) => number) => rounds.map(f).sort((a, b) => a - b);
  const median = (xs: number[]) => xs[xs.length >> 1];
  console.log(
    `median of ${rounds.length}: pass ${median(sorted((r) => r.passMs))} ms, last ${
      median(sorted((r) => r.lastMs))
    } ms (best ${sorted((r) => r.lastMs)[0]}), CPU ${
      median(sorted((r) => r.cpuMicrosPerNotify))
    } µs/notify; ` +
      `load ${Deno.loadavg().join(" ")}`,
  );
  Deno.exit(0);
}
