/**
 * The admin panel's pages, server-rendered with `hono/jsx`: a layout with its own small style
 * sheet (no CDN, no script), tables that scroll sideways on a phone, and forms that carry the
 * session's CSRF token.
 *
 * @module
 */

import type { Child } from "hono/jsx";
import type { JSX } from "hono/jsx/jsx-runtime";
import type {
  AdminBan,
  AdminBlock,
  AdminConnection,
  AdminHealth,
  AdminOverrides,
  AuditEntry,
  EffectiveSetting,
} from "../../lib/admin/mod.ts";

/** The admin pages' style sheet, served at `<base>/admin.css`. */
export const ADMIN_CSS = `
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #fbfbfc; --muted: #5b6470; --line: #d8dde3;
  --accent: #b45309; --bad: #b91c1c; --good: #15803d; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e8eb; --bg: #14171b; --muted: #9aa3ad;
  --line: #2c333b; --accent: #f59e0b; --bad: #f87171; --good: #4ade80; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; flex-wrap: wrap; gap: .25rem 1rem; align-items: center; padding: .6rem 1rem;
  border-bottom: 1px solid var(--line); }
header strong { color: var(--accent); }
nav { display: flex; flex-wrap: wrap; gap: .2rem .8rem; min-width: 0; }
nav a { color: var(--fg); }
main { padding: 1rem; max-width: 1400px; min-width: 0; }
input, select, textarea { max-width: 100%; }
h1, p, li, legend, label { overflow-wrap: anywhere; }
h1 { font-size: 1.3rem; margin: .2rem 0 1rem; }
h2 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
.scroll { overflow-x: auto; }
table.facts td { white-space: normal; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line);
  white-space: nowrap; vertical-align: top; }
th a { color: var(--fg); }
form.inline { display: inline; }
input, select, button, textarea { font: inherit; padding: .3rem .45rem; }
button { cursor: pointer; }
.muted { color: var(--muted); }
.flash { padding: .5rem .75rem; border: 1px solid var(--good); margin-bottom: 1rem; }
.error { padding: .5rem .75rem; border: 1px solid var(--bad); color: var(--bad); margin-bottom: 1rem; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(18rem, 100%), 1fr)); gap: 1rem; }
fieldset { border: 1px solid var(--line); min-width: 0; }
label { display: block; margin: .3rem 0; }
`;

/** What every page needs. */
export interface AdminPageContext {
  /** Base path of the panel (`/admin`). */
  readonly base: string;
  /** The session's CSRF token ("" on the login page). */
  readonly csrf: string;
  /** A message after a successful action. */
  readonly flash?: string;
  /** A message after a failed action. */
  readonly error?: string;
}

/** The panel's sections: path (under the base) and label. */
export const ADMIN_NAV: readonly (readonly [string, string])[] = [
  ["", "Connections"],
  ["/bans", "Bans"],
  ["/blocks", "Blocks"],
  ["/health", "Health"],
  ["/settings", "Settings"],
  ["/audit", "Audit log"],
];

function when(ms: number | undefined): string {
  return ms === undefined ? "—" : new Date(ms).toISOString().replace("T", " ").slice(0, 19);
}

function num(n: number): string {
  if (n === 0) return "0";
  if (Math.abs(n) >= 1e4 || Math.abs(n) < 1e-2) return n.toPrecision(4);
  return String(Math.round(n * 1000) / 1000);
}

function rate(hps: number): string {
  const units = ["H/s", "kH/s", "MH/s", "GH/s", "TH/s", "PH/s", "EH/s"];
  let v = hps;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v >= 100 ? 0 : 2)} ${units[i]}`;
}

/** A hidden CSRF field for a form. */
function Csrf(props: { ctx: AdminPageContext }): JSX.Element {
  return <input type="hidden" name="csrf" value={props.ctx.csrf} />;
}

/**
 * The page frame.
 *
 * @internal
 */
export function Layout(
  props: { ctx: AdminPageContext; title: string; children: Child },
): JSX.Element {
  const { ctx } = props;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        <title>{props.title} · denopool admin</title>
        <link rel="stylesheet" href={`${ctx.base}/admin.css`} />
      </head>
      <body>
        <header>
          <strong>denopool admin</strong>
          {ctx.csrf === "" ? null : (
            <nav>
              {ADMIN_NAV.map(([path, label]) => (
                <a key={path} href={`${ctx.base}${path}`}>{label}</a>
              ))}
            </nav>
          )}
          {ctx.csrf === ""
            ? null
            : (
              <form class="inline" method="post" action={`${ctx.base}/logout`}>
                <Csrf ctx={ctx} />
                <button type="submit">Sign out</button>
              </form>
            )}
        </header>
        <main>
          <h1>{props.title}</h1>
          {ctx.flash ? <p class="flash" role="status">{ctx.flash}</p> : null}
          {ctx.error ? <p class="error" role="alert">{ctx.error}</p> : null}
          {props.children}
        </main>
      </body>
    </html>
  );
}

/**
 * The sign-in page.
 *
 * @internal
 */
export function LoginPage(props: { ctx: AdminPageContext }): JSX.Element {
  return (
    <Layout ctx={props.ctx} title="Sign in">
      <form method="post" action={`${props.ctx.base}/login`}>
        <label>
          Password{" "}
          <input type="password" name="password" autocomplete="current-password" required />
        </label>
        <button type="submit">Sign in</button>
      </form>
    </Layout>
  );
}

/** Columns of the connections table: query name and label. */
export const CONNECTION_SORTS: readonly (readonly [string, string])[] = [
  ["worker", "Worker"],
  ["ip", "IP"],
  ["hashrate", "Hashrate"],
  ["difficulty", "Difficulty"],
  ["accepted", "Accepted"],
  ["rejected", "Rejected"],
  ["best", "Best"],
  ["connected", "Connected since"],
  ["last", "Last share"],
];

/**
 * The connections page, filtered and sorted as asked.
 *
 * @internal
 */
export function ConnectionsPage(
  props: {
    ctx: AdminPageContext;
    connections: readonly AdminConnection[];
    total: number;
    q: string;
    sort: string;
    title?: string;
  },
): JSX.Element {
  const { ctx } = props;
  const link = (sort: string) =>
    `${ctx.base}?${new URLSearchParams({
      q: props.q,
      sort: sort === props.sort ? `-${sort}` : sort,
    })}`;
  return (
    <Layout ctx={ctx} title={props.title ?? "Connections"}>
      <form method="get" action={ctx.base}>
        <input
          type="search"
          name="q"
          value={props.q}
          placeholder="worker, address, IP, agent"
          aria-label="filter"
        />
        <input type="hidden" name="sort" value={props.sort} />
        <button type="submit">Filter</button>{" "}
        <span class="muted">{props.connections.length} of {props.total} connections</span>
      </form>
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th>Id</th>
              {CONNECTION_SORTS.map(([key, label]) => (
                <th>
                  <a href={link(key)}>{label}</a>
                </th>
              ))}
              <th>Agent</th>
              <th>TLS</th>
              <th>Rejects by reason</th>
              <th>Act</th>
            </tr>
          </thead>
          <tbody>
            {props.connections.map((c) => (
              <tr data-connection={c.id}>
                <td>{c.id}</td>
                <td>
                  {c.worker === ""
                    ? <span class="muted">(not authorized)</span>
                    : (
                      <a href={`${ctx.base}/worker?${new URLSearchParams({ name: c.worker })}`}>
                        {c.worker}
                      </a>
                    )}
                </td>
                <td>{c.ip}</td>
                <td>{rate(c.hashrate)}</td>
                <td>{num(c.difficulty)}</td>
                <td>{c.accepted}</td>
                <td>{c.rejected}</td>
                <td>{num(c.bestDifficulty)}</td>
                <td>{when(c.connectedAt)}</td>
                <td>{when(c.lastShareAt)}</td>
                <td>{c.userAgent}</td>
                <td>{c.transport === "tls" ? "yes" : "no"}</td>
                <td>
                  {Object.entries(c.rejectedByReason).filter(([, n]) => n > 0)
                    .map(([r, n]) => `${r} ${n}`).join(", ") || "—"}
                </td>
                <td>
                  <form class="inline" method="post" action={`${ctx.base}/actions/kick`}>
                    <Csrf ctx={ctx} />
                    <input type="hidden" name="id" value={c.id} />
                    <button type="submit">Kick</button>
                  </form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div class="grid">
        <fieldset>
          <legend>Message</legend>
          <form method="post" action={`${ctx.base}/actions/message`}>
            <Csrf ctx={ctx} />
            <label>
              Connection id (empty: every miner) <input name="id" />
            </label>
            <label>
              Text <input name="text" required maxlength={512} />
            </label>
            <button type="submit">Send</button>
          </form>
        </fieldset>
        <fieldset>
          <legend>Difficulty floor</legend>
          <form method="post" action={`${ctx.base}/actions/floor`}>
            <Csrf ctx={ctx} />
            <label>
              Worker <input name="worker" required />
            </label>
            <label>
              Difficulty (empty: lift) <input name="difficulty" inputmode="decimal" />
            </label>
            <button type="submit">Set</button>
          </form>
        </fieldset>
        <BanForm ctx={ctx} />
      </div>
    </Layout>
  );
}

function BanForm(props: { ctx: AdminPageContext; kind?: string; value?: string }) {
  const { ctx } = props;
  return (
    <fieldset>
      <legend>Ban</legend>
      <form method="post" action={`${ctx.base}/actions/ban`}>
        <Csrf ctx={ctx} />
        <label>
          What{" "}
          <select name="kind">
            {["worker", "address", "ip"].map((k) => (
              <option value={k} selected={k === props.kind}>{k}</option>
            ))}
          </select>
        </label>
        <label>
          Name, address or IP <input name="value" value={props.value ?? ""} required />
        </label>
        <label>
          Minutes <input name="minutes" value="60" inputmode="numeric" required />
        </label>
        <label>
          Reason <input name="reason" value="banned by the operator" required maxlength={200} />
        </label>
        <button type="submit">Ban</button>
      </form>
    </fieldset>
  );
}

/**
 * The bans page.
 *
 * @internal
 */
export function BansPage(props: { ctx: AdminPageContext; bans: readonly AdminBan[] }): JSX.Element {
  const { ctx } = props;
  return (
    <Layout ctx={ctx} title="Bans">
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th>What</th>
              <th>Key</th>
              <th>Reason</th>
              <th>Rule</th>
              <th>Until</th>
              <th>Act</th>
            </tr>
          </thead>
          <tbody>
            {props.bans.map((b) => (
              <tr data-ban={b.key}>
                <td>{b.kind}</td>
                <td>{b.key}</td>
                <td>{b.reason}</td>
                <td>{b.source}</td>
                <td>{when(b.until)}</td>
                <td>
                  <form class="inline" method="post" action={`${ctx.base}/actions/unban`}>
                    <Csrf ctx={ctx} />
                    <input type="hidden" name="key" value={b.key} />
                    <button type="submit">Unban</button>
                  </form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {props.bans.length === 0 ? <p class="muted">No bans in force.</p> : null}
      <BanForm ctx={ctx} />
    </Layout>
  );
}

/**
 * The block journal page.
 *
 * @internal
 */
export function BlocksPage(
  props: { ctx: AdminPageContext; blocks: readonly AdminBlock[] },
): JSX.Element {
  const { ctx } = props;
  return (
    <Layout ctx={ctx} title="Block journal">
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th>Height</th>
              <th>Hash</th>
              <th>Worker</th>
              <th>Status</th>
              <th>Node's answer</th>
              <th>Attempts</th>
              <th>Found</th>
              <th>Updated</th>
              <th>Act</th>
            </tr>
          </thead>
          <tbody>
            {props.blocks.map((b) => (
              <tr data-block={b.hash}>
                <td>{b.height}</td>
                <td>{b.hash}</td>
                <td>{b.worker}</td>
                <td>{b.status}</td>
                <td>{b.reason ?? "—"}</td>
                <td>{b.attempts}</td>
                <td>{when(b.foundAt)}</td>
                <td>{when(b.updatedAt)}</td>
                <td>
                  <a href={`${ctx.base}/blocks/${b.hash}.hex`} download>raw hex</a>{" "}
                  <form class="inline" method="post" action={`${ctx.base}/actions/resubmit`}>
                    <Csrf ctx={ctx} />
                    <input type="hidden" name="hash" value={b.hash} />
                    <button type="submit">Resubmit</button>
                  </form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {props.blocks.length === 0 ? <p class="muted">No block found yet.</p> : null}
    </Layout>
  );
}

/**
 * The health page.
 *
 * @internal
 */
export function HealthPage(props: { ctx: AdminPageContext; health: AdminHealth }): JSX.Element {
  const h = props.health;
  const yes = (v: boolean | undefined) => v === undefined ? "off" : v ? "healthy" : "DOWN";
  return (
    <Layout ctx={props.ctx} title="Node, ZMQ and template feed">
      <table class="facts">
        <tbody>
          <tr>
            <th>Node RPC</th>
            <td>{yes(h.rpcHealthy)}</td>
          </tr>
          <tr>
            <th>ZMQ</th>
            <td>{yes(h.zmqHealthy)}</td>
          </tr>
          <tr>
            <th>Template feed</th>
            <td>{h.feedReady ? "ready" : `not ready: ${h.notReadyReason ?? "unknown"}`}</td>
          </tr>
          <tr>
            <th>Tip</th>
            <td>{h.tip ? `${h.tip.height} ${h.tip.hash}` : "—"}</td>
          </tr>
        </tbody>
      </table>
      <h2>Errors</h2>
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th>When</th>
              <th>Part</th>
              <th>What</th>
            </tr>
          </thead>
          <tbody>
            {h.events.map((e) => (
              <tr>
                <td>{when(e.at)}</td>
                <td>{e.part}</td>
                <td>{e.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {h.events.length === 0 ? <p class="muted">No errors recorded.</p> : null}
    </Layout>
  );
}

/** Labels and input hints of the overridable settings. */
export const OVERRIDE_FIELDS: readonly (readonly [keyof AdminOverrides, string, string])[] = [
  [
    "targetSharesPerMinute",
    "Vardiff target, shares per minute",
    "difficulty.target_shares_per_minute",
  ],
  ["minDifficulty", "Minimum difficulty", "difficulty.min"],
  ["maxDifficulty", "Maximum difficulty (0 = none)", "difficulty.max"],
  [
    "messagesPerMinute",
    "Messages per minute per connection (0 = no limit)",
    "stratum.messages_per_minute",
  ],
  ["acceptRatePerSecond", "New connections per second", "stratum.accept_rate_per_second"],
  ["maxConnectionsPerIp", "Connections per IP (0 = no limit)", "stratum.max_connections_per_ip"],
  ["exempt", "Exempt addresses, comma separated", "bans.exempt"],
  ["poolTag", "Pool tag in the coinbase", "mining.pool_tag"],
];

/**
 * The settings page: overrides (form) and the effective configuration.
 *
 * @internal
 */
export function SettingsPage(
  props: {
    ctx: AdminPageContext;
    overrides: AdminOverrides;
    settings: readonly EffectiveSetting[];
  },
): JSX.Element {
  const { ctx } = props;
  const value = (k: keyof AdminOverrides) => {
    const v = props.overrides[k];
    return v === undefined ? "" : Array.isArray(v) ? v.join(", ") : String(v);
  };
  return (
    <Layout ctx={ctx} title="Settings">
      <h2>Runtime overrides</h2>
      <p class="muted">
        They apply at once and survive a restart. Leave a field empty to go back to the config.
      </p>
      <form method="post" action={`${ctx.base}/actions/overrides`}>
        <Csrf ctx={ctx} />
        {OVERRIDE_FIELDS.map(([key, label, toml]) => (
          <label>
            {label} <span class="muted">({toml})</span> <input name={key} value={value(key)} />
          </label>
        ))}
        <button type="submit">Apply</button>
      </form>
      <h2>Effective configuration</h2>
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th>Key</th>
              <th>Value</th>
              <th>Overridden</th>
            </tr>
          </thead>
          <tbody>
            {props.settings.map((s) => (
              <tr data-key={s.key}>
                <td>{s.key}</td>
                <td>{JSON.stringify(s.value)}</td>
                <td>{s.overridden ? "yes" : ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Layout>
  );
}

/**
 * The audit log page.
 *
 * @internal
 */
export function AuditPage(
  props: { ctx: AdminPageContext; entries: readonly AuditEntry[] },
): JSX.Element {
  return (
    <Layout ctx={props.ctx} title="Audit log">
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th>When</th>
              <th>Who</th>
              <th>Action</th>
              <th>Target</th>
              <th>Detail</th>
            </tr>
          </thead>
          <tbody>
            {props.entries.map((e) => (
              <tr>
                <td>{when(e.at)}</td>
                <td>{e.who}</td>
                <td>{e.action}</td>
                <td>{e.target}</td>
                <td>{e.detail}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Layout>
  );
}

/**
 * One worker: its live connections, bans and blocks.
 *
 * @internal
 */
export function WorkerPage(
  props: {
    ctx: AdminPageContext;
    name: string;
    connections: readonly AdminConnection[];
    bans: readonly AdminBan[];
    blocks: readonly AdminBlock[];
  },
): JSX.Element {
  const { ctx } = props;
  return (
    <Layout ctx={ctx} title={`Worker ${props.name}`}>
      <h2>Live connections ({props.connections.length})</h2>
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th>Id</th>
              <th>IP</th>
              <th>Hashrate</th>
              <th>Difficulty</th>
              <th>Accepted</th>
              <th>Rejected</th>
              <th>Best</th>
              <th>Connected since</th>
              <th>Last share</th>
            </tr>
          </thead>
          <tbody>
            {props.connections.map((c) => (
              <tr>
                <td>{c.id}</td>
                <td>{c.ip}</td>
                <td>{rate(c.hashrate)}</td>
                <td>{num(c.difficulty)}</td>
                <td>{c.accepted}</td>
                <td>{c.rejected}</td>
                <td>{num(c.bestDifficulty)}</td>
                <td>{when(c.connectedAt)}</td>
                <td>{when(c.lastShareAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Bans</h2>
      <ul>
        {props.bans.map((b) => <li key={b.key}>{b.key}: {b.reason} until {when(b.until)}</li>)}
      </ul>
      {props.bans.length === 0 ? <p class="muted">None.</p> : null}
      <h2>Blocks</h2>
      <ul>
        {props.blocks.map((b) => <li key={b.hash}>{b.height} {b.hash} {b.status}</li>)}
      </ul>
      {props.blocks.length === 0 ? <p class="muted">None.</p> : null}
      <BanForm ctx={ctx} kind="worker" value={props.name} />
    </Layout>
  );
}
