/**
 * The Common (sv2-spec 03-Protocol-Overview.md §3.6) and Mining (05-Mining-Protocol.md §5.3)
 * messages: one typed union {@linkcode Sv2Message} discriminated by `type` (the spec's name), the
 * message type numbers and channel_msg bits of 08-Message-Types.md, frame encode and decode, the
 * SetupConnection flags and the error-code strings the spec and the reference implementation name.
 *
 * Field names are the spec's in camelCase. U256 fields are 32-byte `Uint8Array`s as sent (little-
 * endian), U64 fields are `bigint`, OPTION[U32] is `number | null`.
 *
 * @module
 */

import {
  decodeFrameHeader,
  SV2_FRAME_HEADER_SIZE,
  SV2_MAX_PAYLOAD,
  type Sv2FrameHeader,
  Sv2Reader,
  Sv2Writer,
} from "./codec.ts";
import { Sv2DecodeError, Sv2EncodeError, Sv2UnknownMessageError } from "./errors.ts";

/** SetupConnection.protocol values. */
export const Sv2Protocol = {
  /** The Mining Protocol. */
  Mining: 0,
  /** The Job Declaration Protocol. */
  JobDeclaration: 1,
  /** The Template Distribution Protocol. */
  TemplateDistribution: 2,
} as const;

/** Mining Protocol flags of SetupConnection.flags and SetupConnection.Error.flags (§5.3.1). */
export const SetupConnectionFlags = {
  /** The downstream requires standard jobs and cannot process extended jobs. */
  RequiresStandardJobs: 1 << 0,
  /** The downstream will send SetCustomMiningJob on this connection. */
  RequiresWorkSelection: 1 << 1,
  /** The downstream requires version rolling; jobs must allow it. */
  RequiresVersionRolling: 1 << 2,
} as const;

/** Mining Protocol flags of SetupConnection.Success.flags (§5.3.1). */
export const SetupConnectionSuccessFlags = {
  /** The upstream will not accept any change to the version field. */
  RequiresFixedVersion: 1 << 0,
  /** The upstream will not accept opening a standard channel. */
  RequiresExtendedChannels: 1 << 1,
} as const;

/**
 * SetupConnection.Error error codes (stratum common-messages/src/lib.rs; `protocol-version-mismatch`
 * from sv2-tp src/test/sv2_messages_tests.cpp). Implementations may send others (spec §3.5).
 */
export const SetupConnectionErrorCode = {
  /** The server does not support some of the requested flags (they are in `flags`). */
  UnsupportedFeatureFlags: "unsupported-feature-flags",
  /** The server does not speak the requested subprotocol. */
  UnsupportedProtocol: "unsupported-protocol",
  /** No version in min_version..max_version is supported. */
  ProtocolVersionMismatch: "protocol-version-mismatch",
} as const;

/** OpenMiningChannel.Error error codes (stratum subprotocols/mining/src/lib.rs). */
export const OpenMiningChannelErrorCode = {
  /** The user identity was refused. */
  UnknownUser: "unknown-user",
  /** The user identity is malformed. */
  InvalidUserIdentity: "invalid-user-identity",
  /** The requested max_target cannot be served. */
  MaxTargetOutOfRange: "max-target-out-of-range",
  /** The nominal hash rate is not acceptable (negative, NaN…). */
  InvalidNominalHashrate: "invalid-nominal-hashrate",
  /** min_extranonce_size is larger than the server can give. */
  MinExtranonceSizeTooLarge: "min-extranonce-size-too-large",
  /** min_extranonce_size is not supported. */
  UnsupportedMinExtranonceSize: "unsupported-min-extranonce-size",
  /** Standard channels cannot be used on a work-selection connection. */
  StandardChannelsNotSupportedForCustomWork: "standard-channels-not-supported-for-custom-work",
  /** Extended channels cannot be used when the client requires standard jobs. */
  ExtendedChannelsNotSupportedForStandardJobs: "extended-channels-not-supported-for-standard-jobs",
} as const;

/** UpdateChannel.Error error codes (stratum subprotocols/mining/src/lib.rs). */
export const UpdateChannelErrorCode = {
  /** The nominal hash rate is not acceptable. */
  InvalidNominalHashrate: "invalid-nominal-hashrate",
  /** No such channel on this connection. */
  InvalidChannelId: "invalid-channel-id",
} as const;

/** SubmitShares.Error error codes (stratum subprotocols/mining/src/lib.rs). */
export const SubmitSharesErrorCode = {
  /** No such channel on this connection. */
  InvalidChannelId: "invalid-channel-id",
  /** The share does not hash to a valid header. */
  InvalidShare: "invalid-share",
  /** The share is for a job of a previous block. */
  StaleShare: "stale-share",
  /** No such job on this channel. */
  InvalidJobId: "invalid-job-id",
  /** The share's hash is above the channel's target. */
  DifficultyTooLow: "difficulty-too-low",
  /** The same share was already submitted. */
  DuplicateShare: "duplicate-share",
  /** The extranonce does not have the channel's negotiated size. */
  BadExtranonceSize: "bad-extranonce-size",
  /** The version was rolled on a job that does not allow it. */
  VersionRollingNotAllowed: "version-rolling-not-allowed",
  /** Bits outside the rollable mask of the version were changed. */
  InvalidNonRollableVersionBit: "invalid-non-rollable-version-bit",
} as const;

/** SetCustomMiningJob.Error error codes (stratum subprotocols/mining/src/lib.rs). */
export const SetCustomMiningJobErrorCode = {
  /** The server does not accept custom jobs. */
  JdNotSupported: "jd-not-supported",
  /** No such channel on this connection. */
  InvalidChannelId: "invalid-channel-id",
  /** The mining job token is unknown. */
  InvalidMiningJobToken: "invalid-mining-job-token",
  /** The declared job is not validated yet. */
  JobNotYetValidated: "job-not-yet-validated",
  /** The job builds on a tip that is no longer current. */
  StaleChainTip: "stale-chain-tip",
  /** min_ntime is not acceptable. */
  InvalidMinNtime: "invalid-min-ntime",
  /** nbits does not match the network. */
  InvalidNbits: "invalid-nbits",
  /** The version is not acceptable. */
  InvalidVersion: "invalid-version",
  /** The coinbase transaction is not acceptable. */
  InvalidCoinbaseTx: "invalid-coinbase-tx",
  /** The merkle path does not match the declared job. */
  InvalidMerklePath: "invalid-merkle-path",
} as const;

// ---------------------------------------------------------------------------------------------
// The messages

/** SetupConnection (0x00, client → server): the first message on a connection. */
export interface SetupConnection {
  /** Discriminant. */
  type: "SetupConnection";
  /** 0 Mining, 1 Job Declaration, 2 Template Distribution ({@linkcode Sv2Protocol}). */
  protocol: number;
  /** Lowest protocol version the client supports (2). */
  minVersion: number;
  /** Highest protocol version the client supports (2). */
  maxVersion: number;
  /** Optional features the client supports ({@linkcode SetupConnectionFlags}). */
  flags: number;
  /** Host name or IP address the client connected to. */
  endpointHost: string;
  /** Port the client connected to. */
  endpointPort: number;
  /** Manufacturer or developer and firmware version, e.g. "Bitmain". */
  vendor: string;
  /** Hardware description, e.g. "S9i 13.5". */
  hardwareVersion: string;
  /** Firmware description. */
  firmware: string;
  /** Vendor-defined device identifier (may be empty). */
  deviceId: string;
}

/** SetupConnection.Success (0x01, server → client). */
export interface SetupConnectionSuccess {
  /** Discriminant. */
  type: "SetupConnection.Success";
  /** The version used for the rest of the connection. */
  usedVersion: number;
  /** Optional features the server supports ({@linkcode SetupConnectionSuccessFlags}). */
  flags: number;
}

/** SetupConnection.Error (0x02, server → client), sent before closing the connection. */
export interface SetupConnectionError {
  /** Discriminant. */
  type: "SetupConnection.Error";
  /** The flags that caused the error (0 for other reasons). */
  flags: number;
  /** Error code ({@linkcode SetupConnectionErrorCode}). */
  errorCode: string;
}

/** ChannelEndpointChanged (0x03, server → client, channel message). */
export interface ChannelEndpointChanged {
  /** Discriminant. */
  type: "ChannelEndpointChanged";
  /** The channel whose endpoint changed. */
  channelId: number;
}

/** Reconnect (0x04, server → client): redirect to another host of the same pool. */
export interface Reconnect {
  /** Discriminant. */
  type: "Reconnect";
  /** New host; empty means the present host. */
  newHost: string;
  /** New port; 0 means the present port. */
  newPort: number;
}

/** OpenStandardMiningChannel (0x10, client → server). */
export interface OpenStandardMiningChannel {
  /** Discriminant. */
  type: "OpenStandardMiningChannel";
  /** Client-chosen id echoed in the response. */
  requestId: number;
  /** Who is mining, e.g. "address.worker". */
  userIdentity: string;
  /** Expected hash rate in h/s (F32). */
  nominalHashRate: number;
  /** Largest target the device accepts (U256, little-endian). */
  maxTarget: Uint8Array;
}

/** OpenStandardMiningChannel.Success (0x11, server → client). */
export interface OpenStandardMiningChannelSuccess {
  /** Discriminant. */
  type: "OpenStandardMiningChannel.Success";
  /** The request's id. */
  requestId: number;
  /** The new channel's id. */
  channelId: number;
  /** Initial target (U256, little-endian). */
  target: Uint8Array;
  /** Implicit first part of the extranonce (at most 32 bytes). */
  extranoncePrefix: Uint8Array;
  /** The group channel the new channel belongs to. */
  groupChannelId: number;
}

/** OpenMiningChannel.Error (0x12, server → client): the answer to either open request. */
export interface OpenMiningChannelError {
  /** Discriminant. */
  type: "OpenMiningChannel.Error";
  /** The request's id. */
  requestId: number;
  /** Error code ({@linkcode OpenMiningChannelErrorCode}). */
  errorCode: string;
}

/** OpenExtendedMiningChannel (0x13, client → server). */
export interface OpenExtendedMiningChannel {
  /** Discriminant. */
  type: "OpenExtendedMiningChannel";
  /** Client-chosen id echoed in the response. */
  requestId: number;
  /** Who is mining. */
  userIdentity: string;
  /** Expected hash rate in h/s (F32). */
  nominalHashRate: number;
  /** Largest target the device accepts (U256, little-endian). */
  maxTarget: Uint8Array;
  /** Smallest extranonce the client needs, in bytes. */
  minExtranonceSize: number;
}

/** OpenExtendedMiningChannel.Success (0x14, server → client). */
export interface OpenExtendedMiningChannelSuccess {
  /** Discriminant. */
  type: "OpenExtendedMiningChannel.Success";
  /** The request's id. */
  requestId: number;
  /** The new channel's id. */
  channelId: number;
  /** Initial target (U256, little-endian). */
  target: Uint8Array;
  /** Extranonce size the client rolls, in bytes. */
  extranonceSize: number;
  /** Implicit first part of the extranonce (at most 32 bytes). */
  extranoncePrefix: Uint8Array;
  /** The group channel the new channel belongs to. */
  groupChannelId: number;
}

/** NewMiningJob (0x15, server → client, channel message): a job for a standard channel. */
export interface NewMiningJob {
  /** Discriminant. */
  type: "NewMiningJob";
  /** The standard channel. */
  channelId: number;
  /** The job's id. */
  jobId: number;
  /** Smallest nTime, or `null` for a future job (activated by SetNewPrevHash). */
  minNtime: number | null;
  /** Block version. */
  version: number;
  /** Merkle root of the block header (U256 as in the header). */
  merkleRoot: Uint8Array;
}

/** UpdateChannel (0x16, client → server, channel message). */
export interface UpdateChannel {
  /** Discriminant. */
  type: "UpdateChannel";
  /** The channel. */
  channelId: number;
  /** Expected hash rate in h/s (F32). */
  nominalHashRate: number;
  /** Largest target the device accepts (U256, little-endian). */
  maximumTarget: Uint8Array;
}

/** UpdateChannel.Error (0x17, server → client, channel message). */
export interface UpdateChannelError {
  /** Discriminant. */
  type: "UpdateChannel.Error";
  /** The channel. */
  channelId: number;
  /** Error code ({@linkcode UpdateChannelErrorCode}). */
  errorCode: string;
}

/** CloseChannel (0x18, either direction, channel message). */
export interface CloseChannel {
  /** Discriminant. */
  type: "CloseChannel";
  /** The channel (a group channel closes all its members). */
  channelId: number;
  /** Why the channel is closed. */
  reasonCode: string;
}

/** SetExtranoncePrefix (0x19, server → client, channel message). */
export interface SetExtranoncePrefix {
  /** Discriminant. */
  type: "SetExtranoncePrefix";
  /** The standard or extended channel. */
  channelId: number;
  /** New implicit first part of the extranonce (at most 32 bytes). */
  extranoncePrefix: Uint8Array;
}

/** SubmitSharesStandard (0x1a, client → server, channel message). */
export interface SubmitSharesStandard {
  /** Discriminant. */
  type: "SubmitSharesStandard";
  /** The channel. */
  channelId: number;
  /** The submit's sequence number within the channel. */
  sequenceNumber: number;
  /** The job's id. */
  jobId: number;
  /** Header nonce. */
  nonce: number;
  /** Header nTime. */
  ntime: number;
  /** Full header nVersion. */
  version: number;
}

/** SubmitSharesExtended (0x1b, client → server, channel message). */
export interface SubmitSharesExtended {
  /** Discriminant. */
  type: "SubmitSharesExtended";
  /** The channel. */
  channelId: number;
  /** The submit's sequence number within the channel. */
  sequenceNumber: number;
  /** The job's id. */
  jobId: number;
  /** Header nonce. */
  nonce: number;
  /** Header nTime. */
  ntime: number;
  /** Full header nVersion. */
  version: number;
  /** The client's extranonce part (at most 32 bytes). */
  extranonce: Uint8Array;
}

/** SubmitShares.Success (0x1c, server → client, channel message): acknowledges a batch. */
export interface SubmitSharesSuccess {
  /** Discriminant. */
  type: "SubmitShares.Success";
  /** The channel. */
  channelId: number;
  /** Most recent sequence number with a correct result. */
  lastSequenceNumber: number;
  /** Submits accepted in this batch. */
  newSubmitsAcceptedCount: number;
  /** Sum of the accepted shares' difficulty in this batch (U64). */
  newSharesSum: bigint;
}

/** SubmitShares.Error (0x1d, server → client, channel message): one rejected submit. */
export interface SubmitSharesError {
  /** Discriminant. */
  type: "SubmitShares.Error";
  /** The channel. */
  channelId: number;
  /** The rejected submit's sequence number. */
  sequenceNumber: number;
  /** Error code ({@linkcode SubmitSharesErrorCode}). */
  errorCode: string;
}

/** NewExtendedMiningJob (0x1f, server → client, channel message). */
export interface NewExtendedMiningJob {
  /** Discriminant. */
  type: "NewExtendedMiningJob";
  /** The extended or group channel. */
  channelId: number;
  /** The job's id. */
  jobId: number;
  /** Smallest nTime, or `null` for a future job. */
  minNtime: number | null;
  /** Block version. */
  version: number;
  /** Whether the general-purpose version bits may be rolled. */
  versionRollingAllowed: boolean;
  /** Merkle branch, deepest first (at most 255 hashes of 32 bytes). */
  merklePath: readonly Uint8Array[];
  /** Coinbase transaction before the extranonce (BIP141 fields stripped). */
  coinbaseTxPrefix: Uint8Array;
  /** Coinbase transaction after the extranonce. */
  coinbaseTxSuffix: Uint8Array;
}

/** SetNewPrevHash (0x20, server → client, channel message). */
export interface SetNewPrevHash {
  /** Discriminant. */
  type: "SetNewPrevHash";
  /** The channel or group channel. */
  channelId: number;
  /** The job to mine with this previous hash. */
  jobId: number;
  /** Previous block hash as in the header (U256). */
  prevHash: Uint8Array;
  /** Smallest nTime. */
  minNtime: number;
  /** Header nBits. */
  nbits: number;
}

/** SetTarget (0x21, server → client, channel message). */
export interface SetTarget {
  /** Discriminant. */
  type: "SetTarget";
  /** The channel or group channel. */
  channelId: number;
  /** Largest hash accepted as a share (U256, little-endian). */
  maximumTarget: Uint8Array;
}

/** SetCustomMiningJob (0x22, client → server, channel message). */
export interface SetCustomMiningJob {
  /** Discriminant. */
  type: "SetCustomMiningJob";
  /** The extended channel. */
  channelId: number;
  /** Client-chosen id echoed in the response. */
  requestId: number;
  /** Token from the job declarator (at most 255 bytes). */
  miningJobToken: Uint8Array;
  /** Block version. */
  version: number;
  /** Previous block hash (U256). */
  prevHash: Uint8Array;
  /** Smallest nTime. */
  minNtime: number;
  /** Header nBits. */
  nbits: number;
  /** Coinbase transaction nVersion. */
  coinbaseTxVersion: number;
  /** Start of the coinbase scriptSig (at most 255 bytes). */
  coinbasePrefix: Uint8Array;
  /** Coinbase input nSequence. */
  coinbaseTxInputNSequence: number;
  /** Coinbase outputs, serialized (at most 65535 bytes). */
  coinbaseTxOutputs: Uint8Array;
  /** Coinbase nLockTime. */
  coinbaseTxLocktime: number;
  /** Merkle branch, deepest first. */
  merklePath: readonly Uint8Array[];
}

/** SetCustomMiningJob.Success (0x23, server → client, channel message). */
export interface SetCustomMiningJobSuccess {
  /** Discriminant. */
  type: "SetCustomMiningJob.Success";
  /** The extended channel. */
  channelId: number;
  /** The request's id. */
  requestId: number;
  /** The job id the server assigned. */
  jobId: number;
}

/** SetCustomMiningJob.Error (0x24, server → client, channel message). */
export interface SetCustomMiningJobError {
  /** Discriminant. */
  type: "SetCustomMiningJob.Error";
  /** The extended channel. */
  channelId: number;
  /** The request's id. */
  requestId: number;
  /** Error code ({@linkcode SetCustomMiningJobErrorCode}). */
  errorCode: string;
}

/** SetGroupChannel (0x25, server → client). */
export interface SetGroupChannel {
  /** Discriminant. */
  type: "SetGroupChannel";
  /** The group channel. */
  groupChannelId: number;
  /** The channels in the group (at most 65535). */
  channelIds: readonly number[];
}

/** Every message this library encodes and decodes. */
export type Sv2Message =
  | SetupConnection
  | SetupConnectionSuccess
  | SetupConnectionError
  | ChannelEndpointChanged
  | Reconnect
  | OpenStandardMiningChannel
  | OpenStandardMiningChannelSuccess
  | OpenMiningChannelError
  | OpenExtendedMiningChannel
  | OpenExtendedMiningChannelSuccess
  | NewMiningJob
  | UpdateChannel
  | UpdateChannelError
  | CloseChannel
  | SetExtranoncePrefix
  | SubmitSharesStandard
  | SubmitSharesExtended
  | SubmitSharesSuccess
  | SubmitSharesError
  | NewExtendedMiningJob
  | SetNewPrevHash
  | SetTarget
  | SetCustomMiningJob
  | SetCustomMiningJobSuccess
  | SetCustomMiningJobError
  | SetGroupChannel;

/** A message's name, the `type` discriminant (the spec's name, e.g. "SubmitShares.Success"). */
export type Sv2MessageName = Sv2Message["type"];

// ---------------------------------------------------------------------------------------------
// The codec table

interface MessageCodec<M extends Sv2Message> {
  readonly msgType: number;
  readonly channelMsg: boolean;
  write(w: Sv2Writer, m: M): void;
  read(r: Sv2Reader): M;
}

type CodecTable = {
  readonly [K in Sv2MessageName]: MessageCodec<Extract<Sv2Message, { type: K }>>;
};

const readU256 = (r: Sv2Reader) => r.u256("merkle_path");
const writeU256 = (w: Sv2Writer, h: Uint8Array) => {
  w.u256(h);
};
const readU32 = (r: Sv2Reader) => r.u32("min_ntime");
const writeU32 = (w: Sv2Writer, n: number) => {
  w.u32(n);
};

const CODECS: CodecTable = {
  SetupConnection: {
    msgType: 0x00,
    channelMsg: false,
    write(w, m) {
      w.u8(m.protocol).u16(m.minVersion).u16(m.maxVersion).u32(m.flags).str0255(m.endpointHost)
        .u16(m.endpointPort).str0255(m.vendor).str0255(m.hardwareVersion).str0255(m.firmware)
        .str0255(m.deviceId);
    },
    read: (r) => ({
      type: "SetupConnection",
      protocol: r.u8("protocol"),
      minVersion: r.u16("min_version"),
      maxVersion: r.u16("max_version"),
      flags: r.u32("flags"),
      endpointHost: r.str0255("endpoint_host"),
      endpointPort: r.u16("endpoint_port"),
      vendor: r.str0255("vendor"),
      hardwareVersion: r.str0255("hardware_version"),
      firmware: r.str0255("firmware"),
      deviceId: r.str0255("device_id"),
    }),
  },
  "SetupConnection.Success": {
    msgType: 0x01,
    channelMsg: false,
    write(w, m) {
      w.u16(m.usedVersion).u32(m.flags);
    },
    read: (r) => ({
      type: "SetupConnection.Success",
      usedVersion: r.u16("used_version"),
      flags: r.u32("flags"),
    }),
  },
  "SetupConnection.Error": {
    msgType: 0x02,
    channelMsg: false,
    write(w, m) {
      w.u32(m.flags).str0255(m.errorCode);
    },
    read: (r) => ({
      type: "SetupConnection.Error",
      flags: r.u32("flags"),
      errorCode: r.str0255("error_code"),
    }),
  },
  ChannelEndpointChanged: {
    msgType: 0x03,
    channelMsg: true,
    write(w, m) {
      w.u32(m.channelId);
    },
    read: (r) => ({ type: "ChannelEndpointChanged", channelId: r.u32("channel_id") }),
  },
  Reconnect: {
    msgType: 0x04,
    channelMsg: false,
    write(w, m) {
      w.str0255(m.newHost).u16(m.newPort);
    },
    read: (r) => ({
      type: "Reconnect",
      newHost: r.str0255("new_host"),
      newPort: r.u16("new_port"),
    }),
  },
  OpenStandardMiningChannel: {
    msgType: 0x10,
    channelMsg: false,
    write(w, m) {
      w.u32(m.requestId).str0255(m.userIdentity).f32(m.nominalHashRate).u256(m.maxTarget);
    },
    read: (r) => ({
      type: "OpenStandardMiningChannel",
      requestId: r.u32("request_id"),
      userIdentity: r.str0255("user_identity"),
      nominalHashRate: r.f32("nominal_hash_rate"),
      maxTarget: r.u256("max_target"),
    }),
  },
  "OpenStandardMiningChannel.Success": {
    msgType: 0x11,
    channelMsg: false,
    write(w, m) {
      w.u32(m.requestId).u32(m.channelId).u256(m.target).b032(m.extranoncePrefix)
        .u32(m.groupChannelId);
    },
    read: (r) => ({
      type: "OpenStandardMiningChannel.Success",
      requestId: r.u32("request_id"),
      channelId: r.u32("channel_id"),
      target: r.u256("target"),
      extranoncePrefix: r.b032("extranonce_prefix"),
      groupChannelId: r.u32("group_channel_id"),
    }),
  },
  "OpenMiningChannel.Error": {
    msgType: 0x12,
    channelMsg: false,
    write(w, m) {
      w.u32(m.requestId).str0255(m.errorCode);
    },
    read: (r) => ({
      type: "OpenMiningChannel.Error",
      requestId: r.u32("request_id"),
      errorCode: r.str0255("error_code"),
    }),
  },
  OpenExtendedMiningChannel: {
    msgType: 0x13,
    channelMsg: false,
    write(w, m) {
      w.u32(m.requestId).str0255(m.userIdentity).f32(m.nominalHashRate).u256(m.maxTarget)
        .u16(m.minExtranonceSize);
    },
    read: (r) => ({
      type: "OpenExtendedMiningChannel",
      requestId: r.u32("request_id"),
      userIdentity: r.str0255("user_identity"),
      nominalHashRate: r.f32("nominal_hash_rate"),
      maxTarget: r.u256("max_target"),
      minExtranonceSize: r.u16("min_extranonce_size"),
    }),
  },
  "OpenExtendedMiningChannel.Success": {
    msgType: 0x14,
    channelMsg: false,
    write(w, m) {
      w.u32(m.requestId).u32(m.channelId).u256(m.target).u16(m.extranonceSize)
        .b032(m.extranoncePrefix).u32(m.groupChannelId);
    },
    read: (r) => ({
      type: "OpenExtendedMiningChannel.Success",
      requestId: r.u32("request_id"),
      channelId: r.u32("channel_id"),
      target: r.u256("target"),
      extranonceSize: r.u16("extranonce_size"),
      extranoncePrefix: r.b032("extranonce_prefix"),
      groupChannelId: r.u32("group_channel_id"),
    }),
  },
  NewMiningJob: {
    msgType: 0x15,
    channelMsg: true,
    write(w, m) {
      w.u32(m.channelId).u32(m.jobId).option(m.minNtime, writeU32).u32(m.version)
        .u256(m.merkleRoot);
    },
    read: (r) => ({
      type: "NewMiningJob",
      channelId: r.u32("channel_id"),
      jobId: r.u32("job_id"),
      minNtime: r.option(readU32, "min_ntime"),
      version: r.u32("version"),
      merkleRoot: r.u256("merkle_root"),
    }),
  },
  UpdateChannel: {
    msgType: 0x16,
    channelMsg: true,
    write(w, m) {
      w.u32(m.channelId).f32(m.nominalHashRate).u256(m.maximumTarget);
    },
    read: (r) => ({
      type: "UpdateChannel",
      channelId: r.u32("channel_id"),
      nominalHashRate: r.f32("nominal_hash_rate"),
      maximumTarget: r.u256("maximum_target"),
    }),
  },
  "UpdateChannel.Error": {
    msgType: 0x17,
    channelMsg: true,
    write(w, m) {
      w.u32(m.channelId).str0255(m.errorCode);
    },
    read: (r) => ({
      type: "UpdateChannel.Error",
      channelId: r.u32("channel_id"),
      errorCode: r.str0255("error_code"),
    }),
  },
  CloseChannel: {
    msgType: 0x18,
    channelMsg: true,
    write(w, m) {
      w.u32(m.channelId).str0255(m.reasonCode);
    },
    read: (r) => ({
      type: "CloseChannel",
      channelId: r.u32("channel_id"),
      reasonCode: r.str0255("reason_code"),
    }),
  },
  SetExtranoncePrefix: {
    msgType: 0x19,
    channelMsg: true,
    write(w, m) {
      w.u32(m.channelId).b032(m.extranoncePrefix);
    },
    read: (r) => ({
      type: "SetExtranoncePrefix",
      channelId: r.u32("channel_id"),
      extranoncePrefix: r.b032("extranonce_prefix"),
    }),
  },
  SubmitSharesStandard: {
    msgType: 0x1a,
    channelMsg: true,
    write(w, m) {
      w.u32(m.channelId).u32(m.sequenceNumber).u32(m.jobId).u32(m.nonce).u32(m.ntime)
        .u32(m.version);
    },
    read: (r) => ({
      type: "SubmitSharesStandard",
      channelId: r.u32("channel_id"),
      sequenceNumber: r.u32("sequence_number"),
      jobId: r.u32("job_id"),
      nonce: r.u32("nonce"),
      ntime: r.u32("ntime"),
      version: r.u32("version"),
    }),
  },
  SubmitSharesExtended: {
    msgType: 0x1b,
    channelMsg: true,
    write(w, m) {
      w.u32(m.channelId).u32(m.sequenceNumber).u32(m.jobId).u32(m.nonce).u32(m.ntime)
        .u32(m.version).b032(m.extranonce);
    },
    read: (r) => ({
      type: "SubmitSharesExtended",
      channelId: r.u32("channel_id"),
      sequenceNumber: r.u32("sequence_number"),
      jobId: r.u32("job_id"),
      nonce: r.u32("nonce"),
      ntime: r.u32("ntime"),
      version: r.u32("version"),
      extranonce: r.b032("extranonce"),
    }),
  },
  "SubmitShares.Success": {
    msgType: 0x1c,
    channelMsg: true,
    write(w, m) {
      w.u32(m.channelId).u32(m.lastSequenceNumber).u32(m.newSubmitsAcceptedCount)
        .u64(m.newSharesSum);
    },
    read: (r) => ({
      type: "SubmitShares.Success",
      channelId: r.u32("channel_id"),
      lastSequenceNumber: r.u32("last_sequence_number"),
      newSubmitsAcceptedCount: r.u32("new_submits_accepted_count"),
      newSharesSum: r.u64("new_shares_sum"),
    }),
  },
  "SubmitShares.Error": {
    msgType: 0x1d,
    channelMsg: true,
    write(w, m) {
      w.u32(m.channelId).u32(m.sequenceNumber).str0255(m.errorCode);
    },
    read: (r) => ({
      type: "SubmitShares.Error",
      channelId: r.u32("channel_id"),
      sequenceNumber: r.u32("sequence_number"),
      errorCode: r.str0255("error_code"),
    }),
  },
  NewExtendedMiningJob: {
    msgType: 0x1f,
    channelMsg: true,
    write(w, m) {
      w.u32(m.channelId).u32(m.jobId).option(m.minNtime, writeU32).u32(m.version)
        .bool(m.versionRollingAllowed).seq0255(m.merklePath, writeU256).b064k(m.coinbaseTxPrefix)
        .b064k(m.coinbaseTxSuffix);
    },
    read: (r) => ({
      type: "NewExtendedMiningJob",
      channelId: r.u32("channel_id"),
      jobId: r.u32("job_id"),
      minNtime: r.option(readU32, "min_ntime"),
      version: r.u32("version"),
      versionRollingAllowed: r.bool("version_rolling_allowed"),
      merklePath: r.seq0255(readU256, "merkle_path"),
      coinbaseTxPrefix: r.b064k("coinbase_tx_prefix"),
      coinbaseTxSuffix: r.b064k("coinbase_tx_suffix"),
    }),
  },
  SetNewPrevHash: {
    msgType: 0x20,
    channelMsg: true,
    write(w, m) {
      w.u32(m.channelId).u32(m.jobId).u256(m.prevHash).u32(m.minNtime).u32(m.nbits);
    },
    read: (r) => ({
      type: "SetNewPrevHash",
      channelId: r.u32("channel_id"),
      jobId: r.u32("job_id"),
      prevHash: r.u256("prev_hash"),
      minNtime: r.u32("min_ntime"),
      nbits: r.u32("nbits"),
    }),
  },
  SetTarget: {
    msgType: 0x21,
    channelMsg: true,
    write(w, m) {
      w.u32(m.channelId).u256(m.maximumTarget);
    },
    read: (r) => ({
      type: "SetTarget",
      channelId: r.u32("channel_id"),
      maximumTarget: r.u256("maximum_target"),
    }),
  },
  SetCustomMiningJob: {
    msgType: 0x22,
    channelMsg: true,
    write(w, m) {
      w.u32(m.channelId).u32(m.requestId).b0255(m.miningJobToken).u32(m.version).u256(m.prevHash)
        .u32(m.minNtime).u32(m.nbits).u32(m.coinbaseTxVersion).b0255(m.coinbasePrefix)
        .u32(m.coinbaseTxInputNSequence).b064k(m.coinbaseTxOutputs).u32(m.coinbaseTxLocktime)
        .seq0255(m.merklePath, writeU256);
    },
    read: (r) => ({
      type: "SetCustomMiningJob",
      channelId: r.u32("channel_id"),
      requestId: r.u32("request_id"),
      miningJobToken: r.b0255("mining_job_token"),
      version: r.u32("version"),
      prevHash: r.u256("prev_hash"),
      minNtime: r.u32("min_ntime"),
      nbits: r.u32("nbits"),
      coinbaseTxVersion: r.u32("coinbase_tx_version"),
      coinbasePrefix: r.b0255("coinbase_prefix"),
      coinbaseTxInputNSequence: r.u32("coinbase_tx_input_nSequence"),
      coinbaseTxOutputs: r.b064k("coinbase_tx_outputs"),
      coinbaseTxLocktime: r.u32("coinbase_tx_locktime"),
      merklePath: r.seq0255(readU256, "merkle_path"),
    }),
  },
  "SetCustomMiningJob.Success": {
    msgType: 0x23,
    channelMsg: true,
    write(w, m) {
      w.u32(m.channelId).u32(m.requestId).u32(m.jobId);
    },
    read: (r) => ({
      type: "SetCustomMiningJob.Success",
      channelId: r.u32("channel_id"),
      requestId: r.u32("request_id"),
      jobId: r.u32("job_id"),
    }),
  },
  "SetCustomMiningJob.Error": {
    msgType: 0x24,
    channelMsg: true,
    write(w, m) {
      w.u32(m.channelId).u32(m.requestId).str0255(m.errorCode);
    },
    read: (r) => ({
      type: "SetCustomMiningJob.Error",
      channelId: r.u32("channel_id"),
      requestId: r.u32("request_id"),
      errorCode: r.str0255("error_code"),
    }),
  },
  SetGroupChannel: {
    msgType: 0x25,
    channelMsg: false,
    write(w, m) {
      w.u32(m.groupChannelId).seq064k(m.channelIds, writeU32);
    },
    read: (r) => ({
      type: "SetGroupChannel",
      groupChannelId: r.u32("group_channel_id"),
      channelIds: r.seq064k((r) => r.u32("channel_ids"), "channel_ids"),
    }),
  },
};

/** Codecs of the core protocols (extension_type 0) by message type. */
const BY_MSG_TYPE: (MessageCodec<Sv2Message> | undefined)[] = new Array(256);
for (const codec of Object.values(CODECS) as MessageCodec<Sv2Message>[]) {
  BY_MSG_TYPE[codec.msgType] = codec;
}

/** The message type number of every message, by name (08-Message-Types.md). */
export const MESSAGE_TYPES: { readonly [K in Sv2MessageName]: number } = Object.freeze(
  Object.fromEntries(Object.entries(CODECS).map(([name, c]) => [name, c.msgType])) as {
    [K in Sv2MessageName]: number;
  },
);

/** Whether a message is sent with the channel_msg bit set (08-Message-Types.md). */
export function isChannelMessage(name: Sv2MessageName): boolean {
  const codec = CODECS[name];
  if (codec === undefined) throw new Sv2EncodeError(`unknown message ${JSON.stringify(name)}`);
  return codec.channelMsg;
}

/**
 * Appends one whole frame (header and payload) for `message` to `writer`. With one writer reused
 * per connection this allocates nothing once the buffer has grown. On an encode error nothing of
 * the message is left in the writer.
 */
export function writeMessage(writer: Sv2Writer, message: Sv2Message): void {
  const codec = CODECS[message?.type] as MessageCodec<Sv2Message> | undefined;
  if (codec === undefined) {
    throw new Sv2EncodeError(`unknown message type ${JSON.stringify(message?.type)}`);
  }
  const start = writer.length;
  try {
    writer.u16(codec.channelMsg ? 0x8000 : 0).u8(codec.msgType).u24(0);
    codec.write(writer, message);
    const payload = writer.length - start - SV2_FRAME_HEADER_SIZE;
    if (payload > SV2_MAX_PAYLOAD) {
      throw new Sv2EncodeError(
        `${message.type} payload of ${payload} bytes is over a frame's limit`,
      );
    }
    writer.patchU24(start + 3, payload);
  } catch (e) {
    writer.truncate(start);
    if (e instanceof Sv2EncodeError) throw e;
    throw new Sv2EncodeError(`${message.type}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * Encodes `message` as one plaintext frame: the 6-byte header and the payload.
 *
 * @example
 * ```ts
 * import { decodeMessage, encodeMessage } from "./messages.ts";
 * const frame = encodeMessage({ type: "SetupConnection.Success", usedVersion: 2, flags: 0 });
 * decodeMessage(frame).type; // "SetupConnection.Success"
 * ```
 */
export function encodeMessage(message: Sv2Message): Uint8Array {
  const writer = new Sv2Writer(64);
  writeMessage(writer, message);
  return writer.toBytes();
}

/**
 * Decodes a payload whose frame header was read already. Throws {@linkcode Sv2UnknownMessageError}
 * for an extension type other than 0 or an unknown message type, and {@linkcode Sv2DecodeError}
 * when the payload is short, over a field's bound, or has trailing bytes. The channel_msg bit is
 * ignored in the lookup, as the spec says.
 */
export function decodeMessagePayload(
  header: Sv2FrameHeader,
  payload: Uint8Array,
  start = 0,
  end = payload.length,
): Sv2Message {
  const codec = header.extensionType === 0 ? BY_MSG_TYPE[header.msgType] : undefined;
  if (codec === undefined) throw new Sv2UnknownMessageError(header.extensionType, header.msgType);
  if (end - start !== header.msgLength) {
    throw new Sv2DecodeError(
      `msg_length says ${header.msgLength} bytes, the payload has ${end - start}`,
    );
  }
  const reader = new Sv2Reader(payload, start, end);
  const message = codec.read(reader);
  reader.finish(message.type);
  return message;
}

/** Decodes one whole plaintext frame (header and exactly msg_length payload bytes). */
export function decodeMessage(frame: Uint8Array): Sv2Message {
  const header = decodeFrameHeader(frame);
  return decodeMessagePayload(header, frame, SV2_FRAME_HEADER_SIZE, frame.length);
}
