/**
 * Building blocks of the pages: the layout (head, nav, theme toggle, stale banner), bound values,
 * stat cards, tables and the hashrate chart. Every bound element carries `data-k` (which API value)
 * and `data-f` (which `format.js` formatter), so `app.js` can refresh it from the JSON API and the
 * first render needs no JavaScript.
 *
 * The components are `@internal` to this folder (`routes/pages.ts` renders them): their props and
 * results are Hono's JSX types.
 *
 * @module
 */

import type { JSX } from "hono/jsx/jsx-runtime";
import type { Child } from "hono/jsx";
import { ago, chartPaths, format, hashrate, pick, utc } from "../../static/format.js";
import type { FormatterName } from "../../static/format.js";
import type { ApiKey, Binding, Column, PageContext, PageData } from "./types.ts";

/** Nav entries: path and label. */
export const NAV: readonly (readonly [string, string])[] = [
  ["/", "Overview"],
  ["/blocks", "Blocks"],
  ["/worker", "My worker"],
  ["/pool", "Pool"],
  ["/node", "Node"],
  ["/server", "Server"],
  ["/help", "Help"],
];

/** The value behind a binding in this request's data. */
export function valueOf(data: PageData, binding: Binding): unknown {
  const colon = binding.indexOf(":");
  const api = binding.slice(0, colon) as ApiKey;
  return pick(data[api]?.data, binding.slice(colon + 1));
}

/**
 * A value the browser keeps fresh: `<span data-k data-f>formatted</span>`.
 *
 * @internal
 */
export function V(props: { ctx: PageContext; k: Binding; f: FormatterName }): JSX.Element {
  return (
    <span data-k={props.k} data-f={props.f}>
      {format(props.f, valueOf(props.ctx.data, props.k))}
    </span>
  );
}

/**
 * A stat card: a label over a big value, with an optional note line.
 *
 * @internal
 */
export function Stat(
  props: { label: string; children: Child; note?: Child; id?: string; wide?: boolean },
): JSX.Element {
  return (
    <div class={props.wide ? "stat stat-wide" : "stat"} id={props.id}>
      <div class="stat-label">{props.label}</div>
      <div class="stat-value">{props.children}</div>
      {props.note !== undefined ? <div class="stat-note">{props.note}</div> : null}
    </div>
  );
}

/**
 * A card: a titled section of the page.
 *
 * @internal
 */
export function Card(
  props: { title: string; children: Child; id?: string; aside?: Child },
): JSX.Element {
  return (
    <section class="card" id={props.id}>
      <header class="card-head">
        <h2>{props.title}</h2>
        {props.aside ?? null}
      </header>
      {props.children}
    </section>
  );
}

/**
 * Label/value rows (`<dl>`) of bound values.
 *
 * @internal
 */
export function Facts(
  props: { ctx: PageContext; rows: readonly (readonly [string, Binding, FormatterName])[] },
): JSX.Element {
  return (
    <dl class="facts">
      {props.rows.map(([label, k, f]) => (
        <div class="fact">
          <dt>{label}</dt>
          <dd>
            <V ctx={props.ctx} k={k} f={f} />
          </dd>
        </div>
      ))}
    </dl>
  );
}

function cells(columns: readonly Column[], row: unknown) {
  return columns.map((col) => (
    <td
      class={[col.num ? "num" : "", col.wide ? "wide" : ""].join(" ").trim() || undefined}
      data-c={col.path}
      data-f={col.f}
    >
      {row === undefined ? "" : format(col.f, pick(row, col.path))}
    </td>
  ));
}

/**
 * A table of the array at `k`: rows rendered now, plus a `<template>` row the browser clones when
 * the array changes. `empty` shows when there are no rows.
 *
 * @internal
 */
export function Table(
  props: {
    ctx: PageContext;
    k: Binding;
    columns: readonly Column[];
    empty: string;
    id?: string;
    limit?: number;
  },
): JSX.Element {
  const value = valueOf(props.ctx.data, props.k);
  const all = Array.isArray(value) ? value : [];
  const rows = props.limit !== undefined ? all.slice(0, props.limit) : all;
  return (
    <div class="table-wrap">
      <table id={props.id}>
        <thead>
          <tr>
            {props.columns.map((col) => (
              <th
                class={[col.num ? "num" : "", col.wide ? "wide" : ""].join(" ").trim() ||
                  undefined}
              >
                {col.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody data-list={props.k} data-limit={props.limit}>
          {
            // deno-lint-ignore jsx-key -- server-rendered once: keys would only become attributes
            rows.map((row) => <tr>{cells(props.columns, row)}</tr>)
          }
        </tbody>
        <template data-row-for={props.k}>
          <tr>{cells(props.columns, undefined)}</tr>
        </template>
      </table>
      <p class={rows.length === 0 ? "empty" : "empty hidden"} data-empty-for={props.k}>
        {props.empty}
      </p>
    </div>
  );
}

/** Width and height of the chart's drawing box (SVG user units). */
export const CHART_W = 600;
/** Height of the chart's drawing box. */
export const CHART_H = 160;

/**
 * The pool hashrate chart, drawn now from the history and redrawn by the browser.
 *
 * @internal
 */
export function HashrateChart(props: { ctx: PageContext }): JSX.Element {
  const history = props.ctx.data.hashrate?.data.pool_hashrate_history;
  const paths = chartPaths(history, CHART_W, CHART_H);
  const range = Number.isFinite(paths.from)
    ? `${utc(new Date(paths.from).toISOString())} – ${utc(new Date(paths.to).toISOString())}`
    : "collecting samples…";
  return (
    <figure class="chart" id="hashrate-chart">
      <svg
        viewBox={`0 0 ${CHART_W} ${CHART_H}`}
        preserveAspectRatio="none"
        role="img"
        aria-label="Pool hashrate over time"
        data-chart="hashrate:pool_hashrate_history"
      >
        <line class="grid" x1="0" y1={CHART_H / 4} x2={CHART_W} y2={CHART_H / 4} />
        <line class="grid" x1="0" y1={CHART_H / 2} x2={CHART_W} y2={CHART_H / 2} />
        <line class="grid" x1="0" y1={(CHART_H * 3) / 4} x2={CHART_W} y2={(CHART_H * 3) / 4} />
        <path class="area" d={paths.area} />
        <path class="line" d={paths.line} vector-effect="non-scaling-stroke" />
      </svg>
      <figcaption>
        <span>
          peak <span data-chart-max>{paths.max > 0 ? hashrate(paths.max) : "–"}</span>
        </span>
        <span data-chart-range>{range}</span>
      </figcaption>
    </figure>
  );
}

/**
 * The connect panel: Stratum URLs, username and password for a miner.
 *
 * @internal
 */
export function Connect(props: { ctx: PageContext }): JSX.Element {
  const { ctx } = props;
  return (
    <Card title="Connect your miner" id="connect">
      {ctx.stratum.length === 0
        ? <p>This status site does not list the pool's Stratum address.</p>
        : (
          <dl class="facts connect">
            {ctx.stratum.map((s) => (
              <div class="fact">
                <dt>{s.tls ? "Stratum (TLS)" : "Stratum"}</dt>
                <dd>
                  <code class="copy" data-copy>{s.url}</code>
                </dd>
              </div>
            ))}
            <div class="fact">
              <dt>Username</dt>
              <dd>
                <code>YOUR_BTC_ADDRESS.worker_name</code>
              </dd>
            </div>
            <div class="fact">
              <dt>Password</dt>
              <dd>
                <code>x</code> (anything)
              </dd>
            </div>
            {ctx.site.poolFeePercent !== undefined
              ? (
                <div class="fact">
                  <dt>Pool fee</dt>
                  <dd>{ctx.site.poolFeePercent} % of a found block</dd>
                </div>
              )
              : null}
          </dl>
        )}
      <p class="muted">
        Solo mining: a block found by your miner pays its reward to your address.{" "}
        <a href="/help">Step-by-step for a Bitaxe or cpuminer</a>
      </p>
    </Card>
  );
}

/**
 * The banner shown while the data is overdue.
 *
 * @internal
 */
export function StaleBanner(
  props: { stale: boolean; mirror: boolean; updated: number; now: number },
): JSX.Element {
  return (
    <div class={props.stale ? "banner" : "banner hidden"} id="stale" role="status">
      {props.mirror
        ? "The mirrored pool is not answering: these numbers are the last ones it sent."
        : "These numbers are out of date: the status data has not refreshed."} Last update{" "}
      <span id="updated-ago">
        {props.updated > 0 ? ago(new Date(props.updated).toISOString(), props.now) : "never"}
      </span>.
    </div>
  );
}

/**
 * Props of {@linkcode Layout}.
 *
 * @internal
 */
export interface LayoutProps {
  /** The page. */
  readonly ctx: PageContext;
  /** Title (before the brand name). */
  readonly title: string;
  /** Which APIs the page polls (space separated keys of `API_PATHS`). */
  readonly poll: readonly ApiKey[];
  /** `limit` for `/api/blocks`. */
  readonly blocksLimit?: number;
  /** Extra scripts (static file names). */
  readonly scripts?: readonly string[];
  /** External script URLs (Clerk), allowed by the page's CSP. */
  readonly externalScripts?: readonly { src: string; attrs?: Record<string, string> }[];
  /** Worker hash the page polls `/api/worker-lookup` for. */
  readonly lookupHash?: string;
  /** The page body. */
  readonly children: Child;
}

/**
 * The HTML document around every page.
 *
 * @internal
 */
export function Layout(props: LayoutProps): JSX.Element {
  const { ctx } = props;
  const updated = Math.max(
    0,
    ...Object.values(ctx.data).map((s) =>
      (s as { updatedAt?: number } | undefined)?.updatedAt ?? 0
    ),
  );
  const network = ctx.site.network && ctx.site.network !== "main" ? ctx.site.network : undefined;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>{`${props.title} · ${ctx.site.brandName}`}</title>
        <link rel="icon" href={ctx.asset("favicon.svg")} type="image/svg+xml" />
        <link rel="stylesheet" href={ctx.asset("app.css")} />
        <script src={ctx.asset("theme.js")}></script>
        <script type="module" src={ctx.asset("app.js")}></script>
        {(props.scripts ?? []).map((s) => (
          <script type="module" src={ctx.asset(s)}>
          </script>
        ))}
        {(props.externalScripts ?? []).map((s) => (
          <script src={s.src} async crossorigin="anonymous" {...(s.attrs ?? {})}></script>
        ))}
      </head>
      <body
        data-poll={props.poll.join(" ")}
        data-blocks-limit={props.blocksLimit}
        data-hash={props.lookupHash}
        data-updated={updated > 0 ? String(updated) : undefined}
      >
        <header class="top">
          <a class="brand" href="/">
            <svg class="logo" viewBox="0 0 32 32" aria-hidden="true">
              <circle cx="16" cy="16" r="15" />
              <path d="M11 8h7a4 4 0 0 1 0 8h-7zM11 16h8a4 4 0 0 1 0 8h-8zM13 6v20M16 6v20" />
            </svg>
            <span>{ctx.site.brandName}</span>
            {network ? <span class="badge">{network}</span> : null}
            {ctx.site.mirrorOf ? <span class="badge">mirror</span> : null}
          </a>
          <nav>
            {NAV.map(([href, label]) => (
              <a href={href} aria-current={ctx.path === href ? "page" : undefined}>{label}</a>
            ))}
          </nav>
          <button type="button" class="theme" id="theme-toggle" aria-label="Switch light/dark">
            <svg viewBox="0 0 24 24" aria-hidden="true">
              <path d="M12 3a9 9 0 1 0 9 9 7 7 0 0 1-9-9z" />
            </svg>
          </button>
        </header>
        <StaleBanner
          stale={ctx.stale}
          mirror={ctx.site.mirrorOf !== undefined}
          updated={updated}
          now={ctx.now}
        />
        <main>
          <h1>{props.title}</h1>
          {props.children}
        </main>
        <footer>
          <span>
            {ctx.site.brandName} · solo mining pool
            {ctx.site.mirrorOf ? ` · status mirror of ${ctx.site.mirrorOf}` : ""}
          </span>
          <span>
            <a href="/saved-workers">Saved workers</a> · <a href="/api/overview">JSON API</a>
          </span>
        </footer>
      </body>
    </html>
  );
}
