/**
 * The Stratum V2 server connection (stratum/sv2_connection.ts) over real sockets, driven by the V2
 * client (stratum/sv2_client.ts): handshake, SetupConnection, standard channels, jobs, shares,
 * blocks, broken frames and the handshake deadline.
 *
 * Headers are rebuilt here the way a V2 miner sees them (NewMiningJob + SetNewPrevHash only) and
 * hashed with node:crypto, independently of the pool's sha256 code; no byte vector is hard-coded.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { schnorr } from "@noble/curves/secp256k1.js";
import { bytesToHex, difficultyToTarget, hashToBigInt } from "../lib/bitcoin/mod.ts";
import type {
  CoinbaseParts,
  Job,
  Payout,
  ShareChecker,
  ShareInput,
  ShareVerdict,
} from "../lib/pool/mod.ts";
import { InlineShareChecker } from "../lib/shares/check.ts";
import {
  generateNoiseKeyPair,
  type NewMiningJob,
  type SetNewPrevHash,
  signCertificate,
  Sv2CertificateError,
  type Sv2Message,
} from "../lib/sv2/mod.ts";
import { ShareGate } from "../stratum/backpressure.ts";
import { Sv2Client } from "../stratum/sv2_client.ts";
import {
  serveSv2Connection,
  type Sv2Connection,
  type Sv2ConnectionOptions,
} from "../stratum/sv2_connection.ts";
import {
  makeJob,
  prevhashOf,
  RecordingBlockSink,
  resolveRegtestPayout,
  TEST_ADDRESS,
  TestJobSource,
} from "../stratum/testing.ts";
import { waitUntil } from "./helpers/wait.ts";

interface TestServer {
  readonly port: number;
  readonly jobs: TestJobSource;
  readonly sink: RecordingBlockSink;
  readonly connections: Sv2Connection[];
  readonly authorityPublicKey: Uint8Array;
  readonly released: Uint8Array[];
  close(): Promise<void>;
}

function startServer(
  extra: Partial<Sv2ConnectionOptions> = {},
): TestServer {
  const authority = schnorr.utils.randomSecretKey();
  const staticKey = generateNoiseKeyPair();
  const now = Math.floor(Date.now() / 1000);
  const certificate = signCertificate({
    serverPublicKey: staticKey.publicKey,
    authoritySecretKey: authority,
    validFrom: now - 60,
    notValidAfter: now + 3600,
  });
  const jobs = new TestJobSource();
  const sink = new RecordingBlockSink();
  const checker = new InlineShareChecker();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const connections: Sv2Connection[] = [];
  const released: Uint8Array[] = [];
  let nextPrefix = 0x0a000001;
  const options: Sv2ConnectionOptions = {
    staticKey,
    certificate,
    jobs,
    checker,
    blocks: sink,
    resolvePayout: resolveRegtestPayout,
    allocateExtranoncePrefix: () => {
      const prefix = new Uint8Array(4);
      new DataView(prefix.buffer).setUint32(0, nextPrefix++);
      return prefix;
    },
    releaseExtranoncePrefix: (prefix) => released.push(prefix),
    extranonce2Size: 4,
    startDifficulty: 1e-9,
    ...extra,
  };
  const accepting = (async () => {
    for await (const conn of listener) connections.push(serveSv2Connection(conn, options));
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    jobs,
    sink,
    connections,
    authorityPublicKey: schnorr.getPublicKey(authority),
    released,
    async close() {
      listener.close();
      await accepting;
      for (const c of connections) c.close();
      await Promise.all(connections.map((c) => c.done));
    },
  };
}

function setupConnection(overrides: Partial<Sv2Message & { type: "SetupConnection" }> = {}) {
  return {
    type: "SetupConnection" as const,
    protocol: 0,
    minVersion: 2,
    maxVersion: 2,
    flags: 0,
    endpointHost: "127.0.0.1",
    endpointPort: 0,
    vendor: "denopool-test",
    hardwareVersion: "",
    firmware: "",
    deviceId: "",
    ...overrides,
  };
}

const MAX_TARGET_LE = new Uint8Array(32).fill(0xff);

async function connect(server: TestServer): Promise<Sv2Client> {
  return await Sv2Client.connect({
    port: server.port,
    authorityPublicKey: server.authorityPublicKey,
  });
}

async function connectAndSetup(server: TestServer): Promise<Sv2Client> {
  const client = await connect(server);
  client.send(setupConnection());
  const answer = await client.next();
  assert.equal(answer.type, "SetupConnection.Success");
  return client;
}

interface OpenedChannel {
  readonly channelId: number;
  readonly target: bigint;
  readonly prefix: Uint8Array;
  readonly job: NewMiningJob;
  readonly prevHash: SetNewPrevHash;
}

async function openChannel(
  client: Sv2Client,
  user = TEST_ADDRESS + ".rig1",
  maxTarget: Uint8Array = MAX_TARGET_LE,
): Promise<OpenedChannel> {
  client.send({
    type: "OpenStandardMiningChannel",
    requestId: 7,
    userIdentity: user,
    nominalHashRate: 0,
    maxTarget,
  });
  const ok = await client.next();
  assert.equal(ok.type, "OpenStandardMiningChannel.Success", JSON.stringify(ok));
  if (ok.type !== "OpenStandardMiningChannel.Success") throw new Error("unreachable");
  assert.equal(ok.requestId, 7);
  const job = await client.next();
  assert.equal(job.type, "NewMiningJob");
  const prev = await client.next();
  assert.equal(prev.type, "SetNewPrevHash");
  if (job.type !== "NewMiningJob" || prev.type !== "SetNewPrevHash") throw new Error("unreachable");
  return {
    channelId: ok.channelId,
    target: hashToBigInt(ok.target),
    prefix: ok.extranoncePrefix,
    job,
    prevHash: prev,
  };
}

/** The 80-byte header a V2 standard-channel miner hashes, from the two job messages only. */
function header(
  job: NewMiningJob,
  prev: SetNewPrevHash,
  ntime: number,
  nonce: number,
): Uint8Array {
  const h = new Uint8Array(80);
  const v = new DataView(h.buffer);
  v.setUint32(0, job.version, true);
  h.set(prev.prevHash, 4);
  h.set(job.merkleRoot, 36);
  v.setUint32(68, ntime, true);
  v.setUint32(72, prev.nbits, true);
  v.setUint32(76, nonce, true);
  return h;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function sha256d(bytes: Uint8Array): Uint8Array {
  const once = createHash("sha256").update(bytes).digest();
  return new Uint8Array(createHash("sha256").update(once).digest());
}

/** The first nonce from `start` whose header hash satisfies `want`, with that hash. */
function grind(
  job: NewMiningJob,
  prev: SetNewPrevHash,
  ntime: number,
  want: (hash: bigint) => boolean,
  start = 0,
): { nonce: number; hash: Uint8Array } {
  for (let nonce = start; nonce < start + 100_000; nonce++) {
    const hash = sha256d(header(job, prev, ntime, nonce));
    if (want(hashToBigInt(hash))) return { nonce, hash };
  }
  throw new Error("no nonce found");
}

function submit(
  client: Sv2Client,
  ch: OpenedChannel,
  sequenceNumber: number,
  nonce: number,
  jobId = ch.job.jobId,
): void {
  client.send({
    type: "SubmitSharesStandard",
    channelId: ch.channelId,
    sequenceNumber,
    jobId,
    nonce,
    ntime: ch.prevHash.minNtime,
    version: ch.job.version,
  });
}

Deno.test("sv2 server: handshake, SetupConnection, a wrong protocol and version are refused", async () => {
  const server = startServer();
  try {
    const ok = await connectAndSetup(server);
    ok.close();

    const wrong = await connect(server);
    wrong.send(setupConnection({ protocol: 2 }));
    const refused = await wrong.next();
    assert.deepEqual(refused, {
      type: "SetupConnection.Error",
      flags: 0,
      errorCode: "unsupported-protocol",
    });
    await wrong.closed;

    const old = await connect(server);
    old.send(setupConnection({ minVersion: 3, maxVersion: 3 }));
    const mismatch = await old.next();
    assert.equal(mismatch.type, "SetupConnection.Error");
    assert.equal(
      mismatch.type === "SetupConnection.Error" && mismatch.errorCode,
      "protocol-version-mismatch",
    );
    await old.closed;
  } finally {
    await server.close();
  }
});

Deno.test("sv2 server: a message before SetupConnection closes the connection", async () => {
  const server = startServer();
  try {
    const client = await connect(server);
    client.send({
      type: "OpenStandardMiningChannel",
      requestId: 1,
      userIdentity: TEST_ADDRESS,
      nominalHashRate: 0,
      maxTarget: MAX_TARGET_LE,
    });
    await client.closed;
    assert.equal(client.received.length, 0);
  } finally {
    await server.close();
  }
});

Deno.test("sv2 server: a bad user is refused with unknown-user; a channel gets its job", async () => {
  const server = startServer();
  server.jobs.publish(makeJob({ seq: 5, prevhash: prevhashOf(1) }));
  try {
    const client = await connectAndSetup(server);
    client.send({
      type: "OpenStandardMiningChannel",
      requestId: 3,
      userIdentity: "not-an-address.rig",
      nominalHashRate: 0,
      maxTarget: MAX_TARGET_LE,
    });
    assert.deepEqual(await client.next(), {
      type: "OpenMiningChannel.Error",
      requestId: 3,
      errorCode: "unknown-user",
    });

    const ch = await openChannel(client);
    // The whole extranonce: the 4 allocated bytes, then the job's 4 extranonce2 bytes as zeros.
    assert.equal(bytesToHex(ch.prefix), "0a00000100000000");
    // The merkle root is the spec's: sha256d(coinbase_tx_prefix ‖ extranonce_prefix ‖
    // coinbase_tx_suffix) folded with the job's branch (05-Mining-Protocol.md, NewExtendedMiningJob).
    const job5 = server.jobs.get("5")!;
    const script = (resolveRegtestPayout(TEST_ADDRESS) as Payout).script;
    const parts = job5.coinbaseFor(script);
    let root = sha256d(concat(parts.coinb1, ch.prefix, parts.coinb2));
    for (const step of job5.merkleBranch) root = sha256d(concat(root, step));
    assert.deepEqual(ch.job.merkleRoot, root);
    assert.equal(ch.job.jobId, 5);
    assert.equal(ch.job.minNtime, null, "the first job is a future job");
    assert.equal(ch.prevHash.jobId, 5);
    assert.deepEqual(ch.prevHash.prevHash, prevhashOf(1));
    assert.equal(ch.prevHash.nbits, 0x1d00ffff);
    assert.equal(ch.prevHash.minNtime, 1_750_000_000);
    assert.equal(ch.job.version, 0x20000000);

    // A second channel on the same connection gets its own prefix, so its own merkle root.
    const ch2 = await openChannel(client, TEST_ADDRESS + ".rig2");
    assert.notEqual(ch2.channelId, ch.channelId);
    assert.equal(bytesToHex(ch2.prefix), "0a00000200000000");
    assert.notDeepEqual(ch2.job.merkleRoot, ch.job.merkleRoot);

    // A job on the same tip is sent active; a new tip is a future job and then SetNewPrevHash.
    server.jobs.publish(makeJob({ seq: 6, prevhash: prevhashOf(1), clean: false }));
    const same = await client.waitFor("NewMiningJob");
    assert.equal(same.jobId, 6);
    assert.equal(same.minNtime, 1_750_000_000);
    await client.waitFor("NewMiningJob"); // the second channel's
    server.jobs.publish(makeJob({ seq: 7, prevhash: prevhashOf(2) }));
    const future = await client.next();
    assert.equal(future.type === "NewMiningJob" && future.minNtime, null);
    const prev = await client.next();
    assert.equal(prev.type === "SetNewPrevHash" && prev.jobId, 7);
    client.close();
  } finally {
    await server.close();
  }
  assert.deepEqual(
    server.released.map(bytesToHex).sort(),
    ["0a000001", "0a000002"],
    "both channels' bytes were given back",
  );
});

Deno.test("sv2 server: shares: accepted, duplicate, stale, unknown job and channel, low difficulty", async () => {
  const server = startServer();
  server.jobs.publish(makeJob({ seq: 1, prevhash: prevhashOf(1) }));
  try {
    const client = await connectAndSetup(server);
    const ch = await openChannel(client);
    const { nonce } = grind(ch.job, ch.prevHash, ch.prevHash.minNtime, (h) => h <= ch.target);
    submit(client, ch, 1, nonce);
    assert.deepEqual(await client.next(), {
      type: "SubmitShares.Success",
      channelId: ch.channelId,
      lastSequenceNumber: 1,
      newSubmitsAcceptedCount: 1,
      newSharesSum: 0n,
    });
    submit(client, ch, 2, nonce);
    assert.deepEqual(await client.next(), {
      type: "SubmitShares.Error",
      channelId: ch.channelId,
      sequenceNumber: 2,
      errorCode: "duplicate-share",
    });
    submit(client, ch, 3, nonce, 999);
    assert.equal((await client.waitFor("SubmitShares.Error")).errorCode, "invalid-job-id");
    client.send({
      type: "SubmitSharesStandard",
      channelId: 77,
      sequenceNumber: 4,
      jobId: ch.job.jobId,
      nonce,
      ntime: ch.prevHash.minNtime,
      version: ch.job.version,
    });
    assert.equal((await client.waitFor("SubmitShares.Error")).errorCode, "invalid-channel-id");
    client.send({
      type: "SubmitSharesStandard",
      channelId: ch.channelId,
      sequenceNumber: 5,
      jobId: ch.job.jobId,
      nonce: nonce + 1,
      ntime: ch.prevHash.minNtime,
      version: ch.job.version | 0x1, // bit 0 is outside the rollable mask
    });
    assert.equal(
      (await client.waitFor("SubmitShares.Error")).errorCode,
      "invalid-non-rollable-version-bit",
    );

    // A new tip: a share on the old job is stale.
    server.jobs.publish(makeJob({ seq: 2, prevhash: prevhashOf(2) }));
    await client.waitFor("SetNewPrevHash");
    const old = grind(ch.job, ch.prevHash, ch.prevHash.minNtime, (h) => h <= ch.target, nonce + 1);
    submit(client, ch, 6, old.nonce);
    const stale = await client.waitFor("SubmitShares.Error");
    assert.equal(stale.sequenceNumber, 6);
    assert.equal(stale.errorCode, "stale-share");

    // A channel whose max_target is lower: its target is that, and a hash above it is too low.
    const maxTarget = 1n << 250n;
    const hard = await openChannel(client, TEST_ADDRESS + ".hard", toLE(maxTarget));
    assert.equal(hard.target, maxTarget);
    const low = grind(hard.job, hard.prevHash, hard.prevHash.minNtime, (h) => h > maxTarget);
    submit(client, hard, 1, low.nonce);
    const tooLow = await client.waitFor("SubmitShares.Error");
    assert.equal(tooLow.channelId, hard.channelId);
    assert.equal(tooLow.errorCode, "difficulty-too-low");
    assert.equal(server.sink.candidates.length, 0);
    client.close();
  } finally {
    await server.close();
  }
});

function toLE(value: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((value >> BigInt(8 * i)) & 0xffn);
  return out;
}

Deno.test("sv2 server: a share meeting the network target reaches the block sink", async () => {
  const server = startServer();
  const networkTarget = 1n << 254n;
  server.jobs.publish(makeJob({ seq: 9, prevhash: prevhashOf(4), networkTarget }));
  try {
    const client = await connectAndSetup(server);
    const ch = await openChannel(client, TEST_ADDRESS + ".finder");
    const ntime = ch.prevHash.minNtime + 3;
    const rolled = { ...ch.job, version: (ch.job.version | 0x2000) >>> 0 };
    const found = grind(rolled, ch.prevHash, ntime, (h) => h <= networkTarget);
    client.send({
      type: "SubmitSharesStandard",
      channelId: ch.channelId,
      sequenceNumber: 42,
      jobId: ch.job.jobId,
      nonce: found.nonce,
      ntime,
      version: rolled.version, // a rolled bit inside the mask
    });
    const answer = await client.next();
    assert.equal(answer.type, "SubmitShares.Success");
    assert.equal(server.sink.candidates.length, 1);
    const block = server.sink.candidates[0];
    assert.equal(block.worker, TEST_ADDRESS + ".finder");
    assert.equal(block.job.seq, 9);
    assert.equal(block.share.nonce, found.nonce);
    assert.equal(block.share.ntime, ntime);
    assert.equal(block.share.version, rolled.version);
    assert.deepEqual(block.share.extranonce1, ch.prefix.subarray(0, 4));
    assert.deepEqual(block.share.extranonce2, new Uint8Array(4));
    assert.ok(block.verdict.meetsNetworkTarget);
    // The pool hashed the same header the miner built from NewMiningJob + SetNewPrevHash.
    assert.deepEqual(block.verdict.hash, sha256d(header(rolled, ch.prevHash, ntime, found.nonce)));
    client.close();
  } finally {
    await server.close();
  }
});

Deno.test("sv2 server: a frame with a bad MAC closes that connection, another keeps working", async () => {
  const server = startServer();
  server.jobs.publish(makeJob({ seq: 1, prevhash: prevhashOf(1) }));
  try {
    const bad = await connectAndSetup(server);
    const good = await connectAndSetup(server);
    const sealed = bad.seal({
      type: "OpenStandardMiningChannel",
      requestId: 1,
      userIdentity: TEST_ADDRESS,
      nominalHashRate: 0,
      maxTarget: MAX_TARGET_LE,
    });
    sealed[sealed.length - 1] ^= 0x01; // the payload's MAC
    bad.sendRaw(sealed);
    await bad.closed;
    assert.equal(bad.received.length, 1, "only SetupConnection.Success came");

    const ch = await openChannel(good);
    const { nonce } = grind(ch.job, ch.prevHash, ch.prevHash.minNtime, (h) => h <= ch.target);
    submit(good, ch, 1, nonce);
    assert.equal((await good.next()).type, "SubmitShares.Success");
    good.close();
  } finally {
    await server.close();
  }
});

Deno.test("sv2 server: a frame over the limit closes the connection", async () => {
  const server = startServer({ maxFrameBytes: 64 });
  try {
    const client = await connect(server);
    client.send(setupConnection({ vendor: "x".repeat(100) }));
    await client.closed;
    assert.equal(client.received.length, 0);
  } finally {
    await server.close();
  }
});

Deno.test("sv2 server: a handshake that never sends act 1 is closed at the deadline", async () => {
  const server = startServer({ handshakeTimeoutMs: 150 });
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    const started = Date.now();
    const got = await conn.read(new Uint8Array(16));
    const waited = Date.now() - started;
    assert.equal(got, null, "the server closed without a byte");
    assert.ok(waited >= 100 && waited < 3000, `closed after ${waited} ms`);
    conn.close();
    assert.equal(server.connections[0].closeReason, "handshake timeout");
  } finally {
    await server.close();
  }
});

Deno.test("sv2 server: a connection that never sends SetupConnection is closed at the deadline", async () => {
  const server = startServer({ handshakeTimeoutMs: 200 });
  try {
    const client = await connect(server);
    await client.closed;
    assert.equal(client.received.length, 0);
    assert.equal(server.connections[0].closeReason, "handshake timeout");
    // Once set up, the deadline is gone.
    const set = await connectAndSetup(server);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(set.isClosed, false);
    set.close();
  } finally {
    await server.close();
  }
});

Deno.test("sv2 server: feature flags it cannot serve are refused, a second SetupConnection closes", async () => {
  const server = startServer();
  try {
    const custom = await connect(server);
    custom.send(setupConnection({ flags: 0b110 })); // work selection + version rolling
    assert.deepEqual(await custom.next(), {
      type: "SetupConnection.Error",
      flags: 0b010,
      errorCode: "unsupported-feature-flags",
    });
    await custom.closed;

    const twice = await connectAndSetup(server);
    twice.send(setupConnection());
    await twice.closed;
    assert.equal(twice.received.length, 1);
  } finally {
    await server.close();
  }
});

Deno.test("sv2 server: unknown message types are ignored, the connection keeps working", async () => {
  const server = startServer();
  server.jobs.publish(makeJob({ seq: 1, prevhash: prevhashOf(1) }));
  try {
    const client = await connectAndSetup(server);
    // Message type 0x7f of the core protocols and type 0x01 of extension 0x4242: 3 payload bytes.
    client.sendRaw(client.sealFrame(new Uint8Array([0x00, 0x00, 0x7f, 3, 0, 0, 1, 2, 3])));
    client.sendRaw(client.sealFrame(new Uint8Array([0x42, 0x42, 0x01, 3, 0, 0, 1, 2, 3])));
    const ch = await openChannel(client);
    assert.equal(ch.job.jobId, 1);
    client.close();
  } finally {
    await server.close();
  }
});

Deno.test("sv2 server: no job while the pool is not ready; the next job is sent", async () => {
  const server = startServer();
  server.jobs.ready = false;
  server.jobs.publish(makeJob({ seq: 1, prevhash: prevhashOf(1) }));
  try {
    const client = await connectAndSetup(server);
    client.send({
      type: "OpenStandardMiningChannel",
      requestId: 1,
      userIdentity: TEST_ADDRESS,
      nominalHashRate: 0,
      maxTarget: MAX_TARGET_LE,
    });
    const ok = await client.next();
    assert.equal(ok.type, "OpenStandardMiningChannel.Success");
    server.jobs.publish(makeJob({ seq: 2, prevhash: prevhashOf(1), clean: false }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(client.received.length, 2, "no job while not ready");
    server.jobs.ready = true;
    server.jobs.publish(makeJob({ seq: 3, prevhash: prevhashOf(1), clean: false }));
    const job = await client.next();
    assert.equal(job.type === "NewMiningJob" && job.jobId, 3);
    assert.equal(job.type === "NewMiningJob" && job.minNtime, null, "first job is a future job");
    assert.equal((await client.next()).type, "SetNewPrevHash");
    client.close();
  } finally {
    await server.close();
  }
});

Deno.test("sv2 server: nominal hash rate sets the target; channel limit; closed channel", async () => {
  const server = startServer({ startDifficulty: 1, maxChannels: 2, shareIntervalSeconds: 10 });
  server.jobs.publish(makeJob({ seq: 1, prevhash: prevhashOf(1) }));
  try {
    const client = await connectAndSetup(server);
    client.send({
      type: "OpenStandardMiningChannel",
      requestId: 1,
      userIdentity: TEST_ADDRESS + ".big",
      nominalHashRate: 2 ** 32 * 100, // difficulty 1000 at one share per 10 s
      maxTarget: MAX_TARGET_LE,
    });
    const big = await client.waitFor("OpenStandardMiningChannel.Success");
    assert.equal(hashToBigInt(big.target), difficultyToTarget(1000));
    client.send({
      type: "OpenStandardMiningChannel",
      requestId: 2,
      userIdentity: TEST_ADDRESS + ".small",
      nominalHashRate: 1, // below the minimum: the start difficulty
      maxTarget: MAX_TARGET_LE,
    });
    const small = await client.waitFor("OpenStandardMiningChannel.Success");
    assert.equal(hashToBigInt(small.target), difficultyToTarget(1));
    client.send({
      type: "OpenStandardMiningChannel",
      requestId: 3,
      userIdentity: TEST_ADDRESS + ".third",
      nominalHashRate: 0,
      maxTarget: MAX_TARGET_LE,
    });
    assert.equal((await client.waitFor("OpenMiningChannel.Error")).errorCode, "too-many-channels");

    client.send({ type: "CloseChannel", channelId: big.channelId, reasonCode: "bye" });
    client.send({
      type: "SubmitSharesStandard",
      channelId: big.channelId,
      sequenceNumber: 1,
      jobId: 1,
      nonce: 0,
      ntime: 1_750_000_000,
      version: 0x20000000,
    });
    assert.equal((await client.waitFor("SubmitShares.Error")).errorCode, "invalid-channel-id");
    client.send({
      type: "UpdateChannel",
      channelId: 99,
      nominalHashRate: 1,
      maximumTarget: MAX_TARGET_LE,
    });
    assert.equal((await client.waitFor("UpdateChannel.Error")).errorCode, "invalid-channel-id");
    assert.deepEqual(server.released.map(bytesToHex), [
      bytesToHex(big.extranoncePrefix.subarray(0, 4)),
    ]);
    client.close();
  } finally {
    await server.close();
  }
});

Deno.test("sv2 server: a block the node rejects is still submitted and answered invalid-share", async () => {
  const server = startServer();
  server.sink.rejectWith = "bad-txns";
  const networkTarget = 1n << 254n;
  server.jobs.publish(makeJob({ seq: 3, prevhash: prevhashOf(5), networkTarget }));
  try {
    const client = await connectAndSetup(server);
    const ch = await openChannel(client);
    const found = grind(ch.job, ch.prevHash, ch.prevHash.minNtime, (h) => h <= networkTarget);
    submit(client, ch, 1, found.nonce);
    const answer = await client.waitFor("SubmitShares.Error");
    assert.equal(answer.errorCode, "invalid-share");
    assert.equal(server.sink.candidates.length, 1);
    client.close();
  } finally {
    await server.close();
  }
});

/** A checker that holds its verdicts until `release()` (the hash itself is the real one). */
class HeldChecker implements ShareChecker {
  readonly #inner = new InlineShareChecker();
  readonly #held: (() => void)[] = [];
  #hold = true;
  /** Shares handed to the checker. */
  calls = 0;

  check(job: Job, coinbase: CoinbaseParts, share: ShareInput): Promise<ShareVerdict> {
    this.calls++;
    const verdict = this.#inner.check(job, coinbase, share);
    if (!this.#hold) return verdict;
    return new Promise((resolve) => this.#held.push(() => resolve(verdict)));
  }

  release(): void {
    this.#hold = false;
    for (const h of this.#held.splice(0)) h();
  }
}

Deno.test("sv2 server: over its shares-in-flight limit a connection stops reading, then answers all", async () => {
  const checker = new HeldChecker();
  const gate = new ShareGate({ maxInFlightPerConnection: 2 });
  const server = startServer({ checker, shares: gate.connection() });
  server.jobs.publish(makeJob({ seq: 1, prevhash: prevhashOf(1) }));
  try {
    const client = await connectAndSetup(server);
    const ch = await openChannel(client);
    const nonces: number[] = [];
    for (let i = 0; i < 6; i++) {
      const start = nonces.length === 0 ? 0 : nonces[nonces.length - 1] + 1;
      nonces.push(
        grind(ch.job, ch.prevHash, ch.prevHash.minNtime, (h) => h <= ch.target, start)
          .nonce,
      );
    }
    nonces.forEach((nonce, i) => submit(client, ch, i + 1, nonce));
    await waitUntil(() => checker.calls === 2, "two shares at the checker", 3000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(checker.calls, 2, "reading paused at the limit");
    checker.release();
    const answers: number[] = [];
    for (let i = 0; i < 6; i++) {
      const answer = await client.waitFor("SubmitShares.Success");
      answers.push(answer.lastSequenceNumber);
    }
    assert.deepEqual(answers, [1, 2, 3, 4, 5, 6]);
    assert.equal(checker.calls, 6);
    client.close();
  } finally {
    await server.close();
  }
});

Deno.test("sv2 server: a share with ntime outside the job's window is invalid-share", async () => {
  const server = startServer();
  server.jobs.publish(makeJob({ seq: 1, prevhash: prevhashOf(1) }));
  try {
    const client = await connectAndSetup(server);
    const ch = await openChannel(client);
    const ntime = ch.prevHash.minNtime - 601; // before the template's mintime (curtime - 600)
    const { nonce } = grind(ch.job, ch.prevHash, ntime, (h) => h <= ch.target);
    client.send({
      type: "SubmitSharesStandard",
      channelId: ch.channelId,
      sequenceNumber: 1,
      jobId: ch.job.jobId,
      nonce,
      ntime,
      version: ch.job.version,
    });
    assert.equal((await client.waitFor("SubmitShares.Error")).errorCode, "invalid-share");
    client.close();
  } finally {
    await server.close();
  }
});

Deno.test("sv2 server: it presents the certificate from its options; a wrong authority refuses it", async () => {
  const server = startServer();
  try {
    const client = await connect(server);
    client.close();
    const other = schnorr.getPublicKey(schnorr.utils.randomSecretKey());
    await assert.rejects(
      Sv2Client.connect({ port: server.port, authorityPublicKey: other }),
      (e: unknown) => e instanceof Sv2CertificateError && e.reason === "bad-signature",
    );
  } finally {
    await server.close();
  }
});
