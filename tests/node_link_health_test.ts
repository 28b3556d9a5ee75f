/** LinkHealth: the up/down state of a link to the node and its transition counts. */

import assert from "node:assert/strict";
import { LinkHealth } from "../lib/node/link_health.ts";

Deno.test("a link starts down with nothing counted", () => {
  const link = new LinkHealth();
  assert.equal(link.healthy, false);
  assert.equal(link.disconnects, 0);
  assert.equal(link.reconnects, 0);
});

Deno.test("the first time up is not a reconnect; each later flip counts once", () => {
  const link = new LinkHealth();
  assert.equal(link.set(true), true);
  assert.deepEqual([link.healthy, link.disconnects, link.reconnects], [true, 0, 0]);
  assert.equal(link.set(false), true);
  assert.deepEqual([link.healthy, link.disconnects, link.reconnects], [false, 1, 0]);
  assert.equal(link.set(true), true);
  assert.deepEqual([link.healthy, link.disconnects, link.reconnects], [true, 1, 1]);
});

Deno.test("setting the state it already has is no transition", () => {
  const link = new LinkHealth();
  assert.equal(link.set(false), false, "down while never up: no disconnect");
  link.set(true);
  assert.equal(link.set(true), false);
  assert.deepEqual([link.disconnects, link.reconnects], [0, 0]);
});
