/**
 * A small Stratum V2 client: the Noise NX initiator handshake over TCP, then encrypted frames in
 * both directions, messages received kept in order. Used by the tests of the V2 server; the V2
 * miner will grow from it.
 *
 * @module
 */

import {
  decodeMessagePayload,
  ENCRYPTED_HEADER_SIZE,
  encryptedPayloadLength,
  HANDSHAKE_ACT2_SIZE,
  NoiseInitiator,
  type NoiseSession,
  Sv2Error,
  type Sv2Message,
  type Sv2MessageName,
  Sv2UnknownMessageError,
  Sv2Writer,
  writeMessage,
} from "../lib/sv2/mod.ts";
import { ExactReader, OrderedWriter } from "./sv2_io.ts";

/** Where and how a {@linkcode Sv2Client} connects. */
export interface Sv2ClientOptions {
  /** Host to connect to (default 127.0.0.1). */
  readonly hostname?: string;
  /** TCP port. */
  readonly port: number;
  /**
   * The pool authority's x-only public key the server certificate must verify against, or `null`
   * to accept any server (trusted local network only).
   */
  readonly authorityPublicKey: Uint8Array | null;
  /** Clock for the certificate check, Unix seconds (default: the system clock). */
  readonly now?: () => number;
  /** Time allowed for the handshake, ms (default 10 s). */
  readonly handshakeTimeoutMs?: number;
}

/**
 * A Stratum V2 client connection (after the Noise handshake).
 *
 * @example
 * ```ts ignore
 * const client = await Sv2Client.connect({ port: 3336, authorityPublicKey: null });
 * client.send({ type: "SetupConnection", protocol: 0, minVersion: 2, maxVersion: 2, flags: 0,
 *   endpointHost: "127.0.0.1", endpointPort: 3336, vendor: "x", hardwareVersion: "",
 *   firmware: "", deviceId: "" });
 * const answer = await client.next(); // SetupConnection.Success
 * ```
 */
export class Sv2Client {
  /** Every message received, in order. */
  readonly received: Sv2Message[] = [];
  /** Resolves when the connection ended (either side closed it, or a frame failed). */
  readonly closed: Promise<void>;
  readonly #conn: Deno.Conn;
  readonly #session: NoiseSession;
  readonly #reader: ExactReader;
  readonly #writer: OrderedWriter;
  readonly #frame = new Sv2Writer(256);
  #isClosed = false;
  #readAt = 0;
  #waiters: (() => void)[] = [];

  private constructor(conn: Deno.Conn, session: NoiseSession, reader: ExactReader) {
    this.#conn = conn;
    this.#session = session;
    this.#reader = reader;
    this.#writer = new OrderedWriter(conn, () => this.close());
    this.closed = this.#readLoop();
  }

  /** Connects and runs the handshake; throws when the server is refused or does not answer. */
  static async connect(options: Sv2ClientOptions): Promise<Sv2Client> {
    const conn = await Deno.connect({
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port,
    });
    const timer = setTimeout(() => conn.close(), options.handshakeTimeoutMs ?? 10_000);
    try {
      const initiator = new NoiseInitiator({
        authorityPublicKey: options.authorityPublicKey,
        now: options.now,
      });
      const act1 = initiator.start();
      let off = 0;
      while (off < act1.length) off += await conn.write(act1.subarray(off));
      const reader = new ExactReader(conn);
      const act2 = await reader.read(HANDSHAKE_ACT2_SIZE);
      if (act2 === null) throw new Sv2Error("the server closed the connection in the handshake");
      const session = initiator.finish(act2);
      clearTimeout(timer);
      return new Sv2Client(conn, session, reader);
    } catch (error) {
      clearTimeout(timer);
      try {
        conn.close();
      } catch {
        // already closed
      }
      throw error;
    }
  }

  /** True once the connection ended. */
  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Seals one message into its wire bytes (advancing the sending nonce), without sending it. */
  seal(message: Sv2Message): Uint8Array {
    const frame = this.#frame.reset();
    writeMessage(frame, message);
    return this.#session.encrypt(frame.bytes());
  }

  /**
   * Seals one plaintext frame (6-byte header and its payload, e.g. of a message type the library
   * does not know) into its wire bytes, advancing the sending nonce, without sending it.
   */
  sealFrame(frame: Uint8Array): Uint8Array {
    return this.#session.encrypt(frame);
  }

  /** Sends one message. */
  send(message: Sv2Message): void {
    this.#writer.write(this.seal(message));
  }

  /** Sends raw wire bytes (for tests of broken frames). */
  sendRaw(bytes: Uint8Array): void {
    this.#writer.write(bytes);
  }

  /** The next message not yet taken by `next`/`waitFor`, waiting up to `timeoutMs`. */
  next(timeoutMs = 3000): Promise<Sv2Message> {
    return this.#take(() => true, timeoutMs);
  }

  /** The next message of type `name` (skipping others, which stay readable by index). */
  async waitFor<N extends Sv2MessageName>(
    name: N,
    timeoutMs = 3000,
  ): Promise<Extract<Sv2Message, { type: N }>> {
    return await this.#take((m) => m.type === name, timeoutMs) as Extract<
      Sv2Message,
      { type: N }
    >;
  }

  /** Closes the connection. */
  close(): void {
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }

  async #take(match: (m: Sv2Message) => boolean, timeoutMs: number): Promise<Sv2Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = this.#readAt; i < this.received.length; i++) {
        if (match(this.received[i])) {
          this.#readAt = i + 1;
          return this.received[i];
        }
      }
      if (this.#isClosed) throw new Sv2Error("connection closed while waiting for a message");
      const left = deadline - Date.now();
      if (left <= 0) throw new Sv2Error("timed out waiting for a message");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async #readLoop(): Promise<void> {
    try {
      for (;;) {
        const sealedHeader = await this.#reader.read(ENCRYPTED_HEADER_SIZE);
        if (sealedHeader === null) break;
        const header = this.#session.decryptHeader(sealedHeader);
        const sealed = await this.#reader.read(encryptedPayloadLength(header.msgLength));
        if (sealed === null) break;
        const payload = this.#session.decryptPayload(header, sealed);
        try {
          this.received.push(decodeMessagePayload(header, payload));
        } catch (error) {
          if (!(error instanceof Sv2UnknownMessageError)) throw error;
        }
        this.#wake();
      }
    } catch {
      // a broken frame or a reset: the connection is over
    }
    this.#isClosed = true;
    this.close();
    this.#wake();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}
