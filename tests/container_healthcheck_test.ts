/**
 * `tools/healthcheck.ts`, the image's HEALTHCHECK: it reads the configuration as `main.ts` does
 * and asks the status server (or, without one, the Stratum port) whether the pool answers.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { checkHealth } from "../tools/healthcheck.ts";

const HEALTHCHECK = fileURLToPath(new URL("../tools/healthcheck.ts", import.meta.url));
const DENO_JSON = fileURLToPath(new URL("../deno.json", import.meta.url));
const EXAMPLE = fileURLToPath(new URL("../config.example.toml", import.meta.url));

/** A stand-in status server: answers every request with `status`, recording the paths asked. */
function statusServer(status: number) {
  const paths: string[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => {
      paths.push(new URL(request.url).pathname);
      return new Response("x", { status });
    },
  );
  return { port: server.addr.port, paths, [Symbol.asyncDispose]: () => server.shutdown() };
}

async function withConfig<T>(toml: string, fn: (path: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "denopool-health-" });
  try {
    await Deno.writeTextFile(`${dir}/config.toml`, toml);
    return await fn(`${dir}/config.toml`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("healthcheck: 200 from /api/overview is healthy; a wildcard address is asked on loopback", async () => {
  await using server = statusServer(200);
  await withConfig(`[server]\nstatus_listen = "0.0.0.0:${server.port}"\n`, async (path) => {
    const result = await checkHealth([], { DENOPOOL_CONFIG: path }, () => {});
    assert.deepEqual(result, {
      healthy: true,
      detail: `GET http://127.0.0.1:${server.port}/api/overview: 200`,
    });
    assert.deepEqual(server.paths, ["/api/overview"]);
  });
});

Deno.test("healthcheck: another status, or nobody listening, is unhealthy", async () => {
  {
    await using server = statusServer(503);
    const env = { DENOPOOL_SERVER_STATUS_LISTEN: `127.0.0.1:${server.port}` };
    const result = await checkHealth(["--config", EXAMPLE], env, () => {});
    assert.deepEqual(result, {
      healthy: false,
      detail: `GET http://127.0.0.1:${server.port}/api/overview: 503`,
    });
  }
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (closed.addr as Deno.NetAddr).port;
  closed.close();
  const env = { DENOPOOL_SERVER_STATUS_LISTEN: `127.0.0.1:${port}` };
  const result = await checkHealth(["--config", EXAMPLE], env, () => {});
  assert.ok("healthy" in result && !result.healthy, JSON.stringify(result));
  assert.match(result.detail, new RegExp(`^GET http://127\\.0\\.0\\.1:${port}/api/overview: `));
});

Deno.test("healthcheck: no_json asks /; without a status listener the Stratum port is tried", async () => {
  {
    await using server = statusServer(200);
    const env = { DENOPOOL_SERVER_STATUS_LISTEN: `127.0.0.1:${server.port}` };
    const result = await checkHealth(["--config", EXAMPLE, "--no-json"], env, () => {});
    assert.ok("healthy" in result && result.healthy, JSON.stringify(result));
    assert.deepEqual(server.paths, ["/"]);
  }
  const stratum = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (stratum.addr as Deno.NetAddr).port;
  try {
    const env = { DENOPOOL_SERVER_STATUS_LISTEN: "", DENOPOOL_STRATUM_LISTEN: `0.0.0.0:${port}` };
    const result = await checkHealth(["--config", EXAMPLE], env, () => {});
    assert.deepEqual(result, {
      healthy: true,
      detail: `Stratum 127.0.0.1:${port}: accepts connections`,
    });
  } finally {
    stratum.close();
  }
});

Deno.test("healthcheck: the command's exit codes and lines (0 healthy, 1 not, 2 bad config)", async () => {
  const server = statusServer(200);
  const run = async (env: Record<string, string>) => {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--config", DENO_JSON, HEALTHCHECK, "--config", EXAMPLE],
      env: { NO_COLOR: "1", ...env },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder();
    return {
      code: output.code,
      stdout: text.decode(output.stdout),
      stderr: text.decode(output.stderr),
    };
  };
  const healthy = await run({ DENOPOOL_SERVER_STATUS_LISTEN: `127.0.0.1:${server.port}` });
  assert.equal(healthy.code, 0, healthy.stderr);
  assert.equal(healthy.stdout, `healthy: GET http://127.0.0.1:${server.port}/api/overview: 200\n`);

  const bad = await run({ DENOPOOL_SERVER_STATUS_LISTEN: "nowhere" });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^error: environment: DENOPOOL_SERVER_STATUS_LISTEN /);

  await server[Symbol.asyncDispose](); // now nobody answers there
  const down = await run({ DENOPOOL_SERVER_STATUS_LISTEN: `127.0.0.1:${server.port}` });
  assert.equal(down.code, 1);
  assert.match(down.stderr, /^unhealthy: GET http:\/\/127\.0\.0\.1:\d+\/api\/overview: /);
});
