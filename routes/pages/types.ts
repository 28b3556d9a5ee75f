/**
 * What the HTML pages are rendered from: the parsed public snapshots of one request, the site
 * settings, and the binding vocabulary (`data-k`, `data-f`) the browser refresh script shares.
 *
 * @module
 */

import type { FormatterName } from "../../static/format.js";

export type { FormatterName } from "../../static/format.js";
import type {
  FoundBlockView,
  NodePageData,
  OverviewPageData,
  PoolHashrateResponse,
  PoolPageData,
  ServerPageData,
} from "../../lib/status/types.ts";
import { SNAPSHOT_ENDPOINT } from "../../lib/status/endpoints.ts";
import type { WorkerLookupView } from "./lookup.ts";

/** The API an element's value comes from: the key before `:` in `data-k`. */
export type ApiKey = "overview" | "pool" | "node" | "server" | "hashrate" | "blocks" | "lookup";

/**
 * The request path of each {@linkcode ApiKey}, from the endpoint table: the pool hashrate with its
 * history; blocks without a query (the page adds its `limit`). `static/app.js` polls the same.
 */
export const API_PATHS: Readonly<Record<ApiKey, string>> = {
  overview: SNAPSHOT_ENDPOINT.overview.path,
  pool: SNAPSHOT_ENDPOINT.poolPage.path,
  node: SNAPSHOT_ENDPOINT.node.path,
  server: SNAPSHOT_ENDPOINT.server.path,
  hashrate: SNAPSHOT_ENDPOINT.poolHashrate.path + SNAPSHOT_ENDPOINT.poolHashrate.widestQuery,
  blocks: SNAPSHOT_ENDPOINT.blocks.path,
  lookup: "/api/worker-lookup",
};

/** One snapshot as the page sees it: parsed JSON plus its cache times (ms). */
export interface PageSnapshot<T> {
  /** The parsed body. */
  readonly data: T;
  /** `X-JSON-Updated-At`. */
  readonly updatedAt: number;
  /** `X-JSON-Next-Update-At`. */
  readonly nextUpdateAt: number;
}

/** The snapshots one page asked for; absent ones were not built yet (or not asked for). */
export interface PageData {
  /** `/api/overview`. */
  overview?: PageSnapshot<OverviewPageData>;
  /** `/api/pool-page`. */
  pool?: PageSnapshot<PoolPageData>;
  /** `/api/node`. */
  node?: PageSnapshot<NodePageData>;
  /** `/api/server`. */
  server?: PageSnapshot<ServerPageData>;
  /** `/api/pool-hashrate?include_history=1`. */
  hashrate?: PageSnapshot<PoolHashrateResponse>;
  /** `/api/blocks?limit=n`. */
  blocks?: PageSnapshot<FoundBlockView[]>;
  /** `/api/worker-lookup?hash=` (worker pages only). */
  lookup?: PageSnapshot<WorkerLookupView>;
}

/** A Stratum endpoint miners can point at. */
export interface StratumEndpoint {
  /** `stratum+tcp://host:port` or `stratum+ssl://host:port`. */
  readonly url: string;
  /** True for TLS. */
  readonly tls: boolean;
}

/** Settings of the site that do not change per snapshot. */
export interface PageSite {
  /** Name in the header and title. */
  readonly brandName: string;
  /** Chain the pool mines (`main`, `test`, `regtest`, …), shown in the header when not main. */
  readonly network?: string;
  /** Stratum host shown in the connect panel; undefined → the host the page was requested on. */
  readonly stratumHost?: string;
  /** Plain Stratum port; undefined hides the plain URL. */
  readonly stratumPort?: number;
  /** TLS Stratum port; undefined hides the TLS URL. */
  readonly stratumTlsPort?: number;
  /** Pool fee in percent of the block reward, shown in the connect panel. */
  readonly poolFeePercent?: number;
  /** Clerk publishable key; sign-in on `/saved-workers` loads only when set. */
  readonly clerkPublishableKey?: string;
  /**
   * The notification channels signed-in users may choose on `/saved-workers` ("ntfy", "webhook",
   * "telegram", "discord"); absent or empty hides the card.
   */
  readonly notifyChannels?: readonly string[];
  /** Set on a status-only mirror: the pool it mirrors (shown in the footer). */
  readonly mirrorOf?: string;
}

/** Everything a page component gets. */
export interface PageContext {
  /** Request path (for the active nav link). */
  readonly path: string;
  /** Site settings. */
  readonly site: PageSite;
  /** Snapshots for this page. */
  readonly data: PageData;
  /** Stratum URLs for this request's host. */
  readonly stratum: readonly StratumEndpoint[];
  /** True when the data is overdue (a mirror whose upstream is down, a stuck rebuild). */
  readonly stale: boolean;
  /** Render time (ms since the epoch). */
  readonly now: number;
  /** Versioned URL of a static file (`/static/app.css?v=…`). */
  readonly asset: (name: string) => string;
}

/** A `data-k` binding: `api:path`. */
export type Binding = `${ApiKey}:${string}`;

/** A table column: header, path inside each row object, formatter. */
export interface Column {
  /** Header text. */
  readonly label: string;
  /** Dotted path inside the row (`.` = the row itself). */
  readonly path: string;
  /** Formatter name from `format.js`. */
  readonly f: FormatterName;
  /** Right-align (numbers). */
  readonly num?: boolean;
  /** Hide on narrow screens. */
  readonly wide?: boolean;
}
