/**
 * The newcomer's first command: `deno task demo` starts a regtest node, the pool and a miner,
 * finds blocks within seconds and stops cleanly (here on free ports, for a bounded time).
 */

import assert from "node:assert/strict";

Deno.test("deno task demo finds blocks and stops cleanly", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "denopool-demo-" });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "task",
        "demo",
        "--duration",
        "12",
        "--stratum-port",
        "0",
        "--status-port",
        "0",
        "--data-dir",
        dataDir,
      ],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, text);
    const found = /the pool found (\d+) block\(s\); node height (\d+)/.exec(text);
    assert.ok(found, text);
    assert.ok(Number(found[1]) >= 1, "at least one block");
    assert.equal(Number(found[2]), Number(found[1]), "every block the node has came from the pool");
    assert.match(text, /stopped cleanly/);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
