/**
 * The pool's Stratum V2 identity: the authority key (miners pin its public key in the pool URL,
 * `stratum2+tcp://HOST:PORT/<authority key>`), the server's static Noise key, and the certificate
 * the authority signs over the static key, renewed before it expires.
 *
 * Both secret keys are made once and kept in the data dir (`sv2_authority.key`,
 * `sv2_static.key`: Base58Check, file mode 0600), or given in `secrets.toml`. A key file that
 * others can read is refused with the file's name, as is a file that does not hold a key: a pool
 * must never quietly change the key its miners pinned.
 *
 * @example
 * ```ts ignore
 * const identity = await loadSv2Identity({ dataDir: "./data" });
 * console.log(sv2PoolUrl("pool.example.com", 3333, identity));
 * const cert = identity.certificate(Math.floor(Date.now() / 1000));
 * ```
 *
 * @module
 */

import {
  decodeSecretKey,
  encodeAuthorityPublicKey,
  encodeSecretKey,
  generateNoiseKeyPair,
  type NoiseKeyPair,
  noiseKeyPairFromSecret,
  type SignatureNoiseMessage,
  signCertificate,
  Sv2Error,
  xOnlyPublicKey,
} from "../lib/sv2/mod.ts";

/** File of the authority secret key in the data dir. */
export const AUTHORITY_KEY_FILE = "sv2_authority.key";
/** File of the static secret key in the data dir. */
export const STATIC_KEY_FILE = "sv2_static.key";
/** Default certificate validity, seconds (30 days). */
export const CERTIFICATE_VALIDITY_SECONDS = 30 * 86_400;
/** A certificate with less than this left is signed again, seconds (1 day). */
export const CERTIFICATE_RENEW_SECONDS = 86_400;

/** A key file or a configured key that cannot be used. */
export class Sv2KeyFileError extends Error {
  /** An error naming where the key came from. */
  constructor(message: string) {
    super(message);
    this.name = "Sv2KeyFileError";
  }
}

/** Options of {@linkcode loadSv2Identity}. */
export interface Sv2IdentityOptions {
  /** The pool's data dir (keys are kept there unless given). */
  readonly dataDir: string;
  /** The authority secret key (Base58Check) from `secrets.toml`; "" or absent → the file. */
  readonly authoritySecretKey?: string;
  /** The static secret key (Base58Check) from `secrets.toml`; "" or absent → the file. */
  readonly staticSecretKey?: string;
  /** Certificate validity, seconds (default 30 days). */
  readonly validitySeconds?: number;
  /** Told once when a key file is made. */
  readonly log?: (message: string) => void;
}

/** The pool's V2 keys and its current certificate. */
export interface Sv2Identity {
  /** The authority's x-only public key (32 bytes). */
  readonly authorityPublicKey: Uint8Array;
  /** The same as the Base58Check string miners put in the pool URL. */
  readonly authorityKey: string;
  /** The server's static Noise key pair. */
  readonly staticKey: NoiseKeyPair;
  /** The certificate valid at `nowSeconds`, signed again when less than a day is left. */
  certificate(nowSeconds: number): SignatureNoiseMessage;
}

/** `stratum2+tcp://HOST:PORT/<authority key>`: what a V2 miner is configured with. */
export function sv2PoolUrl(host: string, port: number, identity: Sv2Identity): string {
  const h = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return `stratum2+tcp://${h}:${port}/${identity.authorityKey}`;
}

/** Reads or makes one secret key; `given` (from secrets.toml) wins over the file. */
async function secretKey(
  path: string,
  given: string | undefined,
  what: string,
  log: (message: string) => void,
): Promise<Uint8Array> {
  if (given !== undefined && given !== "") {
    try {
      return decodeSecretKey(given.trim());
    } catch (error) {
      throw new Sv2KeyFileError(`secrets.toml: ${what}: ${(error as Error).message}`);
    }
  }
  let text: string | undefined;
  try {
    const info = await Deno.stat(path);
    if (info.mode !== null && (info.mode & 0o077) !== 0) {
      throw new Sv2KeyFileError(
        `${path}: readable by others (mode ${(info.mode & 0o777).toString(8)}); ` +
          `run chmod 600 ${path}`,
      );
    }
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  if (text !== undefined) {
    try {
      return decodeSecretKey(text.trim());
    } catch (error) {
      if (!(error instanceof Sv2Error)) throw error;
      throw new Sv2KeyFileError(`${path}: not a ${what}: ${error.message}`);
    }
  }
  const fresh = generateNoiseKeyPair().secretKey;
  // Written to a temporary file with mode 0600, then renamed: never a half-written key.
  const temp = `${path}.tmp-${Deno.pid}`;
  await Deno.writeTextFile(temp, encodeSecretKey(fresh) + "\n", { mode: 0o600 });
  await Deno.chmod(temp, 0o600);
  await Deno.rename(temp, path);
  log(`sv2: made a new ${what} in ${path}`);
  return fresh;
}

/** Loads the V2 keys (making them on first start) and signs the first certificate lazily. */
export async function loadSv2Identity(options: Sv2IdentityOptions): Promise<Sv2Identity> {
  const log = options.log ?? (() => {});
  await Deno.mkdir(options.dataDir, { recursive: true });
  const authoritySecret = await secretKey(
    `${options.dataDir}/${AUTHORITY_KEY_FILE}`,
    options.authoritySecretKey,
    "authority secret key",
    log,
  );
  const staticSecret = await secretKey(
    `${options.dataDir}/${STATIC_KEY_FILE}`,
    options.staticSecretKey,
    "static secret key",
    log,
  );
  const authorityPublicKey = xOnlyPublicKey(authoritySecret);
  const staticKey = noiseKeyPairFromSecret(staticSecret);
  const validity = Math.max(
    3600,
    Math.floor(options.validitySeconds ?? CERTIFICATE_VALIDITY_SECONDS),
  );
  let current: SignatureNoiseMessage | undefined;
  return {
    authorityPublicKey,
    authorityKey: encodeAuthorityPublicKey(authorityPublicKey),
    staticKey,
    certificate(nowSeconds: number): SignatureNoiseMessage {
      const now = Math.floor(nowSeconds);
      const renewAt = current === undefined
        ? -Infinity
        : current.notValidAfter - Math.min(CERTIFICATE_RENEW_SECONDS, validity / 4);
      if (current === undefined || now >= renewAt || now < current.validFrom) {
        current = signCertificate({
          serverPublicKey: staticKey.publicKey,
          authoritySecretKey: authoritySecret,
          // A little in the past, for miners whose clocks run slightly behind.
          validFrom: now - 3600,
          notValidAfter: now + validity,
        });
      }
      return current;
    },
  };
}
