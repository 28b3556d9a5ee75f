/**
 * Pre-built empty-first coinbases: once a job is out, the job manager builds the next height's
 * coinbase-only halves for every payout script that job served, off the hot path; the empty job on
 * the new tip then hands those out, byte for byte what building them then would give.
 */

import assert from "node:assert/strict";
import { JobManager, type TemplateData } from "../lib/pool/jobs.ts";
import { blockSubsidy, NETWORKS } from "../lib/bitcoin/networks.ts";
import { waitUntil } from "./helpers/wait.ts";

const regtest = NETWORKS.regtest;

function template(prev: string, height: number, coinbasevalue: number): TemplateData {
  return {
    version: 0x20000000,
    previousblockhash: prev,
    transactions: [],
    coinbasevalue,
    mintime: 1_700_000_000,
    curtime: 1_700_000_100,
    bits: "207fffff",
    height,
    coinbaseaux: { flags: "" },
  };
}

function manager(subsidy?: (height: number) => bigint): JobManager {
  return new JobManager({
    poolFeePercent: 1,
    poolScript: new Uint8Array([0x00, 0x14, ...new Uint8Array(20).fill(0xee)]),
    donationPercent: 0,
    tag: new TextEncoder().encode("prebuild"),
    extranonce1Size: 4,
    extranonce2Size: 4,
    versionMask: 0x1fffe000,
    subsidy,
  });
}

const scripts = [1, 2, 3].map((n) => new Uint8Array([0x00, 0x14, ...new Uint8Array(20).fill(n)]));

Deno.test("jobs: the next height's empty coinbases are pre-built for the scripts in use, and used", async () => {
  const jobs = manager((h) => blockSubsidy(h, regtest));
  try {
    // A full job at height 200 with fees, served to three payout scripts.
    const first = jobs.addTemplate(template("11".repeat(32), 200, 2_500_001_234), true);
    for (const s of scripts) first.coinbaseFor(s);
    await waitUntil(() => jobs.prebuiltCoinbases === 3, "pre-built");
    const prebuilt = jobs.prebuiltCoinbases;
    // Coinbase keys count up: one made now is newer than anything pre-built.
    const marker = first.coinbaseFor(new Uint8Array([0x51])).key;
    // Empty-first work for 201: subsidy only. Its coinbases are the pre-built ones.
    const value = Number(blockSubsidy(201, regtest));
    const empty = jobs.addTemplate(template("22".repeat(32), 201, value), true);
    assert.equal(prebuilt, 3);
    const fresh = manager();
    const reference = fresh.addTemplate(template("22".repeat(32), 201, value), true);
    for (const s of scripts) {
      const got = empty.coinbaseFor(s);
      const want = reference.coinbaseFor(s);
      assert.equal(got.coinb1Hex, want.coinb1Hex);
      assert.equal(got.coinb2Hex, want.coinb2Hex);
      assert.deepEqual(got.outputs, want.outputs);
      assert.ok(got.key < marker, "handed out the pre-built halves, not new ones");
    }
    // A template for another value (a full one, with fees) never takes them.
    const full = jobs.addTemplate(template("22".repeat(32), 201, value + 5), false);
    assert.notEqual(
      full.coinbaseFor(scripts[0]).coinb2Hex,
      empty.coinbaseFor(scripts[0]).coinb2Hex,
    );
    fresh.close();
  } finally {
    jobs.close();
  }
});
