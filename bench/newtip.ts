/**
 * The new-tip race, from the node's event: a real pool on a real bcoin regtest node behind a
 * proxy that makes `getblocktemplate` answer `--gbt-ms` late (300: a mainnet node with a full
 * mempool), a block mined, then its raw block published on ZMQ (as bitcoind's `zmqpubrawblock`).
 * The clock starts just before that publish; N miners in a child process report when each read
 * its clean `mining.notify` on the new tip. Modes per miner count:
 *
 * - `floor`: the same child against a server that does nothing but write one fixed notify line to
 *   every connection on the event (the harness's own cost);
 * - `fast`: the pool with empty-first work on;
 * - `slow`: the pool with `node.empty_first = false` (miners wait for the template).
 *
 * With `--big` the fast pool also gets a mainnet-sized round: 2,000 transactions (≈ 0.8 MB of
 * transactions, 2 MB of template JSON) in the mempool, and the time from the template's reply
 * leaving the proxy to the first miner reading the full job.
 *
 *   deno task bench newtip [--miners 1000,8000,10000] [--blocks 5] [--gbt-ms 300] [--big]
 *
 * @module
 */

import { parseArgs } from "node:util";
import * as zmq from "zeromq";
import { startRegtestNode } from "../tests/helpers/regtest.ts";
import { startFaultyNode } from "../tests/helpers/faulty_node.ts";
import { startTestPool } from "../tests/helpers/pool.ts";
import { freePort } from "../tests/helpers/ports.ts";
import { regtestP2wpkh } from "../tests/helpers/miners.ts";
import { hexToBytes, reverseBytes } from "../lib/bitcoin/hex.ts";
import { stratumPrevhash } from "../lib/bitcoin/header.ts";
import { readLines } from "./child.ts";
import { round } from "./stats.ts";

const MINER_ROLE = "--newtip-miners";

/** One event's figures, ms after the event. */
export interface NewTipRound {
  /** The first miner read its clean notify. */
  readonly first: number;
  /** Half of the miners had. */
  readonly p50: number;
  /** 99 % had. */
  readonly p99: number;
  /** The last had. */
  readonly last: number;
  /** Template reply (leaving the proxy) → the first miner read the full job, when measured. */
  readonly gbtToFullMs?: number;
}

/** Figures per mode and miner count: the rounds and their medians. */
export interface NewTipResult {
  readonly mode: "floor" | "fast" | "slow" | "fast-big";
  readonly miners: number;
  readonly rounds: readonly NewTipRound[];
  readonly median: NewTipRound;
}

// ---- the child: N miners ----------------------------------------------------------------------

async function runMiners(port: number, count: number, addresses: number): Promise<void> {
  const encoder = new TextEncoder();
  const out = (msg: unknown) => console.log(JSON.stringify(msg));
  let armed = "";
  const cleanAt = new Float64Array(count);
  const fullAt = new Float64Array(count);
  let clean = 0;
  let full = 0;
  let ready = 0;
  const report = () => {
    const times = Array.from(cleanAt).sort((a, b) => a - b);
    const at = (q: number) => times[Math.min(count - 1, Math.floor(q * count))];
    out({
      type: "notified",
      first: times[0],
      p50: at(0.5),
      p99: at(0.99),
      last: times[count - 1],
    });
  };
  const open = async (i: number) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const user = `${regtestP2wpkh(1 + (i % addresses))}.m${i}`;
    await conn.write(encoder.encode(
      `{"id":1,"method":"mining.subscribe","params":["newtip/1"]}\n` +
        `{"id":2,"method":"mining.authorize","params":["${user}","x"]}\n`,
    ));
    const buffer = new Uint8Array(16384);
    const decoder = new TextDecoder();
    let pending = "";
    let working = false;
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) return;
      const now = performance.timeOrigin + performance.now();
      pending += decoder.decode(buffer.subarray(0, n), { stream: true });
      let nl;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (!line.includes('"mining.notify"')) continue;
        if (!working) {
          working = true;
          if (++ready === count) out({ type: "ready" });
          continue;
        }
        if (armed === "" || !line.includes(armed)) continue;
        const params = JSON.parse(line).params as unknown[];
        if (params[8] === true && cleanAt[i] === 0) {
          cleanAt[i] = now;
          if (++clean === count) report();
        } else if (params[8] === false && (params[4] as unknown[]).length > 0 && fullAt[i] === 0) {
          fullAt[i] = now;
          if (full++ === 0) out({ type: "full", fullFirst: now });
        }
      }
    }
  };
  for (let i = 0; i < count; i += 250) {
    await Promise.all(Array.from({ length: Math.min(250, count - i) }, (_, k) => {
      void open(i + k).catch((e) => out({ type: "error", message: String(e) }));
      return new Promise((r) => setTimeout(r, 10));
    }));
  }
  for await (const line of readLines(Deno.stdin.readable)) {
    armed = line.trim();
    cleanAt.fill(0);
    fullAt.fill(0);
    clean = 0;
    full = 0;
  }
}

// ---- the parent -------------------------------------------------------------------------------

interface ChildReport {
  type: string;
  first?: number;
  p50?: number;
  p99?: number;
  last?: number;
  fullFirst?: number;
  message?: string;
}

/** The miner child and a line reader over its stdout. */
function spawnMiners(port: number, count: number, addresses: number) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL(import.meta.url).pathname,
      MINER_ROLE,
      String(port),
      String(count),
      String(addresses),
    ],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  // One reader fills a queue; `next` takes from it, so a wait that timed out loses nothing.
  const queue: ChildReport[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  void (async () => {
    for await (const line of readLines(child.stdout)) {
      queue.push(JSON.parse(line) as ChildReport);
      wake?.();
    }
    ended = true;
    wake?.();
  })();
  return {
    /** The next report of `type` (others are dropped: a late `full` must not stand for a round). */
    async next(type = "notified"): Promise<ChildReport> {
      for (;;) {
        const report = queue.shift();
        if (report === undefined) {
          if (ended) throw new Error("miner process ended");
          await new Promise<void>((r) => (wake = r));
          continue;
        }
        if (report.type === "error") throw new Error(`miners: ${report.message}`);
        if (report.type === type) return report;
      }
    },
    arm: (prevhashStratum: string) =>
      writer.write(new TextEncoder().encode(prevhashStratum + "\n")),
    async stop() {
      await writer.close().catch(() => {});
      child.kill();
      await child.status;
    },
  };
}

function medianRound(rounds: readonly NewTipRound[]): NewTipRound {
  const med = (f: (r: NewTipRound) => number | undefined) => {
    const xs = rounds.map(f).filter((x): x is number => x !== undefined).sort((a, b) => a - b);
    return xs.length === 0 ? undefined : xs[xs.length >> 1];
  };
  const gbt = med((r) => r.gbtToFullMs);
  return {
    first: med((r) => r.first)!,
    p50: med((r) => r.p50)!,
    p99: med((r) => r.p99)!,
    last: med((r) => r.last)!,
    ...(gbt === undefined ? {} : { gbtToFullMs: gbt }),
  };
}

const rel = (t: number | undefined, t0: number) => (t === undefined ? NaN : round(t - t0, 2));

/** The harness floor: a server that writes one fixed clean notify to every connection on cue. */
async function floorRounds(miners: number, blocks: number, log: (s: string) => void) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const encoder = new TextEncoder();
  const work = (prev: string, clean: boolean) =>
    encoder.encode(
      `{"id":null,"method":"mining.notify","params":["1","${prev}","01","02",[],"20000000","207fffff","65000000",${clean}]}\n`,
    );
  void (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      void (async () => {
        const buf = new Uint8Array(4096);
        const n = await conn.read(buf).catch(() => null);
        if (n === null) return;
        await conn.write(encoder.encode(
          `{"id":1,"result":[[],"00000001",4],"error":null}\n{"id":2,"result":true,"error":null}\n`,
        )).catch(() => {});
        await conn.write(work("00".repeat(32), true)).catch(() => {});
        while ((await conn.read(buf).catch(() => null)) !== null) { /* drain */ }
        conns.delete(conn);
      })();
    }
  })();
  const child = spawnMiners((listener.addr as Deno.NetAddr).port, miners, 1);
  const rounds: NewTipRound[] = [];
  try {
    await child.next("ready");
    for (let b = 0; b < blocks; b++) {
      const prev = (b + 1).toString(16).padStart(64, "0");
      await child.arm(prev);
      await new Promise((r) => setTimeout(r, 200));
      const t0 = performance.timeOrigin + performance.now();
      const line = work(prev, true);
      for (const conn of conns) void conn.write(line).catch(() => {});
      const r = await child.next();
      rounds.push({
        first: rel(r.first, t0),
        p50: rel(r.p50, t0),
        p99: rel(r.p99, t0),
        last: rel(r.last, t0),
      });
      log(`floor ${miners}: ${JSON.stringify(rounds.at(-1))}`);
    }
  } finally {
    await child.stop();
    for (const conn of conns) conn.close();
    listener.close();
  }
  return rounds;
}

/** Runs the benchmark; one result per mode and miner count. */
export async function runNewTip(options: {
  miners: readonly number[];
  blocks: number;
  gbtMs: number;
  big: boolean;
  addresses: number;
  log: (line: string) => void;
}): Promise<NewTipResult[]> {
  const log = options.log;
  const node = await startRegtestNode();
  await node.activateSegwit();
  await node.fundWallet();
  const proxy = startFaultyNode(node.rpcUrl);
  const results: NewTipResult[] = [];
  try {
    for (const miners of options.miners) {
      const floor = await floorRounds(miners, options.blocks, log);
      results.push({ mode: "floor", miners, rounds: floor, median: medianRound(floor) });
      for (const mode of ["fast", "slow"] as const) {
        const address = `tcp://127.0.0.1:${freePort()}`;
        const publisher = new zmq.Publisher();
        await publisher.bind(address);
        proxy.clearFaults();
        const tp = await startTestPool(node, {
          node: {
            rpc_url: proxy.url,
            zmq_rawblock: address,
            longpoll: false,
            empty_first: mode === "fast",
          },
          stratum: {
            max_connections_per_ip: 0,
            accept_rate_per_second: 1e6,
            accept_burst: 1_000_000,
          },
          bans: { reconnect_threshold: 0 },
        });
        const child = spawnMiners(tp.port, miners, options.addresses);
        try {
          await child.next("ready");
          await new Promise((r) => setTimeout(r, 1000));
          proxy.fault("getblocktemplate", { kind: "slow", ms: options.gbtMs });
          const rounds: NewTipRound[] = [];
          const event = async (fill: number) => {
            const [hash] = await node.mine(1);
            if (fill > 0) await node.addMempoolTransactions(fill, { outputsPerTx: 7 });
            const raw = hexToBytes(await node.rpc<string>("getblock", [hash, 0]));
            await child.arm(stratumPrevhash(reverseBytes(hexToBytes(hash))));
            await new Promise((r) => setTimeout(r, 200));
            const t0 = performance.timeOrigin + performance.now();
            await publisher.send(["rawblock", raw, new Uint8Array(4)]);
            const r = await Promise.race([
              child.next(),
              new Promise<undefined>((r) => setTimeout(() => r(undefined), 15_000)),
            ]);
            if (r === undefined) {
              const st = tp.pool.feed.status();
              throw new Error(
                `not every miner got the new tip within 15 s: ${
                  JSON.stringify({
                    emptyFirst: st.emptyFirst,
                    error: st.lastError,
                    templates: st.templates,
                  })
                }`,
              );
            }
            // With transactions the full job follows GBT: its first arrival is the second report.
            const full = fill > 0
              ? await Promise.race([
                child.next("full"),
                new Promise<undefined>((r) =>
                  setTimeout(() => r(undefined), options.gbtMs + 5_000)
                ),
              ])
              : undefined;
            if (fill > 0 && full === undefined) {
              log(
                `no full job within ${options.gbtMs + 5_000} ms: ${
                  JSON.stringify(tp.pool.feed.status().emptyFirst)
                }, last error ${tp.pool.feed.status().lastError}`,
              );
            }
            await new Promise((r) => setTimeout(r, options.gbtMs + 500));
            const replied = proxy.repliedAt.get("getblocktemplate");
            return {
              first: rel(r.first, t0),
              p50: rel(r.p50, t0),
              p99: rel(r.p99, t0),
              last: rel(r.last, t0),
              ...(full?.fullFirst !== undefined && replied !== undefined
                ? { gbtToFullMs: round(full.fullFirst - replied, 2) }
                : {}),
            };
          };
          for (let b = 0; b < options.blocks; b++) {
            rounds.push(await event(0));
            log(`${mode} ${miners}: ${JSON.stringify(rounds.at(-1))}`);
          }
          results.push({ mode, miners, rounds, median: medianRound(rounds) });
          if (mode === "fast" && options.big && miners === options.miners[0]) {
            const big: NewTipRound[] = [];
            for (let b = 0; b < 2; b++) {
              big.push(await event(2_000));
              log(`fast-big ${miners}: ${JSON.stringify(big.at(-1))}`);
            }
            results.push({ mode: "fast-big", miners, rounds: big, median: medianRound(big) });
          }
        } finally {
          await child.stop();
          await tp.stop();
          await publisher.close();
        }
      }
    }
  } finally {
    await proxy.close();
    await node.stop();
  }
  return results;
}

if (import.meta.main) {
  if (Deno.args[0] === MINER_ROLE) {
    await runMiners(Number(Deno.args[1]), Number(Deno.args[2]), Number(Deno.args[3]));
    Deno.exit(0);
  }
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      miners: { type: "string", default: "1000,8000,10000" },
      blocks: { type: "string", default: "5" },
      "gbt-ms": { type: "string", default: "300" },
      addresses: { type: "string", default: "100" },
      big: { type: "boolean", default: false },
    },
  });
  const results = await runNewTip({
    miners: values.miners.split(",").map(Number),
    blocks: Number(values.blocks),
    gbtMs: Number(values["gbt-ms"]),
    big: values.big,
    addresses: Number(values.addresses),
    log: (line) => console.log(line),
  });
  for (const r of results) console.log(`${r.mode} ${r.miners}: median ${JSON.stringify(r.median)}`);
  Deno.exit(0);
}
