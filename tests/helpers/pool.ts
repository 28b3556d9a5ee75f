/**
 * Starts a real pool for a test: the config goes through the real TOML loader, then
 * `startPool` runs every part against the given regtest node on free loopback ports.
 *
 * @module
 */

import { stringify } from "smol-toml";
import { loadConfig } from "../../lib/config/load.ts";
import { type RunningPool, startPool } from "../../app/pool.ts";
import type { FoundBlockRecord } from "../../lib/pool/blocks.ts";
import type { RegtestNode } from "./regtest.ts";

/** TOML sections to merge over the test defaults. */
export type ConfigPatch = Record<string, Record<string, unknown>>;

/** A pool started for a test, with its data dir and the blocks it settled. */
export interface TestPool {
  /** The running pool. */
  readonly pool: RunningPool;
  /** Plain Stratum port. */
  readonly port: number;
  /** TLS Stratum port, when TLS is on. */
  readonly tlsPort: number | undefined;
  /** Data dir (a temp dir removed by `stop`). */
  readonly dataDir: string;
  /** Blocks settled so far, in order. */
  readonly blocks: FoundBlockRecord[];
  /** Operator log lines so far. */
  readonly log: string[];
  /** Stops the pool and removes the data dir (unless `keepDataDir`). */
  stop(keepDataDir?: boolean): Promise<void>;
}

/** Merges config patches section by section; a later patch's keys win. */
export function mergePatches(...patches: ConfigPatch[]): ConfigPatch {
  const merged: ConfigPatch = {};
  for (const patch of patches) {
    for (const [section, values] of Object.entries(patch)) {
      merged[section] = { ...(merged[section] ?? {}), ...values };
    }
  }
  return merged;
}

/**
 * Writes a config for `node` (merged with `patch`) and a secrets file (the node's credentials
 * plus `secrets`), loads them and starts the pool.
 */
export async function startTestPool(
  node: RegtestNode,
  patch: ConfigPatch = {},
  dataDir?: string,
  secrets: Record<string, string> = {},
): Promise<TestPool> {
  const dir = dataDir ?? await Deno.makeTempDir({ prefix: "denopool-test-" });
  const base: ConfigPatch = {
    server: { data_dir: dir, status_listen: "127.0.0.1:0" },
    stratum: { listen: "127.0.0.1:0" },
    node: {
      network: "regtest",
      rpc_url: node.rpcUrl,
      zmq_hashblock: "",
      zmq_rawblock: "",
      refresh_interval_seconds: 30,
    },
    // Regtest blocks are easy (half of all hashes); shares this easy keep in-process mining fast.
    difficulty: { start: 0.000001, min: 0.000001 },
  };
  const merged = mergePatches(base, patch);
  const configPath = `${dir}/config.toml`;
  const secretsPath = `${dir}/secrets.toml`;
  await Deno.writeTextFile(configPath, stringify(merged));
  await Deno.writeTextFile(
    secretsPath,
    stringify({ rpc_user: "denopool", rpc_password: node.apiKey, ...secrets }),
  );
  await Deno.chmod(secretsPath, 0o600);
  const config = await loadConfig({ configPath, secretsPath });
  const blocks: FoundBlockRecord[] = [];
  const log: string[] = [];
  const pool = await startPool(config, {
    log: (m) => log.push(m),
    onBlock: (r) => blocks.push(r),
  });
  return {
    pool,
    port: pool.stratum.port!,
    tlsPort: pool.stratum.tlsPort,
    dataDir: dir,
    blocks,
    log,
    async stop(keepDataDir = false) {
      await pool.stop();
      if (!keepDataDir && dataDir === undefined) await Deno.remove(dir, { recursive: true });
    },
  };
}
