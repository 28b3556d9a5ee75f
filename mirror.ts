/**
 * `deno task mirror`: a status-only mirror of a denopool (public API and pages), configured by
 * environment variables (`UPSTREAM_URL` or `KV_URL`, `PORT`, …; see `lib/mirror/mirror.ts`).
 * Uses only `fetch`, `Deno.serve` and Deno KV, so it deploys to Deno Deploy unchanged.
 *
 * @module
 */

import { createMirror, MirrorConfigError, mirrorConfigFromEnv } from "./app/mirror.ts";

if (import.meta.main) {
  let config;
  try {
    config = mirrorConfigFromEnv((name) => Deno.env.get(name));
  } catch (error) {
    if (!(error instanceof MirrorConfigError)) throw error;
    console.error(`mirror: ${error.message}`);
    Deno.exit(2);
  }
  const failing = new Set<string>();
  const mirror = await createMirror(config, {
    onError: (name, error) => {
      // One line per endpoint when it starts failing, not per retry.
      if (failing.has(name)) return;
      failing.add(name);
      console.error(`mirror: ${name}: ${error instanceof Error ? error.message : String(error)}`);
    },
  });
  await mirror.start();
  const server = Deno.serve({
    port: config.port,
    hostname: config.hostname,
    onListen: ({ hostname, port }) => {
      const from = config.source.kind === "upstream" ? config.source.url : "KV";
      console.log(`mirror: serving ${from} on http://${hostname}:${port}/`);
    },
  }, mirror.app.fetch);
  const shutdown = () => {
    mirror.stop();
    server.shutdown();
  };
  try {
    Deno.addSignalListener("SIGINT", shutdown);
    Deno.addSignalListener("SIGTERM", shutdown);
  } catch {
    // No signals on this platform (Deno Deploy): the platform stops the isolate.
  }
  await server.finished;
}
