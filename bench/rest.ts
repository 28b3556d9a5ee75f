/**
 * `deno task bench rest`: the pool at rest — `main.ts` on the default configuration (only the
 * node's address, the data dir and free ports set), a regtest node up, no miner. Reports the
 * process's RSS after it settled, and what it is made of from `/proc/PID/smaps`: the Deno binary's
 * pages (file-backed, shared with every Deno process), anonymous memory (V8 heaps of the main
 * isolate and the hash workers, allocator arenas), the C heap, and the rest; plus the thread count.
 * Also the same with `mining.hash_workers_at_rest` raised, so the cost of one hash worker shows.
 *
 * @module
 */

import { stringify } from "smol-toml";
import { startRegtestNode } from "../tests/helpers/regtest.ts";
import { freePort } from "../tests/helpers/ports.ts";
import { sleep } from "../tests/helpers/wait.ts";

/** Settings of the rest bench. */
export interface RestOptions {
  /** Seconds to let the pool settle before measuring. */
  readonly settleSeconds: number;
  /** Progress lines. */
  readonly log: (line: string) => void;
}

/** RSS of one variant, MiB, and its parts. */
export interface RestFigure {
  /** Which configuration. */
  readonly variant: string;
  /** Resident set size. */
  readonly rssMiB: number;
  /** Pages of the `deno` executable. */
  readonly denoBinaryMiB: number;
  /** Anonymous mappings (V8 heaps, thread stacks, allocator arenas). */
  readonly anonymousMiB: number;
  /** The C heap (`[heap]`). */
  readonly cHeapMiB: number;
  /** Everything else (shared libraries, Deno's caches, the zeromq addon). */
  readonly otherMiB: number;
  /** OS threads. */
  readonly threads: number;
}

const round = (x: number) => Math.round(x * 10) / 10;

/** RSS by mapping kind of process `pid`, from `/proc/PID/smaps`. */
export async function rssParts(pid: number): Promise<Omit<RestFigure, "variant">> {
  const text = await Deno.readTextFile(`/proc/${pid}/smaps`);
  let mapping = "";
  const kib = { binary: 0, anon: 0, heap: 0, other: 0 };
  for (const line of text.split("\n")) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) {
      mapping = line.trim().split(/\s+/).slice(5).join(" ");
      continue;
    }
    const m = line.match(/^Rss:\s+(\d+) kB/);
    if (!m) continue;
    const n = Number(m[1]);
    if (mapping === "") kib.anon += n;
    else if (mapping === "[heap]") kib.heap += n;
    else if (/\/deno$/.test(mapping)) kib.binary += n;
    else kib.other += n;
  }
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const total = kib.binary + kib.anon + kib.heap + kib.other;
  return {
    rssMiB: round(total / 1024),
    denoBinaryMiB: round(kib.binary / 1024),
    anonymousMiB: round(kib.anon / 1024),
    cHeapMiB: round(kib.heap / 1024),
    otherMiB: round(kib.other / 1024),
    threads: Number(status.match(/Threads:\s+(\d+)/)?.[1] ?? 0),
  };
}

/** Runs the pool at rest in each variant and measures it. */
export async function runRest(options: RestOptions): Promise<RestFigure[]> {
  if (Deno.build.os !== "linux") throw new Error("bench rest reads /proc: Linux only");
  const node = await startRegtestNode();
  const figures: RestFigure[] = [];
  try {
    await node.mine(1);
    const variants: [string, Record<string, unknown>][] = [
      ["default config", {}],
      ["hash_workers_at_rest = 2", { mining: { hash_workers_at_rest: 2 } }],
    ];
    for (const [variant, extra] of variants) {
      const dir = await Deno.makeTempDir({ prefix: "denopool-rest-" });
      const config: Record<string, Record<string, unknown>> = {
        server: { data_dir: `${dir}/data`, status_listen: `127.0.0.1:${freePort()}` },
        stratum: { listen: `127.0.0.1:${freePort()}` },
        node: { network: "regtest", rpc_url: node.rpcUrl },
      };
      for (const [section, values] of Object.entries(extra)) {
        config[section] = { ...(config[section] ?? {}), ...(values as object) };
      }
      await Deno.writeTextFile(`${dir}/config.toml`, stringify(config));
      await Deno.writeTextFile(
        `${dir}/secrets.toml`,
        stringify({ rpc_user: "bench", rpc_password: node.apiKey }),
      );
      await Deno.chmod(`${dir}/secrets.toml`, 0o600);
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          new URL("../main.ts", import.meta.url).pathname,
          "--config",
          `${dir}/config.toml`,
        ],
        stdout: "null",
        stderr: "null",
      }).spawn();
      try {
        await sleep(options.settleSeconds * 1000);
        const parts = await rssParts(child.pid);
        const figure = { variant, ...parts };
        figures.push(figure);
        options.log(
          `${variant}: RSS ${figure.rssMiB} MiB = deno binary ${figure.denoBinaryMiB} + anonymous ${figure.anonymousMiB} + C heap ${figure.cHeapMiB} + other ${figure.otherMiB}; ${figure.threads} threads`,
        );
      } finally {
        child.kill("SIGTERM");
        await child.status;
        await Deno.remove(dir, { recursive: true });
      }
    }
  } finally {
    await node.stop();
  }
  return figures;
}
