/**
 * `/worker` and `/worker/sha256?hash=`: look up your own miner. The name is hashed in the browser
 * (WebCrypto, or `sha256.js` where WebCrypto is unavailable on plain HTTP) and only the hash is
 * sent; the result lists the matching live connections, censored.
 *
 * @module
 */

import type { JSX } from "hono/jsx/jsx-runtime";
import { CONNECTION_COLUMNS, PAYOUT_COLUMNS } from "./columns.ts";
import { Card, Layout, Stat, Table, V } from "./components.tsx";
import type { PageContext } from "./types.ts";

/** What the lookup page shows below the form. */
export type LookupState =
  | { readonly kind: "form" }
  | { readonly kind: "bad-hash" }
  | { readonly kind: "unavailable" }
  | { readonly kind: "result"; readonly hash: string };

/**
 * The worker lookup page.
 *
 * @internal
 */
export function WorkerPage(props: { ctx: PageContext; state: LookupState }): JSX.Element {
  const { ctx, state } = props;
  const result = state.kind === "result" ? ctx.data.lookup?.data : undefined;
  return (
    <Layout
      ctx={ctx}
      title="My worker"
      poll={state.kind === "result" ? ["lookup"] : []}
      scripts={["worker.js"]}
      lookupHash={state.kind === "result" ? state.hash : undefined}
    >
      <Card title="Find your miner">
        <form id="lookup" class="lookup" action="/worker/sha256" method="get">
          <label for="worker-name">Worker name or payout address</label>
          <div class="row">
            <input
              id="worker-name"
              type="text"
              autocomplete="off"
              spellcheck={false}
              placeholder="bc1q….rig1"
              required
            />
            <input type="hidden" name="hash" id="worker-hash" />
            <button type="submit">Look up</button>
          </div>
          <p class="muted">
            Your browser turns the name into a SHA-256 hash; only the hash is sent. An address alone
            finds every rig mining to it.
          </p>
          <noscript>
            <p class="warn">The lookup hashes the name in your browser: it needs JavaScript.</p>
          </noscript>
        </form>
      </Card>
      {state.kind === "bad-hash"
        ? <p class="warn" id="lookup-error">Enter a worker name to look up.</p>
        : null}
      {state.kind === "unavailable"
        ? <p class="warn" id="lookup-error">The worker list is not available right now.</p>
        : null}
      {state.kind === "result"
        ? (
          <section id="lookup-result" data-online={result?.online ? "1" : "0"}>
            <p class={result?.online ? "ok" : "warn"} id="lookup-status">
              {result?.online
                ? "Online: the pool is receiving work from this miner."
                : "No live connection with this name. Check the username in your miner."}
            </p>
            <div class="stats">
              <Stat label="Hashrate">
                <V ctx={ctx} k="lookup:hashrate" f="hashrate" />
              </Stat>
              <Stat label="Connections">
                <V ctx={ctx} k="lookup:connections" f="count" />
              </Stat>
            </div>
            <Card title="Live connections">
              <Table
                ctx={ctx}
                k="lookup:connections"
                columns={CONNECTION_COLUMNS}
                empty="None right now."
              />
            </Card>
            <Card title="If this miner found a block now">
              <p class="muted">
                The coinbase of the work the pool last sent, read back from the bytes your miner
                hashes: block <V ctx={ctx} k="lookup:payout.height" f="integer" />, tag{" "}
                <V ctx={ctx} k="lookup:payout.tag" f="text" />.
              </p>
              <div class="stats">
                <Stat label="To your address">
                  <V ctx={ctx} k="lookup:payout.miner_sats" f="btc" />
                </Stat>
                <Stat label="Block reward + fees">
                  <V ctx={ctx} k="lookup:payout.coinbase_value_sats" f="btc" />
                </Stat>
              </div>
              <Table
                ctx={ctx}
                k="lookup:payout.outputs"
                columns={PAYOUT_COLUMNS}
                empty="No work sent to this miner yet."
                id="payout-outputs"
              />
            </Card>
          </section>
        )
        : null}
    </Layout>
  );
}
