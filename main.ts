/**
 * denopool's entry point: `deno run -A main.ts [flags]` (see `--help`).
 *
 * The command line and configuration live in `lib/config/cli.ts`; the pool's parts are wired in
 * `lib/pool/pool.ts`. This file only hands over and handles the process signals.
 *
 * @module
 */

import { runCli } from "./lib/config/cli.ts";
import { startPool } from "./app/pool.ts";

/** How long a graceful shutdown may take before the process exits anyway (ms). */
const SHUTDOWN_BOUND_MS = 10_000;

if (import.meta.main) {
  const outcome = await runCli(Deno.args);
  if (outcome.kind === "exit") Deno.exit(outcome.code);
  let pool;
  try {
    pool = await startPool(outcome.config);
  } catch (error) {
    // A port in use, an unreadable certificate, a store that cannot open: one line, no stack.
    console.error(`denopool: cannot start: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  }

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`denopool: ${signal}: stopping`);
    const bound = setTimeout(() => {
      console.error("denopool: shutdown took too long; exiting");
      Deno.exit(1);
    }, SHUTDOWN_BOUND_MS);
    pool.stop("Pool restarting; please reconnect.").then(() => {
      clearTimeout(bound);
      Deno.exit(0);
    });
  };
  Deno.addSignalListener("SIGINT", () => shutdown("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => shutdown("SIGTERM"));
}
