/**
 * TipState, the one owner of the current and solved tips: what it keeps, and that the job manager
 * writes the tip into it, the block submitter reads the tip from it and writes solved tips into it,
 * and the share policy sees both through the job source.
 */

import assert from "node:assert/strict";
import { TipState } from "../lib/pool/tips.ts";
import { JobManager, type TemplateData } from "../lib/pool/jobs.ts";
import { BlockSubmitter } from "../lib/pool/blocks.ts";
import type { BlockCandidate, ShareInput } from "../lib/pool/types.ts";
import type { PoolJob } from "../lib/pool/jobs.ts";
import type { RpcCaller } from "../lib/node/rpc.ts";
import { bytesToHex, reverseBytes } from "../lib/bitcoin/hex.ts";
import { tipStanding } from "../lib/pool/policy.ts";

const rpcHex = (byte: number) => byte.toString(16).padStart(2, "0").repeat(31) + "00";
const internal = (hex: string) =>
  reverseBytes(Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16)));

function template(prevRpc: string, height = 101): TemplateData {
  return {
    version: 0x20000000,
    previousblockhash: prevRpc,
    transactions: [],
    coinbasevalue: 5_000_000_000,
    mintime: 1_700_000_000,
    curtime: 1_700_000_100,
    bits: "207fffff",
    height,
  };
}

function manager(tips?: TipState): JobManager {
  return new JobManager({
    tips,
    poolFeePercent: 0,
    donationPercent: 0,
    tag: new TextEncoder().encode("tips-test"),
    extranonce1Size: 4,
    extranonce2Size: 4,
    versionMask: 0x1fffe000,
  });
}

function candidate(job: PoolJob): BlockCandidate<PoolJob> {
  const script = new Uint8Array([0x00, 0x14, ...new Uint8Array(20).fill(7)]);
  const share: ShareInput = {
    extranonce1: new Uint8Array(4),
    extranonce2: new Uint8Array(4),
    ntime: job.curtime,
    nonce: 1,
    version: job.version,
    shareTarget: job.networkTarget,
  };
  return {
    job,
    coinbase: job.coinbaseFor(script),
    share,
    verdict: {
      hash: new Uint8Array(32),
      difficulty: 1,
      meetsShareTarget: true,
      meetsNetworkTarget: true,
    },
    worker: "tips.test",
  };
}

Deno.test("TipState: no tip yet (everything current), then the tip in both byte orders", () => {
  const tips = new TipState();
  assert.equal(tips.prevhash, undefined);
  assert.equal(tips.isCurrent(rpcHex(1)), true, "no tip known: nothing is stale yet");
  const prev = internal(rpcHex(1));
  tips.setTip(prev);
  assert.equal(tips.prevhash, prev);
  assert.equal(tips.prevhashRpc, rpcHex(1));
  assert.equal(tips.isCurrent(rpcHex(1)), true);
  assert.equal(tips.isCurrent(rpcHex(2)), false);
  tips.setTip(internal(rpcHex(2)));
  assert.equal(tips.prevhashRpc, rpcHex(2));
  assert.equal(tips.isCurrent(rpcHex(1)), false);
});

Deno.test("TipState: solved tips by RPC hex in, by bytes out; bounded, oldest forgotten", () => {
  const tips = new TipState({ keepSolved: 2 });
  assert.equal(tips.isSolved(internal(rpcHex(1))), false);
  tips.markSolved(rpcHex(1));
  tips.markSolved(rpcHex(1)); // once is enough
  assert.equal(tips.solved.length, 1);
  assert.equal(tips.isSolved(internal(rpcHex(1))), true);
  assert.equal(bytesToHex(reverseBytes(tips.solved[0])), rpcHex(1));
  tips.markSolved(rpcHex(2));
  tips.markSolved(rpcHex(3));
  assert.equal(tips.isSolved(internal(rpcHex(1))), false, "the oldest went");
  assert.equal(tips.isSolved(internal(rpcHex(2))), true);
  assert.equal(tips.isSolved(internal(rpcHex(3))), true);
});

Deno.test("the job manager sets the shared tip with each job; the policy reads it through the source", () => {
  const tips = new TipState();
  const jobs = manager(tips);
  assert.equal(jobs.tips, tips, "the source exposes the one owner");
  const first = jobs.addTemplate(template(rpcHex(1)), true);
  assert.equal(tips.prevhashRpc, rpcHex(1));
  const view = jobs.tips;
  assert.equal(tipStanding(first.prevhash, view.prevhash, view.solved), "current");
  // New transactions, same tip: still current.
  const again = jobs.addTemplate(template(rpcHex(1)), false);
  assert.equal(tipStanding(first.prevhash, view.prevhash, view.solved), "current");
  assert.equal(tipStanding(again.prevhash, view.prevhash, view.solved), "current");
  // A new tip: the first job is stale.
  jobs.addTemplate(template(rpcHex(2), 102), true);
  assert.equal(tipStanding(first.prevhash, view.prevhash, view.solved), "stale");
  // Without a given owner the manager keeps one of its own.
  const own = manager();
  own.addTemplate(template(rpcHex(3)), true);
  assert.equal(own.tips.prevhashRpc, rpcHex(3));
});

Deno.test("the block submitter marks the tip solved when the node accepts, and reads the tip", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denopool-tips-" });
  try {
    const tips = new TipState();
    const jobs = manager(tips);
    const job = jobs.addTemplate(template(rpcHex(1)), true);
    // A node that takes every block (and has nothing else on its main chain).
    const accepting: RpcCaller = {
      call: <T>(method: string) => {
        if (method === "submitblock") return Promise.resolve(null as T);
        if (method === "getblockhash") return Promise.resolve("" as T);
        return Promise.reject(new Error(`${method}: not in this test`));
      },
    };
    const submitter = new BlockSubmitter({ rpc: accepting, journalDir: dir, tips });
    const result = await submitter.submit(candidate(job));
    assert.equal(result.accepted, true);
    assert.equal(tips.isSolved(job.prevhash), true, "solved, with no callback in between");
    assert.equal(
      tipStanding(job.prevhash, jobs.tips.prevhash, jobs.tips.solved),
      "solved",
      "and the policy sees it",
    );

    // The node is unreachable and the tip moves on: the block is given up as stale at once.
    const next = jobs.addTemplate(template(rpcHex(2), 102), true);
    const unreachable: RpcCaller = { call: () => Promise.reject(new Error("connection refused")) };
    const cut = new BlockSubmitter({
      rpc: unreachable,
      journalDir: `${dir}/cut`,
      tips,
      retryDelayMs: 1,
    });
    const late = candidate(job); // built on tip 1, which is no longer the tip
    const lost = await cut.submit(late);
    assert.equal(lost.accepted, false);
    assert.deepEqual(cut.records().map((r) => [r.prevhash, r.status]), [[rpcHex(1), "stale"]]);
    assert.equal(tips.isSolved(next.prevhash), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
