/**
 * Reads a Grafana dashboard JSON (`packaging/grafana/`): its panels and the metric names their
 * Prometheus queries use.
 *
 * @module
 */

/** One panel target's query. */
export interface PanelQuery {
  /** Panel title. */
  readonly panel: string;
  /** PromQL expression. */
  readonly expr: string;
}

/** The dashboard file of the project. */
export const DASHBOARD_PATH: URL = new URL(
  "../../packaging/grafana/denopool.json",
  import.meta.url,
);

/** Every query of every panel (rows' nested panels too). */
export function dashboardQueries(dashboard: unknown): PanelQuery[] {
  const out: PanelQuery[] = [];
  const walk = (panels: unknown) => {
    if (!Array.isArray(panels)) return;
    for (const p of panels as Record<string, unknown>[]) {
      for (const t of (p.targets as Record<string, unknown>[] | undefined) ?? []) {
        if (typeof t.expr === "string") out.push({ panel: String(p.title), expr: t.expr });
      }
      walk(p.panels);
    }
  };
  walk((dashboard as Record<string, unknown>).panels);
  return out;
}

/**
 * The metric names a PromQL expression reads (`prefix_…` identifiers), with a histogram's
 * `_bucket`/`_sum`/`_count` suffix mapped to its family when `histograms` names it.
 */
export function metricNames(
  expr: string,
  prefix: string,
  histograms: ReadonlySet<string>,
): string[] {
  const names = new Set<string>();
  for (const m of expr.matchAll(new RegExp(`\\b${prefix}_[a-z_]+`, "g"))) {
    let name = m[0];
    const base = name.replace(/_(bucket|sum|count)$/, "");
    if (base !== name && histograms.has(base)) name = base;
    names.add(name);
  }
  return [...names];
}
