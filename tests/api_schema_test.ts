import assert from "node:assert/strict";
import { ENDPOINTS } from "../lib/status/endpoints.ts";
import { openApiDocument } from "../lib/status/openapi.ts";
import {
  FoundBlocksSchema,
  PoolErrorEventSchema,
  PoolHashrateResponseSchema,
  validate,
} from "../lib/status/schemas.ts";

Deno.test("validate accepts a conforming object and reports nothing", () => {
  assert.deepEqual(validate(PoolErrorEventSchema, { type: "rpc", message: "x" }), []);
  assert.deepEqual(
    validate(PoolErrorEventSchema, { at: "2026-01-31T19:55:02Z", type: "rpc", message: "x" }),
    [],
  );
});

Deno.test("validate reports missing, unknown and mistyped members with their paths", () => {
  assert.deepEqual(validate(PoolErrorEventSchema, { type: 1, wallet_script: "00" }), [
    "$.message: required member missing",
    "$.type: expected string, got number",
    "$.wallet_script: not a member of PoolErrorEvent",
  ]);
});

Deno.test("validate checks RFC3339, integers, minimums, enums and null", () => {
  const errors = validate(FoundBlocksSchema, [{
    height: 1.5,
    hash: "...ab",
    display_hash: "...ab",
    worker: "w",
    display_worker: "w",
    timestamp: "2026-01-31 19:55:02",
    share_diff: -1,
    confirmations: null,
    result: "orphan",
  }]);
  assert.deepEqual(errors, [
    "$[0].height: expected integer, got 1.5",
    '$[0].timestamp: "2026-01-31 19:55:02" is not an RFC3339 timestamp',
    "$[0].share_diff: -1 is below the minimum 0",
    "$[0].confirmations: expected integer, got null",
    '$[0].result: "orphan" is not one of possible, winning, stale',
  ]);
});

Deno.test("validate rejects NaN and Infinity, which JSON cannot carry", () => {
  assert.deepEqual(validate({ type: "number" }, NaN), ["$: expected number, got NaN"]);
  assert.deepEqual(validate({ type: "integer" }, Infinity), ["$: expected integer, got Infinity"]);
});

Deno.test("validate limits /api/blocks to 100 entries", () => {
  const block = {
    height: 1,
    hash: "...a",
    display_hash: "...a",
    worker: "w",
    display_worker: "w",
    timestamp: "2026-01-31T19:55:02Z",
    share_diff: 1,
  };
  assert.deepEqual(validate(FoundBlocksSchema, Array(100).fill(block)), []);
  assert.deepEqual(validate(FoundBlocksSchema, Array(101).fill(block)), [
    "$: 101 items, at most 100 allowed",
  ]);
});

Deno.test("api_version must be exactly the string 1", () => {
  const errors = validate(PoolHashrateResponseSchema, {
    api_version: 1,
    pool_hashrate: 0,
    block_height: 0,
    block_difficulty: 0,
    block_time_left_sec: -1,
    recent_block_times: [],
    updated_at: "2026-01-31T19:55:02Z",
  });
  assert.deepEqual(errors, ["$.api_version: expected string, got number"]);
});

Deno.test("the OpenAPI document has every endpoint, its parameters and its schema", () => {
  const doc = openApiDocument({ version: "0.1.0", serverUrl: "https://pool.example" });
  assert.equal(doc.openapi, "3.1.0");
  const paths = doc.paths as Record<string, Record<string, Record<string, unknown>>>;
  assert.deepEqual(Object.keys(paths).sort(), Object.keys(ENDPOINTS).sort());
  const blocks = paths["/api/blocks"].get;
  const limit = (blocks.parameters as { name: string; schema: Record<string, number> }[])[0];
  assert.equal(limit.name, "limit");
  assert.deepEqual(limit.schema, { type: "integer", default: 10, minimum: 1, maximum: 100 });
  assert.ok("400" in (blocks.responses as object));
  const hashrate = paths["/api/pool-hashrate"].get;
  assert.equal((hashrate.parameters as { name: string }[])[0].name, "include_history");
  assert.deepEqual(doc.servers, [{ url: "https://pool.example" }]);
});

Deno.test("OpenAPI components mirror the schemas: required members and closed objects", () => {
  const doc = openApiDocument();
  const schemas = (doc.components as { schemas: Record<string, Record<string, unknown>> }).schemas;
  for (
    const name of [
      "OverviewPageData",
      "RecentWorkView",
      "WorkerView",
      "BestShare",
      "MinerTypeView",
      "PoolPageData",
      "PoolErrorEvent",
      "NodePageData",
      "NodePeerInfo",
      "ServerPageData",
      "ServerPageJobFeed",
      "PoolHashrateResponse",
      "PoolHashrateHistoryPoint",
      "FoundBlockView",
    ]
  ) {
    assert.ok(name in schemas, name);
    assert.equal(schemas[name].additionalProperties, false, name);
  }
  const overview = schemas.OverviewPageData;
  assert.ok((overview.required as string[]).includes("render_duration"));
  assert.ok(!(overview.required as string[]).includes("miner_types"));
  const workers = (overview.properties as Record<string, Record<string, unknown>>).workers;
  assert.deepEqual(workers.items, { $ref: "#/components/schemas/RecentWorkView" });
  // Every $ref points at a component that exists.
  const refs = JSON.stringify(doc).match(/#\/components\/schemas\/\w+/g) ?? [];
  for (const ref of refs) assert.ok(ref.split("/").pop()! in schemas, ref);
});
