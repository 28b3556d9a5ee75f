/**
 * One schema per public JSON endpoint, written as a small JSON-Schema subset, with a validator
 * that reports every mismatch by path. The endpoint table (`endpoints.ts`) names each endpoint's
 * schema, and the OpenAPI 3.1 document (`openapi.ts`) is generated from the same schemas.
 *
 * The object schemas are built with {@linkcode objectSchema}, whose type parameter ties each schema
 * to its TypeScript type in `types.ts`: a missing, extra, required-vs-optional mismatched key is a
 * compile error, so the types, the schemas and the OpenAPI document cannot drift apart.
 *
 * @module
 */

import type {
  BestShare,
  FoundBlockView,
  MinerTypeVersionView,
  MinerTypeView,
  NextDifficultyRetarget,
  NodePageData,
  NodePeerInfo,
  OverviewPageData,
  PoolErrorEvent,
  PoolHashrateHistoryPoint,
  PoolHashrateResponse,
  PoolPageData,
  RecentWorkView,
  ServerPageData,
  ServerPageEmptyFirst,
  ServerPageJobFeed,
  ServerPageTipSource,
  WidgetData,
  WidgetItem,
  WorkerView,
} from "./types.ts";

/** A string; `format: "date-time"` means RFC3339. */
export interface StringSchema {
  /** JSON type. */
  readonly type: "string";
  /** Allowed values. */
  readonly enum?: readonly string[];
  /** `date-time` = RFC3339 timestamp. */
  readonly format?: "date-time";
  /** What it means. */
  readonly description?: string;
}

/** A JSON number that must be an integer (`integer`) or any finite number (`number`). */
export interface NumberSchema {
  /** JSON type. */
  readonly type: "integer" | "number";
  /** Smallest allowed value. */
  readonly minimum?: number;
  /** What it means. */
  readonly description?: string;
}

/** `true` or `false`. */
export interface BooleanSchema {
  /** JSON type. */
  readonly type: "boolean";
  /** What it means. */
  readonly description?: string;
}

/** A homogeneous array. */
export interface ArraySchema {
  /** JSON type. */
  readonly type: "array";
  /** Schema of every element. */
  readonly items: Schema;
  /** Most elements allowed. */
  readonly maxItems?: number;
  /** What it means. */
  readonly description?: string;
}

/** An object with known keys only (`additionalProperties: false`). */
export interface ObjectSchema {
  /** JSON type. */
  readonly type: "object";
  /** Component name in the OpenAPI document (the TypeScript type name). */
  readonly title: string;
  /** What it is. */
  readonly description?: string;
  /** Schema of each key. */
  readonly properties: Readonly<Record<string, Schema>>;
  /** Keys that must be present. */
  readonly required: readonly string[];
  /** Always false: unknown keys are errors (they would be leaks or typos). */
  readonly additionalProperties: false;
}

/** Any schema of the subset. */
export type Schema = StringSchema | NumberSchema | BooleanSchema | ArraySchema | ObjectSchema;

/** Marks an object member as optional (may be omitted; never `null`). */
export interface OptionalMember {
  /** The member's schema. */
  readonly schema: Schema;
  /** Brand. */
  readonly optional: true;
}

/** Wraps a schema as an optional member. */
export function opt(schema: Schema): OptionalMember {
  return { schema, optional: true };
}

/** `true` when key `K` of `T` is optional (`{}` has it), else `false`. */
// deno-lint-ignore ban-types
export type IsOptional<T, K extends keyof T> = {} extends Pick<T, K> ? true : false;

/** Per key of `T`: a `Schema` for required keys, an `opt(...)` for optional ones. */
export type MemberSpecs<T> = {
  [K in keyof T]-?: IsOptional<T, K> extends true ? OptionalMember : Schema;
};

/** An object schema checked at compile time against the TypeScript type `T`. */
export function objectSchema<T>(
  title: string,
  description: string,
  members: MemberSpecs<T>,
): ObjectSchema {
  const properties: Record<string, Schema> = {};
  const required: string[] = [];
  for (const [key, member] of Object.entries(members as Record<string, Schema | OptionalMember>)) {
    if ("optional" in member) {
      properties[key] = member.schema;
    } else {
      properties[key] = member;
      required.push(key);
    }
  }
  return { type: "object", title, description, properties, required, additionalProperties: false };
}

const str = (description?: string): StringSchema => ({ type: "string", description });
const time = (description?: string): StringSchema => ({
  type: "string",
  format: "date-time",
  description,
});
const int = (description?: string, minimum?: number): NumberSchema => ({
  type: "integer",
  minimum,
  description,
});
const num = (description?: string, minimum?: number): NumberSchema => ({
  type: "number",
  minimum,
  description,
});
const bool = (description?: string): BooleanSchema => ({ type: "boolean", description });
const arr = (items: Schema, description?: string, maxItems?: number): ArraySchema => ({
  type: "array",
  items,
  description,
  maxItems,
});
const apiVersion: StringSchema = { type: "string", enum: ["1"], description: "Schema version." };

/** `RecentWorkView`. */
export const RecentWorkViewSchema: ObjectSchema = objectSchema<RecentWorkView>(
  "RecentWorkView",
  "A worker with recent work (censored).",
  {
    name: str("Worker name, censored."),
    display_name: str("Worker name for display, censored."),
    rolling_hashrate: num("Rolling hashrate (H/s).", 0),
    hashrate_accuracy: opt({
      type: "string",
      enum: ["~", "≈"],
      description: "`~` warming up, `≈` settling; omitted when stable.",
    }),
    difficulty: num("Difficulty of the last accepted share target.", 0),
    vardiff: num("Difficulty vardiff assigns now.", 0),
    share_rate: num("Accepted shares per minute.", 0),
    accepted: int("Accepted shares.", 0),
    connection_id: str("Connection id."),
  },
);

/** `WorkerView` (banned workers). */
export const WorkerViewSchema: ObjectSchema = objectSchema<WorkerView>(
  "WorkerView",
  "A banned worker (censored).",
  {
    name: str("Worker name, censored."),
    display_name: str("Worker name for display, censored."),
    banned: bool("True while banned."),
    banned_until: opt(time("When the ban ends.")),
    ban_reason: opt(str("Brief reason.")),
  },
);

/** `BestShare`. */
export const BestShareSchema: ObjectSchema = objectSchema<BestShare>(
  "BestShare",
  "One of the best shares (censored).",
  {
    worker: str("Worker name, censored."),
    difficulty: num("Share difficulty.", 0),
    timestamp: time("When found."),
    hash: opt(str("Share hash, censored.")),
    display_worker: opt(str("Worker name for display, censored.")),
    display_hash: opt(str("Share hash for display, censored.")),
  },
);

/** `MinerTypeView.versions[]`. */
export const MinerTypeVersionViewSchema: ObjectSchema = objectSchema<MinerTypeVersionView>(
  "MinerTypeVersionView",
  "Workers running one version of a miner type.",
  { version: opt(str("Version string.")), workers: int("Workers.", 0) },
);

/** `MinerTypeView`. */
export const MinerTypeViewSchema: ObjectSchema = objectSchema<MinerTypeView>(
  "MinerTypeView",
  "Workers grouped by mining software.",
  {
    name: str("Mining software."),
    total_workers: int("Workers, all versions.", 0),
    versions: arr(MinerTypeVersionViewSchema, "Per-version counts."),
  },
);

/** `GET /api/overview` → `OverviewPageData`. */
export const OverviewPageDataSchema: ObjectSchema = objectSchema<OverviewPageData>(
  "OverviewPageData",
  "Overview snapshot.",
  {
    api_version: apiVersion,
    active_miners: int("Authorized miner connections.", 0),
    active_tls_miners: int("Authorized miner connections over TLS.", 0),
    shares_per_minute: opt(num("Pool accepted shares per minute.", 0)),
    pool_hashrate: opt(num("Pool hashrate (H/s).", 0)),
    pool_tag: opt(str("Coinbase tag.")),
    btc_price_fiat: opt(num("BTC price.", 0)),
    btc_price_updated_at: opt(time("When the price was fetched.")),
    fiat_currency: opt(str("Currency of the price.")),
    render_duration: int("Build time (nanoseconds).", 0),
    workers: arr(RecentWorkViewSchema, "Workers with recent work."),
    banned_workers: arr(WorkerViewSchema, "Banned workers."),
    best_shares: arr(BestShareSchema, "Best shares."),
    miner_types: opt(arr(MinerTypeViewSchema, "Mining software in use.")),
  },
);

/** `PoolErrorEvent`. */
export const PoolErrorEventSchema: ObjectSchema = objectSchema<PoolErrorEvent>(
  "PoolErrorEvent",
  "A pool error.",
  { at: opt(time("When.")), type: str("Category."), message: str("Message, censored.") },
);

/** `GET /api/pool-page` → `PoolPageData`. */
export const PoolPageDataSchema: ObjectSchema = objectSchema<PoolPageData>(
  "PoolPageData",
  "Pool diagnostics snapshot.",
  {
    api_version: apiVersion,
    blocks_accepted: int("Blocks accepted by the node.", 0),
    blocks_errored: int("Blocks rejected or not submitted.", 0),
    rpc_gbt_last_sec: num("Last getblocktemplate latency (s).", 0),
    rpc_gbt_max_sec: num("Highest getblocktemplate latency (s).", 0),
    rpc_gbt_count: int("getblocktemplate calls.", 0),
    rpc_submit_last_sec: num("Last submitblock latency (s).", 0),
    rpc_submit_max_sec: num("Highest submitblock latency (s).", 0),
    rpc_submit_count: int("submitblock calls.", 0),
    rpc_errors: int("Failed RPC calls.", 0),
    share_errors: int("Shares rejected for an error.", 0),
    rpc_gbt_min_1h_sec: num("Lowest getblocktemplate latency, last hour (s).", 0),
    rpc_gbt_avg_1h_sec: num("Mean getblocktemplate latency, last hour (s).", 0),
    rpc_gbt_max_1h_sec: num("Highest getblocktemplate latency, last hour (s).", 0),
    error_history: opt(arr(PoolErrorEventSchema, "Recent errors, newest first.")),
  },
);

/** `NodePeerInfo`. */
export const NodePeerInfoSchema: ObjectSchema = objectSchema<NodePeerInfo>(
  "NodePeerInfo",
  "A node peer.",
  {
    display: str("Peer label."),
    ping_ms: num("Ping (ms).", 0),
    connected_at: int("Connected since (Unix seconds).", 0),
  },
);

/** `GET /api/node` → `NodePageData`. */
export const NodePageDataSchema: ObjectSchema = objectSchema<NodePageData>(
  "NodePageData",
  "Node info snapshot.",
  {
    api_version: apiVersion,
    node_network: opt(str("Chain name.")),
    node_subversion: opt(str("Node user agent.")),
    node_blocks: int("Validated blocks.", 0),
    node_headers: int("Known headers.", 0),
    node_initial_block_download: bool("In initial block download."),
    node_connections: int("Peer connections.", 0),
    node_connections_in: int("Inbound.", 0),
    node_connections_out: int("Outbound.", 0),
    node_peers: opt(arr(NodePeerInfoSchema, "Peers.")),
    node_pruned: bool("Pruned node."),
    node_size_on_disk_bytes: int("Size on disk (bytes).", 0),
    node_peer_cleanup_enabled: bool("Slow peers get disconnected."),
    node_peer_cleanup_max_ping_ms: num("Slow-peer ping threshold (ms).", 0),
    node_peer_cleanup_min_peers: int("Peers always kept.", 0),
    genesis_hash: opt(str("Genesis hash the node reports.")),
    genesis_expected: opt(str("Genesis hash of the configured network.")),
    genesis_match: bool("Both genesis hashes known and equal."),
    best_block_hash: opt(str("Tip hash.")),
  },
);

/** `/api/server.job_feed.empty_first`. */
export const ServerPageEmptyFirstSchema: ObjectSchema = objectSchema<ServerPageEmptyFirst>(
  "ServerPageEmptyFirst",
  "Empty-first work: coinbase-only jobs published on a new tip before getblocktemplate answers.",
  {
    enabled: bool("On for this network and config."),
    disabled_reason: opt(str("Why off.")),
    published: int("Empty-first jobs published.", 0),
    skipped: int("New tips where a rule could not be checked exactly.", 0),
    last_skip: opt(str("Why it last skipped.")),
    late: int("New tips the full template reached first.", 0),
  },
);

/** One `/api/server.job_feed.tip_sources` entry. */
export const ServerPageTipSourceSchema: ObjectSchema = objectSchema<ServerPageTipSource>(
  "ServerPageTipSource",
  "A source of new tips: the pool's node (zmq, longpoll, rpc) or a configured tip source.",
  {
    name: str("Source name."),
    kind: str("node or tip-source."),
    trusted: bool("Acted on before the node confirms."),
    healthy: bool("Reachable now."),
    first: int("New tips it showed first.", 0),
    announced: int("Tips it announced.", 0),
    unconfirmed: int("Hints the node did not confirm.", 0),
    last_at: opt(time("When it last announced a tip.")),
    last_error: opt(str("Its latest error.")),
  },
);

/** `/api/server.job_feed`. */
export const ServerPageJobFeedSchema: ObjectSchema = objectSchema<ServerPageJobFeed>(
  "ServerPageJobFeed",
  "Template feed state.",
  {
    last_error: opt(str("Last feed error.")),
    last_error_at: opt(time("When.")),
    error_history: opt(arr(str(), "Recent feed errors, newest first.")),
    zmq_healthy: bool("ZMQ delivering."),
    zmq_disconnects: int("ZMQ disconnects.", 0),
    zmq_reconnects: int("ZMQ reconnects.", 0),
    last_raw_block_at: opt(time("Last rawblock arrival.")),
    last_raw_block_bytes: opt(int("Its size (bytes).", 0)),
    block_hash: opt(str("Tip hash.")),
    block_height: opt(int("Tip height.", 0)),
    block_time: opt(time("Tip header time.")),
    block_bits: opt(str("Tip compact target.")),
    block_difficulty: opt(num("Tip difficulty.", 0)),
    empty_first: opt(ServerPageEmptyFirstSchema),
    templates_discarded: opt(int("Templates thrown away for building below the newest tip.", 0)),
    tip_sources: opt(arr(ServerPageTipSourceSchema, "Every source of new tips.")),
  },
);

/** `GET /api/server` → `ServerPageData`. */
export const ServerPageDataSchema: ObjectSchema = objectSchema<ServerPageData>(
  "ServerPageData",
  "Server diagnostics snapshot.",
  {
    api_version: apiVersion,
    uptime: int("Uptime (nanoseconds).", 0),
    rpc_error: opt(str("Last RPC error.")),
    rpc_healthy: bool("Node answers RPC."),
    rpc_disconnects: int("RPC link losses.", 0),
    rpc_reconnects: int("RPC recoveries.", 0),
    accounting_error: opt(str("Last journal error.")),
    job_feed: ServerPageJobFeedSchema,
    process_goroutines: int("Active async resources (Deno stand-in for goroutines).", 0),
    process_cpu_percent: num("Process CPU (% of one core).", 0),
    go_mem_alloc_bytes: int("JS heap in use (bytes).", 0),
    go_mem_sys_bytes: int("JS heap reserved + external (bytes).", 0),
    process_rss_bytes: int("Resident set size (bytes).", 0),
    system_mem_total_bytes: int("System memory (bytes).", 0),
    system_mem_free_bytes: int("Available memory (bytes).", 0),
    system_mem_used_bytes: int("Used memory (bytes).", 0),
    system_load1: num("Load average, 1 min.", 0),
    system_load5: num("Load average, 5 min.", 0),
    system_load15: num("Load average, 15 min.", 0),
  },
);

/** `PoolHashrateHistoryPoint`. */
export const PoolHashrateHistoryPointSchema: ObjectSchema = objectSchema<
  PoolHashrateHistoryPoint
>(
  "PoolHashrateHistoryPoint",
  "A pool hashrate sample.",
  {
    at: time("When."),
    hashrate: num("H/s.", 0),
    block_height: opt(int("Tip height then.", 0)),
  },
);

/** `PoolHashrateResponse.next_difficulty_retarget`. */
export const NextDifficultyRetargetSchema: ObjectSchema = objectSchema<NextDifficultyRetarget>(
  "NextDifficultyRetarget",
  "The next difficulty adjustment.",
  {
    height: int("First height with the new difficulty.", 0),
    blocks_away: int("Blocks until then.", 1),
    duration_estimate: opt(str("Time until then at the target spacing, for people.")),
  },
);

/** `GET /api/pool-hashrate` → `PoolHashrateResponse`. */
export const PoolHashrateResponseSchema: ObjectSchema = objectSchema<PoolHashrateResponse>(
  "PoolHashrateResponse",
  "Pool hashrate and block timer.",
  {
    api_version: apiVersion,
    pool_hashrate: num("Pool hashrate (H/s).", 0),
    pool_hashrate_history: opt(
      arr(PoolHashrateHistoryPointSchema, "Samples, oldest first (include_history=1)."),
    ),
    block_height: int("Tip height.", 0),
    block_difficulty: num("Tip difficulty.", 0),
    block_time_left_sec: int("Seconds to tip time + spacing; -1 = timer not started."),
    recent_block_times: arr(time(), "Latest block header times, newest first."),
    next_difficulty_retarget: opt(NextDifficultyRetargetSchema),
    template_tx_fees_sats: opt(int("Template fees (sats).", 0)),
    template_updated_at: opt(time("Template fetch time.")),
    updated_at: time("Snapshot time."),
  },
);

/** `FoundBlockView`. */
export const FoundBlockViewSchema: ObjectSchema = objectSchema<FoundBlockView>(
  "FoundBlockView",
  "A found block (censored).",
  {
    height: int("Height.", 0),
    hash: str("Block hash, censored."),
    display_hash: str("Block hash for display, censored."),
    worker: str("Finder, censored."),
    display_worker: str("Finder for display, censored."),
    timestamp: time("When found."),
    share_diff: num("Winning share difficulty.", 0),
    pool_fee_sats: opt(int("Pool fee (sats).", 0)),
    worker_payout_sats: opt(int("Finder payout (sats).", 0)),
    confirmations: opt(int("Confirmations (-1 = off the main chain).", -1)),
    result: opt({
      type: "string",
      enum: ["possible", "winning", "stale"],
      description: "Standing: possible = on the main chain with fewer than 6 confirmations " +
        "(pages: confirming), winning = 6 or more (confirmed), stale = off the main chain " +
        "(orphaned).",
    }),
  },
);

/** `GET /api/blocks` → array of `FoundBlockView`. */
export const FoundBlocksSchema: ArraySchema = arr(
  FoundBlockViewSchema,
  "Recent found blocks, newest first.",
  100,
);

const RFC3339 =
  /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  return typeof value;
}

/** Every way `value` breaks `schema`, each as `path: problem` (empty when it conforms). */
export function validate(schema: Schema, value: unknown, path = "$"): string[] {
  const errors: string[] = [];
  check(schema, value, path, errors);
  return errors;
}

function check(schema: Schema, value: unknown, path: string, errors: string[]): void {
  switch (schema.type) {
    case "string":
      if (typeof value !== "string") {
        errors.push(`${path}: expected string, got ${kindOf(value)}`);
      } else if (schema.enum && !schema.enum.includes(value)) {
        errors.push(`${path}: ${JSON.stringify(value)} is not one of ${schema.enum.join(", ")}`);
      } else if (schema.format === "date-time" && !RFC3339.test(value)) {
        errors.push(`${path}: ${JSON.stringify(value)} is not an RFC3339 timestamp`);
      }
      return;
    case "integer":
    case "number":
      if (typeof value !== "number" || !Number.isFinite(value)) {
        errors.push(`${path}: expected ${schema.type}, got ${kindOf(value)}`);
      } else if (schema.type === "integer" && !Number.isInteger(value)) {
        errors.push(`${path}: expected integer, got ${value}`);
      } else if (schema.minimum !== undefined && value < schema.minimum) {
        errors.push(`${path}: ${value} is below the minimum ${schema.minimum}`);
      }
      return;
    case "boolean":
      if (typeof value !== "boolean") {
        errors.push(`${path}: expected boolean, got ${kindOf(value)}`);
      }
      return;
    case "array":
      if (!Array.isArray(value)) {
        errors.push(`${path}: expected array, got ${kindOf(value)}`);
        return;
      }
      if (schema.maxItems !== undefined && value.length > schema.maxItems) {
        errors.push(`${path}: ${value.length} items, at most ${schema.maxItems} allowed`);
      }
      value.forEach((item, i) => check(schema.items, item, `${path}[${i}]`, errors));
      return;
    case "object": {
      if (kindOf(value) !== "object") {
        errors.push(`${path}: expected object ${schema.title}, got ${kindOf(value)}`);
        return;
      }
      const record = value as Record<string, unknown>;
      for (const key of schema.required) {
        if (!(key in record)) errors.push(`${path}.${key}: required member missing`);
      }
      for (const [key, member] of Object.entries(record)) {
        const memberSchema = schema.properties[key];
        if (memberSchema === undefined) {
          errors.push(`${path}.${key}: not a member of ${schema.title}`);
        } else {
          check(memberSchema, member, `${path}.${key}`, errors);
        }
      }
      return;
    }
  }
}

/** Any JSON value (what the OpenAPI document is made of). */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };

/** `WidgetItem`. */
export const WidgetItemSchema: ObjectSchema = objectSchema<WidgetItem>(
  "WidgetItem",
  "One figure of the widget.",
  {
    title: str("What the figure is."),
    text: str("The figure, formatted."),
    subtext: str("Its unit or a note."),
  },
);

/** `GET /api/widget`. */
export const WidgetDataSchema: ObjectSchema = objectSchema<WidgetData>(
  "WidgetData",
  "Four figures for a home-screen widget (Umbrel `four-stats`).",
  {
    api_version: apiVersion,
    type: { type: "string", enum: ["four-stats"], description: "Widget type." },
    refresh: str("How often to ask again, e.g. `10s`."),
    link: str("Where a tap leads (empty: the app's page)."),
    items: arr(WidgetItemSchema, "Pool hashrate, miners online, best share, blocks found.", 4),
  },
);
