/**
 * The admin panel's credentials: PBKDF2 password hashes (format, salt, constant-time check),
 * sessions with an absolute expiry and a CSRF token each, the `[admin]` config rules, and
 * `deno task admin-password` writing the hash into secrets.toml without losing other keys.
 */

import assert from "node:assert/strict";
import { parse } from "smol-toml";
import {
  constantTimeEqual,
  hashPassword,
  MIN_ITERATIONS,
  parsePasswordHash,
  PasswordHashError,
  verifyPassword,
} from "../lib/admin/password.ts";
import { AdminSessions } from "../lib/admin/sessions.ts";
import { loadConfig } from "../lib/config/load.ts";
import { ConfigError } from "../lib/config/errors.ts";
import { writePasswordHash } from "../tools/admin_password.ts";

Deno.test("a password hash names its iterations and salt; only the right password verifies", async () => {
  const stored = await hashPassword("correct horse battery", MIN_ITERATIONS);
  assert.match(stored, /^pbkdf2-sha256\$1000\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
  assert.equal(await verifyPassword("correct horse battery", stored), true);
  assert.equal(await verifyPassword("correct horse batterx", stored), false);
  assert.equal(await verifyPassword("", stored), false);
  const again = await hashPassword("correct horse battery", MIN_ITERATIONS);
  assert.notEqual(again, stored, "a fresh salt each time");
  assert.equal(await verifyPassword("correct horse battery", again), true);
  const parsed = parsePasswordHash(stored);
  assert.equal(parsed.iterations, 1000);
  assert.equal(parsed.salt.length, 16);
  assert.equal(parsed.key.length, 32);
});

Deno.test("a PBKDF2 vector: RFC 7914 §11's PBKDF2-HMAC-SHA256 (passwd, salt, c=1) through our parser", async () => {
  // The derived key of P="passwd", S="salt", c=1, dkLen=64 begins 55ac046e56e3089f ec1691c22544b605.
  const key = new Uint8Array(
    await crypto.subtle.deriveBits(
      { name: "PBKDF2", hash: "SHA-256", salt: new TextEncoder().encode("salt"), iterations: 1 },
      await crypto.subtle.importKey("raw", new TextEncoder().encode("passwd"), "PBKDF2", false, [
        "deriveBits",
      ]),
      256,
    ),
  );
  assert.equal(
    [...key.subarray(0, 16)].map((b) => b.toString(16).padStart(2, "0")).join(""),
    "55ac046e56e3089fec1691c22544b605",
  );
});

Deno.test("malformed or weak stored hashes are refused with a reason", () => {
  for (
    const [bad, reason] of [
      ["", /expected/],
      ["sha1$1000$c2FsdHNhbHQ$" + "A".repeat(43), /expected/],
      ["pbkdf2-sha256$10$c2FsdHNhbHQ$" + "A".repeat(43), /iterations/],
      ["pbkdf2-sha256$1000$!!$" + "A".repeat(43), /salt/],
      ["pbkdf2-sha256$1000$c2FsdHNhbHQ$AAAA", /key must be 32 bytes/],
    ] as const
  ) {
    assert.throws(() => parsePasswordHash(bad), (e: unknown) => {
      assert.ok(e instanceof PasswordHashError);
      assert.match(e.message, reason);
      return true;
    });
  }
  assert.equal(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])), true);
  assert.equal(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3])), false);
  assert.equal(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 0])), false);
});

Deno.test("admin sessions: random ids, a CSRF token each, an absolute expiry, logout", () => {
  const sessions = new AdminSessions({ lifetimeMs: 60_000, maxSessions: 2 });
  const a = sessions.create("192.0.2.1", 1_000);
  const b = sessions.create("192.0.2.2", 2_000);
  assert.match(a.id, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a.id, b.id);
  assert.notEqual(a.id, a.csrf);
  assert.equal(sessions.get(a.id, 60_999)?.ip, "192.0.2.1");
  assert.equal(sessions.get(a.id, 61_000), undefined, "expired at its end, however active");
  assert.equal(sessions.get("forged", 2_000), undefined);
  assert.equal(sessions.get(undefined, 2_000), undefined);
  assert.equal(sessions.checkCsrf(b, b.csrf), true);
  assert.equal(sessions.checkCsrf(b, a.csrf), false);
  assert.equal(sessions.checkCsrf(b, undefined), false);
  sessions.end(b.id);
  assert.equal(sessions.get(b.id, 2_000), undefined);
  // Past the cap the oldest is dropped.
  const c = sessions.create("x", 3_000);
  const d = sessions.create("y", 3_000);
  const e = sessions.create("z", 3_000);
  assert.equal(sessions.get(c.id, 3_000), undefined);
  assert.ok(sessions.get(d.id, 3_000) && sessions.get(e.id, 3_000));
});

/** Runs `tools/admin_password.ts --secrets PATH` with `input` on its stdin. */
async function adminPasswordTask(
  path: string,
  input: string,
): Promise<{ code: number; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "tools/admin_password.ts", "--secrets", path],
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(input));
  await w.close();
  const out = await child.output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

async function configDir(admin: Record<string, unknown>, secrets: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "denopool-admin-cfg-" });
  const adminToml = Object.entries(admin).map(([k, v]) => `${k} = ${JSON.stringify(v)}`);
  await Deno.writeTextFile(
    `${dir}/config.toml`,
    ["[node]", 'network = "regtest"', "[admin]", ...adminToml].join("\n") + "\n",
  );
  await Deno.writeTextFile(`${dir}/secrets.toml`, secrets, { mode: 0o600 });
  await Deno.chmod(`${dir}/secrets.toml`, 0o600);
  return dir;
}

Deno.test("[admin] on without a password hash is a config error naming secrets.toml and the key", async () => {
  const dir = await configDir({ enabled: true }, 'rpc_password = "x"\n');
  try {
    await assert.rejects(() => loadConfig({ configPath: `${dir}/config.toml` }), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /secrets\.toml: admin_password_hash: expected a password hash/);
      return true;
    });
    await Deno.writeTextFile(
      `${dir}/secrets.toml`,
      'admin_password_hash = "pbkdf2-sha256$5$x$y"\n',
    );
    await assert.rejects(
      () => loadConfig({ configPath: `${dir}/config.toml` }),
      /admin_password_hash: expected a hash written by deno task admin-password, found a malformed hash \(iterations/,
    );
    const off = await configDir({ listen: "nonsense" }, "");
    await assert.rejects(() => loadConfig({ configPath: `${off}/config.toml` }), /admin\.listen/);
    await Deno.remove(off, { recursive: true });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("admin-password writes the hash into secrets.toml, keeps other keys, mode 600; the config loads", async () => {
  const dir = await configDir(
    { enabled: true, listen: "127.0.0.1:0" },
    'rpc_user = "u"\nrpc_password = "p"\n',
  );
  try {
    const hash = await hashPassword("a long admin password", MIN_ITERATIONS);
    await writePasswordHash(`${dir}/secrets.toml`, hash);
    const doc = parse(await Deno.readTextFile(`${dir}/secrets.toml`));
    assert.deepEqual({ ...doc }, { rpc_user: "u", rpc_password: "p", admin_password_hash: hash });
    assert.equal((await Deno.stat(`${dir}/secrets.toml`)).mode! & 0o777, 0o600);
    const config = await loadConfig({ configPath: `${dir}/config.toml` });
    assert.equal(config.admin.enabled, true);
    assert.equal(config.secrets.adminPasswordHash, hash);

    // Through the task, with the password on a pipe.
    const out = await adminPasswordTask(`${dir}/secrets.toml`, "another long password\n");
    assert.equal(out.code, 0, out.stderr);
    const written = parse(await Deno.readTextFile(`${dir}/secrets.toml`));
    assert.equal(written.rpc_user, "u");
    assert.equal(
      await verifyPassword("another long password", String(written.admin_password_hash)),
      true,
    );
    const refused = await adminPasswordTask(`${dir}/secrets.toml`, "short\n");
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /at least 10 characters/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
