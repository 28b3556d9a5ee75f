/**
 * `/`: what a home miner looks at first. Pool hashrate with its chart, miners, shares per minute,
 * the network (difficulty, height, block timer, next retarget), how to connect, recent workers,
 * best shares and found blocks.
 *
 * @module
 */

import type { JSX } from "hono/jsx/jsx-runtime";
import {
  BAN_COLUMNS,
  BEST_SHARE_COLUMNS,
  BLOCK_COLUMNS,
  MINER_TYPE_COLUMNS,
  WORKER_COLUMNS,
} from "./columns.ts";
import { Card, Connect, HashrateChart, Layout, Stat, Table, V } from "./components.tsx";
import type { PageContext } from "./types.ts";

/** Found blocks listed on the overview. */
export const OVERVIEW_BLOCKS = 10;

/**
 * The overview page.
 *
 * @internal
 */
export function OverviewPage(props: { ctx: PageContext }): JSX.Element {
  const { ctx } = props;
  const overview = ctx.data.overview?.data;
  return (
    <Layout
      ctx={ctx}
      title="Overview"
      poll={["overview", "hashrate", "blocks"]}
      blocksLimit={OVERVIEW_BLOCKS}
    >
      <div class="stats">
        <Stat
          label="Pool hashrate"
          id="stat-hashrate"
          note={
            <>
              expected block <V ctx={ctx} k="hashrate:." f="expectedBlock" />
            </>
          }
        >
          <V ctx={ctx} k="hashrate:pool_hashrate" f="hashrate" />
        </Stat>
        <Stat
          label="Miners"
          id="stat-miners"
          note={
            <>
              <V ctx={ctx} k="overview:active_tls_miners" f="integer" /> over TLS
            </>
          }
        >
          <V ctx={ctx} k="overview:active_miners" f="integer" />
        </Stat>
        <Stat label="Shares / min" id="stat-spm">
          <V ctx={ctx} k="overview:shares_per_minute" f="decimal" />
        </Stat>
        <Stat label="Block height" id="stat-height">
          <V ctx={ctx} k="hashrate:block_height" f="integer" />
        </Stat>
        <Stat
          label="Network difficulty"
          id="stat-difficulty"
          note={
            <>
              network <V ctx={ctx} k="hashrate:block_difficulty" f="netHashrate" />
            </>
          }
        >
          <V ctx={ctx} k="hashrate:block_difficulty" f="difficulty" />
        </Stat>
        <Stat label="Block timer" id="stat-timer" note="10 min after the last block">
          <span data-countdown>
            <V ctx={ctx} k="hashrate:block_time_left_sec" f="countdown" />
          </span>
        </Stat>
        {
          // Regtest never adjusts its difficulty (Core's fPowNoRetargeting): the API sends no
          // next_difficulty_retarget there, and "– blocks" would read like missing data.
          ctx.site.network === "regtest"
            ? (
              <Stat label="Next retarget" id="stat-retarget" note="no retargets on regtest">
                none
              </Stat>
            )
            : (
              <Stat
                label="Next retarget"
                id="stat-retarget"
                note={
                  <>
                    in ~{" "}
                    <V ctx={ctx} k="hashrate:next_difficulty_retarget.duration_estimate" f="text" />
                  </>
                }
              >
                <V ctx={ctx} k="hashrate:next_difficulty_retarget.blocks_away" f="integer" /> blocks
              </Stat>
            )
        }
        <Stat label="Template fees" id="stat-fees">
          <V ctx={ctx} k="hashrate:template_tx_fees_sats" f="btc" />
        </Stat>
        {overview?.btc_price_fiat !== undefined
          ? (
            <Stat label="BTC price" id="stat-price">
              <V ctx={ctx} k="overview:." f="price" />
            </Stat>
          )
          : null}
      </div>

      <Card title="Pool hashrate" id="chart">
        <HashrateChart ctx={ctx} />
      </Card>

      <Connect ctx={ctx} />

      <Card
        title="Recent workers"
        id="workers"
        aside={<span class="muted">share in the last 30 min</span>}
      >
        <Table
          ctx={ctx}
          k="overview:workers"
          columns={WORKER_COLUMNS}
          empty="No miner has sent a share in the last 30 minutes."
        />
      </Card>

      <div class="two lead">
        <Card title="Best shares" id="best-shares">
          <Table
            ctx={ctx}
            k="overview:best_shares"
            columns={BEST_SHARE_COLUMNS}
            empty="No shares yet."
          />
        </Card>
        <Card title="Mining software" id="miner-types">
          <Table
            ctx={ctx}
            k="overview:miner_types"
            columns={MINER_TYPE_COLUMNS}
            empty="No miners connected."
          />
        </Card>
      </div>

      <Card title="Found blocks" id="blocks" aside={<a href="/blocks">all blocks</a>}>
        <Table
          ctx={ctx}
          k="blocks:."
          columns={BLOCK_COLUMNS}
          empty="No block found yet. Keep hashing!"
          limit={OVERVIEW_BLOCKS}
        />
      </Card>

      {overview && overview.banned_workers.length > 0
        ? (
          <Card title="Banned workers" id="bans">
            <Table
              ctx={ctx}
              k="overview:banned_workers"
              columns={BAN_COLUMNS}
              empty="Nobody is banned."
            />
          </Card>
        )
        : null}
    </Layout>
  );
}
