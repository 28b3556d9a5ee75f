/**
 * The regtest harness itself: every helper other tests lean on does what it says, against the real
 * in-process bcoin node.
 */

import assert from "node:assert/strict";
import { type RegtestNode, SEGWIT_ACTIVATION_HEIGHT, startRegtestNode } from "./helpers/regtest.ts";

interface TemplateTx {
  txid: string;
  hash: string;
  data: string;
}
interface Template {
  height: number;
  previousblockhash: string;
  rules: string[];
  default_witness_commitment?: string;
  transactions: TemplateTx[];
}

const gbt = (node: RegtestNode) => node.rpc<Template>("getblocktemplate", [{ rules: ["segwit"] }]);

Deno.test("regtest harness: a fresh node answers RPC at genesis", async () => {
  const node = await startRegtestNode();
  try {
    assert.match(node.rpcUrl, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const info = await node.rpc<{ chain: string; blocks: number }>("getblockchaininfo");
    assert.equal(info.chain, "regtest");
    assert.equal(info.blocks, 0);
  } finally {
    await node.stop();
  }
});

Deno.test("regtest harness: mine raises the height and the tip follows", async () => {
  const node = await startRegtestNode();
  try {
    const hashes = await node.mine(5);
    assert.equal(hashes.length, 5);
    assert.equal(await node.height(), 5);
    assert.equal(await node.rpc("getbestblockhash"), hashes[4]);
    const header = await node.rpc<{ height: number }>("getblockheader", [hashes[2], true]);
    assert.equal(header.height, 3);
  } finally {
    await node.stop();
  }
});

Deno.test("regtest harness: the RPC rejects a wrong password", async () => {
  const node = await startRegtestNode();
  try {
    const response = await fetch(node.rpcUrl, {
      method: "POST",
      headers: { authorization: "Basic " + btoa("user:wrong") },
      body: JSON.stringify({ method: "getblockcount", params: [], id: 1 }),
    });
    await response.body?.cancel();
    assert.equal(response.status, 401);
  } finally {
    await node.stop();
  }
});

Deno.test("regtest harness: writeCookie writes a Core-style cookie that authenticates", async () => {
  const node = await startRegtestNode();
  const dir = await Deno.makeTempDir();
  try {
    const path = await node.writeCookie(`${dir}/regtest`);
    const cookie = await Deno.readTextFile(path);
    assert.equal(cookie, `__cookie__:${node.apiKey}`);
    const response = await fetch(node.rpcUrl, {
      method: "POST",
      headers: { authorization: "Basic " + btoa(cookie) },
      body: JSON.stringify({ method: "getblockcount", params: [], id: 1 }),
    });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { result: 0, error: null, id: 1 });
  } finally {
    await Deno.remove(dir, { recursive: true });
    await node.stop();
  }
});

Deno.test("regtest harness: activateSegwit gives templates a witness commitment", async () => {
  const node = await startRegtestNode();
  try {
    // bcoin adds a commitment whenever the client says "segwit"; the rules tell if it is active.
    const before = await gbt(node);
    assert.ok(!before.rules.includes("!segwit"), `rules ${before.rules}`);
    await node.activateSegwit();
    assert.equal(await node.height(), SEGWIT_ACTIVATION_HEIGHT);
    const after = await gbt(node);
    assert.equal(after.height, SEGWIT_ACTIVATION_HEIGHT + 1);
    assert.ok(after.rules.includes("!segwit"), `rules ${after.rules}`);
    assert.match(after.default_witness_commitment ?? "", /^6a24aa21a9ed[0-9a-f]{64}$/);
  } finally {
    await node.stop();
  }
});

Deno.test("regtest harness: addMempoolTransactions fills templates with legacy and segwit txs", async () => {
  const node = await startRegtestNode();
  try {
    assert.ok(await node.fundWallet() >= 1);
    const txids = await node.addMempoolTransactions(20, { segwit: true });
    assert.equal(txids.length, 20);
    assert.equal(new Set(txids).size, 20);

    const mempool = await node.rpc<string[]>("getrawmempool");
    assert.deepEqual([...mempool].sort(), [...txids].sort());

    const template = await gbt(node);
    assert.ok(template.transactions.length >= 20, `${template.transactions.length} txs`);
    assert.match(template.default_witness_commitment ?? "", /^6a24aa21a9ed/);
    // A witness spend has a wtxid (`hash`) different from its txid; legacy ones do not.
    const witness = template.transactions.filter((tx) => tx.hash !== tx.txid);
    const legacy = template.transactions.filter((tx) => tx.hash === tx.txid);
    assert.ok(witness.length >= 9, `${witness.length} witness txs`);
    assert.ok(legacy.length >= 9, `${legacy.length} legacy txs`);
    for (const tx of witness) assert.equal(tx.data.slice(8, 12), "0001"); // segwit marker + flag

    // The template is minable: mining it empties the mempool into the block.
    const [hash] = await node.mine(1);
    const block = await node.rpc<{ tx: unknown[] }>("getblock", [hash, true, false]);
    assert.equal(block.tx.length, 21);
    assert.deepEqual(await node.rpc("getrawmempool"), []);
  } finally {
    await node.stop();
  }
});

Deno.test("regtest harness: addMempoolTransactions without segwit stays legacy", async () => {
  const node = await startRegtestNode();
  try {
    const txids = await node.addMempoolTransactions(3, { segwit: false });
    assert.equal(txids.length, 3);
    const template = await gbt(node);
    assert.equal(template.transactions.length, 3);
    for (const tx of template.transactions) assert.equal(tx.hash, tx.txid);
  } finally {
    await node.stop();
  }
});

Deno.test("regtest harness: stopRpc refuses connections, restart serves the same chain", async () => {
  const node = await startRegtestNode();
  try {
    const tip = (await node.mine(3)).at(-1);
    await node.stopRpc();
    await assert.rejects(node.rpc("getblockcount"));
    await node.restart();
    assert.equal(await node.height(), 3);
    assert.equal(await node.rpc("getbestblockhash"), tip);
    await node.restart(); // restart while running also works
    assert.equal(await node.height(), 3);
  } finally {
    await node.stop();
  }
});

Deno.test("regtest harness: a longpoll returns when a block is mined", async () => {
  const node = await startRegtestNode();
  try {
    await node.activateSegwit();
    const first = await node.rpc<Template & { longpollid: string }>("getblocktemplate", [
      { rules: ["segwit"] },
    ]);
    const waiting = node.rpc<Template>("getblocktemplate", [
      { rules: ["segwit"], longpollid: first.longpollid },
    ]);
    const [mined] = await node.mine(1);
    const next = await waiting;
    assert.equal(next.previousblockhash, mined);
    assert.equal(next.height, first.height + 1);
  } finally {
    await node.stop();
  }
});

Deno.test("regtest harness: stop is idempotent", async () => {
  const node = await startRegtestNode();
  await node.stop();
  await node.stop();
  await assert.rejects(node.rpc("getblockcount"));
});
