/**
 * `deno task restore`: reads an export written by `deno task backup` back into the store.
 *
 * ```
 * deno task restore --in FILE [--config config.toml | --store PATH_OR_URL] [--replace]
 * ```
 *
 * The whole file is verified (format, entry count, SHA-256) before anything is written. A store
 * that already holds data is refused unless `--replace` is given. Stop the pool first.
 *
 * @module
 */

import { importStore, openStore } from "../lib/store/mod.ts";
import { parseStoreToolArgs, resolveStore } from "./backup.ts";

if (import.meta.main) {
  try {
    const args = parseStoreToolArgs(Deno.args, "--in");
    if (!args.file) throw new Error("--in FILE is required");
    const input = args.file === "-" ? Deno.stdin.readable : (await Deno.open(args.file)).readable;
    const store = await openStore(await resolveStore(args));
    try {
      const summary = await importStore(store.kv, input, { replace: args.replace });
      console.log(
        `restore: ${summary.entries} entries restored, ${summary.expired} expired ones skipped`,
      );
    } finally {
      store.close();
    }
  } catch (err) {
    console.error(`restore: ${err instanceof Error ? err.message : err}`);
    Deno.exit(1);
  }
}
