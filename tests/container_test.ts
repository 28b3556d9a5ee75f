/**
 * The container image, for real, with podman: built from `Containerfile` on a Debian base made
 * without a registry, run on the host network against a regtest node started here, configured by
 * `DENOPOOL_*` variables only, with a named data volume. A miner finds a block through it; the
 * API and the HEALTHCHECK answer; `podman stop` stops it gracefully within its timeout; a second
 * container on the same volume still has the block.
 *
 * Needs root, podman, runc and debootstrap (`.ci/run` installs them); fails, saying why, when
 * podman cannot run. Measured on the 2-core CI machine: about 2 minutes cold (debootstrap 50–90 s,
 * the image build with its npm packages 17 s), 15–25 s once the day's base image exists.
 */

import assert from "node:assert/strict";
import {
  buildProjectImage,
  ensureBaseImage,
  type Podman,
  setupPodman,
} from "./helpers/container.ts";
import { connectMiner, regtestP2pkh, submitBlock } from "./helpers/miners.ts";
import { freePort } from "./helpers/ports.ts";
import { startRegtestNode } from "./helpers/regtest.ts";
import { waitUntil } from "./helpers/wait.ts";

/** The project's image, as this test builds it. */
const IMAGE = "localhost/denopool-test:latest";

/** `podman stop`'s timeout here, and what compose.yaml's stop_grace_period says. */
const STOP_TIMEOUT_S = 30;

/** A found block as `/api/blocks` shows it. */
interface BlockView {
  readonly height: number;
  readonly hash: string;
  readonly result?: string;
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  assert.equal(response.status, 200, `${url}: ${response.status}`);
  return await response.json() as T;
}

/** True once `url` answers 200 (anything else, or no answer, is false). */
async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

/** The container's log, for failure messages. */
async function logs(podman: Podman, name: string): Promise<string> {
  const result = await podman.run(["logs", name]);
  return result.stdout + result.stderr;
}

Deno.test("container: the image mines a regtest block, stops gracefully, keeps its volume", async (t) => {
  const timings: string[] = [];
  const timed = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    const value = await fn();
    timings.push(`${what} ${((performance.now() - start) / 1000).toFixed(1)} s`);
    return value;
  };
  const dir = await Deno.makeTempDir({ prefix: "denopool-container-" });
  const id = crypto.randomUUID().slice(0, 8);
  const volume = `denopool-test-data-${id}`;
  const names = [`denopool-test-a-${id}`, `denopool-test-b-${id}`];
  const podman = await setupPodman(dir);
  const node = await startRegtestNode();
  try {
    const base = await timed("base image", () => ensureBaseImage(podman, dir));
    timings[timings.length - 1] += ` (${base.made})`;
    await timed("project image", () => buildProjectImage(podman, base.image, IMAGE));

    await node.mine(1); // out of initial block download
    const stratumPort = freePort();
    const statusPort = freePort();
    const status = `http://127.0.0.1:${statusPort}`;
    await podman.ok(["volume", "create", volume]);
    // Everything from the environment: what an app store would set.
    const env = {
      DENOPOOL_NODE_NETWORK: "regtest",
      DENOPOOL_NODE_RPC_URL: node.rpcUrl,
      DENOPOOL_RPC_USER: "denopool",
      DENOPOOL_RPC_PASSWORD: node.apiKey,
      DENOPOOL_NODE_ZMQ_HASHBLOCK: "", // bcoin has no ZMQ
      DENOPOOL_STRATUM_LISTEN: `127.0.0.1:${stratumPort}`,
      DENOPOOL_SERVER_STATUS_LISTEN: `127.0.0.1:${statusPort}`,
      // Regtest blocks are easy; shares this easy keep the in-process miner fast.
      DENOPOOL_DIFFICULTY_START: "0.000001",
      DENOPOOL_DIFFICULTY_MIN: "0.000001",
      DENOPOOL_STATUS_BLOCKS_REFRESH_SECONDS: "1",
      DENOPOOL_MINING_HASH_WORKERS: "1",
    };
    const run = (name: string) =>
      podman.ok([
        "run",
        "-d",
        "--name",
        name,
        "--network=host",
        "--stop-timeout",
        String(STOP_TIMEOUT_S),
        "-v",
        `${volume}:/data`,
        ...Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
        IMAGE,
      ]);

    const [first, second] = names;
    let blockHash = "";
    let blockHeight = 0;
    await t.step("a miner finds a block through the containerised pool", async () => {
      await timed("first start", async () => {
        await run(first);
        await waitUntil(
          () => answers(`${status}/api/overview`),
          "the pool's /api/overview",
          60_000,
          250,
        ).catch(async (error) => {
          throw new Error(`${error.message}; container log:\n${await logs(podman, first)}`);
        });
      });
      const overview = await getJson<{ active_miners: number }>(`${status}/api/overview`);
      assert.equal(typeof overview.active_miners, "number");
      assert.equal((await podman.ok(["exec", first, "id", "-u"])).trim(), "10001", "not root");

      const user = `${regtestP2pkh(0x42)}.container`;
      const before = await node.height();
      const miner = await connectMiner(stratumPort, user);
      try {
        blockHash = await submitBlock(miner, user);
      } finally {
        miner.close();
      }
      await waitUntil(async () => await node.height() === before + 1, "the node's new block");
      assert.equal(await node.rpc("getbestblockhash"), blockHash);
      blockHeight = before + 1;
      await waitUntil(async () => {
        const blocks = await getJson<BlockView[]>(`${status}/api/blocks`);
        return blocks.some((b) => b.height === blockHeight);
      }, "the block in /api/blocks");
      const [shown] = await getJson<BlockView[]>(`${status}/api/blocks`);
      assert.equal(shown.height, blockHeight);
      assert.equal(shown.hash, "..." + blockHash.slice(-16));
    });

    await t.step("the HEALTHCHECK says healthy", async () => {
      const health = await podman.run(["healthcheck", "run", first]);
      assert.equal(health.code, 0, `healthcheck: ${health.stdout}${health.stderr}`);
      const state = await podman.ok(["inspect", first, "--format", "{{.State.Health.Status}}"]);
      assert.equal(state.trim(), "healthy");
    });

    await t.step("podman stop: SIGTERM, a clean exit 0 well within the timeout", async () => {
      const start = performance.now();
      await podman.ok(["stop", "-t", String(STOP_TIMEOUT_S), first]);
      const seconds = (performance.now() - start) / 1000;
      timings.push(`stop ${seconds.toFixed(1)} s`);
      const log = await logs(podman, first);
      const code = await podman.ok(["inspect", first, "--format", "{{.State.ExitCode}}"]);
      assert.equal(code.trim(), "0", `exit code; log:\n${log}`);
      assert.match(log, /denopool: SIGTERM: stopping/);
      assert.doesNotMatch(log, /shutdown took too long/);
      assert.ok(seconds < 10, `stopped in ${seconds.toFixed(1)} s (the pool's own bound is 10 s)`);
    });

    await t.step("a second container on the same volume still has the block", async () => {
      await timed("second start", async () => {
        await run(second);
        await waitUntil(
          () => answers(`${status}/api/blocks`),
          "the second pool's /api/blocks",
          60_000,
          250,
        ).catch(async (error) => {
          throw new Error(`${error.message}; container log:\n${await logs(podman, second)}`);
        });
      });
      const blocks = await getJson<BlockView[]>(`${status}/api/blocks`);
      const found = blocks.find((b) => b.height === blockHeight);
      assert.ok(found, `block ${blockHeight} in ${JSON.stringify(blocks)}`);
      assert.equal(found.hash, "..." + blockHash.slice(-16));
      await podman.ok(["stop", "-t", String(STOP_TIMEOUT_S), second]);
      const code = await podman.ok(["inspect", second, "--format", "{{.State.ExitCode}}"]);
      assert.equal(code.trim(), "0", await logs(podman, second));
    });
  } finally {
    for (const name of names) await podman.run(["rm", "-f", "-t", "0", name]);
    await podman.run(["volume", "rm", "-f", volume]);
    await node.stop();
    await Deno.remove(dir, { recursive: true });
    console.log(`container test timings: ${timings.join(", ")}`);
  }
});
