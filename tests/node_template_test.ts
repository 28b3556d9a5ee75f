/**
 * Block templates and raw block tips, checked on real data from the regtest node: parsing,
 * sanity checks, change detection, and reading the tip out of a serialized block.
 */

import assert from "node:assert/strict";
import { hexToBytes } from "../lib/bitcoin/hex.ts";
import { BlockTipError, parseBlockTip } from "../lib/node/block_tip.ts";
import {
  checkTemplate,
  parseTemplate,
  segwitActive,
  templateChange,
  TemplateError,
} from "../lib/node/template.ts";
import { startRegtestNode } from "./helpers/regtest.ts";

Deno.test("template: a real segwit template with transactions parses and passes the checks", async () => {
  const node = await startRegtestNode();
  try {
    await node.addMempoolTransactions(6, { segwit: true });
    const raw = await node.rpc<Record<string, unknown>>("getblocktemplate", [{
      rules: ["segwit"],
    }]);
    const template = parseTemplate(raw);
    assert.equal(template.height, await node.height() + 1);
    assert.equal(template.transactions.length, 6);
    assert.equal(segwitActive(template), true);
    assert.ok(Object.isFrozen(template));

    const keys = checkTemplate(template);
    assert.equal(keys.size, 6);
    // Already verified transactions are skipped: a tampered copy with known keys passes…
    const tampered = parseTemplate({
      ...raw,
      transactions: (raw.transactions as { data: string }[]).map((tx) => ({
        ...tx,
        data: tx.data.slice(0, -2) + "ff",
      })),
    });
    assert.equal(checkTemplate(tampered, keys).size, 6);
    // …and is caught when checked from scratch.
    assert.throws(() => checkTemplate(tampered), TemplateError);

    // The witness hash is checked too: swap two witness txs' hashes.
    const txs = structuredClone(raw.transactions) as { txid: string; hash: string }[];
    const witness = txs.filter((tx) => tx.txid !== tx.hash);
    [witness[0].hash, witness[1].hash] = [witness[1].hash, witness[0].hash];
    assert.throws(
      () => checkTemplate(parseTemplate({ ...raw, transactions: txs })),
      /hash .* is not/,
    );
  } finally {
    await node.stop();
  }
});

Deno.test("template: malformed results are refused with the field named", () => {
  const good = {
    version: 0x20000000,
    previousblockhash: "ab".repeat(32),
    transactions: [],
    coinbasevalue: 5_000_000_000,
    target: "7fffff" + "00".repeat(29),
    mintime: 1_700_000_000,
    curtime: 1_700_000_100,
    bits: "207fffff",
    height: 1,
  };
  const template = parseTemplate(good);
  assert.equal(template.default_witness_commitment, undefined);
  assert.equal(segwitActive(template), false);
  checkTemplate(template);

  const bad: [string, Record<string, unknown>][] = [
    ["previousblockhash", { previousblockhash: "xyz" }],
    ["previousblockhash", { previousblockhash: "ab".repeat(31) }],
    ["coinbasevalue", { coinbasevalue: -1 }],
    ["coinbasevalue", { coinbasevalue: 1.5 }],
    ["height", { height: "7" }],
    ["curtime", { curtime: 0 }],
    ["bits", { bits: "207fff" }],
    ["transactions", { transactions: {} }],
    ["transaction 0", { transactions: [{ data: "00", txid: "00" }] }],
    ["rules", { rules: [1] }],
    ["coinbaseaux", { coinbaseaux: { flags: 1 } }],
  ];
  for (const [field, change] of bad) {
    assert.throws(() => parseTemplate({ ...good, ...change }), (err: unknown) => {
      assert.ok(err instanceof TemplateError);
      assert.ok(err.message.includes(field), `${err.message} names ${field}`);
      return true;
    });
  }
  assert.throws(() => parseTemplate(null), TemplateError);
  assert.throws(() => parseTemplate([good]), TemplateError);

  assert.throws(() => checkTemplate(parseTemplate({ ...good, bits: "1d00ffff" })), /bits/);
  assert.throws(
    () => checkTemplate(parseTemplate({ ...good, rules: ["csv", "!segwit"] })),
    /default_witness_commitment/,
  );
});

Deno.test("template: change detection separates new tips from new transactions", () => {
  const tx = (n: number) => ({
    data: "00",
    txid: n.toString(16).padStart(64, "0"),
    hash: n.toString(16).padStart(64, "0"),
  });
  const base = parseTemplate({
    version: 0x20000000,
    previousblockhash: "ab".repeat(32),
    transactions: [tx(1), tx(2)],
    coinbasevalue: 100,
    target: "7fffff" + "00".repeat(29),
    mintime: 1,
    curtime: 10,
    bits: "207fffff",
    height: 5,
  });
  const like = (change: Record<string, unknown>) => parseTemplate({ ...base, ...change });
  assert.equal(templateChange(undefined, base), "tip");
  assert.equal(templateChange(base, like({ curtime: 11, longpollid: "x" })), "none");
  assert.equal(templateChange(base, like({ previousblockhash: "cd".repeat(32) })), "tip");
  assert.equal(templateChange(base, like({ height: 6 })), "tip");
  assert.equal(templateChange(base, like({ bits: "1d00ffff" })), "tip");
  assert.equal(templateChange(base, like({ transactions: [tx(2), tx(1)] })), "transactions");
  assert.equal(templateChange(base, like({ transactions: [tx(1)] })), "transactions");
  assert.equal(templateChange(base, like({ coinbasevalue: 101 })), "transactions");
});

Deno.test("block tip: hash, height, time and bits come out of real raw blocks", async () => {
  const node = await startRegtestNode();
  try {
    // Heights 1…16 are pushed as OP_1…OP_16, later ones as a 1-2 byte number; 433 is segwit.
    await node.activateSegwit();
    await node.addMempoolTransactions(2, { segwit: true });
    await node.mine(1);
    for (const height of [1, 16, 17, 300, 433]) {
      const hash = await node.rpc<string>("getblockhash", [height]);
      const raw = hexToBytes(await node.rpc<string>("getblock", [hash, false]));
      const header = await node.rpc<{ time: number; bits: number; version: number }>(
        "getblockheader",
        [hash, true],
      );
      const tip = parseBlockTip(raw);
      assert.equal(tip.hash, hash);
      assert.equal(tip.height, height);
      assert.equal(tip.time, header.time);
      assert.equal(tip.bits, header.bits);
      assert.equal(tip.bitsHex, "207fffff");
      assert.equal(tip.version, header.version);
      assert.equal(tip.size, raw.length);
      assert.ok(tip.difficulty > 0 && tip.difficulty < 1e-9);
    }
  } finally {
    await node.stop();
  }
});

Deno.test("block tip: a header alone has no height; junk is refused", () => {
  const header = new Uint8Array(80);
  header[72] = 0xff; // bits 0x1d00ffff, little-endian
  header[73] = 0xff;
  header[75] = 0x1d;
  const tip = parseBlockTip(header);
  assert.equal(tip.height, undefined);
  assert.equal(tip.bitsHex, "1d00ffff");
  assert.equal(tip.difficulty, 1);
  assert.throws(() => parseBlockTip(new Uint8Array(79)), BlockTipError);
  const truncated = new Uint8Array(90);
  truncated[80] = 1; // one transaction…
  truncated[85] = 1; // …with one input whose prevout is cut off
  assert.throws(() => parseBlockTip(truncated), /truncated/);
  truncated[85] = 0;
  assert.throws(() => parseBlockTip(truncated), /no input/);
});
