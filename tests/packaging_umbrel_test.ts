/**
 * The Umbrel app (`packaging/umbrel/denopool/`): a manifest with the keys umbrelOS reads, a widget
 * that points at the pool's real `/api/widget`, and a compose file whose `DENOPOOL_*` variables the
 * pool accepts once Umbrel has filled in its `APP_BITCOIN_*` values, for every network the
 * Bitcoin app can be on.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { readEnv } from "../lib/config/env.ts";
import { SNAPSHOT_ENDPOINT } from "../lib/status/endpoints.ts";
import { parseHostPort } from "../lib/config/mod.ts";

const dir = new URL("../packaging/umbrel/denopool/", import.meta.url);
const manifest = parse(await Deno.readTextFile(new URL("umbrel-app.yml", dir)));
const compose = parse(await Deno.readTextFile(new URL("docker-compose.yml", dir)));

/** What umbrelOS exports for an app that depends on its Bitcoin app (a sample). */
function umbrelEnv(network: string): Record<string, string> {
  return {
    APP_DATA_DIR: "/home/umbrel/umbrel/app-data/denopool",
    APP_BITCOIN_NETWORK: network,
    APP_BITCOIN_NODE_IP: "10.21.21.8",
    APP_BITCOIN_RPC_PORT: "8332",
    APP_BITCOIN_RPC_USER: "umbrel",
    APP_BITCOIN_RPC_PASS: "a-long-random-password",
    APP_BITCOIN_ZMQ_RAWBLOCK_PORT: "28332",
    APP_BITCOIN_ZMQ_HASHBLOCK_PORT: "28334",
  };
}

/** `${NAME}` replaced from `env`, as compose does; an unknown name fails the test. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(/\$\{([A-Z0-9_]+)\}/g, (_, name: string) => {
    assert.ok(name in env, `compose uses \${${name}}, which Umbrel does not set here`);
    return env[name];
  });
}

Deno.test("umbrel: the manifest has what umbrelOS reads, and depends on the Bitcoin app", () => {
  for (const key of ["manifestVersion", "id", "category", "name", "version", "tagline"]) {
    assert.ok(manifest[key] !== undefined && manifest[key] !== "", key);
  }
  for (const key of ["description", "developer", "website", "repo", "support", "submitter"]) {
    assert.equal(typeof manifest[key], "string", key);
  }
  assert.match(manifest.id, /^[a-z][a-z0-9-]{0,63}$/);
  assert.match(manifest.version, /^\d+\.\d+\.\d+$/);
  const denoJson = JSON.parse(readText(new URL("../deno.json", import.meta.url)));
  assert.equal(manifest.version, denoJson.version, "the app's version is the project's");
  assert.deepEqual(manifest.dependencies, ["bitcoin"]);
  assert.ok(Array.isArray(manifest.gallery) && manifest.gallery.length >= 1);
  assert.equal(manifest.port, compose.services.app_proxy.environment.APP_PORT);
});

Deno.test("umbrel: the widget reads the pool's /api/widget on the web service", () => {
  const [widget] = manifest.widgets;
  assert.equal(widget.type, "four-stats");
  const match = /^([a-z_]+):(\d+)(\/.*)$/.exec(widget.endpoint);
  assert.ok(match, widget.endpoint);
  const [, service, port, path] = match;
  assert.ok(compose.services[service], `service ${service}`);
  assert.equal(path, SNAPSHOT_ENDPOINT.widget.path);
  const listen = parseHostPort(compose.services.web.environment.DENOPOOL_SERVER_STATUS_LISTEN);
  assert.equal(String(listen?.port), port);
  assert.equal(widget.example.items.length, 4);
  assert.equal(compose.services.app_proxy.environment.APP_HOST, `${manifest.id}_${service}_1`);
});

for (const network of ["mainnet", "testnet", "signet", "regtest"]) {
  Deno.test(`umbrel: on ${network}, the pool accepts every DENOPOOL_ variable of the compose file`, () => {
    const env = umbrelEnv(network);
    const web = compose.services.web;
    const vars: Record<string, string> = {};
    for (const [name, value] of Object.entries(web.environment as Record<string, string>)) {
      vars[name] = interpolate(String(value), env);
    }
    const read = readEnv(vars); // throws, naming the variable, on an unknown name or a bad value
    assert.equal(read.config.node?.network, network);
    assert.equal(read.config.node?.rpcUrl, "http://10.21.21.8:8332/");
    assert.equal(read.config.node?.zmqHashblock, "tcp://10.21.21.8:28334");
    assert.equal(read.config.node?.zmqRawblock, "tcp://10.21.21.8:28332");
    assert.equal(read.secrets.rpcUser, "umbrel");
    assert.equal(read.secrets.rpcPassword, "a-long-random-password");
    // The data dir is the volume, and the Stratum port is published.
    const volume = web.volumes.map((v: string) => interpolate(v, env).split(":"));
    assert.ok(volume.some(([, inside]: string[]) => inside === read.config.server?.dataDir));
    const stratum = parseHostPort(vars.DENOPOOL_STRATUM_LISTEN);
    assert.ok(web.ports.some((p: string) => p.endsWith(`:${stratum?.port}`)));
  });
}

function readText(url: URL): string {
  return Deno.readTextFileSync(url);
}
