import assert from "node:assert/strict";
import {
  CertificateOptionsError,
  generateSelfSigned,
  loadOrCreateCert,
  parseIpAddress,
} from "../lib/tls/selfsigned.ts";
import { readCertificate } from "../lib/tls/x509.ts";
import {
  derInteger,
  derNamedBits,
  derOid,
  derTime,
  readDer,
  readOid,
  readTime,
} from "../lib/tls/der.ts";
import { pemToDer } from "../lib/tls/pem.ts";

const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/** Serves one TLS connection that echoes what it reads, upper-cased; returns the port. */
function startEchoServer(certPem: string, keyPem: string, hostname: string) {
  const listener = Deno.listenTls({ hostname, port: 0, cert: certPem, key: keyPem });
  const served = (async () => {
    const conn = await listener.accept();
    try {
      const buffer = new Uint8Array(64);
      const n = await conn.read(buffer);
      const text = new TextDecoder().decode(buffer.subarray(0, n ?? 0));
      await conn.write(new TextEncoder().encode(text.toUpperCase()));
    } finally {
      conn.close();
    }
  })();
  return { port: (listener.addr as Deno.NetAddr).port, served, listener };
}

async function roundTrip(connectHost: string, serverHost: string, caCerts: string[], pair: {
  certPem: string;
  keyPem: string;
}) {
  const server = startEchoServer(pair.certPem, pair.keyPem, serverHost);
  try {
    const conn = await Deno.connectTls({ hostname: connectHost, port: server.port, caCerts });
    try {
      await conn.write(new TextEncoder().encode("hello tls"));
      const buffer = new Uint8Array(64);
      const n = await conn.read(buffer);
      return new TextDecoder().decode(buffer.subarray(0, n ?? 0));
    } finally {
      conn.close();
      await server.served.catch(() => {});
    }
  } finally {
    server.listener.close();
  }
}

Deno.test("DER: integers are minimal two's complement", () => {
  assert.equal(hex(derInteger(0n)), "020100");
  assert.equal(hex(derInteger(127n)), "02017f");
  assert.equal(hex(derInteger(128n)), "02020080");
  assert.equal(hex(derInteger(256n)), "02020100");
  assert.equal(hex(derInteger(-1n)), "0201ff");
  assert.equal(hex(derInteger(-129n)), "0202ff7f");
});

Deno.test("DER: OIDs encode base-128 arcs and read back", () => {
  // ecPublicKey, from RFC 5480.
  assert.equal(hex(derOid("1.2.840.10045.2.1")), "06072a8648ce3d0201");
  for (const oid of ["2.5.29.17", "1.3.6.1.5.5.7.3.1", "2.999.3"]) {
    assert.equal(readOid(readDer(derOid(oid)).content), oid);
  }
});

Deno.test("DER: keyUsage digitalSignature is the named-bit string 03 02 07 80", () => {
  assert.equal(hex(derNamedBits([0])), "03020780");
  // digitalSignature + keyEncipherment (bits 0 and 2).
  assert.equal(hex(derNamedBits([0, 2])), "030205a0");
});

Deno.test("DER: times use UTCTime before 2050 and GeneralizedTime from 2050", () => {
  const before = new Date(Date.UTC(2049, 11, 31, 23, 59, 59));
  const after = new Date(Date.UTC(2050, 0, 1, 0, 0, 0));
  assert.equal(derTime(before)[0], 0x17);
  assert.equal(derTime(after)[0], 0x18);
  assert.equal(readTime(readDer(derTime(before))).getTime(), before.getTime());
  assert.equal(readTime(readDer(derTime(after))).getTime(), after.getTime());
});

Deno.test("parseIpAddress handles IPv4, IPv6 with :: and embedded IPv4, and rejects junk", () => {
  assert.equal(hex(parseIpAddress("127.0.0.1")), "7f000001");
  assert.equal(hex(parseIpAddress("::1")), "00000000000000000000000000000001");
  assert.equal(hex(parseIpAddress("fe80::1:2")), "fe800000000000000000000000010002");
  assert.equal(hex(parseIpAddress("::ffff:10.0.0.1")), "00000000000000000000ffff0a000001");
  for (
    const bad of ["", "1.2.3", "256.1.1.1", "1::2::3", "1:2:3:4:5:6:7:8:9", "localhost", "g::"]
  ) {
    assert.throws(() => parseIpAddress(bad), CertificateOptionsError, bad);
  }
});

Deno.test("generateSelfSigned writes a v3 end-entity certificate with the asked names", async () => {
  const now = new Date(Date.UTC(2030, 5, 1, 12, 0, 0));
  const pair = await generateSelfSigned({
    commonName: "pool.test",
    dnsNames: ["localhost", "pool.test"],
    ipAddresses: ["127.0.0.1", "::1"],
    days: 30,
    now,
  });
  assert.match(pair.certPem, /^-----BEGIN CERTIFICATE-----\n/);
  assert.match(pair.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  const info = readCertificate(pair.certPem);
  assert.equal(info.commonName, "pool.test");
  assert.deepEqual(info.dnsNames, ["localhost", "pool.test"]);
  assert.deepEqual(info.ipAddresses, ["127.0.0.1", "0:0:0:0:0:0:0:1"]);
  assert.equal(info.selfIssued, true);
  assert.equal(info.notBefore.getTime(), now.getTime() - 3600_000);
  assert.equal(info.notAfter.getTime(), now.getTime() + 30 * 86_400_000);
  // basicConstraints (critical, empty: cA FALSE), keyUsage (critical), extKeyUsage serverAuth.
  assert.deepEqual(info.extensions.get("2.5.29.19"), {
    critical: true,
    value: Uint8Array.of(0x30, 0),
  });
  assert.equal(info.extensions.get("2.5.29.15")?.critical, true);
  assert.equal(hex(info.extensions.get("2.5.29.15")!.value), "03020780");
  assert.equal(hex(info.extensions.get("2.5.29.37")!.value), "300a06082b06010505070301");
  // Version field is [0] EXPLICIT INTEGER 2 (v3).
  const [der] = pemToDer("CERTIFICATE", pair.certPem);
  assert.equal(hex(der.subarray(0, 32)).includes("a003020102"), true);
});

Deno.test("the signature verifies with the certificate's own public key", async () => {
  const pair = await generateSelfSigned();
  const [der] = pemToDer("CERTIFICATE", pair.certPem);
  const certificate = readDer(der);
  const tbs = readDer(certificate.content);
  const afterTbs = tbs.raw.length;
  const algorithm = readDer(certificate.content, afterTbs);
  const signatureBits = readDer(certificate.content, afterTbs + algorithm.raw.length);
  // SEQUENCE { INTEGER r, INTEGER s } back to the 64-byte r ‖ s that WebCrypto verifies.
  const sequence = readDer(signatureBits.content.subarray(1));
  const r = readDer(sequence.content);
  const s = readDer(sequence.content, r.raw.length);
  const fixed = (int: Uint8Array) => {
    const out = new Uint8Array(32);
    const trimmed = int.length > 32 ? int.subarray(int.length - 32) : int;
    out.set(trimmed, 32 - trimmed.length);
    return out;
  };
  const raw = new Uint8Array(64);
  raw.set(fixed(r.content), 0);
  raw.set(fixed(s.content), 32);
  const point = readCertificate(pair.certPem).ecPublicPoint!;
  const key = await crypto.subtle.importKey(
    "raw",
    Uint8Array.from(point),
    { name: "ECDSA", namedCurve: "P-256" },
    false,
    ["verify"],
  );
  const ok = await crypto.subtle.verify(
    { name: "ECDSA", hash: "SHA-256" },
    key,
    raw,
    Uint8Array.from(tbs.raw),
  );
  assert.equal(ok, true);
});

Deno.test("Deno TLS: a client trusting the certificate talks to localhost by DNS name", async () => {
  const pair = await generateSelfSigned({ dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
  const reply = await roundTrip("localhost", "127.0.0.1", [pair.certPem], pair);
  assert.equal(reply, "HELLO TLS");
});

Deno.test("Deno TLS: a client trusting the certificate talks to 127.0.0.1 by IP SAN", async () => {
  const pair = await generateSelfSigned({ dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
  const reply = await roundTrip("127.0.0.1", "127.0.0.1", [pair.certPem], pair);
  assert.equal(reply, "HELLO TLS");
});

Deno.test("Deno TLS: a name the certificate does not list is refused", async () => {
  const pair = await generateSelfSigned({ dnsNames: ["pool.test"], ipAddresses: [] });
  await assert.rejects(
    roundTrip("127.0.0.1", "127.0.0.1", [pair.certPem], pair),
    /not valid for name "127\.0\.0\.1"/,
  );
});

Deno.test("Deno TLS: without the certificate in caCerts the handshake fails", async () => {
  const pair = await generateSelfSigned();
  const other = await generateSelfSigned();
  await assert.rejects(
    roundTrip("localhost", "127.0.0.1", [other.certPem], pair),
    /invalid peer certificate/,
  );
});

Deno.test("loadOrCreateCert stores the pair (key 0600) and reuses it on the next run", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const dataDir = `${dir}/data`;
    const first = await loadOrCreateCert(dataDir, { dnsNames: ["localhost"] });
    assert.equal(first.created, true);
    assert.equal(first.certPath, `${dataDir}/tls_cert.pem`);
    assert.equal(first.keyPath, `${dataDir}/tls_key.pem`);
    assert.equal(await Deno.readTextFile(first.certPath), first.certPem);
    assert.equal(await Deno.readTextFile(first.keyPath), first.keyPem);
    assert.equal((await Deno.stat(first.keyPath)).mode! & 0o777, 0o600);

    const second = await loadOrCreateCert(dataDir, { dnsNames: ["localhost"] });
    assert.equal(second.created, false);
    assert.equal(second.certPem, first.certPem);
    assert.equal(second.keyPem, first.keyPem);
    assert.equal(await roundTrip("localhost", "127.0.0.1", [second.certPem], second), "HELLO TLS");
    assert.deepEqual(
      Array.from(Deno.readDirSync(dataDir), (entry) => entry.name).sort(),
      ["tls_cert.pem", "tls_key.pem"],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadOrCreateCert replaces an expiring or mismatched self-signed pair, not others", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = await loadOrCreateCert(dir, { days: 30 });
    const in29Days = new Date(Date.now() + 29.5 * 86_400_000);
    const renewed = await loadOrCreateCert(dir, { now: in29Days });
    assert.equal(renewed.created, true);
    assert.notEqual(renewed.certPem, first.certPem);

    // A key that does not belong to the certificate (a run that died between writes).
    const stray = await generateSelfSigned();
    await Deno.writeTextFile(renewed.keyPath, stray.keyPem);
    const repaired = await loadOrCreateCert(dir);
    assert.equal(repaired.created, true);
    assert.notEqual(repaired.keyPem, stray.keyPem);

    // Something that is not a certificate we can read is left for the operator.
    await Deno.writeTextFile(repaired.certPath, "operator's own file\n");
    const kept = await loadOrCreateCert(dir);
    assert.equal(kept.created, false);
    assert.equal(kept.certPem, "operator's own file\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadOrCreateCert regenerates when one of the two files is missing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = await loadOrCreateCert(dir);
    await Deno.remove(first.keyPath);
    const second = await loadOrCreateCert(dir);
    assert.equal(second.created, true);
    assert.notEqual(second.certPem, first.certPem);
    assert.equal(await roundTrip("127.0.0.1", "127.0.0.1", [second.certPem], second), "HELLO TLS");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
