/**
 * Self-signed X.509 certificates with a small DER encoder, for Stratum TLS and HTTPS.
 *
 * @example
 * ```ts
 * import { loadOrCreateCert } from "./mod.ts";
 * // const { certPem, keyPem } = await loadOrCreateCert("./data", { commonName: "denopool" });
 * typeof loadOrCreateCert; // "function"
 * ```
 *
 * @module
 */

export * from "./der.ts";
export * from "./pem.ts";
export * from "./selfsigned.ts";
export * from "./x509.ts";
