/**
 * The pool's V2 identity: keys made once in the data dir (0600) and kept across restarts, keys
 * from secrets.toml, unusable key files refused by name, and a certificate that verifies and is
 * signed again before it expires.
 */
import assert from "node:assert/strict";
import {
  AUTHORITY_KEY_FILE,
  CERTIFICATE_VALIDITY_SECONDS,
  loadSv2Identity,
  STATIC_KEY_FILE,
  Sv2KeyFileError,
  sv2PoolUrl,
} from "../app/sv2_keys.ts";
import {
  decodeAuthorityPublicKey,
  encodeSecretKey,
  generateNoiseKeyPair,
  verifyCertificate,
} from "../lib/sv2/mod.ts";

const NOW = 1_780_000_000;

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "denopool-sv2keys-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("sv2 keys: made once with mode 0600, the same after a restart", () =>
  withDir(async (dir) => {
    const logs: string[] = [];
    const first = await loadSv2Identity({ dataDir: dir, log: (m) => logs.push(m) });
    assert.equal(logs.length, 2);
    for (const file of [AUTHORITY_KEY_FILE, STATIC_KEY_FILE]) {
      assert.equal((await Deno.stat(`${dir}/${file}`)).mode! & 0o777, 0o600, file);
    }
    const again = await loadSv2Identity({ dataDir: dir, log: (m) => logs.push(m) });
    assert.equal(logs.length, 2, "nothing made the second time");
    assert.equal(again.authorityKey, first.authorityKey);
    assert.deepEqual(again.staticKey.publicKey, first.staticKey.publicKey);
    assert.deepEqual(decodeAuthorityPublicKey(first.authorityKey), first.authorityPublicKey);
    assert.equal(
      sv2PoolUrl("pool.example.com", 3333, first),
      `stratum2+tcp://pool.example.com:3333/${first.authorityKey}`,
    );
    assert.match(sv2PoolUrl("::1", 3336, first), /^stratum2\+tcp:\/\/\[::1\]:3336\//);
  }));

Deno.test("sv2 keys: the certificate verifies, and is signed again a day before it expires", () =>
  withDir(async (dir) => {
    const id = await loadSv2Identity({ dataDir: dir });
    const cert = id.certificate(NOW);
    verifyCertificate(cert, {
      serverPublicKey: id.staticKey.publicKey,
      authorityPublicKey: id.authorityPublicKey,
      now: NOW,
    });
    assert.equal(cert.notValidAfter, NOW + CERTIFICATE_VALIDITY_SECONDS);
    assert.ok(cert.validFrom < NOW);
    assert.equal(id.certificate(NOW + 86_400), cert, "still fresh: the same certificate");
    const late = NOW + CERTIFICATE_VALIDITY_SECONDS - 3600;
    const renewed = id.certificate(late);
    assert.notEqual(renewed, cert);
    assert.ok(renewed.notValidAfter > cert.notValidAfter);
    verifyCertificate(renewed, {
      serverPublicKey: id.staticKey.publicKey,
      authorityPublicKey: id.authorityPublicKey,
      now: late,
    });
  }));

Deno.test("sv2 keys: keys from secrets.toml are used and no file is made", () =>
  withDir(async (dir) => {
    const authority = generateNoiseKeyPair();
    const server = generateNoiseKeyPair();
    const id = await loadSv2Identity({
      dataDir: dir,
      authoritySecretKey: encodeSecretKey(authority.secretKey),
      staticSecretKey: encodeSecretKey(server.secretKey),
    });
    assert.deepEqual(id.authorityPublicKey, authority.publicKey);
    assert.deepEqual(id.staticKey.publicKey, server.publicKey);
    await assert.rejects(Deno.stat(`${dir}/${AUTHORITY_KEY_FILE}`), Deno.errors.NotFound);
    await assert.rejects(
      loadSv2Identity({ dataDir: dir, authoritySecretKey: "not-a-key" }),
      (e) => e instanceof Sv2KeyFileError && /secrets\.toml: authority secret key/.test(e.message),
    );
  }));

Deno.test("sv2 keys: a key file others can read, or one without a key, is refused by name", () =>
  withDir(async (dir) => {
    await loadSv2Identity({ dataDir: dir });
    const path = `${dir}/${AUTHORITY_KEY_FILE}`;
    await Deno.chmod(path, 0o644);
    await assert.rejects(
      loadSv2Identity({ dataDir: dir }),
      (e) =>
        e instanceof Sv2KeyFileError && e.message.includes(path) && /chmod 600/.test(e.message),
    );
    await Deno.writeTextFile(path, "garbage\n", { mode: 0o600 });
    await Deno.chmod(path, 0o600);
    await assert.rejects(
      loadSv2Identity({ dataDir: dir }),
      (e) => e instanceof Sv2KeyFileError && e.message.startsWith(`${path}: not a`),
    );
  }));
