/**
 * The columns of every table on the pages: one definition renders the rows on the server and the
 * `<template>` row the browser fills when it refreshes.
 *
 * @module
 */

import type { Column } from "./types.ts";

/** Recent workers on the overview (`/api/overview` `workers`). */
export const WORKER_COLUMNS: readonly Column[] = [
  { label: "Worker", path: "display_name", f: "text" },
  { label: "Hashrate", path: ".", f: "workerHashrate", num: true },
  { label: "Shares/min", path: "share_rate", f: "decimal", num: true },
  { label: "Difficulty", path: "vardiff", f: "difficulty", num: true, wide: true },
  { label: "Accepted", path: "accepted", f: "integer", num: true, wide: true },
];

/** Best shares (`/api/overview` `best_shares`). */
export const BEST_SHARE_COLUMNS: readonly Column[] = [
  { label: "Difficulty", path: "difficulty", f: "difficulty", num: true },
  { label: "Worker", path: "display_worker", f: "text" },
  { label: "When", path: "timestamp", f: "ago" },
  { label: "Hash", path: "display_hash", f: "text", wide: true },
];

/** Found blocks (`/api/blocks`). */
export const BLOCK_COLUMNS: readonly Column[] = [
  { label: "Height", path: "height", f: "integer", num: true },
  { label: "Found by", path: "display_worker", f: "text" },
  { label: "When", path: "timestamp", f: "ago" },
  { label: "Status", path: ".", f: "blockStatus" },
  { label: "Payout", path: "worker_payout_sats", f: "btc", num: true, wide: true },
  { label: "Hash", path: "display_hash", f: "text", wide: true },
];

/** Banned workers (`/api/overview` `banned_workers`). */
export const BAN_COLUMNS: readonly Column[] = [
  { label: "Worker", path: "display_name", f: "text" },
  { label: "Until", path: "banned_until", f: "utc" },
  { label: "Reason", path: "ban_reason", f: "text", wide: true },
];

/** Mining software (`/api/overview` `miner_types`). */
export const MINER_TYPE_COLUMNS: readonly Column[] = [
  { label: "Software", path: "name", f: "text" },
  { label: "Workers", path: "total_workers", f: "integer", num: true },
];

/** Node peers (`/api/node` `node_peers`). */
export const PEER_COLUMNS: readonly Column[] = [
  { label: "Peer", path: "display", f: "text" },
  { label: "Ping (ms)", path: "ping_ms", f: "decimal", num: true },
];

/** Pool errors (`/api/pool-page` `error_history`). */
export const POOL_ERROR_COLUMNS: readonly Column[] = [
  { label: "When", path: "at", f: "ago" },
  { label: "Type", path: "type", f: "text" },
  { label: "Message", path: "message", f: "text" },
];

/** Live connections of a looked-up worker (`/api/worker-lookup` `connections`). */
export const CONNECTION_COLUMNS: readonly Column[] = [
  { label: "Worker", path: "display_name", f: "text" },
  { label: "Hashrate", path: ".", f: "workerHashrate", num: true },
  { label: "Shares/min", path: "share_rate", f: "decimal", num: true },
  { label: "Difficulty", path: "vardiff", f: "difficulty", num: true, wide: true },
  { label: "Accepted", path: "accepted", f: "integer", num: true, wide: true },
  { label: "Last share", path: "last_share_at", f: "ago", wide: true },
  { label: "Miner", path: "miner", f: "text", wide: true },
];

/** The coinbase outputs of the worker lookup's payout check. */
export const PAYOUT_COLUMNS: readonly Column[] = [
  { label: "Pays", path: "role", f: "payoutRole" },
  { label: "Address", path: "address", f: "text" },
  { label: "Amount", path: "value_sats", f: "btc", num: true },
];
