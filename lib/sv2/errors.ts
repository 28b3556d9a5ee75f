/**
 * The error types of the Stratum V2 library. Every failure the library raises on bad input is an
 * {@linkcode Sv2Error} subclass, so a connection handler can catch one type and drop the peer.
 *
 * @module
 */

/** The base of every error this library throws on bad input or misuse; `message` says why. */
export class Sv2Error extends Error {
  /** Creates the error with a human reason. */
  constructor(message: string) {
    super(message);
    this.name = "Sv2Error";
  }
}

/** Bytes that do not decode: too short, a length over its type's bound, trailing bytes. */
export class Sv2DecodeError extends Sv2Error {
  /** Creates the error with a human reason. */
  constructor(message: string) {
    super(message);
    this.name = "Sv2DecodeError";
  }
}

/** A value that cannot be encoded: out of its type's range, or a byte field of the wrong size. */
export class Sv2EncodeError extends Sv2Error {
  /** Creates the error with a human reason. */
  constructor(message: string) {
    super(message);
    this.name = "Sv2EncodeError";
  }
}

/** A well-formed frame whose extension type and message type this library does not know. */
export class Sv2UnknownMessageError extends Sv2DecodeError {
  /** The frame's extension type, without the channel_msg bit. */
  readonly extensionType: number;
  /** The frame's message type. */
  readonly msgType: number;

  /** Creates the error for one (extension type, message type) pair. */
  constructor(extensionType: number, msgType: number) {
    super(
      `unknown message: extension 0x${extensionType.toString(16).padStart(4, "0")}, ` +
        `type 0x${msgType.toString(16).padStart(2, "0")}`,
    );
    this.name = "Sv2UnknownMessageError";
    this.extensionType = extensionType;
    this.msgType = msgType;
  }
}

/** A Noise handshake or transport failure: bad sizes, a MAC that does not verify, misuse. */
export class Sv2NoiseError extends Sv2Error {
  /** Creates the error with a human reason. */
  constructor(message: string) {
    super(message);
    this.name = "Sv2NoiseError";
  }
}

/** Why a server certificate was refused. */
export type CertificateFailure =
  | "bad-signature"
  | "expired"
  | "not-yet-valid"
  | "unsupported-version";

/** A server certificate (SIGNATURE_NOISE_MESSAGE) that does not verify. */
export class Sv2CertificateError extends Sv2NoiseError {
  /** The machine-readable reason. */
  readonly reason: CertificateFailure;

  /** Creates the error with its reason and a human message. */
  constructor(reason: CertificateFailure, message: string) {
    super(message);
    this.name = "Sv2CertificateError";
    this.reason = reason;
  }
}

/** A key string or key bytes that are not a valid authority key. */
export class Sv2KeyError extends Sv2Error {
  /** Creates the error with a human reason. */
  constructor(message: string) {
    super(message);
    this.name = "Sv2KeyError";
  }
}
