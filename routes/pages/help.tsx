/**
 * `/help`: solo mining in five minutes, with the pool's own Stratum URLs filled into the steps for
 * a Bitaxe (AxeOS) and for cpuminer.
 *
 * @module
 */

import type { JSX } from "hono/jsx/jsx-runtime";
import { Card, Connect, Layout } from "./components.tsx";
import type { PageContext } from "./types.ts";

function hostPort(url: string): { host: string; port: string } {
  const m = /^stratum\+(?:tcp|ssl):\/\/(.*):(\d+)$/.exec(url);
  return m ? { host: m[1], port: m[2] } : { host: url, port: "" };
}

/**
 * The help page.
 *
 * @internal
 */
export function HelpPage(props: { ctx: PageContext }): JSX.Element {
  const { ctx } = props;
  const plain = ctx.stratum.find((s) => !s.tls) ?? ctx.stratum[0];
  const url = plain?.url ?? "stratum+tcp://POOL_HOST:3333";
  const { host, port } = hostPort(url);
  return (
    <Layout ctx={ctx} title="Help: start solo mining" poll={[]}>
      <Card title="How solo mining works">
        <p>
          Your miner hashes block templates the pool builds from its own Bitcoin node. Each share
          your miner sends proves work; if one of them also meets the network target, it is a block,
          and the block reward goes straight to the address in your username (minus the pool fee, if
          any). There are no payouts to wait for and no account to create.
        </p>
        <p class="muted">
          A home miner finds a block rarely: the overview's <em>expected block</em>{" "}
          figure tells how long it takes on average at the pool's hashrate.
        </p>
      </Card>
      <Connect ctx={ctx} />
      <div class="two">
        <Card title="Bitaxe (AxeOS)" id="help-bitaxe">
          <ol>
            <li>Open your Bitaxe's web page (its IP address in a browser).</li>
            <li>
              Go to <strong>Settings</strong> → <strong>Mining</strong>.
            </li>
            <li>
              Stratum URL: <code>{host}</code>
            </li>
            <li>
              Stratum port: <code>{port}</code>
            </li>
            <li>
              Stratum user: <code>YOUR_BTC_ADDRESS.bitaxe</code>
            </li>
            <li>
              Stratum password: <code>x</code>
            </li>
            <li>Save and restart. The worker shows up on the overview within a minute.</li>
          </ol>
        </Card>
        <Card title="cpuminer" id="help-cpuminer">
          <p>On any computer with cpuminer (for testing: a CPU will not find a mainnet block):</p>
          <pre><code>{`cpuminer -a sha256d -o ${url} \\\n  -u YOUR_BTC_ADDRESS.cpu -p x`}</code></pre>
          <p>
            This repository also ships a miner:{" "}
            <code>deno task miner {url} YOUR_BTC_ADDRESS.cpu</code>
          </p>
        </Card>
      </div>
      <Card title="Check that it works">
        <ol>
          <li>
            Open <a href="/worker">My worker</a>{" "}
            and enter the username you configured: it shows the live connection and its hashrate.
          </li>
          <li>
            The hashrate starts with <code>~</code> while warming up and <code>≈</code>{" "}
            while settling; give it a few minutes.
          </li>
          <li>
            Rejected shares? Check the address (it must be valid for this pool's network) and that
            the worker name after the dot has no spaces.
          </li>
        </ol>
      </Card>
    </Layout>
  );
}
