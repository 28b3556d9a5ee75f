/**
 * denopool's entry point: `deno run -A main.ts [flags]` (see `--help`).
 *
 * The command line and configuration live in `lib/config/cli.ts`; this file only hands over to
 * the pool once the configuration is known to be good.
 *
 * @module
 */

import { runCli } from "./lib/config/cli.ts";

if (import.meta.main) {
  const outcome = await runCli(Deno.args);
  if (outcome.kind === "exit") Deno.exit(outcome.code);
  const { config } = outcome;

  // ─── The pool starts here ──────────────────────────────────────────────────────────────────
  // Integrator: wire node feed → job manager → share workers → Stratum server → status/routes
  // from `config` (validated and deeply frozen) below this line.
  console.error(
    `denopool: configuration loaded (${config.node.network}); the pool is not wired in yet`,
  );
}
