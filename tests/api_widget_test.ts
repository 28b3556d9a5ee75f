/**
 * `/api/widget`: four figures in Umbrel's `four-stats` format, built from the same sources as the
 * overview, served by the status app with its schema.
 */
import assert from "node:assert/strict";
import { buildWidget, siFigure } from "../lib/status/views.ts";
import { memorySources, sampleStatusData } from "../lib/status/memory.ts";
import { WidgetDataSchema } from "../lib/status/schemas.ts";
import { SNAPSHOT_ENDPOINT } from "../lib/status/endpoints.ts";

const NOW = Date.UTC(2026, 11, 3, 12, 0, 0);

Deno.test("widget figures: three significant digits with an SI prefix", () => {
  assert.deepEqual(siFigure(0), ["0", ""]);
  assert.deepEqual(siFigure(Number.NaN), ["0", ""]);
  assert.deepEqual(siFigure(7), ["7.00", ""]);
  assert.deepEqual(siFigure(999), ["999", ""]);
  assert.deepEqual(siFigure(999.6), ["1.00", "k"]);
  assert.deepEqual(siFigure(1234), ["1.23", "k"]);
  assert.deepEqual(siFigure(2.5e12), ["2.50", "T"]);
  assert.deepEqual(siFigure(45.6e15), ["45.6", "P"]);
  assert.deepEqual(siFigure(612e18), ["612", "E"]);
});

Deno.test("widget: pool hashrate, miners online, best share, blocks found, in four-stats form", () => {
  const data = sampleStatusData(NOW);
  const widget = buildWidget(memorySources(data), NOW, 10_000);
  assert.equal(widget.type, "four-stats");
  assert.equal(widget.refresh, "10s");
  assert.deepEqual(widget.items.map((i) => i.title), [
    "Pool hashrate",
    "Miners",
    "Best share",
    "Blocks found",
  ]);
  const [rate, miners, best, blocks] = widget.items;
  const [rateText, ratePrefix] = siFigure(data.counters.hashrate!);
  assert.deepEqual([rate.text, rate.subtext], [rateText, `${ratePrefix}H/s`]);
  assert.equal(miners.text, String(data.workers.length), "every authorized connection is online");
  const top = Math.max(...data.bestShares.map((s) => s.difficulty));
  assert.equal(best.text, siFigure(top).join(""));
  assert.deepEqual([blocks.text, blocks.subtext], [String(data.counters.blocksAccepted), "blocks"]);
});

Deno.test("widget: an empty pool shows zeros, not gaps", () => {
  const data = sampleStatusData(NOW);
  const empty = {
    ...data,
    workers: [],
    bestShares: [],
    counters: { blocksAccepted: 1, blocksErrored: 0, shareErrors: 0 },
  };
  const widget = buildWidget(memorySources(empty), NOW, 3_000);
  assert.equal(widget.refresh, "3s");
  assert.deepEqual(widget.items.map((i) => [i.text, i.subtext]), [
    ["0", "H/s"],
    ["0", "online"],
    ["0", "difficulty"],
    ["1", "block"],
  ]);
});

Deno.test("widget: the endpoint row names its schema, and the body keeps to it", () => {
  const row = SNAPSHOT_ENDPOINT.widget;
  assert.equal(row.path, "/api/widget");
  assert.equal(row.schema, WidgetDataSchema);
  const body = buildWidget(memorySources(sampleStatusData(NOW)), NOW, row.refreshMs);
  const props = WidgetDataSchema.properties;
  assert.deepEqual(Object.keys(body).sort(), Object.keys(props).sort());
  assert.ok(body.items.length <= 4);
});
