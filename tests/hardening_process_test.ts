/**
 * The pool as a real process (`main.ts`; for the crash, `helpers/crash_after_journal.ts`):
 * killed between finding a block and submitting it, then restarted (the journaled block is
 * resubmitted while current and recorded exactly once); and stopped by SIGINT and SIGTERM (stops
 * accepting, tells miners, exits 0 within the bound).
 *
 * Also in-process: the node rejecting `submitblock`, and `submitblock` timing out although the
 * node took the block.
 *
 * And nothing lost on a graceful stop: SIGTERM right after a found block, a reconnect-churn ban and
 * saved-worker writes, then `main.ts` again on the same data dir: all of it is in the store and
 * served again.
 */

import assert from "node:assert/strict";
import { stringify } from "smol-toml";
import { type RegtestNode, startRegtestNode } from "./helpers/regtest.ts";
import { startTestPool } from "./helpers/pool.ts";
import { startFaultyNode } from "./helpers/faulty_node.ts";
import { freePort } from "./helpers/ports.ts";
import { StratumClient } from "../stratum/client.ts";
import { findShare } from "../stratum/miner.ts";
import { bitsToTarget } from "../lib/bitcoin/target.ts";
import { encodeSegwitAddress } from "../lib/bitcoin/bech32.ts";
import { CRASH_AFTER_JOURNAL_MAIN, CRASH_EXIT_CODE } from "./helpers/crash_after_journal.ts";
import { openStore, workerNameHash } from "../lib/store/store.ts";
import { startClerkStandIn, TEST_ISSUER } from "./auth_fixture.ts";
import { connectMiner } from "./helpers/miners.ts";
import { waitUntil } from "./helpers/wait.ts";

const USER = `${encodeSegwitAddress("bcrt", 0, new Uint8Array(20).fill(9))}.proc`;
const CHEAT = `${encodeSegwitAddress("bcrt", 0, new Uint8Array(20).fill(9))}.cheat`;
const MAIN = new URL("../main.ts", import.meta.url).pathname;
const sanitize = { sanitizeOps: false, sanitizeResources: false } as const;

interface PoolProcess {
  readonly child: Deno.ChildProcess;
  readonly port: number;
  /** Status HTTP port. */
  readonly statusPort: number;
  readonly dataDir: string;
  /** stdout + stderr so far. */
  output(): string;
  /** Resolves with the exit code. */
  readonly exited: Promise<number>;
}

/**
 * Writes a config for `node` (with `extra` sections added) and runs `main.ts` (or another entry
 * script with the same command line) on it; resolves once Stratum listens.
 */
async function spawnPool(
  node: RegtestNode,
  dataDir: string,
  { entry = MAIN }: { readonly entry?: string } = {},
  extra: Record<string, Record<string, unknown>> = {},
): Promise<PoolProcess> {
  const port = freePort();
  const statusPort = freePort();
  const configPath = `${dataDir}/config.toml`;
  const secretsPath = `${dataDir}/secrets.toml`;
  await Deno.writeTextFile(
    configPath,
    stringify({
      ...extra,
      server: { data_dir: dataDir, status_listen: `127.0.0.1:${statusPort}` },
      stratum: { listen: `127.0.0.1:${port}` },
      node: {
        network: "regtest",
        rpc_url: node.rpcUrl,
        zmq_hashblock: "",
        zmq_rawblock: "",
        refresh_interval_seconds: 2,
      },
      difficulty: { start: 0.000001, min: 0.000001 },
      mining: { hash_workers: 1 },
    }),
  );
  await Deno.writeTextFile(secretsPath, stringify({ rpc_user: "x", rpc_password: node.apiKey }));
  await Deno.chmod(secretsPath, 0o600);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", entry, "--config", configPath, "--secrets", secretsPath],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  };
  const pumped = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const exited = child.status.then(async (s) => {
    await pumped;
    return s.code;
  });
  let done = false;
  exited.then(() => (done = true));
  const end = Date.now() + 30_000;
  while (!/stratum listening/.test(text)) {
    if (done || Date.now() > end) throw new Error(`pool did not start:\n${text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, port, statusPort, dataDir, output: () => text, exited };
}

function connectProcMiner(port: number): Promise<StratumClient> {
  return connectMiner(port, USER, { agent: "proc-test/1", requestTimeoutMs: 30_000 });
}

/** Mines a share on the client's job that is a block (meets the job's network target). */
function findBlock(c: StratumClient, extranonce2Start = 0) {
  const share = findShare(c, {
    target: bitsToTarget(parseInt(c.job!.nbits, 16)),
    maxNonces: 1e6,
    extranonce2Start,
  });
  assert.ok(share, "a block within the nonce budget (regtest: half of all hashes)");
  return share;
}

async function journal(dir: string): Promise<{ hash: string; status: string }[]> {
  const out: { hash: string; status: string }[] = [];
  for await (const e of Deno.readDir(`${dir}/blocks`)) {
    if (e.name.endsWith(".json")) {
      out.push(JSON.parse(await Deno.readTextFile(`${dir}/blocks/${e.name}`)));
    }
  }
  return out;
}

Deno.test({
  name:
    "killed between journaling a block and submitting it: the restart submits it, recorded once",
  ...sanitize,
  async fn() {
    const node = await startRegtestNode();
    const dataDir = await Deno.makeTempDir({ prefix: "denopool-crash-" });
    try {
      await node.mine(1);
      // The pool through app/ with a hook that exits right after the block is journaled.
      const crashing = await spawnPool(node, dataDir, { entry: CRASH_AFTER_JOURNAL_MAIN });
      const height = await node.height();
      const miner = await connectProcMiner(crashing.port);
      const share = findBlock(miner);
      await miner.submit(USER, share).catch(() => {}); // the pool dies before it answers
      assert.equal(await crashing.exited, CRASH_EXIT_CODE, crashing.output());
      miner.close();
      const [entry] = await journal(dataDir);
      assert.equal(entry.status, "pending", "journaled, never submitted");
      assert.equal(await node.height(), height, "the node never saw it");

      // Restart (in-process, same data dir): recovery submits it while it is still current.
      const first = await startTestPool(node, {}, dataDir);
      try {
        assert.equal(await node.height(), height + 1);
        assert.equal(await node.rpc<string>("getbestblockhash"), entry.hash);
        assert.deepEqual(first.blocks.map((b) => [b.hash, b.status]), [[entry.hash, "accepted"]]);
      } finally {
        await first.stop();
      }
      const again = await journal(dataDir);
      assert.deepEqual(again.map((e) => [e.hash, e.status]), [[entry.hash, "accepted"]]);

      // A second restart knows it and records nothing anew.
      const second = await startTestPool(node, {}, dataDir);
      try {
        assert.deepEqual(second.blocks, []);
        assert.deepEqual(
          second.pool.blocks.records().map((r) => [r.hash, r.status]),
          [[entry.hash, "accepted"]],
        );
        assert.equal(await node.height(), height + 1);
      } finally {
        await second.stop();
      }
    } finally {
      await node.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "the node rejects submitblock: the miner is told, the block is recorded rejected once, mining goes on",
  ...sanitize,
  async fn() {
    const node = await startRegtestNode();
    const proxy = startFaultyNode(node.rpcUrl);
    const tp = await startTestPool(node, { node: { rpc_url: proxy.url } });
    try {
      await node.mine(1);
      const miner = await connectProcMiner(tp.port);
      // The node never sees this block: the proxy answers for it, as a node rejecting it would.
      proxy.fault("submitblock", {
        kind: "body",
        body: '{"result":"bad-txnmrklroot","error":null}',
      });
      const height = await node.height();
      const reply = await miner.submit(USER, findBlock(miner));
      assert.deepEqual((reply.error as unknown[]).slice(0, 2), [
        20,
        "block rejected: bad-txnmrklroot",
      ]);
      assert.equal(await node.height(), height);
      assert.deepEqual(tp.blocks.map((b) => [b.status, b.reason]), [[
        "rejected",
        "bad-txnmrklroot",
      ]]);
      proxy.clearFaults();
      const ok = await miner.submit(USER, findBlock(miner, 1));
      assert.equal(ok.result, true, JSON.stringify(ok.error));
      assert.equal(await node.height(), height + 1);
      assert.deepEqual(tp.blocks.map((b) => b.status), ["rejected", "accepted"]);
      miner.close();
    } finally {
      await tp.stop();
      await proxy.close();
      await node.stop();
    }
  },
});

Deno.test({
  name:
    "submitblock times out but the node took the block: accepted, recorded once, not resubmitted",
  ...sanitize,
  async fn() {
    const node = await startRegtestNode();
    const proxy = startFaultyNode(node.rpcUrl);
    const tp = await startTestPool(node, { node: { rpc_url: proxy.url } });
    try {
      await node.mine(1);
      const miner = await connectProcMiner(tp.port);
      // The answer comes after the submitter's 10 s timeout; the block reaches the node anyway.
      proxy.fault("submitblock", { kind: "delay", ms: 10_500 });
      const height = await node.height();
      const replied = miner.submit(USER, findBlock(miner));
      const end = Date.now() + 10_000;
      while ((proxy.calls.get("submitblock") ?? 0) === 0 && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 20));
      }
      proxy.clearFaults(); // later calls go straight through; the first is still delayed
      const reply = await replied;
      assert.equal(reply.result, true, JSON.stringify(reply.error));
      assert.equal(await node.height(), height + 1);
      assert.equal(tp.blocks.length, 1, "recorded once");
      assert.equal(tp.blocks[0].status, "accepted");
      assert.ok(tp.blocks[0].attempts <= 2, `${tp.blocks[0].attempts} submitblock calls`);
      assert.ok((proxy.calls.get("submitblock") ?? 0) <= 2, "no blind resends");
      miner.close();
    } finally {
      await tp.stop();
      await proxy.close();
      await node.stop();
    }
  },
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test({
    name: `${signal}: stops accepting, tells miners, exits 0 within the bound`,
    ...sanitize,
    async fn() {
      const node = await startRegtestNode();
      const dataDir = await Deno.makeTempDir({ prefix: "denopool-signal-" });
      try {
        await node.mine(1);
        const proc = await spawnPool(node, dataDir);
        const miners = await Promise.all([1, 2, 3].map(() => connectProcMiner(proc.port)));
        const messages = miners.map((m) =>
          m.waitFor("client.show_message", () => true, 10_000).then((n) => String(n.params[0]))
        );
        const t0 = performance.now();
        proc.child.kill(signal);
        for (const text of await Promise.all(messages)) assert.match(text, /restarting|reconnect/i);
        await Promise.all(miners.map((m) => m.closed));
        const code = await proc.exited;
        const ms = performance.now() - t0;
        assert.equal(code, 0, proc.output());
        assert.ok(ms < 10_000, `exited after ${ms.toFixed(0)} ms`);
        assert.match(proc.output(), new RegExp(`${signal}: stopping`));
        await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: proc.port }));
      } finally {
        await node.stop();
        await Deno.remove(dataDir, { recursive: true });
      }
    },
  });
}

/** Waits until the status server answers (it starts after Stratum listens). */
async function statusUp(base: string): Promise<void> {
  const end = Date.now() + 15_000;
  for (;;) {
    try {
      const res = await fetch(`${base}/help`);
      await res.body?.cancel();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > end) throw new Error(`status server at ${base} did not start`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Connects once; true when the pool closed the connection unanswered (refused). */
/** The code of a Stratum error tuple `[code, message, traceback]`. */
function errorCode(error: unknown): unknown {
  return Array.isArray(error) ? error[0] : undefined;
}

async function refusedConnect(port: number): Promise<boolean> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const read = await Promise.race([
      conn.read(new Uint8Array(64)).catch(() => null),
      new Promise<"open">((r) => setTimeout(() => r("open"), 500)),
    ]);
    return read === null;
  } finally {
    conn.close();
  }
}

Deno.test({
  name:
    "SIGTERM right after a block, a ban and saved-worker writes: the restart on the same data dir has them all",
  ...sanitize,
  async fn() {
    const clerk = await startClerkStandIn();
    const node = await startRegtestNode();
    const dataDir = await Deno.makeTempDir({ prefix: "denopool-flush-" });
    const extra = {
      auth: { clerk_jwks_url: clerk.jwksUrl, clerk_issuer: TEST_ISSUER },
      // Three invalid shares ban a worker (persisted); two wasted connections from a non-exempt
      // address ban it for reconnecting (in memory only).
      bans: {
        invalid_threshold: 3,
        ban_seconds: 3600,
        reconnect_threshold: 2,
        reconnect_window_seconds: 60,
        exempt: [],
      },
    };
    let proc: PoolProcess | undefined;
    try {
      await node.mine(1);
      proc = await spawnPool(node, dataDir, {}, extra);
      const base = `http://127.0.0.1:${proc.statusPort}`;
      await statusUp(base);
      const signedIn = await fetch(`${base}/api/auth/session-refresh`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token: await clerk.sign("user_flush") }),
      });
      assert.equal(signedIn.status, 200, await signedIn.clone().text());
      const cookie = signedIn.headers.get("set-cookie")!.split(";")[0];
      const form = (path: string, fields: Record<string, string>) =>
        fetch(`${base}${path}`, {
          method: "POST",
          headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams(fields).toString(),
          redirect: "manual",
        });

      // Activity: saved-worker writes, a found block, a worker ban, a churn ban; SIGTERM at once.
      const miner = await connectProcMiner(proc.port);
      const saved = await form("/worker/save", { worker: USER });
      assert.equal(saved.status, 303);
      const hash = workerNameHash(USER);
      const off = await form("/api/saved-workers/notify-enabled", { hash, enabled: "false" });
      assert.equal(off.status, 200);
      const height = await node.height();
      const reply = await miner.submit(USER, findBlock(miner));
      assert.equal(reply.result, true, JSON.stringify(reply.error));
      const blockHash = await node.rpc<string>("getbestblockhash");
      assert.equal(await node.height(), height + 1);
      const cheat = await connectMiner(proc.port, CHEAT, { requestTimeoutMs: 30_000 });
      const jobId = cheat.job!.jobId;
      for (let i = 0; i < 3; i++) {
        const bad = { jobId, extranonce2: "zz", ntime: "00000000", nonce: "00000000" };
        assert.equal(errorCode((await cheat.submit(CHEAT, bad)).error), 20);
      }
      cheat.close();
      assert.equal(await refusedConnect(proc.port), false);
      assert.equal(await refusedConnect(proc.port), false);
      await waitUntil(
        async () => await refusedConnect(proc!.port),
        "two wasted connections ban 127.0.0.1 (exempt list empty)",
      );
      proc.child.kill("SIGTERM");
      assert.equal(await proc.exited, 0, proc.output());
      miner.close();

      // The store, read directly once the process is gone: every write made it.
      const location = `${dataDir}/store/denopool.kv`;
      const store = await openStore(location);
      try {
        const blocks = await store.blocks.list();
        assert.deepEqual(
          blocks.map((b) => [b.hash, b.status, b.worker]),
          [[blockHash, "accepted", USER]],
        );
        const bans = await store.bans.list();
        const ban = bans.find((b) => b.key === CHEAT);
        assert.equal(ban?.reason, "too many invalid shares");
        assert.equal(ban.source, "invalid-shares");
        assert.ok(ban.until > Date.now() + 3_000_000, "the full hour is left");
        assert.equal(bans.length, 1, "the churn ban on 127.0.0.1 is not persisted");
        const list = await store.savedWorkers.list("user_flush");
        assert.deepEqual(list.map((w) => [w.hash, w.notifyEnabled]), [[hash, false]]);
        assert.ok(
          (await store.history.pool()).length > 0,
          "the last history sample, taken at stop",
        );
      } finally {
        store.close();
      }

      // And main.ts again on the same data dir serves all of it.
      proc = await spawnPool(node, dataDir, {}, extra);
      const base2 = `http://127.0.0.1:${proc.statusPort}`;
      await statusUp(base2);
      const again = await fetch(`${base2}/api/saved-workers`, { headers: { cookie } });
      assert.equal(again.status, 200);
      const body = await again.json();
      assert.equal(body.saved_count, 1);
      assert.deepEqual(
        body.offline_workers.map((w: { hash: string; notify_enabled: boolean }) => [
          w.hash,
          w.notify_enabled,
        ]),
        [[hash, false]],
      );
      // The public list shows the censored hash (its last 16 digits) with the height.
      const apiBlocks: { height: number; hash: string }[] =
        await (await fetch(`${base2}/api/blocks`)).json();
      assert.deepEqual(
        apiBlocks.map((b) => [b.height, b.hash]),
        [[height + 1, `...${blockHash.slice(-16)}`]],
      );
      assert.equal(await refusedConnect(proc.port), false, "a restart lifts the churn ban");
      assert.match(proc.output(), /store: 1 ban\(s\) restored/);
      const retry = await StratumClient.connect({ host: "127.0.0.1", port: proc.port });
      await retry.request("mining.subscribe", []);
      const refused = await retry.request("mining.authorize", [CHEAT, "x"]);
      assert.equal(errorCode(refused.error), 24, "the worker ban came back");
      retry.close();
      proc.child.kill("SIGTERM");
      assert.equal(await proc.exited, 0, proc.output());
      proc = undefined;
    } finally {
      if (proc) {
        proc.child.kill("SIGKILL");
        await proc.exited;
      }
      await node.stop();
      await clerk.close();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
