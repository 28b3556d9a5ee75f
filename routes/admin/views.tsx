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
import { OVERRIDE_CONFIG_KEYS } from "../../lib/admin/mod.ts";

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
                  <ActionButton ctx={ctx} action="kick" name="id" value={c.id} label="Kick" />
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

/** One row of a {@linkcode DataTable}: its cells, and attributes that name it for tests and links. */
interface Row {
  readonly key: string;
  readonly attrs?: Readonly<Record<string, string>>;
  readonly cells: readonly Child[];
}

/** A table that scrolls sideways on a narrow screen, with a line of its own when empty. */
function DataTable(
  props: { head: readonly string[]; rows: readonly Row[]; empty?: string },
): JSX.Element {
  return (
    <>
      <div class="scroll">
        <table>
          <thead>
            <tr>{props.head.map((h) => <th key={h}>{h}</th>)}</tr>
          </thead>
          <tbody>
            {props.rows.map((r) => (
              <tr key={r.key} {...(r.attrs ?? {})}>
                {r.cells.map((c, i) => <td key={String(i)}>{c}</td>)}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {props.rows.length === 0 && props.empty ? <p class="muted">{props.empty}</p> : null}
    </>
  );
}

/** A one-button form posting `name=value` (and the CSRF token) to an action. */
function ActionButton(
  props: { ctx: AdminPageContext; action: string; name: string; value: string; label: string },
): JSX.Element {
  return (
    <form class="inline" method="post" action={`${props.ctx.base}/actions/${props.action}`}>
      <Csrf ctx={props.ctx} />
      <input type="hidden" name={props.name} value={props.value} />
      <button type="submit">{props.label}</button>
    </form>
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
      <DataTable
        head={["What", "Key", "Reason", "Rule", "Until", "Act"]}
        empty="No bans in force."
        rows={props.bans.map((b) => ({
          key: b.key,
          attrs: { "data-ban": b.key },
          cells: [
            b.kind,
            b.key,
            b.reason,
            b.source,
            when(b.until),
            <ActionButton
              key="act"
              ctx={ctx}
              action="unban"
              name="key"
              value={b.key}
              label="Unban"
            />,
          ],
        }))}
      />
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
  const head = ["Height", "Hash", "Worker", "Status", "Node's answer", "Attempts", "Found"];
  return (
    <Layout ctx={ctx} title="Block journal">
      <DataTable
        head={[...head, "Updated", "Act"]}
        empty="No block found yet."
        rows={props.blocks.map((b) => ({
          key: b.hash,
          attrs: { "data-block": b.hash },
          cells: [
            String(b.height),
            b.hash,
            b.worker,
            b.status,
            b.reason ?? "—",
            String(b.attempts),
            when(b.foundAt),
            when(b.updatedAt),
            <span key="act">
              <a href={`${ctx.base}/blocks/${b.hash}.hex`} download>raw hex</a>{" "}
              <ActionButton
                ctx={ctx}
                action="resubmit"
                name="hash"
                value={b.hash}
                label="Resubmit"
              />
            </span>,
          ],
        }))}
      />
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
  const facts: [string, string][] = [
    ["Node RPC", yes(h.rpcHealthy)],
    ["ZMQ", yes(h.zmqHealthy)],
    ["Template feed", h.feedReady ? "ready" : `not ready: ${h.notReadyReason ?? "unknown"}`],
    ["Tip", h.tip ? `${h.tip.height} ${h.tip.hash}` : "—"],
  ];
  return (
    <Layout ctx={props.ctx} title="Node, ZMQ and template feed">
      <table class="facts">
        <tbody>
          {facts.map(([k, v]) => (
            <tr key={k}>
              <th>{k}</th>
              <td>{v}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Errors</h2>
      <DataTable
        head={["When", "Part", "What"]}
        empty="No errors recorded."
        rows={h.events.map((e, i) => ({ key: String(i), cells: [when(e.at), e.part, e.message] }))}
      />
    </Layout>
  );
}

/** The label of each overridable setting on the settings page. */
export const OVERRIDE_LABELS: Readonly<Record<keyof AdminOverrides, string>> = {
  targetSharesPerMinute: "Vardiff target, shares per minute",
  minDifficulty: "Minimum difficulty",
  maxDifficulty: "Maximum difficulty (0 = none)",
  messagesPerMinute: "Messages per minute per connection (0 = no limit)",
  acceptRatePerSecond: "New connections per second",
  maxConnectionsPerIp: "Connections per IP (0 = no limit)",
  exempt: "Exempt addresses, comma separated",
  poolTag: "Pool tag in the coinbase",
};

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
        {(Object.keys(OVERRIDE_LABELS) as (keyof AdminOverrides)[]).map((key) => (
          <label key={key}>
            {OVERRIDE_LABELS[key]} <span class="muted">({OVERRIDE_CONFIG_KEYS[key]})</span>{" "}
            <input name={key} value={value(key)} />
          </label>
        ))}
        <button type="submit">Apply</button>
      </form>
      <h2>Effective configuration</h2>
      <DataTable
        head={["Key", "Value", "Overridden"]}
        rows={props.settings.map((s) => ({
          key: s.key,
          attrs: { "data-key": s.key },
          cells: [s.key, JSON.stringify(s.value), s.overridden ? "yes" : ""],
        }))}
      />
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
      <DataTable
        head={["When", "Who", "Action", "Target", "Detail"]}
        empty="Nothing yet."
        rows={props.entries.map((e, i) => ({
          key: String(i),
          cells: [when(e.at), e.who, e.action, e.target, e.detail],
        }))}
      />
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
      <DataTable
        head={[
          "Id",
          "IP",
          "Hashrate",
          "Difficulty",
          "Accepted",
          "Rejected",
          "Best",
          "Since",
          "Last",
        ]}
        rows={props.connections.map((c) => ({
          key: c.id,
          cells: [
            c.id,
            c.ip,
            rate(c.hashrate),
            num(c.difficulty),
            String(c.accepted),
            String(c.rejected),
            num(c.bestDifficulty),
            when(c.connectedAt),
            when(c.lastShareAt),
          ],
        }))}
      />
      <h2>Bans</h2>
      <DataTable
        head={["Key", "Reason", "Until"]}
        empty="None."
        rows={props.bans.map((b) => ({ key: b.key, cells: [b.key, b.reason, when(b.until)] }))}
      />
      <h2>Blocks</h2>
      <DataTable
        head={["Height", "Hash", "Status"]}
        empty="None."
        rows={props.blocks.map((b) => ({
          key: b.hash,
          cells: [String(b.height), b.hash, b.status],
        }))}
      />
      <BanForm ctx={ctx} kind="worker" value={props.name} />
    </Layout>
  );
}
