/**
 * The public snapshot endpoints, in one table: each one's snapshot name, path, summary, default
 * refresh period, response schema, query parameters, and how a request's query picks a body from
 * the snapshots. Everything else derives from it:
 *
 * - the routes (`routes/api.ts`) serve each path with its {@linkcode SnapshotEndpoint.select};
 * - the OpenAPI document (`openapi.ts`) lists each path, its parameters, schema and errors;
 * - the snapshot cache (`snapshots.ts`) keeps one snapshot per name, refreshed every `refreshMs`
 *   unless configured otherwise ({@linkcode DEFAULT_INTERVALS});
 * - the status service (`app/status_service.ts`) reads each period from `[status]`
 *   `<name>RefreshSeconds`;
 * - the mirror (`lib/mirror/`) pulls, publishes and reads each snapshot's widest variant
 *   (`path` + {@linkcode SnapshotEndpoint.widestQuery}).
 *
 * Adding an endpoint is a row here, a schema in `schemas.ts`, a method on `JsonSnapshots` and a
 * build step in the cache; the type of {@linkcode SnapshotName} makes the compiler point at each.
 *
 * @module
 */

import type { CachedJson, JsonSnapshots } from "./snapshots.ts";
import {
  FoundBlocksSchema,
  NodePageDataSchema,
  OverviewPageDataSchema,
  PoolHashrateResponseSchema,
  PoolPageDataSchema,
  type Schema,
  ServerPageDataSchema,
  WidgetDataSchema,
} from "./schemas.ts";

/** `limit` of `/api/blocks` when absent. */
export const DEFAULT_BLOCKS_LIMIT = 10;
/** Largest `limit` of `/api/blocks`; larger values are clamped to it. */
export const MAX_BLOCKS_LIMIT = 100;

/**
 * `limit` of `/api/blocks`: absent or empty → 10; an integer → clamped to 1..100; anything else →
 * `undefined` (the caller answers 400).
 */
export function parseBlocksLimit(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === "") return DEFAULT_BLOCKS_LIMIT;
  if (!/^[+-]?\d+$/.test(raw)) return undefined;
  const n = Number(raw);
  return Math.min(MAX_BLOCKS_LIMIT, Math.max(1, n));
}

/** A query that cannot be answered: the plain-text body of the 400. */
export interface BadQuery {
  /** The 400 body (one line, newline-terminated). */
  readonly badQuery: string;
}

/** What a request's query selects: a body, `undefined` before the first build, or a 400. */
export type Selection = CachedJson | BadQuery | undefined;

/** Reads one query parameter of a request (`undefined` when absent). */
export type QueryReader = (name: string) => string | undefined;

/** The JSON Schema of a query parameter. */
export interface ParameterSchema {
  /** JSON type of the value. */
  readonly type: "string" | "integer";
  /** Allowed values. */
  readonly enum?: readonly string[];
  /** Value when absent. */
  readonly default?: number;
  /** Smallest value not clamped. */
  readonly minimum?: number;
  /** Largest value not clamped. */
  readonly maximum?: number;
}

/** One query parameter (optional, in the query string), as the OpenAPI document lists it. */
export interface QueryParameter {
  /** Parameter name. */
  readonly name: string;
  /** What it does. */
  readonly description: string;
  /** Its schema. */
  readonly schema: ParameterSchema;
}

/** One public snapshot endpoint: a row of {@linkcode SNAPSHOT_ENDPOINTS}. */
export interface SnapshotEndpoint<N extends string = string> {
  /** The snapshot's name in the cache, the KV store and `[status]` (`<name>RefreshSeconds`). */
  readonly name: N;
  /** Request path. */
  readonly path: EndpointPath;
  /** What it is, in a few words (the OpenAPI summary adds the refresh period). */
  readonly description: string;
  /** Default refresh period (ms): the reference pool's cadence. */
  readonly refreshMs: number;
  /** Schema of the 200 body. */
  readonly schema: Schema;
  /** Query parameters. */
  readonly parameters: readonly QueryParameter[];
  /** When the query can be wrong: what the 400 means (OpenAPI). */
  readonly badQueryMeans?: string;
  /**
   * The query of the widest variant, from which every other variant derives (`""`: one body):
   * what a mirror pulls and the KV publisher writes.
   */
  readonly widestQuery: string;
  /** The body a request's query selects from `snapshots`. */
  readonly select: (snapshots: JsonSnapshots, query: QueryReader) => Selection;
}

const BLOCKS_LIMIT_BAD: BadQuery = { badQuery: "limit must be an integer from 1 to 100\n" };

/**
 * The name of a public snapshot: its key in the cache and the KV store, and the stem of its
 * `[status]` refresh setting (`<name>RefreshSeconds`).
 */
export type SnapshotName =
  | "overview"
  | "poolPage"
  | "node"
  | "server"
  | "poolHashrate"
  | "blocks"
  | "widget";

/** A public snapshot endpoint's path. */
export type EndpointPath = `/api/${string}`;

/**
 * The table: one row per snapshot, in the order they are documented and published (the record
 * type makes a missing or extra row, or a row under the wrong name, a compile error).
 */
export const SNAPSHOT_ENDPOINT: { readonly [N in SnapshotName]: SnapshotEndpoint<N> } = {
  overview: {
    name: "overview",
    path: "/api/overview",
    description: "Overview snapshot",
    refreshMs: 10_000,
    schema: OverviewPageDataSchema,
    parameters: [],
    widestQuery: "",
    select: (s) => s.overview(),
  },
  poolPage: {
    name: "poolPage",
    path: "/api/pool-page",
    description: "Pool diagnostics snapshot",
    refreshMs: 10_000,
    schema: PoolPageDataSchema,
    parameters: [],
    widestQuery: "",
    select: (s) => s.poolPage(),
  },
  node: {
    name: "node",
    path: "/api/node",
    description: "Node info snapshot",
    refreshMs: 10_000,
    schema: NodePageDataSchema,
    parameters: [],
    widestQuery: "",
    select: (s) => s.node(),
  },
  server: {
    name: "server",
    path: "/api/server",
    description: "Server diagnostics snapshot",
    refreshMs: 10_000,
    schema: ServerPageDataSchema,
    parameters: [],
    widestQuery: "",
    select: (s) => s.server(),
  },
  poolHashrate: {
    name: "poolHashrate",
    path: "/api/pool-hashrate",
    description: "Pool hashrate and block timer",
    refreshMs: 5_000,
    schema: PoolHashrateResponseSchema,
    parameters: [{
      name: "include_history",
      description: "`1` adds `pool_hashrate_history`.",
      schema: { type: "string", enum: ["1"] },
    }],
    widestQuery: "?include_history=1",
    select: (s, query) => s.poolHashrate(query("include_history") === "1"),
  },
  blocks: {
    name: "blocks",
    path: "/api/blocks",
    description: "Recent found blocks",
    refreshMs: 3_000,
    schema: FoundBlocksSchema,
    parameters: [{
      name: "limit",
      description: "Blocks to return, 1..100 (default 10); values outside are clamped.",
      schema: {
        type: "integer",
        default: DEFAULT_BLOCKS_LIMIT,
        minimum: 1,
        maximum: MAX_BLOCKS_LIMIT,
      },
    }],
    badQueryMeans: "`limit` is not an integer.",
    widestQuery: `?limit=${MAX_BLOCKS_LIMIT}`,
    select: (s, query) => {
      const limit = parseBlocksLimit(query("limit"));
      return limit === undefined ? BLOCKS_LIMIT_BAD : s.blocks(limit);
    },
  },
  widget: {
    name: "widget",
    path: "/api/widget",
    description: "Home-screen widget (Umbrel four-stats): hashrate, miners, best share, blocks",
    refreshMs: 10_000,
    schema: WidgetDataSchema,
    parameters: [],
    widestQuery: "",
    select: (s) => s.widget(),
  },
};

/** The table's rows, in order. */
export const SNAPSHOT_ENDPOINTS: readonly SnapshotEndpoint<SnapshotName>[] = Object.values(
  SNAPSHOT_ENDPOINT,
);

/** The snapshot names, in table order. */
export const SNAPSHOT_NAMES: readonly SnapshotName[] = SNAPSHOT_ENDPOINTS.map((e) => e.name);

/** A record with one value per snapshot, made by `value` from each row of the table. */
export function perSnapshot<T>(
  value: (endpoint: SnapshotEndpoint<SnapshotName>) => T,
): Record<SnapshotName, T> {
  return Object.fromEntries(SNAPSHOT_ENDPOINTS.map((e) => [e.name, value(e)])) as Record<
    SnapshotName,
    T
  >;
}

/** The table's row of each path (what the schema tests walk). */
export const ENDPOINTS: Readonly<Record<EndpointPath, SnapshotEndpoint<SnapshotName>>> = Object
  .fromEntries(SNAPSHOT_ENDPOINTS.map((e) => [e.path, e]));

/** Default refresh period of each snapshot (ms): the table's `refreshMs`. */
export const DEFAULT_INTERVALS: Readonly<Record<SnapshotName, number>> = perSnapshot((e) =>
  e.refreshMs
);

/** `summary` of an endpoint in the OpenAPI document: its description and refresh period. */
export function endpointSummary(endpoint: SnapshotEndpoint): string {
  return `${endpoint.description} (~${endpoint.refreshMs / 1000} s).`;
}

/** True when a selection is a 400, not a body. */
export function isBadQuery(selection: Selection): selection is BadQuery {
  return selection !== undefined && "badQuery" in selection;
}

/** The widest variant of `endpoint` in `snapshots` (what a mirror pulls and stores). */
export function widestSnapshot(
  endpoint: SnapshotEndpoint,
  snapshots: JsonSnapshots,
): CachedJson | undefined {
  const query = new URLSearchParams(endpoint.widestQuery);
  const selected = endpoint.select(snapshots, (name) => query.get(name) ?? undefined);
  return isBadQuery(selected) ? undefined : selected;
}
