/**
 * A real regtest node for integration tests: bcoin@1.0.2 running in this process, answering
 * Bitcoin Core style JSON-RPC on a loopback port.
 *
 * Needs `NODE_BACKEND=js` in the environment and `-A --unsafe-proto --allow-scripts` (the `test`
 * task sets them). bcoin has no ZMQ; it does answer `getblocktemplate` longpoll.
 *
 * Facts about bcoin's regtest that tests must know:
 * - its bech32 HRP is the old `rb` (Core uses `bcrt`); base58 addresses are the same as Core's, so
 *   the harness uses base58 P2PKH addresses when it talks to the node;
 * - segwit activates through BIP9 only at height 432; {@linkcode RegtestNode.activateSegwit} mines
 *   there so that `getblocktemplate` carries `default_witness_commitment`;
 * - coinbase outputs mature after 100 confirmations.
 *
 * @module
 */

import bcoin from "bcoin";
import { freePort } from "./ports.ts";

/** Height from which bcoin's regtest builds blocks with segwit active (BIP9: 3 × 144). */
export const SEGWIT_ACTIVATION_HEIGHT = 432;

/** Confirmations a coinbase output needs before it can be spent. */
const COINBASE_MATURITY = 100;

/** Fee paid by each harness transaction, in satoshis (well above bcoin's minimum relay fee). */
const TX_FEE = 10_000;

/** Options for {@linkcode startRegtestNode}. */
export interface RegtestOptions {
  /** HTTP/RPC port; a free loopback port when left out. */
  port?: number;
  /** API key (the RPC password); random when left out. */
  apiKey?: string;
}

/** Options for {@linkcode RegtestNode.addMempoolTransactions}. */
export interface MempoolTxOptions {
  /** Pay half of the outputs to P2WPKH and spend them, so the mempool holds witness spends. */
  segwit?: boolean;
  /**
   * Outputs of each spend (default 1). More outputs make bigger transactions: 7 give about 400
   * bytes each, so 2,000 of them make a template of about 0.8 MB of transactions (1.7 MB of JSON).
   */
  outputsPerTx?: number;
}

/** Fee rate of the harness's transactions, sat/byte (estimated sizes; well above relay minimums). */
const FEE_RATE = 20;

/** A running in-process regtest node and the helpers tests use to drive it. */
export interface RegtestNode {
  /** JSON-RPC endpoint, e.g. `http://127.0.0.1:PORT/`. */
  readonly rpcUrl: string;
  /** Loopback port the RPC server listens on. */
  readonly port: number;
  /** RPC password (any user name is accepted). */
  readonly apiKey: string;
  /** The harness's own base58 P2PKH address; blocks mined without an address pay it. */
  readonly address: string;
  /** Calls a JSON-RPC method and returns its result; throws on transport or RPC error. */
  rpc<T = unknown>(method: string, params?: unknown[]): Promise<T>;
  /** Mines `n` blocks to `address` (default: the harness address); returns their hashes. */
  mine(n: number, address?: string): Promise<string[]>;
  /** Current tip height. */
  height(): Promise<number>;
  /** Mines up to the segwit activation height so templates carry the witness commitment. */
  activateSegwit(): Promise<void>;
  /** Writes a Core-style `.cookie` (`__cookie__:<apiKey>`) into `dir`; returns its path. */
  writeCookie(dir: string): Promise<string>;
  /** Makes sure at least one mature coinbase output pays the harness; returns how many do. */
  fundWallet(): Promise<number>;
  /**
   * Puts `count` real signed transactions into the mempool (one fan-out transaction and its
   * spends; with `segwit` half of the spends are P2WPKH witness spends). Returns their txids.
   */
  addMempoolTransactions(count: number, opts?: MempoolTxOptions): Promise<string[]>;
  /** Closes the RPC server (the chain stays in memory); calls fail until {@linkcode restart}. */
  stopRpc(): Promise<void>;
  /** Reopens the RPC server on the same port after {@linkcode stopRpc}; the chain is kept. */
  restart(): Promise<void>;
  /** Closes the node completely. Safe to call twice. */
  stop(): Promise<void>;
}

// --- the slice of bcoin's (untyped) API the harness uses ---------------------------------------

interface BcoinScript {
  toRaw(): Uint8Array;
}
interface BcoinOutput {
  script: BcoinScript;
  value: number;
}
interface BcoinTx {
  outputs: BcoinOutput[];
  txid(): string;
  hasWitness(): boolean;
}
interface BcoinCoin {
  value: number;
}
interface BcoinMtx {
  addCoin(coin: BcoinCoin): void;
  addOutput(script: BcoinScript, value: number): void;
  sign(ring: BcoinKeyRing): number;
  toTX(): BcoinTx;
}
interface BcoinKeyRing {
  witness: boolean;
  getKeyHash(): Uint8Array;
  getAddress(enc: "base58" | "string", network: string): string;
}
interface BcoinHttp {
  opened: boolean;
  open(): Promise<unknown>;
  close(): Promise<void>;
  http: { closeAllConnections?: () => void };
}
interface BcoinFullNode {
  open(): Promise<void>;
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  close(): Promise<void>;
  on(event: "error", listener: (err: Error) => void): void;
  http: BcoinHttp;
  mempool: { addTX(tx: BcoinTx): Promise<unknown> };
  rpc: { refreshBlock(): void };
}
interface Bcoin {
  FullNode: new (options: Record<string, unknown>) => BcoinFullNode;
  KeyRing: { generate(): BcoinKeyRing };
  MTX: new () => BcoinMtx;
  Coin: { fromTX(tx: BcoinTx, index: number, height: number): BcoinCoin };
  Script: {
    fromPubkeyhash(hash: Uint8Array): BcoinScript;
    fromProgram(version: number, data: Uint8Array): BcoinScript;
  };
  Block: { fromRaw(data: string, enc: "hex"): { txs: BcoinTx[] } };
}

const lib = bcoin as unknown as Bcoin;

/** A coinbase output paying the harness key, not yet spent. */
interface OwnCoinbase {
  readonly blockHash: string;
  readonly height: number;
}

interface RpcReply<T> {
  result?: T;
  error?: { code: number; message: string } | null;
}

/** Starts a fresh in-memory bcoin regtest node with its RPC server on a loopback port. */
export async function startRegtestNode(opts: RegtestOptions = {}): Promise<RegtestNode> {
  const port = opts.port ?? freePort();
  const apiKey = opts.apiKey ?? crypto.randomUUID().replaceAll("-", "");
  const node = new lib.FullNode({
    network: "regtest",
    memory: true,
    workers: false,
    listen: false,
    httpHost: "127.0.0.1",
    httpPort: port,
    apiKey,
    logLevel: "error",
  });
  // bcoin emits "error" for peer and socket trouble; an unhandled EventEmitter error would throw.
  node.on("error", () => {});
  await node.open();
  await node.connect();
  return new BcoinRegtestNode(node, port, apiKey);
}

class BcoinRegtestNode implements RegtestNode {
  readonly rpcUrl: string;
  readonly address: string;
  readonly #node: BcoinFullNode;
  readonly #authorization: string;
  readonly #coinbaseRing = lib.KeyRing.generate();
  readonly #legacyRing = lib.KeyRing.generate();
  readonly #witnessRing = lib.KeyRing.generate();
  readonly #ownCoinbases: OwnCoinbase[] = [];
  #stopped = false;

  constructor(node: BcoinFullNode, readonly port: number, readonly apiKey: string) {
    this.#node = node;
    this.rpcUrl = `http://127.0.0.1:${port}/`;
    this.#authorization = "Basic " + btoa(`denopool:${apiKey}`);
    this.#witnessRing.witness = true;
    this.address = this.#coinbaseRing.getAddress("string", "regtest");
  }

  async rpc<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    const response = await fetch(this.rpcUrl, {
      method: "POST",
      headers: { authorization: this.#authorization, "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "1.0", id: method, method, params }),
    });
    const text = await response.text();
    let reply: RpcReply<T>;
    try {
      reply = JSON.parse(text);
    } catch {
      throw new Error(`${method}: HTTP ${response.status}, not JSON: ${text.slice(0, 200)}`);
    }
    if (reply.error) {
      throw new Error(`${method}: RPC error ${reply.error.code}: ${reply.error.message}`);
    }
    return reply.result as T;
  }

  async mine(n: number, address?: string): Promise<string[]> {
    const to = address ?? this.address;
    const start = await this.height();
    // Large batches in one call keep the node busy for seconds; chunks keep RPC latency sane.
    const hashes: string[] = [];
    while (hashes.length < n) {
      const batch = Math.min(100, n - hashes.length);
      hashes.push(...await this.rpc<string[]>("generatetoaddress", [batch, to]));
    }
    if (to === this.address) {
      hashes.forEach((blockHash, i) =>
        this.#ownCoinbases.push({ blockHash, height: start + 1 + i })
      );
    }
    return hashes;
  }

  height(): Promise<number> {
    return this.rpc<number>("getblockcount");
  }

  async activateSegwit(): Promise<void> {
    const missing = SEGWIT_ACTIVATION_HEIGHT - await this.height();
    if (missing > 0) await this.mine(missing);
  }

  async writeCookie(dir: string): Promise<string> {
    await Deno.mkdir(dir, { recursive: true });
    const path = `${dir.replace(/\/+$/, "")}/.cookie`;
    await Deno.writeTextFile(path, `__cookie__:${this.apiKey}`);
    return path;
  }

  async fundWallet(): Promise<number> {
    let tip = await this.height();
    const mature = () => this.#ownCoinbases.filter((c) => c.height <= tip - COINBASE_MATURITY);
    if (mature().length === 0) {
      const youngest = this.#ownCoinbases.at(0)?.height;
      const needed = youngest === undefined
        ? COINBASE_MATURITY + 1
        : youngest + COINBASE_MATURITY - tip;
      await this.mine(Math.max(1, needed));
      tip = await this.height();
    }
    return mature().length;
  }

  async addMempoolTransactions(count: number, opts: MempoolTxOptions = {}): Promise<string[]> {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`bad count ${count}`);
    const segwit = opts.segwit ?? true;
    const perTx = opts.outputsPerTx ?? 1;
    if (!Number.isInteger(perTx) || perTx < 1) throw new RangeError(`bad outputsPerTx ${perTx}`);
    const spendFee = Math.max(TX_FEE, (150 + 34 * perTx) * FEE_RATE);
    if (segwit) await this.activateSegwit();
    await this.fundWallet();
    const tip = await this.height();
    const index = this.#ownCoinbases.findIndex((c) => c.height <= tip - COINBASE_MATURITY);
    const [source] = this.#ownCoinbases.splice(index, 1);
    const raw = await this.rpc<string>("getblock", [source.blockHash, false]);
    const coinbase = lib.Block.fromRaw(raw, "hex").txs[0];

    // One fan-out transaction, then one spend per fan-out output.
    const spends = count - 1;
    const outputs = Math.max(1, spends);
    const fanout = new lib.MTX();
    fanout.addCoin(lib.Coin.fromTX(coinbase, 0, source.height));
    const fanoutFee = Math.max(TX_FEE, (150 + 34 * outputs) * FEE_RATE);
    const share = Math.floor((coinbase.outputs[0].value - fanoutFee) / outputs);
    if (share <= spendFee * 2 + perTx * 1000) throw new Error("coinbase too small to fan out");
    for (let i = 0; i < outputs; i++) {
      const toWitness = segwit && i % 2 === 0;
      fanout.addOutput(this.#scriptFor(toWitness), share);
    }
    fanout.sign(this.#coinbaseRing);
    const fanoutTx = fanout.toTX();
    await this.#node.mempool.addTX(fanoutTx);
    const txids = [fanoutTx.txid()];

    for (let i = 0; i < spends; i++) {
      const fromWitness = segwit && i % 2 === 0;
      const spend = new lib.MTX();
      spend.addCoin(lib.Coin.fromTX(fanoutTx, i, -1));
      const each = Math.floor((share - spendFee) / perTx);
      for (let o = 0; o < perTx; o++) {
        spend.addOutput(this.#scriptFor(!fromWitness && segwit), each);
      }
      const signed = spend.sign(fromWitness ? this.#witnessRing : this.#legacyRing);
      if (signed !== 1) throw new Error("harness could not sign its own spend");
      const tx = spend.toTX();
      await this.#node.mempool.addTX(tx);
      txids.push(tx.txid());
    }
    // bcoin (like Core, for 5 s) keeps serving a cached template after mempool changes; drop it so
    // the next getblocktemplate shows these transactions (waiting longpolls return, as in Core).
    this.#node.rpc.refreshBlock();
    return txids;
  }

  #scriptFor(witness: boolean): BcoinScript {
    return witness
      ? lib.Script.fromProgram(0, this.#witnessRing.getKeyHash())
      : lib.Script.fromPubkeyhash(this.#legacyRing.getKeyHash());
  }

  async stopRpc(): Promise<void> {
    if (!this.#node.http.opened) return;
    // Drop keep-alive and longpoll connections, or the server would wait for them to end.
    const closing = this.#node.http.close();
    this.#node.http.http.closeAllConnections?.();
    await closing;
  }

  async restart(): Promise<void> {
    if (this.#stopped) throw new Error("node was stopped");
    await this.stopRpc();
    await this.#node.http.open();
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.stopRpc();
    // FullNode.close() closes the HTTP server too, which asserts that it is open; it is closed.
    this.#node.http.close = () => Promise.resolve();
    await this.#node.disconnect();
    await this.#node.close();
  }
}
