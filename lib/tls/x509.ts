/**
 * Reads the few fields of an X.509 certificate that the pool cares about (names, validity), so a
 * stored certificate can be checked before reuse. Not a validator: signatures are not checked.
 *
 * @module
 */

import { DerError, DerTag, readDer, readDerChildren, readOid, readTime } from "./der.ts";
import { pemToDer } from "./pem.ts";

const OID_COMMON_NAME = "2.5.4.3";
const OID_SUBJECT_ALT_NAME = "2.5.29.17";
const OID_EC_PUBLIC_KEY = "1.2.840.10045.2.1";

/** What {@linkcode readCertificate} found in a certificate. */
export interface CertificateInfo {
  /** Subject common name, if the subject has one. */
  readonly commonName: string | undefined;
  /** Start of validity. */
  readonly notBefore: Date;
  /** End of validity. */
  readonly notAfter: Date;
  /** SubjectAltName DNS entries. */
  readonly dnsNames: readonly string[];
  /** SubjectAltName IP entries, in text form (IPv4 dotted, IPv6 full lowercase groups). */
  readonly ipAddresses: readonly string[];
  /** True when issuer and subject are the same name (a self-issued certificate). */
  readonly selfIssued: boolean;
  /** The subject public key as an uncompressed EC point, when the key is EC; else undefined. */
  readonly ecPublicPoint: Uint8Array | undefined;
  /** Names of the extensions present, by OID, with their critical flag. */
  readonly extensions: ReadonlyMap<string, { critical: boolean; value: Uint8Array }>;
}

function ipToText(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join(".");
  const groups: string[] = [];
  for (let i = 0; i < bytes.length; i += 2) {
    groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  }
  return groups.join(":");
}

function commonNameOf(name: Uint8Array): string | undefined {
  for (const rdn of readDerChildren(name)) {
    for (const attribute of readDerChildren(rdn.content)) {
      const [type, value] = readDerChildren(attribute.content);
      if (type && value && readOid(type.content) === OID_COMMON_NAME) {
        return new TextDecoder().decode(value.content);
      }
    }
  }
  return undefined;
}

const sameBytes = (a: Uint8Array, b: Uint8Array) =>
  a.length === b.length && a.every((byte, i) => byte === b[i]);

/** Reads the first certificate of a PEM text (or DER bytes). Throws `DerError` if malformed. */
export function readCertificate(cert: string | Uint8Array): CertificateInfo {
  const der = typeof cert === "string" ? pemToDer("CERTIFICATE", cert)[0] : cert;
  if (!der) throw new DerError("no CERTIFICATE block in PEM text");
  const certificate = readDer(der);
  if (certificate.tag !== DerTag.SEQUENCE) throw new DerError("certificate is not a SEQUENCE");
  const [tbs] = readDerChildren(certificate.content);
  const fields = readDerChildren(tbs.content);
  // The version field [0] is optional (absent means v1); everything after shifts by one.
  const base = fields[0].tag === 0xa0 ? 1 : 0;
  const issuer = fields[base + 2];
  const [notBefore, notAfter] = readDerChildren(fields[base + 3].content);
  const subject = fields[base + 4];
  const [keyAlgorithm, keyBits] = readDerChildren(fields[base + 5].content);
  const [keyType] = readDerChildren(keyAlgorithm.content);
  const ecPublicPoint = readOid(keyType.content) === OID_EC_PUBLIC_KEY
    ? keyBits.content.subarray(1)
    : undefined;
  const extensions = new Map<string, { critical: boolean; value: Uint8Array }>();
  const extensionsField = fields.find((field) => field.tag === 0xa3);
  if (extensionsField) {
    const [list] = readDerChildren(extensionsField.content);
    for (const extension of readDerChildren(list.content)) {
      const parts = readDerChildren(extension.content);
      const critical = parts.length === 3 && parts[1].content[0] === 0xff;
      extensions.set(readOid(parts[0].content), {
        critical,
        value: parts[parts.length - 1].content,
      });
    }
  }
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  const san = extensions.get(OID_SUBJECT_ALT_NAME);
  if (san) {
    const [names] = readDerChildren(san.value);
    for (const name of readDerChildren(names.content)) {
      if (name.tag === 0x82) dnsNames.push(new TextDecoder().decode(name.content));
      if (name.tag === 0x87) ipAddresses.push(ipToText(name.content));
    }
  }
  return {
    commonName: commonNameOf(subject.content),
    notBefore: readTime(notBefore),
    notAfter: readTime(notAfter),
    dnsNames,
    ipAddresses,
    selfIssued: sameBytes(issuer.raw, subject.raw),
    ecPublicPoint,
    extensions,
  };
}
