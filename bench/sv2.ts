/**
 * `deno task bench sv2`: the cost of Stratum V2's encryption, in process: Noise handshakes per
 * second on the responder (pool) side, with the initiator's work done outside the timed part, and
 * encrypted frames per second each way for a share-sized frame (SubmitSharesStandard, 38 bytes)
 * and a job-sized one (NewMiningJob, 52 bytes).
 *
 * @module
 */

import {
  generateNoiseKeyPair,
  NoiseInitiator,
  NoiseResponder,
  type NoiseSession,
  signCertificate,
} from "../lib/sv2/mod.ts";

/** Settings of the SV2 bench. */
export interface Sv2BenchOptions {
  /** Seconds per measurement. */
  readonly seconds: number;
  /** Progress lines. */
  readonly log: (line: string) => void;
}

/** What it measured. */
export interface Sv2BenchResults {
  /** Responder handshakes per second on one thread. */
  readonly responderHandshakesPerSecond: number;
  /** CPU time of one responder handshake, ms. */
  readonly responderHandshakeMs: number;
  /** Full handshakes (both sides) per second on one thread. */
  readonly fullHandshakesPerSecond: number;
  /** 38-byte frames encrypted + decrypted per second. */
  readonly shareFramesPerSecond: number;
  /** 52-byte frames encrypted + decrypted per second. */
  readonly jobFramesPerSecond: number;
}

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/** An authority, a static key and the certificate over it, valid for an hour. */
function identity() {
  const authority = generateNoiseKeyPair();
  const staticKey = generateNoiseKeyPair();
  const now = Math.floor(Date.now() / 1000);
  const certificate = signCertificate({
    serverPublicKey: staticKey.publicKey,
    authoritySecretKey: authority.secretKey,
    validFrom: now - 60,
    notValidAfter: now + 3600,
  });
  return { authority, staticKey, certificate };
}

/** Two ends of a finished handshake. */
function pair(): { client: NoiseSession; server: NoiseSession } {
  const { authority, staticKey, certificate } = identity();
  const initiator = new NoiseInitiator({ authorityPublicKey: authority.publicKey });
  const responder = new NoiseResponder({ staticKey, certificate });
  const { act2, session: server } = responder.respond(initiator.start());
  return { client: initiator.finish(act2), server };
}

/** Runs the SV2 bench. */
export function runSv2Bench(options: Sv2BenchOptions): Sv2BenchResults {
  const ms = options.seconds * 1000;
  const { authority, staticKey, certificate } = identity();

  // Responder only: act 1 messages made beforehand (the initiator's work is the miner's).
  const acts: Uint8Array[] = [];
  for (let i = 0; i < 64; i++) {
    acts.push(new NoiseInitiator({ authorityPublicKey: authority.publicKey }).start());
  }
  let responded = 0;
  let started = performance.now();
  while (performance.now() - started < ms) {
    new NoiseResponder({ staticKey, certificate }).respond(acts[responded % acts.length]);
    responded++;
  }
  const responderSeconds = (performance.now() - started) / 1000;
  const responderRate = responded / responderSeconds;
  options.log(
    `responder handshakes: ${round(responderRate)}/s on one thread (${
      round(1000 / responderRate, 2)
    } ms each)`,
  );

  let full = 0;
  started = performance.now();
  while (performance.now() - started < ms) {
    const initiator = new NoiseInitiator({ authorityPublicKey: authority.publicKey });
    const { act2 } = new NoiseResponder({ staticKey, certificate }).respond(initiator.start());
    initiator.finish(act2);
    full++;
  }
  const fullRate = full / ((performance.now() - started) / 1000);
  options.log(`full handshakes (both sides): ${round(fullRate)}/s on one thread`);

  const frames = (size: number): number => {
    const { client, server } = pair();
    const frame = new Uint8Array(6 + size);
    frame[2] = 0x1a; // a message type; the content does not matter to the cipher
    frame[3] = size & 0xff;
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < ms) {
      for (let i = 0; i < 256; i++) server.decrypt(client.encrypt(frame));
      n += 256;
    }
    return n / ((performance.now() - t0) / 1000);
  };
  frames(38); // warm-up: the first run pays for compiling the cipher path
  const shareRate = frames(38);
  options.log(`38-byte frames (a share): ${round(shareRate)}/s encrypted and decrypted`);
  const jobRate = frames(52);
  options.log(`52-byte frames (a job): ${round(jobRate)}/s encrypted and decrypted`);
  return {
    responderHandshakesPerSecond: round(responderRate),
    responderHandshakeMs: round(1000 / responderRate, 3),
    fullHandshakesPerSecond: round(fullRate),
    shareFramesPerSecond: round(shareRate),
    jobFramesPerSecond: round(jobRate),
  };
}
