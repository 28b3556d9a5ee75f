/**
 * Self-signed X.509 v3 server certificates made with WebCrypto (ECDSA P-256 + SHA-256), for the
 * Stratum TLS listener and the HTTPS status server when the operator has no real certificate.
 *
 * The certificate is an end-entity certificate (basicConstraints cA=FALSE, keyUsage
 * digitalSignature, extKeyUsage serverAuth) whose SubjectAltName lists the DNS names and IP
 * addresses it serves. rustls (Deno's TLS) accepts such a certificate as its own trust anchor, so a
 * client passes the certificate PEM in `caCerts` to trust it.
 *
 * @module
 */

import {
  asciiBytes,
  derBitString,
  derBoolean,
  derExplicit,
  derImplicit,
  derInteger,
  derNamedBits,
  derOctetString,
  derOid,
  derSequence,
  derSet,
  derTime,
  derUnsignedInteger,
  derUtf8String,
} from "./der.ts";
import { derToPem, pemToDer } from "./pem.ts";
import { readCertificate } from "./x509.ts";

/** What the certificate names and how long it lasts. */
export interface SelfSignedOptions {
  /** Subject (and issuer) common name. Default `"denopool self-signed"`. */
  readonly commonName?: string;
  /** SubjectAltName DNS entries. Default `["localhost"]`. */
  readonly dnsNames?: readonly string[];
  /** SubjectAltName IP entries (IPv4 or IPv6 text). Default `["127.0.0.1", "::1"]`. */
  readonly ipAddresses?: readonly string[];
  /** Validity in days from now. Default 365. */
  readonly days?: number;
  /** The clock, for tests. Default `new Date()`. */
  readonly now?: Date;
}

/** A certificate and its private key, both PEM. */
export interface CertificatePair {
  /** `-----BEGIN CERTIFICATE-----` PEM. */
  readonly certPem: string;
  /** `-----BEGIN PRIVATE KEY-----` (PKCS#8) PEM. */
  readonly keyPem: string;
}

/** Thrown for an IP address text that is neither IPv4 nor IPv6. */
export class CertificateOptionsError extends Error {
  /** Makes the error with a human reason. */
  constructor(reason: string) {
    super(reason);
    this.name = "CertificateOptionsError";
  }
}

const OID = {
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  commonName: "2.5.4.3",
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  extKeyUsage: "2.5.29.37",
  serverAuth: "1.3.6.1.5.5.7.3.1",
} as const;

/** Key-usage bit numbers (RFC 5280 §4.2.1.3). */
const KEY_USAGE_DIGITAL_SIGNATURE = 0;

function parseIpv4(text: string): number[] | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const bytes = parts.map((part) => (/^\d{1,3}$/.test(part) ? Number(part) : NaN));
  return bytes.every((byte) => byte >= 0 && byte <= 255) ? bytes : undefined;
}

/** Parses IPv4 or IPv6 text (with `::` and a trailing dotted IPv4 allowed) to 4 or 16 bytes. */
export function parseIpAddress(text: string): Uint8Array {
  const v4 = parseIpv4(text);
  if (v4) return Uint8Array.from(v4);
  const fail = () => new CertificateOptionsError(`not an IP address: ${JSON.stringify(text)}`);
  if (!text.includes(":")) throw fail();
  const halves = text.split("::");
  if (halves.length > 2) throw fail();
  const toWords = (half: string): number[] => {
    if (half === "") return [];
    const words: number[] = [];
    const groups = half.split(":");
    groups.forEach((group, i) => {
      const tail = i === groups.length - 1 ? parseIpv4(group) : undefined;
      if (tail) {
        words.push((tail[0] << 8) | tail[1], (tail[2] << 8) | tail[3]);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(group)) {
        words.push(parseInt(group, 16));
      } else {
        throw fail();
      }
    });
    return words;
  };
  const head = toWords(halves[0]);
  const tail = halves.length === 2 ? toWords(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) throw fail();
  const words = [...head, ...new Array(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  words.forEach((word, i) => {
    bytes[2 * i] = word >> 8;
    bytes[2 * i + 1] = word & 0xff;
  });
  return bytes;
}

function extension(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical
    ? derSequence(derOid(oid), derBoolean(true), derOctetString(value))
    : derSequence(derOid(oid), derOctetString(value));
}

/** WebCrypto ECDSA signatures are r ‖ s (32 bytes each); X.509 wants SEQUENCE { r, s }. */
function ecdsaSignatureToDer(raw: Uint8Array): Uint8Array {
  const half = raw.length / 2;
  return derSequence(
    derUnsignedInteger(raw.subarray(0, half)),
    derUnsignedInteger(raw.subarray(half)),
  );
}

/** Positive serial of 16 random bytes (RFC 5280 allows up to 20 octets). */
function randomSerial(): bigint {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] & 0x7f) | 0x01;
  return BigInt("0x" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(""));
}

/** Makes a fresh ECDSA P-256 key and a self-signed X.509 v3 server certificate for it. */
export async function generateSelfSigned(
  options: SelfSignedOptions = {},
): Promise<CertificatePair> {
  const commonName = options.commonName ?? "denopool self-signed";
  const dnsNames = options.dnsNames ?? ["localhost"];
  const ipAddresses = options.ipAddresses ?? ["127.0.0.1", "::1"];
  const days = options.days ?? 365;
  if (!(days > 0)) throw new CertificateOptionsError(`days must be positive, got ${days}`);
  const now = options.now ?? new Date();
  // Back-date by an hour so a peer whose clock is a little behind still accepts the certificate.
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000 - 3600_000);
  const notAfter = new Date(Math.floor(now.getTime() / 1000) * 1000 + days * 86_400_000);

  const keys = await crypto.subtle.generateKey(
    { name: "ECDSA", namedCurve: "P-256" },
    true,
    ["sign", "verify"],
  );
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey));
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  const rawPublic = new Uint8Array(await crypto.subtle.exportKey("raw", keys.publicKey));
  const keyId = new Uint8Array(await crypto.subtle.digest("SHA-1", rawPublic));

  const name = derSequence(
    derSet(derSequence(derOid(OID.commonName), derUtf8String(commonName))),
  );
  const signatureAlgorithm = derSequence(derOid(OID.ecdsaWithSha256));
  const altNames = [
    ...dnsNames.map((dns) => derImplicit(2, asciiBytes(dns))),
    ...ipAddresses.map((ip) => derImplicit(7, parseIpAddress(ip))),
  ];
  const extensions = [
    extension(OID.basicConstraints, true, derSequence()),
    extension(OID.keyUsage, true, derNamedBits([KEY_USAGE_DIGITAL_SIGNATURE])),
    extension(OID.extKeyUsage, false, derSequence(derOid(OID.serverAuth))),
    extension(OID.subjectKeyIdentifier, false, derOctetString(keyId)),
  ];
  if (altNames.length > 0) {
    // With no subject alternative names the common name is all a client could match; RFC 6125
    // clients (rustls among them) ignore it, so the extension is left out rather than empty.
    extensions.push(extension(OID.subjectAltName, false, derSequence(...altNames)));
  }
  const tbs = derSequence(
    derExplicit(0, derInteger(2n)),
    derInteger(randomSerial()),
    signatureAlgorithm,
    name,
    derSequence(derTime(notBefore), derTime(notAfter)),
    name,
    spki,
    derExplicit(3, derSequence(...extensions)),
  );
  const signature = new Uint8Array(
    await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, keys.privateKey, tbs),
  );
  const certificate = derSequence(
    tbs,
    signatureAlgorithm,
    derBitString(ecdsaSignatureToDer(signature)),
  );
  return {
    certPem: derToPem("CERTIFICATE", certificate),
    keyPem: derToPem("PRIVATE KEY", pkcs8),
  };
}

/** A certificate pair kept in the data directory. */
export interface StoredCertificate extends CertificatePair {
  /** Path of the certificate PEM file. */
  readonly certPath: string;
  /** Path of the private key PEM file (mode 0600). */
  readonly keyPath: string;
  /** True when this call generated (and wrote) a new pair. */
  readonly created: boolean;
}

/** File name of the certificate inside the data directory. */
export const CERT_FILE_NAME = "tls_cert.pem";
/** File name of the private key inside the data directory. */
export const KEY_FILE_NAME = "tls_key.pem";

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** The uncompressed EC point (0x04 ‖ x ‖ y) of a PKCS#8 P-256 key, or undefined for other keys. */
async function ecPublicPointOf(keyPem: string): Promise<Uint8Array | undefined> {
  const [pkcs8] = pemToDer("PRIVATE KEY", keyPem);
  if (!pkcs8) return undefined;
  try {
    const key = await crypto.subtle.importKey(
      "pkcs8",
      pkcs8,
      { name: "ECDSA", namedCurve: "P-256" },
      true,
      ["sign"],
    );
    const jwk = await crypto.subtle.exportKey("jwk", key);
    const decode = (text: string) =>
      Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
    return Uint8Array.from([0x04, ...decode(jwk.x ?? ""), ...decode(jwk.y ?? "")]);
  } catch {
    return undefined;
  }
}

/**
 * True when a stored pair should be replaced: a self-issued certificate that has (nearly) expired,
 * or whose P-256 key is not the stored key (a run that died between the two writes).
 */
async function needsReplacement(certPem: string, keyPem: string, now: Date): Promise<boolean> {
  let info;
  try {
    info = readCertificate(certPem);
  } catch {
    // Not ours to judge (or to overwrite): Deno's TLS will report what is wrong with it.
    return false;
  }
  if (!info.selfIssued) return false;
  if (info.notAfter.getTime() - now.getTime() < 86_400_000) return true;
  const point = await ecPublicPointOf(keyPem);
  if (!point || !info.ecPublicPoint) return false;
  return !sameBytes(point, info.ecPublicPoint);
}

const sameBytes = (a: Uint8Array, b: Uint8Array) =>
  a.length === b.length && a.every((byte, i) => byte === b[i]);

async function writeAtomically(path: string, text: string, mode: number): Promise<void> {
  const temporary = `${path}.tmp-${crypto.randomUUID()}`;
  try {
    await Deno.writeTextFile(temporary, text, { mode, createNew: true });
    if (Deno.build.os !== "windows") await Deno.chmod(temporary, mode);
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
}

/**
 * Returns the certificate pair kept in `dataDir` (`tls_cert.pem`, `tls_key.pem`), generating and
 * storing a self-signed one when either file is missing, or when the stored certificate is a
 * self-issued one within a day of expiry. An operator's own certificate (e.g. from certbot) is
 * reused as found. The key file is written with mode 0600.
 */
export async function loadOrCreateCert(
  dataDir: string,
  options: SelfSignedOptions = {},
): Promise<StoredCertificate> {
  const certPath = `${dataDir}/${CERT_FILE_NAME}`;
  const keyPath = `${dataDir}/${KEY_FILE_NAME}`;
  const [certPem, keyPem] = await Promise.all([readIfExists(certPath), readIfExists(keyPath)]);
  if (
    certPem !== undefined && keyPem !== undefined &&
    !(await needsReplacement(certPem, keyPem, options.now ?? new Date()))
  ) {
    return { certPem, keyPem, certPath, keyPath, created: false };
  }
  const pair = await generateSelfSigned(options);
  await Deno.mkdir(dataDir, { recursive: true });
  // A crash between these two writes leaves a mismatched pair, which the next run replaces.
  await writeAtomically(keyPath, pair.keyPem, 0o600);
  await writeAtomically(certPath, pair.certPem, 0o644);
  return { ...pair, certPath, keyPath, created: true };
}
