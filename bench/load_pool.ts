/**
 * The pool under test for `deno task bench load`, in its own process so that its RSS and CPU are
 * its own: loads a config, runs `startPool`, and answers the orchestrator in JSON lines (commands
 * on stdin, events on stdout; the operator log goes to stderr).
 *
 * `--mainnet-target` rewrites every template's `bits` to `1d00ffff` (difficulty 1) before the
 * job manager sees it. On regtest half of all hashes are blocks, so random well-formed shares
 * would mostly be blocks; with a difficulty-1 network target a random share is a block once in
 * 2^32, and shares at a share difficulty ≤ 2^-32 are all accepted after being really hashed.
 * (A "block" found that way would be refused by the node for its bits and counted as such.)
 *
 * Run with `--v8-flags=--expose-gc` so that `mem` can collect garbage before it measures.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { loadConfig } from "../lib/config/load.ts";
import type { TemplateData } from "../lib/pool/jobs.ts";
import { startPool } from "../app/pool.ts";
import { emitEvent, readCommands } from "./child.ts";

/** Commands the orchestrator sends. */
export type PoolCommand = { readonly cmd: "mem" } | { readonly cmd: "stats" } | {
  readonly cmd: "stop";
};

/** Events the pool process sends. */
export type PoolEvent =
  | {
    readonly type: "ready";
    readonly port: number;
    readonly statusPort: number | undefined;
    readonly pid: number;
    readonly backend: string;
  }
  | {
    readonly type: "job";
    readonly seq: number;
    readonly height: number;
    readonly clean: boolean;
    readonly prevhash: string;
    readonly at: number;
  }
  | {
    readonly type: "mem";
    readonly rss: number;
    readonly heapUsed: number;
    readonly external: number;
  }
  | {
    readonly type: "stats";
    readonly connections: number;
    readonly authorized: number;
    readonly checksDone: number;
    readonly batchesSent: number;
    readonly blocks: number;
  }
  | { readonly type: "stopped" };

/** Difficulty-1 compact target (Bitcoin mainnet's easiest). */
const MAINNET_DIFF1_BITS = "1d00ffff";

/** Writes one event line for the parent (typed to this process's events). */
const emit: (event: PoolEvent) => void = emitEvent;

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      config: { type: "string" },
      secrets: { type: "string" },
      "mainnet-target": { type: "boolean", default: false },
    },
  });
  if (values.config === undefined) throw new Error("--config is required");
  const config = await loadConfig({ configPath: values.config, secretsPath: values.secrets });
  let blocks = 0;
  const pool = await startPool(config, {
    log: (m) => console.error(`pool: ${m}`),
    onBlock: () => blocks++,
  });
  const jobs = pool.jobs;
  if (values["mainnet-target"]) {
    const addTemplate = jobs.addTemplate.bind(jobs);
    jobs.addTemplate = (template: TemplateData, clean: boolean) =>
      addTemplate({ ...template, bits: MAINNET_DIFF1_BITS }, clean);
    // The first template went in during start-up with the node's own target: replace it.
    const first = pool.feed.current()?.template;
    if (first !== undefined) jobs.addTemplate(first as TemplateData, true);
  }
  jobs.onJob((job) => {
    emit({
      type: "job",
      seq: job.seq,
      height: job.height,
      clean: job.clean,
      prevhash: job.prevhashStratum,
      at: performance.timeOrigin + performance.now(),
    });
  });
  emit({
    type: "ready",
    port: pool.stratum.port!,
    statusPort: pool.status.http?.port,
    pid: Deno.pid,
    backend: pool.shares.backend,
  });

  const gc = (globalThis as { gc?: () => void }).gc;
  for await (const command of readCommands<PoolCommand>()) {
    switch (command.cmd) {
      case "mem": {
        // Two collections with a pause: the first can leave work for finalizers.
        gc?.();
        await new Promise((resolve) => setTimeout(resolve, 200));
        gc?.();
        const m = Deno.memoryUsage();
        emit({ type: "mem", rss: m.rss, heapUsed: m.heapUsed, external: m.external });
        break;
      }
      case "stats": {
        const counts = pool.stratum.counts();
        const shares = pool.shares.stats();
        emit({
          type: "stats",
          connections: counts.plain + counts.tls,
          authorized: counts.authorized,
          checksDone: shares.checksDone,
          batchesSent: shares.batchesSent,
          blocks,
        });
        break;
      }
      case "stop":
        await pool.stop("benchmark over");
        emit({ type: "stopped" });
        Deno.exit(0);
    }
  }
  await pool.stop();
}

if (import.meta.main) await main();
