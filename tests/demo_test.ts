/**
 * The newcomer's first command: `deno task demo` starts a regtest node, the pool and a miner,
 * finds blocks within seconds and stops cleanly (here on free ports, for a bounded time). It
 * prints the admin panel's URL and a password made up for the run, and that password signs in.
 */

import assert from "node:assert/strict";

Deno.test("deno task demo finds blocks and stops cleanly", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "denopool-demo-" });
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "task",
        "demo",
        "--duration",
        "12",
        "--stratum-port",
        "0",
        "--status-port",
        "0",
        "--admin-port",
        "0",
        "--data-dir",
        dataDir,
      ],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // Read stdout as it comes: sign in to the admin panel while the demo runs.
    let stdout = "";
    let signedIn: number | undefined;
    const reading = (async () => {
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        stdout += chunk;
        const admin = /admin panel\s+(http:\/\/\S+)\/admin\s+\(password: (\S+)\)/.exec(stdout);
        if (admin && signedIn === undefined) {
          signedIn = 0;
          const res = await fetch(`${admin[1]}/admin/api/login`, {
            method: "POST",
            headers: { "content-type": "application/json", origin: admin[1] },
            body: JSON.stringify({ password: admin[2] }),
          });
          signedIn = res.status;
          await res.body?.cancel();
        }
      }
    })();
    const stderr = new Response(child.stderr).text();
    const status = await child.status;
    await reading;
    const text = stdout + await stderr;
    assert.equal(status.code, 0, text);
    assert.equal(signedIn, 200, "the printed password signs in to the printed admin URL");
    const found = /the pool found (\d+) block\(s\); node height (\d+)/.exec(text);
    assert.ok(found, text);
    assert.ok(Number(found[1]) >= 1, "at least one block");
    assert.equal(Number(found[2]), Number(found[1]), "every block the node has came from the pool");
    assert.match(text, /stopped cleanly/);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
