/**
 * `mirror.ts` deploys to Deno Deploy unchanged: it runs as its own process with nothing but
 * network, environment and read access to the page assets in `static/` (no writes, no
 * subprocesses, no FFI, no system info, no unstable flags beyond KV from `deno.json`), serves the
 * public API and pages of a test upstream, hides the authenticated routes, and stops on SIGTERM.
 * Its module graph, read from `deno info --json`, holds none of the pool's sockets, workers, node
 * client, store or file writes.
 */

import assert from "node:assert/strict";
import { createStatusApp } from "../routes/app.ts";
import { createPageRoutes } from "../routes/pages.ts";
import { ManualClock, memorySources, sampleStatusData } from "../lib/status/memory.ts";
import { SnapshotCache } from "../lib/status/snapshots.ts";
import type { StatusStatic } from "../lib/status/sources.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const ENTRYPOINT = `${ROOT}/mirror.ts`;
const STATIC_DIR = `${ROOT}/static`;

/** Every permission flag the mirror may be given: what Deno Deploy grants an isolate. */
const DEPLOYABLE_FLAGS = ["--allow-net", "--allow-env", "--allow-read=static"];

/** The flags of `deno task mirror` (run from the repo root, so `static` is the page assets). */
async function taskFlags(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
  const words = String(config.tasks.mirror).split(/\s+/);
  assert.deepEqual([words[0], words[1], words.at(-1)], ["deno", "run", "mirror.ts"]);
  return words.slice(2, -1);
}

const STATICS: StatusStatic = {
  peerCleanup: { enabled: false, maxPingMs: 250, minPeers: 30 },
  retargetInterval: 2016,
  targetSpacingSec: 600,
};

/** A pool's status site over sample data, on a loopback port. */
async function startUpstream() {
  const now = Date.now();
  const cache = new SnapshotCache({
    sources: memorySources(sampleStatusData(now)),
    statics: STATICS,
    clock: new ManualClock(now),
  });
  await cache.refresh();
  const pages = await createPageRoutes({ snapshots: cache, site: { brandName: "upstream" } });
  const app = createStatusApp({ snapshots: cache, pages });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
  return { url: `http://127.0.0.1:${server.addr.port}`, stop: () => server.shutdown() };
}

/** Starts `mirror.ts` with `flags`; resolves with the process and the URL it says it serves on. */
async function spawnMirror(flags: readonly string[], env: Record<string, string>) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, ENTRYPOINT],
    cwd: ROOT,
    env: { ...env, PORT: "0", LISTEN_HOST: "127.0.0.1", NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  for (;;) {
    const { value, done } = await lines.read();
    if (done) break;
    text += value;
    const listening = /serving \S+ on (http:\/\/[\d.]+:\d+)\//.exec(text);
    if (listening) {
      // Keep draining stdout so the child never blocks on a full pipe.
      (async () => {
        while (!(await lines.read()).done);
      })();
      return { child, url: listening[1] };
    }
  }
  const status = await child.status;
  const stderr = await new Response(child.stderr).text();
  throw new Error(`mirror exited (${status.code}) before listening: ${stderr}`);
}

async function get(url: string) {
  const res = await fetch(url);
  return {
    status: res.status,
    headers: res.headers,
    body: new Uint8Array(await res.arrayBuffer()),
  };
}

Deno.test("deno task mirror: only net, env and read of static/; serves an upstream; SIGTERM stops it", async () => {
  const flags = await taskFlags();
  for (const flag of flags) assert.ok(DEPLOYABLE_FLAGS.includes(flag), `${flag} in the task`);
  const upstream = await startUpstream();
  const { child, url } = await spawnMirror(["--no-prompt", ...flags], {
    UPSTREAM_URL: upstream.url,
    BRAND_NAME: "Deploy Mirror",
  });
  const stderr = new Response(child.stderr).text();
  try {
    const overview = await get(`${url}/api/overview`);
    const original = await get(`${upstream.url}/api/overview`);
    assert.equal(overview.status, 200);
    assert.deepEqual(overview.body, original.body, "the upstream's bytes");
    assert.equal(
      overview.headers.get("X-JSON-Updated-At"),
      original.headers.get("X-JSON-Updated-At"),
    );

    const page = await get(`${url}/`);
    assert.equal(page.status, 200);
    const html = new TextDecoder().decode(page.body);
    assert.match(html, /Deploy Mirror/);
    assert.match(html, /status mirror of http:\/\/127\.0\.0\.1/);
    const css = await get(`${url}/static/app.css`);
    assert.equal(css.status, 200, "the page assets, read from static/");
    assert.deepEqual(css.body, await Deno.readFile(`${STATIC_DIR}/app.css`));

    for (const path of ["/api/saved-workers", "/api/auth/session-refresh", "/metrics"]) {
      const r = await get(url + path);
      assert.equal(r.status, 404, path);
    }
  } finally {
    child.kill("SIGTERM");
    const status = await child.status;
    await upstream.stop();
    assert.equal(status.code, 0, `clean exit on SIGTERM; stderr: ${await stderr}`);
  }
});

Deno.test("mirror.ts needs no read access for its modules: only static/ page assets are read", async () => {
  const run = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--allow-net", "--allow-env", ENTRYPOINT],
    cwd: ROOT,
    env: { UPSTREAM_URL: "http://127.0.0.1:9", PORT: "0", LISTEN_HOST: "127.0.0.1", NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const stderr = new TextDecoder().decode(run.stderr);
  assert.notEqual(run.code, 0);
  // Every module loaded (the failure is at run time, in the page routes), and the one read asked
  // for is a file under static/. When the assets get embedded, drop --allow-read from the task.
  assert.match(stderr, /Requires read access to "([^"]+)"/);
  const denied = [...stderr.matchAll(/Requires read access to "([^"]+)"/g)].map((m) => m[1]);
  for (const path of denied) assert.ok(path.startsWith(`${STATIC_DIR}/`), path);
});

/** Local paths the mirror must never load: listeners, workers, node, pool core, store, config. */
const FORBIDDEN_LOCAL = [
  "stratum/",
  "lib/shares/",
  "lib/node/",
  "lib/pool/",
  "lib/store/",
  "lib/tls/",
  "lib/config/",
  "tools/",
  "main.ts",
];

/** APIs a Deno Deploy isolate lacks, or that write files: none may appear in the mirror's code. */
const FORBIDDEN_APIS = [
  /\bDeno\.(listen|listenTls|listenDatagram|connect|connectTls|startTls)\b/,
  /\bnew Worker\b/,
  /\bDeno\.(writeFile|writeTextFile|writeFileSync|writeTextFileSync|mkdir|mkdirSync)\b/,
  /\bDeno\.(remove|removeSync|rename|create|createSync|open|openSync|truncate|makeTempDir)\b/,
  /\bDeno\.(makeTempFile|copyFile|link|symlink|chmod|chown|utime)\b/,
  /\bDeno\.(Command|run|dlopen|kill)\b/,
];

/** Node built-ins that mean sockets, files, processes or threads. */
const FORBIDDEN_NODE =
  /^node:(net|tls|dgram|fs|fs\/promises|child_process|worker_threads|cluster)$/;

Deno.test("mirror.ts's module graph holds no Stratum, ZMQ, workers, node client, store or writes", async () => {
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", ENTRYPOINT],
    cwd: ROOT,
    stdout: "piped",
    stderr: "null",
  }).output();
  assert.equal(info.code, 0);
  const graph = JSON.parse(new TextDecoder().decode(info.stdout)) as {
    modules: { specifier: string; kind?: string; npmPackage?: string }[];
  };
  const local = graph.modules.filter((m) => m.specifier.startsWith(`file://${ROOT}/`));
  assert.ok(local.some((m) => m.specifier.endsWith("/lib/mirror/kv.ts")), "the graph was read");

  const npm = new Set(graph.modules.flatMap((m) => m.npmPackage ? [m.npmPackage] : []));
  assert.deepEqual([...npm].map((p) => p.replace(/@[^@]+$/, "")), ["hono"], "npm: hono only");
  for (const m of graph.modules) {
    assert.doesNotMatch(m.specifier, /zeromq|bcoin|playwright/, m.specifier);
    assert.doesNotMatch(m.specifier, FORBIDDEN_NODE, m.specifier);
  }
  for (const m of local) {
    const path = m.specifier.slice(`file://${ROOT}/`.length);
    for (const prefix of FORBIDDEN_LOCAL) assert.ok(!path.startsWith(prefix), path);
    const source = await Deno.readTextFile(`${ROOT}/${path}`);
    for (const api of FORBIDDEN_APIS) assert.doesNotMatch(source, api, `${path} uses ${api}`);
  }
});
