/**
 * The diagnostic pages: `/pool` (RPC and share figures), `/node` (the Bitcoin node and its peers),
 * `/server` (process, system and job feed) and `/blocks` (every found block the API lists).
 *
 * @module
 */

import type { JSX } from "hono/jsx/jsx-runtime";
import { BLOCK_COLUMNS, PEER_COLUMNS, POOL_ERROR_COLUMNS } from "./columns.ts";
import { Card, Facts, Layout, Table } from "./components.tsx";
import type { PageContext } from "./types.ts";

/** Found blocks listed on `/blocks` (the API's maximum). */
export const BLOCKS_PAGE_LIMIT = 100;

/**
 * `/pool`.
 *
 * @internal
 */
export function PoolPage(props: { ctx: PageContext }): JSX.Element {
  const { ctx } = props;
  return (
    <Layout ctx={ctx} title="Pool" poll={["pool"]}>
      <div class="two">
        <Card title="Blocks and shares">
          <Facts
            ctx={ctx}
            rows={[
              ["Blocks accepted", "pool:blocks_accepted", "integer"],
              ["Blocks errored", "pool:blocks_errored", "integer"],
              ["Share errors", "pool:share_errors", "integer"],
              ["RPC errors", "pool:rpc_errors", "integer"],
            ]}
          />
        </Card>
        <Card title="submitblock">
          <Facts
            ctx={ctx}
            rows={[
              ["Calls", "pool:rpc_submit_count", "integer"],
              ["Last", "pool:rpc_submit_last_sec", "seconds"],
              ["Slowest", "pool:rpc_submit_max_sec", "seconds"],
            ]}
          />
        </Card>
      </div>
      <Card title="getblocktemplate">
        <Facts
          ctx={ctx}
          rows={[
            ["Calls", "pool:rpc_gbt_count", "integer"],
            ["Last", "pool:rpc_gbt_last_sec", "seconds"],
            ["Slowest ever", "pool:rpc_gbt_max_sec", "seconds"],
            ["Fastest, last hour", "pool:rpc_gbt_min_1h_sec", "seconds"],
            ["Mean, last hour", "pool:rpc_gbt_avg_1h_sec", "seconds"],
            ["Slowest, last hour", "pool:rpc_gbt_max_1h_sec", "seconds"],
          ]}
        />
      </Card>
      <Card title="Recent errors">
        <Table
          ctx={ctx}
          k="pool:error_history"
          columns={POOL_ERROR_COLUMNS}
          empty="No errors in the last hour."
        />
      </Card>
    </Layout>
  );
}

/**
 * `/node`.
 *
 * @internal
 */
export function NodePage(props: { ctx: PageContext }): JSX.Element {
  const { ctx } = props;
  return (
    <Layout ctx={ctx} title="Node" poll={["node"]}>
      <div class="two">
        <Card title="Bitcoin node">
          <Facts
            ctx={ctx}
            rows={[
              ["Network", "node:node_network", "text"],
              ["Version", "node:node_subversion", "text"],
              ["Blocks", "node:node_blocks", "integer"],
              ["Headers", "node:node_headers", "integer"],
              ["Initial download", "node:node_initial_block_download", "yesno"],
              ["Pruned", "node:node_pruned", "yesno"],
              ["Size on disk", "node:node_size_on_disk_bytes", "bytes"],
            ]}
          />
        </Card>
        <Card title="Connections">
          <Facts
            ctx={ctx}
            rows={[
              ["Peers", "node:node_connections", "integer"],
              ["Inbound", "node:node_connections_in", "integer"],
              ["Outbound", "node:node_connections_out", "integer"],
              ["Slow-peer cleanup", "node:node_peer_cleanup_enabled", "yesno"],
              ["Slow above (ms)", "node:node_peer_cleanup_max_ping_ms", "integer"],
              ["Peers kept", "node:node_peer_cleanup_min_peers", "integer"],
            ]}
          />
        </Card>
      </div>
      <Card title="Chain">
        <Facts
          ctx={ctx}
          rows={[
            ["Genesis matches", "node:genesis_match", "yesno"],
            ["Genesis (node)", "node:genesis_hash", "text"],
            ["Genesis (expected)", "node:genesis_expected", "text"],
            ["Best block", "node:best_block_hash", "text"],
          ]}
        />
      </Card>
      <Card title="Peers">
        <Table ctx={ctx} k="node:node_peers" columns={PEER_COLUMNS} empty="No peer list." />
      </Card>
    </Layout>
  );
}

/**
 * `/server`.
 *
 * @internal
 */
export function ServerPage(props: { ctx: PageContext }): JSX.Element {
  const { ctx } = props;
  return (
    <Layout ctx={ctx} title="Server" poll={["server"]}>
      <div class="two">
        <Card title="Process">
          <Facts
            ctx={ctx}
            rows={[
              ["Uptime", "server:uptime", "nanos"],
              ["CPU (one core)", "server:process_cpu_percent", "percent"],
              ["Resident memory", "server:process_rss_bytes", "bytes"],
              ["JS heap", "server:go_mem_alloc_bytes", "bytes"],
              ["Heap + external", "server:go_mem_sys_bytes", "bytes"],
              ["Async resources", "server:process_goroutines", "integer"],
            ]}
          />
        </Card>
        <Card title="System">
          <Facts
            ctx={ctx}
            rows={[
              ["Load 1 min", "server:system_load1", "decimal"],
              ["Load 5 min", "server:system_load5", "decimal"],
              ["Load 15 min", "server:system_load15", "decimal"],
              ["Memory total", "server:system_mem_total_bytes", "bytes"],
              ["Memory used", "server:system_mem_used_bytes", "bytes"],
              ["Memory available", "server:system_mem_free_bytes", "bytes"],
            ]}
          />
        </Card>
      </div>
      <div class="two">
        <Card title="Node RPC">
          <Facts
            ctx={ctx}
            rows={[
              ["Healthy", "server:rpc_healthy", "yesno"],
              ["Disconnects", "server:rpc_disconnects", "integer"],
              ["Reconnects", "server:rpc_reconnects", "integer"],
              ["Last error", "server:rpc_error", "text"],
              ["Journal error", "server:accounting_error", "text"],
            ]}
          />
        </Card>
        <Card title="Job feed">
          <Facts
            ctx={ctx}
            rows={[
              ["Tip height", "server:job_feed.block_height", "integer"],
              ["Tip time", "server:job_feed.block_time", "utc"],
              ["Tip difficulty", "server:job_feed.block_difficulty", "difficulty"],
              ["Tip bits", "server:job_feed.block_bits", "text"],
              ["ZMQ healthy", "server:job_feed.zmq_healthy", "yesno"],
              ["ZMQ reconnects", "server:job_feed.zmq_reconnects", "integer"],
              ["Last raw block", "server:job_feed.last_raw_block_at", "ago"],
              ["Last error", "server:job_feed.last_error", "text"],
            ]}
          />
        </Card>
      </div>
    </Layout>
  );
}

/**
 * `/blocks`.
 *
 * @internal
 */
export function BlocksPage(props: { ctx: PageContext }): JSX.Element {
  const { ctx } = props;
  return (
    <Layout ctx={ctx} title="Found blocks" poll={["blocks"]} blocksLimit={BLOCKS_PAGE_LIMIT}>
      <Card title="Blocks found by this pool">
        <Table
          ctx={ctx}
          k="blocks:."
          columns={BLOCK_COLUMNS}
          empty="No block found yet. Every share is a lottery ticket: keep hashing!"
          limit={BLOCKS_PAGE_LIMIT}
        />
      </Card>
    </Layout>
  );
}
