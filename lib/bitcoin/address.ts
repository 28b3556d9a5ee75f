/**
 * Payout addresses ⇄ output scripts for every network: P2PKH and P2SH (Base58Check), and native
 * segwit P2WPKH, P2WSH, P2TR and future witness versions (bech32/bech32m, BIP173/BIP350).
 *
 * @module
 */

import { base58CheckDecode, base58CheckEncode, Base58Error } from "./base58.ts";
import {
  bech32Decode,
  type Bech32Decoded,
  Bech32Error,
  decodeSegwitAddress,
  encodeSegwitAddress,
} from "./bech32.ts";
import { type Network, type NetworkName, NETWORKS } from "./networks.ts";

/** An address the pool cannot pay to on its network; `message` is a reason fit for a user. */
export class AddressError extends Error {
  /** Creates the error with a human reason. */
  constructor(message: string) {
    super(message);
    this.name = "AddressError";
  }
}

/** Names of the networks whose segwit HRP is `hrp`, e.g. `testnet/testnet4/signet` for `tb`. */
function networksWithHrp(hrp: string): string {
  return (Object.keys(NETWORKS) as NetworkName[])
    .filter((n) => NETWORKS[n].bech32Hrp === hrp).join("/");
}

/** Names of the networks that use `version` as a Base58 P2PKH or P2SH version byte. */
function networksWithVersion(version: number): string {
  return (Object.keys(NETWORKS) as NetworkName[])
    .filter((n) => NETWORKS[n].p2pkhVersion === version || NETWORKS[n].p2shVersion === version)
    .join("/");
}

/** The scriptPubKey of a witness program: OP_n, then one push of the program. */
function witnessScript(version: number, program: Uint8Array): Uint8Array {
  const script = new Uint8Array(2 + program.length);
  script[0] = version === 0 ? 0x00 : 0x50 + version;
  script[1] = program.length;
  script.set(program, 2);
  return script;
}

function segwitToScript(address: string): Uint8Array {
  let decoded;
  try {
    decoded = decodeSegwitAddress(address);
  } catch (err) {
    if (err instanceof Bech32Error) throw new AddressError(`invalid address: ${err.message}`);
    throw err;
  }
  return witnessScript(decoded.version, decoded.program);
}

function base58ToScript(address: string, network: Network): Uint8Array {
  let payload: Uint8Array;
  try {
    payload = base58CheckDecode(address);
  } catch (err) {
    if (err instanceof Base58Error) throw new AddressError(`invalid address: ${err.message}`);
    throw err;
  }
  if (payload.length !== 21) {
    throw new AddressError(
      `invalid address: decodes to ${payload.length} bytes; a base58 address holds 21 ` +
        "(version byte and 20-byte hash)",
    );
  }
  const version = payload[0];
  const hash = payload.subarray(1);
  if (version === network.p2pkhVersion) {
    const script = new Uint8Array(25);
    script.set([0x76, 0xa9, 0x14]);
    script.set(hash, 3);
    script.set([0x88, 0xac], 23);
    return script;
  }
  if (version === network.p2shVersion) {
    const script = new Uint8Array(23);
    script.set([0xa9, 0x14]);
    script.set(hash, 2);
    script[22] = 0x87;
    return script;
  }
  const owners = networksWithVersion(version);
  if (owners !== "") {
    throw new AddressError(
      `address is for ${owners}, but the pool runs on ${network.name}`,
    );
  }
  throw new AddressError(
    `unknown address version byte 0x${version.toString(16).padStart(2, "0")} ` +
      "(not a P2PKH or P2SH address of any Bitcoin network)",
  );
}

/** Every HRP of a known network, longest first so `bcrt` is tried before `bc`. */
const KNOWN_HRPS: readonly string[] = [
  ...new Set(Object.values(NETWORKS).map((n) => n.bech32Hrp)),
].sort((a, b) => b.length - a.length);

/**
 * The output script (scriptPubKey) that pays `address` on `network`. Throws `AddressError` with a
 * reason for every rejection: empty, whitespace, bad characters or checksum, mixed case, wrong
 * length, wrong witness version/checksum pairing, unknown prefix, or an address of another network
 * (naming that network).
 */
export function addressToScript(address: string, network: Network): Uint8Array {
  if (address.length === 0) throw new AddressError("address is empty");
  if (address.trim() !== address) {
    throw new AddressError("address has leading or trailing whitespace");
  }
  const lower = address.toLowerCase();
  const sep = lower.lastIndexOf("1");
  const hrp = sep > 0 ? lower.slice(0, sep) : "";
  if (KNOWN_HRPS.includes(hrp)) {
    const script = segwitToScript(address);
    if (hrp !== network.bech32Hrp) {
      throw new AddressError(
        `address is for ${networksWithHrp(hrp)} (prefix "${hrp}1"), but the pool runs on ` +
          `${network.name} (prefix "${network.bech32Hrp}1")`,
      );
    }
    return script;
  }
  // A string with a valid bech32 checksum under another HRP ("tc1…", "ltc1…") is not base58:
  // name its prefix rather than a base58 character error.
  let foreign: Bech32Decoded | undefined;
  try {
    foreign = bech32Decode(address);
  } catch {
    foreign = undefined;
  }
  if (foreign !== undefined) {
    throw new AddressError(
      `unknown address prefix "${foreign.hrp}1" (expected "${network.bech32Hrp}1" on ` +
        `${network.name})`,
    );
  }
  return base58ToScript(address, network);
}

/** The address that `script` pays on `network` (standard output types only), else undefined. */
export function scriptToAddress(script: Uint8Array, network: Network): string | undefined {
  const n = script.length;
  if (
    n === 25 && script[0] === 0x76 && script[1] === 0xa9 && script[2] === 0x14 &&
    script[23] === 0x88 && script[24] === 0xac
  ) {
    const payload = new Uint8Array(21);
    payload[0] = network.p2pkhVersion;
    payload.set(script.subarray(3, 23), 1);
    return base58CheckEncode(payload);
  }
  if (n === 23 && script[0] === 0xa9 && script[1] === 0x14 && script[22] === 0x87) {
    const payload = new Uint8Array(21);
    payload[0] = network.p2shVersion;
    payload.set(script.subarray(2, 22), 1);
    return base58CheckEncode(payload);
  }
  const op = script[0];
  const version = op === 0x00 ? 0 : op >= 0x51 && op <= 0x60 ? op - 0x50 : -1;
  if (version >= 0 && n >= 4 && n <= 42 && script[1] === n - 2) {
    const program = script.subarray(2);
    if (version === 0 && program.length !== 20 && program.length !== 32) return undefined;
    return encodeSegwitAddress(network.bech32Hrp, version, program);
  }
  return undefined;
}
