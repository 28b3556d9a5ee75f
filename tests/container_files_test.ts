/**
 * The container files agree with the code, without running a container: `Containerfile` copies
 * every module the pool's entry points load and drops exactly the test-only packages;
 * `container/config.toml` is valid and keeps its data in the image's volume; `compose.yaml`'s
 * pool service is configured by variables the config loader knows, with ports, volumes, RPC, ZMQ
 * and cookie matching the config and the bitcoind service next to it.
 */

import assert from "node:assert/strict";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { readEnv } from "../lib/config/env.ts";
import { parseHostPort } from "../lib/config/fields.ts";
import { loadConfig } from "../lib/config/load.ts";
import denoJson from "../deno.json" with { type: "json" };

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const CONTAINERFILE = await Deno.readTextFile(`${ROOT}Containerfile`);
const IMAGE_CONFIG = `${ROOT}container/config.toml`;

/** The entry points the image installs packages for (its `deno install --entrypoint` line). */
function installedEntryPoints(): string[] {
  const install = /deno install [^\n]*--entrypoint ((?:\\\n|[^\n&])+)/.exec(CONTAINERFILE);
  assert.ok(install, "a deno install --entrypoint line");
  return install[1].replaceAll("\\\n", " ").split(/\s+/).filter((s) => s.endsWith(".ts"));
}

/** What the image's `COPY` lines bring from the repository (files and directories). */
function copiedPaths(): string[] {
  const paths: string[] = [];
  for (const match of CONTAINERFILE.matchAll(/^COPY ([^\n]+)$/gm)) {
    const parts = match[1].split(/\s+/);
    paths.push(...parts.slice(0, -1).map((p) => p.replace(/\/$/, "")));
  }
  return paths;
}

/** The local files and npm package names in the module graph of `entry` (`deno info`). */
async function moduleGraph(entry: string): Promise<{ files: string[]; packages: string[] }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const info = JSON.parse(new TextDecoder().decode(output.stdout)) as {
    modules: { specifier: string }[];
  };
  const files: string[] = [];
  const packages = new Set<string>();
  for (const { specifier } of info.modules) {
    if (specifier.startsWith("file:")) files.push(relative(ROOT, fileURLToPath(specifier)));
    const npm = /^npm:\/((?:@[^/]+\/)?[^@/]+)@/.exec(specifier);
    if (npm) packages.add(npm[1]);
  }
  return { files, packages: [...packages] };
}

/** The npm package an import map entry names (`npm:hono@^4.6.0` → `hono`). */
function packageOf(specifier: string): string {
  const match = /^npm:\/?((?:@[^/]+\/)?[^@/]+)/.exec(specifier);
  assert.ok(match, specifier);
  return match[1];
}

Deno.test("Containerfile: copies every module of the entry points, drops only test-only packages", async () => {
  const entries = installedEntryPoints();
  assert.ok(entries.includes("main.ts") && entries.includes("tools/healthcheck.ts"), `${entries}`);
  const copied = copiedPaths();
  const used = new Set<string>();
  for (const entry of entries) {
    const graph = await moduleGraph(entry);
    for (const file of graph.files) {
      assert.ok(
        copied.some((path) => file === path || file.startsWith(`${path}/`)),
        `${entry} loads ${file}, which the image does not copy`,
      );
    }
    for (const name of graph.packages) used.add(name);
  }
  // Worker modules are loaded by URL, outside the static graph: they live under lib/.
  assert.ok(copied.includes("lib") && copied.includes("static"));

  const removal = /deno remove ([^\n\\&]+)/.exec(CONTAINERFILE);
  assert.ok(removal, "a deno remove line");
  const removed = removal[1].trim().split(/\s+/).sort();
  const imports = denoJson.imports as Record<string, string>;
  const unused = Object.entries(imports)
    .filter(([key]) => !key.endsWith("/"))
    .filter(([, value]) => !used.has(packageOf(value)))
    .map(([key]) => key)
    .sort();
  assert.deepEqual(removed, unused, "the image removes exactly the imports the pool never loads");
  assert.ok(removed.includes("bcoin"), "no regtest node in the image");
  assert.match(CONTAINERFILE, /--allow-scripts=npm:zeromq\b/, "scripts for zeromq only");
  assert.match(
    CONTAINERFILE,
    new RegExp(`^ARG BASE=denoland/deno:debian-${Deno.version.deno}$`, "m"),
  );
});

Deno.test("Containerfile: non-root, the volume, the config variable, HEALTHCHECK and STOPSIGNAL", async () => {
  const lines = CONTAINERFILE.split("\n");
  const last = (instruction: string) =>
    lines.filter((line) => line.startsWith(`${instruction} `)).at(-1);
  assert.equal(last("USER"), "USER ${UID}:${GID}");
  assert.match(CONTAINERFILE, /^ARG UID=10001$/m);
  assert.equal(last("VOLUME"), "VOLUME /data");
  assert.equal(last("STOPSIGNAL"), "STOPSIGNAL SIGTERM");
  assert.match(CONTAINERFILE, /^HEALTHCHECK [^\n]*\\\n\s+CMD \[[^\n]*"tools\/healthcheck\.ts"\]$/m);
  assert.match(CONTAINERFILE, /DENOPOOL_CONFIG=\/etc\/denopool\/config\.toml/);
  assert.match(CONTAINERFILE, /^COPY container\/config\.toml \/etc\/denopool\/config\.toml$/m);

  // The image's config is valid and keeps everything in the volume, listening on all interfaces.
  const config = await loadConfig({ configPath: IMAGE_CONFIG, warn: () => {} });
  assert.equal(config.server.dataDir, "/data");
  assert.equal(parseHostPort(config.server.statusListen)?.hostname, "0.0.0.0");
  assert.equal(parseHostPort(config.stratum.listen)?.hostname, "0.0.0.0");
  assert.match(CONTAINERFILE, /^EXPOSE 3333 8080$/m);
});

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  stop_grace_period?: string;
  depends_on?: string[];
}

/** Compose's `${NAME:-default}` interpolation, with `vars` set (others take their default). */
function interpolate(text: string, vars: Record<string, string>): string {
  return text.replace(
    /\$\{([A-Z_]+):-([^}]*)\}/g,
    (_, name: string, fallback: string) => vars[name] ?? fallback,
  );
}

async function compose(vars: Record<string, string>) {
  const text = await Deno.readTextFile(`${ROOT}compose.yaml`);
  assert.doesNotMatch(text.replace(/\$\{[A-Z_]+:-[^}]*\}/g, ""), /\$\{/, "only ${X:-default}");
  const doc = parse(interpolate(text, vars)) as {
    services: Record<string, ComposeService>;
    volumes: Record<string, unknown>;
  };
  return doc;
}

/** `-name=value` flags of bitcoind's command line. */
function flags(command: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const arg of command) {
    const match = /^-([a-z]+)(?:=(.*))?$/.exec(arg);
    assert.ok(match, `bitcoind flag ${arg}`);
    out.set(match[1], [...(out.get(match[1]) ?? []), match[2] ?? "1"]);
  }
  return out;
}

/** Seconds of a compose duration like `30s` or `5m`. */
function seconds(duration: string): number {
  const match = /^(\d+)(s|m)$/.exec(duration);
  assert.ok(match, duration);
  return Number(match[1]) * (match[2] === "m" ? 60 : 1);
}

for (
  const [label, vars, network, chain] of [
    ["mainnet (the default)", {}, "mainnet", "main"],
    ["regtest", { BITCOIN_CHAIN: "regtest", DENOPOOL_NETWORK: "regtest" }, "regtest", "regtest"],
  ] as const
) {
  Deno.test(`compose.yaml, ${label}: the pool's env, ports and volumes agree with the config and bitcoind`, async () => {
    const { services, volumes } = await compose(vars);
    const pool = services.denopool;
    const bitcoind = services.bitcoind;
    assert.ok(pool && bitcoind, "the services denopool and bitcoind");
    assert.deepEqual(pool.build, { context: ".", dockerfile: "Containerfile" });
    assert.deepEqual(pool.depends_on, ["bitcoind"]);

    // Every variable is one the loader knows, with a valid value; the config loads with them.
    const env = pool.environment ?? {};
    readEnv(env);
    const config = await loadConfig({ configPath: IMAGE_CONFIG, env, warn: () => {} });
    assert.equal(config.node.network, network);

    // The ports published are the ones the pool listens on, on all of the container's interfaces.
    const published = (pool.ports ?? []).map((p) => Number(p.split(":").at(-1)));
    for (const listen of [config.stratum.listen, config.server.statusListen]) {
      const hostPort = parseHostPort(listen)!;
      assert.equal(hostPort.hostname, "0.0.0.0", listen);
      assert.ok(published.includes(hostPort.port), `${listen} is published (${pool.ports})`);
    }
    assert.ok(pool.ports?.includes("127.0.0.1:8080:8080"), "the status pages on localhost only");

    // Volumes: the data dir is a named volume; the cookie comes read-only from bitcoind's.
    const mounts = new Map((pool.volumes ?? []).map((v) => {
      const [source, target, mode] = v.split(":");
      return [target, { source, mode }];
    }));
    assert.ok(Object.hasOwn(volumes, mounts.get(config.server.dataDir)?.source ?? ""), "data");
    const cookieDir = config.node.rpcCookiePath.replace(/\/[^/]+$/, "");
    const cookieMount = mounts.get(cookieDir);
    assert.ok(cookieMount, `a volume at ${cookieDir}`);
    assert.equal(cookieMount.mode, "ro");
    const bitcoindCookieDir = (bitcoind.volumes ?? [])
      .map((v) => v.split(":"))
      .find(([source]) => source === cookieMount.source)?.[1];
    assert.ok(bitcoindCookieDir, `bitcoind mounts ${cookieMount.source}`);

    // bitcoind's flags: its chain, RPC port and cookie file, ZMQ ports match the pool's settings.
    const f = flags(bitcoind.command ?? []);
    assert.deepEqual(f.get("chain"), [chain]);
    const cookieName = config.node.rpcCookiePath.slice(cookieDir.length);
    assert.deepEqual(f.get("rpccookiefile"), [bitcoindCookieDir + cookieName]);
    assert.deepEqual(f.get("rpccookieperms"), ["all"], "readable by the pool's user");
    const rpc = new URL(config.node.rpcUrl);
    assert.equal(rpc.hostname, "bitcoind");
    assert.deepEqual(f.get("rpcport"), [rpc.port]);
    for (
      const [key, flag] of [["zmqHashblock", "zmqpubhashblock"], [
        "zmqRawblock",
        "zmqpubrawblock",
      ]] as const
    ) {
      const endpoint = config.node[key];
      assert.match(endpoint, /^tcp:\/\/bitcoind:\d+$/, key);
      const port = endpoint.split(":").at(-1);
      assert.deepEqual(f.get(flag), [`tcp://0.0.0.0:${port}`], flag);
    }

    // The pool gets longer to stop than its own 10 s bound.
    assert.ok(seconds(pool.stop_grace_period ?? "10s") > 10, "stop_grace_period");
  });
}
