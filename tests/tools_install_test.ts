/**
 * `deno task install`: the machine check before a first start. Against a real regtest node it
 * passes and prints the next steps; with the node unreachable and the Stratum port taken it names
 * both and exits 1. And the systemd unit it points to is a unit that runs the pool as its own user.
 */

import assert from "node:assert/strict";
import { stringify } from "smol-toml";
import { freePort } from "./helpers/ports.ts";
import { startRegtestNode } from "./helpers/regtest.ts";
import { versionAtLeast } from "../tools/install.ts";

async function runInstall(config: Record<string, unknown>, secrets: Record<string, string>) {
  const dir = await Deno.makeTempDir({ prefix: "denopool-install-" });
  try {
    await Deno.writeTextFile(
      `${dir}/config.toml`,
      stringify({ ...config, server: { data_dir: `${dir}/data`, ...(config.server as object) } }),
    );
    await Deno.writeTextFile(`${dir}/secrets.toml`, stringify(secrets));
    await Deno.chmod(`${dir}/secrets.toml`, 0o600);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--config",
        new URL("../deno.json", import.meta.url).pathname,
        new URL("../tools/install.ts", import.meta.url).pathname,
        "--config",
        `${dir}/config.toml`,
      ],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    return {
      code: out.code,
      stdout: new TextDecoder().decode(out.stdout),
      stderr: new TextDecoder().decode(out.stderr),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("install: version comparison", () => {
  assert.ok(versionAtLeast("2.9.0", [2, 9, 0]));
  assert.ok(versionAtLeast("2.10.1", [2, 9, 0]));
  assert.ok(versionAtLeast("3.0.0-rc.1", [2, 9, 0]));
  assert.ok(!versionAtLeast("2.8.12", [2, 9, 0]));
  assert.ok(!versionAtLeast("1.46.3", [2, 9, 0]));
});

Deno.test({
  name: "install: a reachable regtest node and free ports pass, with the next steps",
  sanitizeOps: false, // bcoin keeps internal timers alive until its process-wide teardown
  sanitizeResources: false,
  async fn() {
    const node = await startRegtestNode();
    try {
      await node.mine(2);
      const r = await runInstall({
        server: { status_listen: `127.0.0.1:${freePort()}` },
        stratum: { listen: `127.0.0.1:${freePort()}` },
        node: { network: "regtest", rpc_url: node.rpcUrl, zmq_hashblock: "" },
      }, { rpc_user: "x", rpc_password: node.apiKey });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /^ok\s+Deno \d+\.\d+\.\d+/m);
      assert.match(r.stdout, /^ok\s+data dir .* is writable$/m);
      assert.match(r.stdout, /^ok\s+node at .*: regtest, height 2$/m);
      assert.match(r.stdout, /^ok\s+stratum\.listen 127\.0\.0\.1:\d+ is free$/m);
      assert.match(r.stdout, /^ok\s+server\.status_listen 127\.0\.0\.1:\d+ is free$/m);
      assert.match(r.stdout, /^note\s+no ZMQ/m);
      assert.match(r.stdout, /^Ready\. Next:/m);
      assert.match(r.stdout, /deno task start --config /);
      assert.doesNotMatch(r.stdout, /^FAIL/m);
    } finally {
      await node.stop();
    }
  },
});

Deno.test("install: an unreachable node and a taken port are named, exit code 1", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (taken.addr as Deno.NetAddr).port;
    const rpcPort = freePort();
    const r = await runInstall({
      server: { status_listen: "" },
      stratum: { listen: `127.0.0.1:${port}` },
      node: { network: "regtest", rpc_url: `http://127.0.0.1:${rpcPort}/`, zmq_hashblock: "" },
    }, { rpc_user: "u", rpc_password: "p" });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`^FAIL\\s+node at http://127\\.0\\.0\\.1:${rpcPort}/`, "m"));
    assert.match(
      r.stdout,
      new RegExp(`^FAIL\\s+stratum\\.listen 127\\.0\\.0\\.1:${port}: in use`, "m"),
    );
    assert.match(r.stdout, /Fix the FAIL lines above/);
    assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at /, "no stack trace");
  } finally {
    taken.close();
  }
});

Deno.test("install: a config that does not load is one error line naming the key, exit 2", async () => {
  const r = await runInstall({ stratum: { listen: "nowhere" } }, {});
  assert.equal(r.code, 2);
  assert.match(r.stderr, /stratum\.listen/);
});

Deno.test("systemd unit: runs main.ts as its own user, stops by SIGTERM past the pool's bound", async () => {
  const text = await Deno.readTextFile(
    new URL("../packaging/systemd/denopool.service", import.meta.url),
  );
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const section = line.match(/^\[(\w+)\]$/);
    if (section) {
      current = new Map();
      sections.set(section[1], current);
      continue;
    }
    const kv = line.match(/^(\w+)=(.*)$/);
    assert.ok(kv && current, `not a unit line: ${line}`);
    current.set(kv[1], kv[2]);
  }
  assert.deepEqual([...sections.keys()], ["Unit", "Service", "Install"]);
  const service = sections.get("Service")!;
  assert.match(service.get("ExecStart")!, /deno run -A main\.ts --config \S+config\.toml/);
  assert.ok(service.get("User") && service.get("User") !== "root");
  assert.equal(service.get("KillSignal"), "SIGTERM");
  // main.ts gives a graceful stop 10 s before it exits on its own: systemd must wait longer.
  assert.ok(Number(service.get("TimeoutStopSec")) > 10);
  assert.equal(service.get("Restart"), "on-failure");
  assert.equal(sections.get("Install")!.get("WantedBy"), "multi-user.target");
  assert.match(sections.get("Unit")!.get("After")!, /bitcoind\.service/);
});
