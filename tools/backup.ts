/**
 * `deno task backup`: writes a consistent export of the store (JSON Lines, see
 * `lib/store/backup.ts`).
 *
 * ```
 * deno task backup [--config config.toml | --store PATH_OR_URL] [--out FILE]
 * ```
 *
 * The store is found from the config (`status.store_url`, else under `server.data_dir`, with the
 * `DENOPOOL_*` variables applied as for the pool) unless `--store` names it. Without `--out` the export goes to `denopool-backup-<time>.jsonl` in the
 * working directory; `--out -` writes to stdout. A file is written under a temp name and renamed
 * once complete, so a half-written backup never carries the final name.
 *
 * @module
 */

import { loadConfig } from "../lib/config/load.ts";
import { DEFAULT_CONFIG_PATH } from "../lib/config/cli.ts";
import { ENV_CONFIG_PATH } from "../lib/config/env.ts";
import { exportStore, openStore, storeLocation } from "../lib/store/mod.ts";

/** Parsed command line of the backup and restore tools. */
export interface StoreToolArgs {
  /** Config file (default `$DENOPOOL_CONFIG`, else `./config.toml`). */
  readonly config: string;
  /** Explicit store path or URL, overriding the config. */
  readonly store?: string;
  /** `--out` / `--in` file. */
  readonly file?: string;
  /** `--replace` (restore only). */
  readonly replace: boolean;
}

/** Parses `--config`, `--store`, `--out`/`--in` (as `fileFlag`) and `--replace`. */
export function parseStoreToolArgs(args: readonly string[], fileFlag: string): StoreToolArgs {
  let config = Deno.env.get(ENV_CONFIG_PATH) || DEFAULT_CONFIG_PATH;
  let store: string | undefined;
  let file: string | undefined;
  let replace = false;
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split(/=(.*)/s, 2);
    const value = () => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === "--config") config = value();
    else if (flag === "--store") store = value();
    else if (flag === fileFlag) file = value();
    else if (flag === "--replace") replace = true;
    else throw new Error(`unknown argument: ${args[i]}`);
  }
  return { config, store, file, replace };
}

/** The store location named by the arguments (loading the config when needed). */
export async function resolveStore(args: StoreToolArgs): Promise<string> {
  if (args.store) return args.store;
  // The DENOPOOL_* variables count as they do for the pool (a container's data dir, say).
  return storeLocation(await loadConfig({ configPath: args.config, env: Deno.env.toObject() }));
}

if (import.meta.main) {
  try {
    const args = parseStoreToolArgs(Deno.args, "--out");
    const store = await openStore(await resolveStore(args));
    try {
      const toStdout = args.file === "-";
      const path = args.file ??
        `denopool-backup-${new Date().toISOString().replace(/[:.]/g, "-")}.jsonl`;
      if (toStdout) {
        const writer = Deno.stdout.writable.getWriter();
        const summary = await exportStore(store.kv, writer);
        writer.releaseLock();
        console.error(`backup: ${summary.entries} entries (writes ${summary.writes})`);
      } else {
        const tmp = `${path}.tmp`;
        const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
        const writer = file.writable.getWriter();
        const summary = await exportStore(store.kv, writer);
        await file.syncData();
        await writer.close();
        await Deno.rename(tmp, path);
        console.log(`backup: ${summary.entries} entries (writes ${summary.writes}) → ${path}`);
      }
    } finally {
      store.close();
    }
  } catch (err) {
    console.error(`backup: ${err instanceof Error ? err.message : err}`);
    Deno.exit(1);
  }
}
