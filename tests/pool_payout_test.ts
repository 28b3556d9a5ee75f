/**
 * `payoutResolver`: `ADDRESS[.worker]` → the payout script, with clear errors; the rigs of one
 * address share its script (a farm's thousands of connections hold one copy).
 */
import assert from "node:assert/strict";
import { payoutResolver } from "../lib/pool/payout.ts";
import { NETWORKS } from "../lib/bitcoin/networks.ts";
import { addressToScript } from "../lib/bitcoin/address.ts";
import { TEST_ADDRESS } from "../stratum/testing.ts";

Deno.test("payout: address and rig name; the script pays the address", () => {
  const resolve = payoutResolver(NETWORKS.regtest);
  const r = resolve(`${TEST_ADDRESS}.rig.7`);
  assert.ok("script" in r);
  assert.equal(r.address, TEST_ADDRESS);
  assert.equal(r.worker, "rig.7");
  assert.deepEqual(r.script, addressToScript(TEST_ADDRESS, NETWORKS.regtest));
  const bare = resolve(TEST_ADDRESS);
  assert.ok("script" in bare && bare.worker === "");
});

Deno.test("payout: bad names get a reason", () => {
  const resolve = payoutResolver(NETWORKS.regtest);
  assert.deepEqual(resolve("  "), { error: "worker name required" });
  assert.deepEqual(resolve("x".repeat(300)), { error: "worker name too long" });
  const wrong = resolve("1BitcoinEaterAddressDontSendf59kuE.rig");
  assert.ok("error" in wrong && /no valid regtest address/.test(wrong.error));
});

Deno.test("payout: a farm's rigs share one script and one address string", () => {
  const resolve = payoutResolver(NETWORKS.regtest);
  const scripts = new Set<Uint8Array>();
  for (let i = 0; i < 1000; i++) {
    const r = resolve(`${TEST_ADDRESS}.rig${i}`);
    assert.ok("script" in r);
    assert.equal(r.worker, `rig${i}`);
    scripts.add(r.script);
  }
  assert.equal(scripts.size, 1);
});
