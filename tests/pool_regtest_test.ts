/**
 * The mining core end to end: a real regtest node (bcoin), the whole pool started from a TOML
 * config, and the in-repo Stratum client mining through it over real TCP and TLS. The node is the
 * judge: a block only counts when its height rises and it serves the block back.
 */

import assert from "node:assert/strict";
import { startRegtestNode } from "./helpers/regtest.ts";
import { startTestPool } from "./helpers/pool.ts";
import { connectMiner, regtestP2pkh, regtestP2wpkh } from "./helpers/miners.ts";
import { waitUntil } from "./helpers/wait.ts";
import type { StratumClient } from "../stratum/client.ts";
import { findShare, findShareOnJob } from "../stratum/miner.ts";
import { addressToScript, scriptToAddress } from "../lib/bitcoin/address.ts";
import { NETWORKS } from "../lib/bitcoin/networks.ts";
import { bytesToHex, hexToBytes } from "../lib/bitcoin/hex.ts";
import { parseTx, readVarInt, type Transaction } from "../lib/bitcoin/tx.ts";
import { encodeSegwitAddress } from "../lib/bitcoin/bech32.ts";
import { censorAddress } from "../lib/status/censor.ts";
import type { WorkerLookupView } from "../routes/pages/lookup.ts";
import { workerNameHash } from "../lib/status/worker_hash.ts";

const regtest = NETWORKS.regtest;

/** The transactions of a block the node serves back (raw block → parsed txs). */
async function blockTxs(
  rpc: <T>(m: string, p?: unknown[]) => Promise<T>,
  hash: string,
): Promise<Transaction[]> {
  const raw = hexToBytes(await rpc<string>("getblock", [hash, false]));
  const count = readVarInt(raw, 80);
  let offset = 80 + count.size;
  const txs: Transaction[] = [];
  for (let i = 0; i < count.value; i++) {
    const tx = parseTx(raw, offset);
    txs.push(tx);
    offset += tx.size;
  }
  assert.equal(offset, raw.length, "block parsed to its last byte");
  return txs;
}

/** Connects, subscribes and authorizes a client; waits for its first work. */
/** Mines one share on the client's current job and submits it; returns the reply. */
async function mineAndSubmit(client: StratumClient, user: string, rollVersionBits?: number) {
  const share = findShare(client, { rollVersionBits, maxNonces: 1 << 22 });
  assert.ok(share, "a share within the nonce budget");
  return { share, reply: await client.submit(user, share) };
}

Deno.test({
  name: "a miner's block is accepted by the node and its coinbase pays the miner's address",
  sanitizeOps: false, // bcoin keeps internal timers alive until its process-wide teardown
  sanitizeResources: false,
  async fn() {
    const node = await startRegtestNode();
    const tp = await startTestPool(node);
    try {
      await node.mine(1);
      const minerAddress = regtestP2wpkh(7);
      const user = `${minerAddress}.rig1`;
      const client = await connectMiner(tp.port, user);
      const before = await node.height();
      const solvedJob = client.job!;
      const { reply } = await mineAndSubmit(client, user);
      assert.equal(reply.error, null, `submit answered ${JSON.stringify(reply.error)}`);
      assert.equal(reply.result, true);
      assert.equal(await node.height(), before + 1);

      // A second block on the tip the pool just solved would only orphan its own block: stale.
      const again = findShareOnJob(solvedJob, {
        extranonce1: client.extranonce1!,
        extranonce2Size: client.extranonce2Size!,
        difficulty: client.difficulty,
      }, { extranonce2Start: 1000, maxNonces: 1 << 22 })!;
      const late = await client.submit(user, again);
      assert.deepEqual((late.error as unknown[]).slice(0, 1), [21]);
      assert.equal(await node.height(), before + 1);
      const tip = await node.rpc<string>("getbestblockhash");
      const [coinbase] = await blockTxs(node.rpc.bind(node), tip);
      const script = bytesToHex(addressToScript(minerAddress, regtest));
      assert.deepEqual(coinbase.outputs.map((o) => bytesToHex(o.script)), [script]);
      await waitUntil(() => tp.blocks.length === 1, "the block record");
      assert.equal(tp.blocks[0].status, "accepted");
      assert.equal(tp.blocks[0].confirmed, true, "getblockheader shows it on the main chain");
      assert.equal(tp.blocks[0].hash, tip);
      assert.equal(tp.blocks[0].worker, user);
      client.close();
    } finally {
      await tp.stop();
      await node.stop();
    }
  },
});

Deno.test({
  name:
    "two blocks on one tip within a submit's round trip: the first wins, the second is never sent",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const node = await startRegtestNode();
    const tp = await startTestPool(node);
    try {
      await node.mine(1);
      const user = `${regtestP2wpkh(8)}.twin`;
      const client = await connectMiner(tp.port, user);
      const before = await node.height();
      // At this share difficulty every share is also a regtest block.
      const first = findShare(client, { extranonce2Start: 1 })!;
      const second = findShare(client, { extranonce2Start: 5000 })!;
      // Both go out before either is answered: the second reaches the pool while the first's
      // submitblock is still on its way.
      const [a, b] = await Promise.all([client.submit(user, first), client.submit(user, second)]);
      assert.equal(a.result, true, JSON.stringify(a.error));
      assert.deepEqual(b.error, [
        21,
        "stale share: the pool already found a block on this tip",
        null,
      ]);
      assert.equal(await node.height(), before + 1);
      await waitUntil(() => tp.blocks.length === 2, "both blocks recorded");
      const won = tp.blocks.find((r) => r.status === "accepted")!;
      const held = tp.blocks.find((r) => r.status === "stale")!;
      assert.equal(won.hash, await node.rpc<string>("getbestblockhash"));
      assert.match(held.reason ?? "", new RegExp(`^not submitted: the pool's block ${won.hash}`));
      // The node never saw the second block.
      const header = await node.rpc<unknown>("getblockheader", [held.hash, true]).catch(() => null);
      assert.equal(header, null);
      client.close();
    } finally {
      await tp.stop();
      await node.stop();
    }
  },
});

Deno.test({
  name: "with a pool fee and a donation the coinbase outputs sum exactly to coinbasevalue",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const node = await startRegtestNode();
    const poolAddress = regtestP2wpkh(1);
    const donationAddress = encodeSegwitAddress("bcrt", 1, new Uint8Array(32).fill(2));
    const tp = await startTestPool(node, {
      mining: {
        payout_address: poolAddress,
        pool_fee_percent: 2.5,
        donation_address: donationAddress,
        donation_percent: 10,
      },
    });
    try {
      await node.mine(1);
      const minerAddress = regtestP2pkh(9);
      const client = await connectMiner(tp.port, `${minerAddress}.fee`);
      const job = tp.pool.jobs.current()!;
      // The worker lookup reads back whom a block would pay, before one is found.
      const base = `http://127.0.0.1:${tp.pool.status.http!.port}`;
      const lookup = await (await fetch(
        `${base}/api/worker-lookup?hash=${workerNameHash(`${minerAddress}.fee`)}`,
      )).json() as WorkerLookupView;
      const payout = lookup.payout!;
      assert.ok(payout, "the lookup has the payout check");
      assert.equal(payout.height, job.height);
      assert.equal(payout.coinbase_value_sats, Number(job.coinbaseValue));
      assert.equal(
        payout.miner_sats,
        Number(job.coinbaseValue - (job.coinbaseValue * 25n + 500n) / 1000n),
      );
      assert.match(payout.tag, /denopool/);
      assert.ok(!JSON.stringify(lookup).includes(minerAddress), "the address stays censored");
      const page = await (await fetch(`${base}/worker/sha256?hash=${lookup.hash}`)).text();
      assert.match(page, /If this miner found a block now/);
      assert.match(page, /pool fee or donation/);

      const { reply } = await mineAndSubmit(client, `${minerAddress}.fee`);
      assert.equal(reply.result, true, JSON.stringify(reply.error));
      const [coinbase] = await blockTxs(
        node.rpc.bind(node),
        await node.rpc<string>("getbestblockhash"),
      );
      // What the lookup showed is what the block paid, output for output.
      assert.deepEqual(
        payout.outputs.map((o) => [o.value_sats, o.address]),
        coinbase.outputs.map((o) => {
          const address = scriptToAddress(o.script, regtest);
          return [Number(o.value), address === undefined ? undefined : censorAddress(address)];
        }),
      );
      assert.deepEqual(
        payout.outputs.map((o) => o.role),
        coinbase.outputs.map((o) =>
          bytesToHex(o.script) === bytesToHex(addressToScript(minerAddress, regtest))
            ? "miner"
            : o.value === 0n
            ? "witness-commitment"
            : "other"
        ),
      );
      const total = coinbase.outputs.reduce((a, o) => a + o.value, 0n);
      assert.equal(total, job.coinbaseValue);
      const byScript = new Map(coinbase.outputs.map((o) => [bytesToHex(o.script), o.value]));
      const fee = (job.coinbaseValue * 25n + 500n) / 1000n; // round(value × 2.5 %)
      const donation = (fee * 10n + 50n) / 100n;
      assert.equal(byScript.get(bytesToHex(addressToScript(poolAddress, regtest))), fee - donation);
      assert.equal(byScript.get(bytesToHex(addressToScript(donationAddress, regtest))), donation);
      assert.equal(
        byScript.get(bytesToHex(addressToScript(minerAddress, regtest))),
        job.coinbaseValue - fee,
      );
      client.close();
    } finally {
      await tp.stop();
      await node.stop();
    }
  },
});

Deno.test({
  name: "segwit active, 20+ mempool transactions with witness spends: the pool's block is accepted",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const node = await startRegtestNode();
    try {
      await node.activateSegwit();
      const txids = await node.addMempoolTransactions(24, { segwit: true });
      assert.ok(txids.length >= 20);
      const tp = await startTestPool(node);
      try {
        await waitUntil(
          () => (tp.pool.jobs.current()?.txCount ?? 0) >= 20,
          "a job carrying the mempool",
        );
        const job = tp.pool.jobs.current()!;
        assert.ok(job.txCount >= 20);
        const user = `${regtestP2wpkh(3)}.segwit`;
        const client = await connectMiner(tp.port, user);
        const listed = await client.request("mining.get_transactions", []);
        assert.deepEqual(listed.result, job.txids);
        assert.ok(txids.every((txid) => job.txids!.includes(txid)), "the mempool is in the job");
        const before = await node.height();
        const { reply } = await mineAndSubmit(client, user);
        assert.equal(reply.result, true, JSON.stringify(reply.error));
        assert.equal(await node.height(), before + 1);
        const txs = await blockTxs(
          node.rpc.bind(node),
          await node.rpc<string>("getbestblockhash"),
        );
        assert.equal(txs.length, job.txCount + 1);
        assert.ok(txs[0].hasWitness, "the coinbase carries the witness reserved value");
        assert.ok(txs.slice(1).some((tx) => tx.hasWitness), "witness spends are in the block");
        client.close();
      } finally {
        await tp.stop();
      }
    } finally {
      await node.stop();
    }
  },
});

Deno.test({
  name: "the same over TLS with the pool's self-signed certificate",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const node = await startRegtestNode();
    const tp = await startTestPool(node, { stratum: { tls_listen: "127.0.0.1:0" } });
    try {
      await node.mine(1);
      assert.ok(tp.tlsPort);
      const cert = await Deno.readTextFile(`${tp.dataDir}/tls_cert.pem`);
      const user = `${regtestP2pkh(4)}.tls`;
      const client = await connectMiner(tp.tlsPort, user, { tls: true, caCerts: [cert] });
      const before = await node.height();
      const { reply } = await mineAndSubmit(client, user);
      assert.equal(reply.result, true, JSON.stringify(reply.error));
      assert.equal(await node.height(), before + 1);
      assert.equal(tp.pool.stratum.counts().tls, 1);
      client.close();
    } finally {
      await tp.stop();
      await node.stop();
    }
  },
});

Deno.test({
  name: "version rolling inside the negotiated mask gives accepted blocks; outside it is rejected",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const node = await startRegtestNode();
    const tp = await startTestPool(node);
    try {
      await node.mine(1);
      const user = `${regtestP2wpkh(5)}.asic`;
      const client = await connectMiner(tp.port, user, { configure: true });
      assert.equal(client.versionMask, 0x1fffe000);
      const before = await node.height();
      const { share, reply } = await mineAndSubmit(client, user, 0x00ffe000);
      assert.equal(reply.result, true, JSON.stringify(reply.error));
      assert.equal(await node.height(), before + 1);
      const header = await node.rpc<{ version: number }>("getblockheader", [
        await node.rpc<string>("getbestblockhash"),
        true,
      ]);
      assert.equal(header.version >>> 0, share.version >>> 0);
      assert.notEqual(share.version & 0x1fffe000, 0, "bits were rolled");

      await client.waitFor("mining.notify", (m) => m.params[8] === true, 10_000);
      const outside = findShare(client, { maxNonces: 1 << 22 })!;
      const bad = await client.submit(user, { ...outside, versionBits: "e0000000" });
      assert.ok(Array.isArray(bad.error));
      assert.equal((bad.error as unknown[])[0], 20);
      assert.equal(await node.height(), before + 1, "no block from a version outside the mask");
      client.close();
    } finally {
      await tp.stop();
      await node.stop();
    }
  },
});
