/**
 * `deno task start` when the pool cannot start (here: the Stratum port is taken): one line on
 * stderr saying why, exit code 1, no stack trace.
 */

import assert from "node:assert/strict";
import { stringify } from "smol-toml";
import { freePort } from "./helpers/ports.ts";

Deno.test("main.ts: a Stratum port in use is one clear line and exit code 1", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denopool-start-" });
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (taken.addr as Deno.NetAddr).port;
    await Deno.writeTextFile(
      `${dir}/config.toml`,
      stringify({
        server: { data_dir: dir, status_listen: "127.0.0.1:0" },
        stratum: { listen: `127.0.0.1:${port}` },
        // No node answers here; the pool must still start far enough to find the port taken.
        node: { network: "regtest", rpc_url: `http://127.0.0.1:${freePort()}/`, zmq_hashblock: "" },
      }),
    );
    await Deno.writeTextFile(
      `${dir}/secrets.toml`,
      stringify({ rpc_user: "u", rpc_password: "p" }),
    );
    await Deno.chmod(`${dir}/secrets.toml`, 0o600);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--config",
        new URL("../deno.json", import.meta.url).pathname,
        new URL("../main.ts", import.meta.url).pathname,
        "--config",
        `${dir}/config.toml`,
      ],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 1, stderr);
    const lines = stderr.trim().split("\n").filter((l) => l.startsWith("denopool:"));
    assert.equal(lines.length, 1, stderr);
    assert.match(lines[0], /^denopool: cannot start: .*(in use|AddrInUse)/i);
    assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace");
  } finally {
    taken.close();
    await Deno.remove(dir, { recursive: true });
  }
});
