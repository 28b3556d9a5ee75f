/**
 * A pool process that dies right after journaling its first found block and before submitting
 * it: the crash `BlockSubmitter.recover()` exists for, made reproducible. It takes the same
 * command line as `main.ts` and starts the pool through `app/` with an `afterJournal` hook that
 * exits with {@linkcode CRASH_EXIT_CODE}; the production code has no such exit of its own.
 *
 * @example Run it as `main.ts` would be run
 * ```ts ignore
 * new Deno.Command(Deno.execPath(), {
 *   args: ["run", "-A", CRASH_AFTER_JOURNAL_MAIN, "--config", configPath, "--secrets", secretsPath],
 * }).spawn();
 * ```
 *
 * @module
 */

import { runCli } from "../../lib/config/cli.ts";
import { startPool } from "../../app/pool.ts";

/** The exit code of the crash (anything a real failure would not use). */
export const CRASH_EXIT_CODE = 86;

/** This script's path, to spawn it. */
export const CRASH_AFTER_JOURNAL_MAIN: string = new URL(import.meta.url).pathname;

if (import.meta.main) {
  const outcome = await runCli(Deno.args);
  if (outcome.kind === "exit") Deno.exit(outcome.code);
  await startPool(outcome.config, { afterJournal: () => Deno.exit(CRASH_EXIT_CODE) });
}
