/**
 * The Grafana dashboard in `packaging/grafana/`: a dashboard Grafana can import (inputs for the
 * Prometheus data source, panels on a grid that do not overlap, a query per target). That every
 * query names a metric the running pool really exports is checked against a live pool's `/metrics`
 * in `api_live_test.ts`.
 */
import assert from "node:assert/strict";
import { DASHBOARD_PATH, dashboardQueries } from "./helpers/grafana.ts";

interface Panel {
  id: number;
  title: string;
  type: string;
  datasource: { type: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets: { refId: string; expr: string; datasource: { uid: string } }[];
}

const dashboard = JSON.parse(await Deno.readTextFile(DASHBOARD_PATH));

Deno.test("grafana: an importable dashboard with a Prometheus data source input", () => {
  assert.equal(dashboard.uid, "denopool");
  assert.equal(typeof dashboard.title, "string");
  assert.ok(Number.isInteger(dashboard.schemaVersion) && dashboard.schemaVersion >= 36);
  const input = dashboard.__inputs.find((i: { name: string }) => i.name === "DS_PROMETHEUS");
  assert.equal(input?.pluginId, "prometheus");
  assert.ok(dashboard.panels.length >= 10);
});

Deno.test("grafana: every panel has a unique id, a known type, queries and a place on the grid", () => {
  const panels = dashboard.panels as Panel[];
  assert.equal(new Set(panels.map((p) => p.id)).size, panels.length, "ids unique");
  const cells = new Set<string>();
  for (const p of panels) {
    assert.ok(["stat", "timeseries", "gauge", "table"].includes(p.type), p.title);
    assert.equal(p.datasource.uid, "${DS_PROMETHEUS}", p.title);
    assert.ok(p.targets.length > 0, `${p.title}: no query`);
    assert.equal(new Set(p.targets.map((t) => t.refId)).size, p.targets.length, "refIds unique");
    for (const t of p.targets) assert.ok(t.expr.trim().length > 0, p.title);
    const { x, y, w, h } = p.gridPos;
    assert.ok(x >= 0 && w > 0 && x + w <= 24 && y >= 0 && h > 0, `${p.title}: grid`);
    for (let cx = x; cx < x + w; cx++) {
      for (let cy = y; cy < y + h; cy++) {
        const cell = `${cx},${cy}`;
        assert.ok(!cells.has(cell), `${p.title} overlaps another panel at ${cell}`);
        cells.add(cell);
      }
    }
  }
  assert.ok(dashboardQueries(dashboard).length >= panels.length);
});
