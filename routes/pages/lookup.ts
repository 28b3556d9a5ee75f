/**
 * Worker lookup by SHA-256: the browser hashes the worker name (or just the payout address) and
 * asks for that hash, so the full name never travels in a URL or a log. The answer is censored
 * like every public view: it says which live connections match, never the name itself.
 *
 * `sourcesWorkerLookup` answers from the live pool's `StatusSources`; a status mirror answers from
 * its upstream's `/api/worker-lookup` (see `lib/mirror/`).
 *
 * @module
 */

import { decodeCoinbase } from "../../lib/bitcoin/mod.ts";
import type { Network } from "../../lib/bitcoin/mod.ts";
import { censorAddress, censorWorker, parseUserAgent } from "../../lib/status/censor.ts";
import type { LiveWork, LiveWorker, StatusSources } from "../../lib/status/sources.ts";
import { rfc3339 } from "../../lib/status/views.ts";
import { API_VERSION } from "../../lib/status/types.ts";
import { workerNameHash } from "../../lib/status/worker_hash.ts";

/** One live connection of a looked-up worker (censored). */
export interface WorkerConnectionView {
  /** Worker name, censored. */
  display_name: string;
  /** Connection id (opaque). */
  connection_id: string;
  /** True over TLS. */
  tls: boolean;
  /** Mining software from the user agent. */
  miner?: string;
  /** Rolling hashrate (H/s). */
  rolling_hashrate: number;
  /** `"~"` warming up, `"≈"` settling; omitted when stable. */
  hashrate_accuracy?: "~" | "≈";
  /** Difficulty of the latest accepted share target. */
  difficulty: number;
  /** Current vardiff difficulty. */
  vardiff: number;
  /** Accepted shares per minute. */
  share_rate: number;
  /** Accepted shares on this connection. */
  accepted: number;
  /** Last accepted share (RFC3339); omitted before the first. */
  last_share_at?: string;
}

/** One output of the coinbase a block found now would carry (address censored). */
export interface PayoutOutputView {
  /** The output's address, censored 8…8; omitted for a script with no address. */
  address?: string;
  /** `miner`: pays the looked-up miner; `witness-commitment`; `other`: pool fee or donation. */
  role: "miner" | "witness-commitment" | "other";
  /** Value in satoshis. */
  value_sats: number;
}

/** The coinbase of the fastest matching connection's current work, read back from its bytes. */
export interface PayoutView {
  /** Height of the block the work is for. */
  height: number;
  /** The pool tag in the coinbase scriptSig. */
  tag: string;
  /** Sum of every output (the template's coinbase value). */
  coinbase_value_sats: number;
  /** What the outputs paying the miner's own address add up to. */
  miner_sats: number;
  /** Every output, in the transaction's order. */
  outputs: PayoutOutputView[];
}

/** `GET /api/worker-lookup?hash=`: the live connections whose name (or address) has that hash. */
export interface WorkerLookupView {
  /** Always `"1"`. */
  api_version: typeof API_VERSION;
  /** The hash asked for (lowercase hex). */
  hash: string;
  /** True when at least one connection matches. */
  online: boolean;
  /** Sum of the matching connections' hashrates (H/s). */
  hashrate: number;
  /** Matching connections, fastest first (at most 64). */
  connections: WorkerConnectionView[];
  /** Whom a block found now by the fastest connection would pay; omitted when unknown. */
  payout?: PayoutView;
}

/** Finds live workers by the SHA-256 of their name. */
export interface WorkerLookup {
  /** The view for `hash` (64 lowercase hex); rejects when the data cannot be had. */
  lookup(hash: string): Promise<WorkerLookupView>;
}

/** Most connections one lookup lists. */
export const MAX_LOOKUP_CONNECTIONS = 64;

const HASH_RE = /^[0-9a-f]{64}$/;

/** The lowercase hash in `raw`, or undefined when it is not 64 hex digits. */
export function parseWorkerHash(raw: string | undefined): string | undefined {
  const hash = raw?.trim().toLowerCase();
  return hash !== undefined && HASH_RE.test(hash) ? hash : undefined;
}

/** The public view of one connection. */
export function connectionView(worker: LiveWorker): WorkerConnectionView {
  const name = censorWorker(worker.name);
  const num = (v: number) => Number.isFinite(v) ? v : 0;
  const view: WorkerConnectionView = {
    display_name: name,
    connection_id: worker.connectionId,
    tls: worker.tls,
    rolling_hashrate: num(worker.hashrate),
    difficulty: num(worker.difficulty),
    vardiff: num(worker.vardiff),
    share_rate: num(worker.shareRate),
    accepted: Math.max(0, Math.round(num(worker.accepted))),
  };
  const agent = worker.userAgent ? parseUserAgent(worker.userAgent) : undefined;
  if (agent) view.miner = agent.version ? `${agent.name} ${agent.version}` : agent.name;
  if (worker.hashrateAccuracy === "warming") view.hashrate_accuracy = "~";
  if (worker.hashrateAccuracy === "settling") view.hashrate_accuracy = "≈";
  if (worker.lastShareAt !== undefined) view.last_share_at = rfc3339(worker.lastShareAt);
  return view;
}

/**
 * The coinbase of `work` as the page shows it, read back from the bytes miners hash (undefined
 * when they do not parse, which would be a bug worth not hiding behind made-up numbers).
 */
export function payoutView(work: LiveWork, network: Network): PayoutView | undefined {
  let decoded;
  try {
    decoded = decodeCoinbase(
      work.coinb1,
      work.extranonceBytes,
      work.coinb2,
      network,
      work.payoutScript,
    );
  } catch {
    return undefined;
  }
  return {
    height: decoded.height ?? work.height,
    tag: decoded.tag,
    coinbase_value_sats: Number(decoded.totalSats),
    miner_sats: Number(decoded.minerSats),
    outputs: decoded.outputs.map((o) => {
      const view: PayoutOutputView = { role: o.role, value_sats: Number(o.valueSats) };
      if (o.address !== undefined) view.address = censorAddress(o.address);
      return view;
    }),
  };
}

/** The lookup answer for `hash` among `workers`, given each worker's hashes. */
export function lookupView(
  hash: string,
  workers: readonly LiveWorker[],
  hashesOf: (name: string) => readonly string[],
  network?: Network,
): WorkerLookupView {
  const matches = workers.filter((w) => hashesOf(w.name).includes(hash));
  matches.sort((a, b) => (b.hashrate || 0) - (a.hashrate || 0));
  const connections = matches.slice(0, MAX_LOOKUP_CONNECTIONS).map(connectionView);
  let total = 0;
  for (const w of matches) if (Number.isFinite(w.hashrate)) total += w.hashrate;
  const view: WorkerLookupView = {
    api_version: API_VERSION,
    hash,
    online: matches.length > 0,
    hashrate: total,
    connections,
  };
  const work = matches.find((w) => w.work !== undefined)?.work;
  const payout = work !== undefined && network !== undefined
    ? payoutView(work, network)
    : undefined;
  if (payout !== undefined) view.payout = payout;
  return view;
}

/**
 * Lookup over the live pool's workers. A worker matches the hash of its full name and the hash of
 * its address (the part before the first `.`). Hashes are cached per name, pruned when the cache
 * grows past twice the number of live names.
 */
export function sourcesWorkerLookup(
  sources: Pick<StatusSources, "workers">,
  network?: Network,
): WorkerLookup {
  const cache = new Map<string, readonly string[]>();
  const hashesOf = (name: string): readonly string[] => {
    let hashes = cache.get(name);
    if (!hashes) {
      const dot = name.indexOf(".");
      hashes = dot > 0
        ? [workerNameHash(name), workerNameHash(name.slice(0, dot))]
        : [workerNameHash(name)];
      cache.set(name, hashes);
    }
    return hashes;
  };
  return {
    lookup(hash) {
      const workers = sources.workers();
      if (cache.size > 2 * workers.length + 64) {
        const live = new Set(workers.map((w) => w.name));
        for (const name of cache.keys()) if (!live.has(name)) cache.delete(name);
      }
      return Promise.resolve(lookupView(hash, workers, hashesOf, network));
    },
  };
}
