/**
 * Parameters of the Bitcoin networks the pool can mine on, as Bitcoin Core defines them.
 *
 * @module
 */

/** The networks denopool knows. */
export type NetworkName = "mainnet" | "testnet" | "testnet4" | "signet" | "regtest";

/** `getblockchaininfo.chain` values reported by Bitcoin Core. */
export type ChainName = "main" | "test" | "testnet4" | "signet" | "regtest";

/** Consensus and interface parameters of one network. */
export interface Network {
  /** denopool's name for the network (config value). */
  readonly name: NetworkName;
  /** What Bitcoin Core reports as `getblockchaininfo.chain`. */
  readonly chain: ChainName;
  /** Bitcoin Core's default JSON-RPC port. */
  readonly rpcPort: number;
  /** Base58check version byte of P2PKH addresses. */
  readonly p2pkhVersion: number;
  /** Base58check version byte of P2SH addresses. */
  readonly p2shVersion: number;
  /** Human-readable part of segwit (bech32/bech32m) addresses. */
  readonly bech32Hrp: string;
  /** Genesis block hash, RPC (reversed) hex. */
  readonly genesisHash: string;
  /** `rules` to send with `getblocktemplate`. */
  readonly gbtRules: readonly string[];
  /** Subdirectory of the Bitcoin Core data dir that holds `.cookie` ("" for mainnet). */
  readonly cookieSubdir: string;
  /** Blocks between subsidy halvings. */
  readonly halvingInterval: number;
  /** Compact form of the proof-of-work limit (easiest allowed target). */
  readonly powLimitBits: number;
  /** Blocks between difficulty retargets (2016 on every network). */
  readonly retargetInterval: number;
  /** True when the difficulty never changes (regtest's `fPowNoRetargeting`). */
  readonly powNoRetargeting: boolean;
  /**
   * True when a block more than 20 minutes after its parent may use the easiest target (testnet's
   * `fPowAllowMinDifficultyBlocks`): the bits of the next block then depend on its time.
   */
  readonly powAllowMinDifficultyBlocks: boolean;
}

/** Every known network by name. */
export const NETWORKS: Readonly<Record<NetworkName, Network>> = Object.freeze(
  {
    mainnet: Object.freeze({
      name: "mainnet",
      chain: "main",
      rpcPort: 8332,
      p2pkhVersion: 0x00,
      p2shVersion: 0x05,
      bech32Hrp: "bc",
      genesisHash: "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
      gbtRules: Object.freeze(["segwit"]),
      cookieSubdir: "",
      halvingInterval: 210_000,
      powLimitBits: 0x1d00ffff,
      retargetInterval: 2016,
      powNoRetargeting: false,
      powAllowMinDifficultyBlocks: false,
    }),
    testnet: Object.freeze({
      name: "testnet",
      chain: "test",
      rpcPort: 18332,
      p2pkhVersion: 0x6f,
      p2shVersion: 0xc4,
      bech32Hrp: "tb",
      genesisHash: "000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943",
      gbtRules: Object.freeze(["segwit"]),
      cookieSubdir: "testnet3",
      halvingInterval: 210_000,
      powLimitBits: 0x1d00ffff,
      retargetInterval: 2016,
      powNoRetargeting: false,
      powAllowMinDifficultyBlocks: true,
    }),
    testnet4: Object.freeze({
      name: "testnet4",
      chain: "testnet4",
      rpcPort: 48332,
      p2pkhVersion: 0x6f,
      p2shVersion: 0xc4,
      bech32Hrp: "tb",
      genesisHash: "00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043",
      gbtRules: Object.freeze(["segwit"]),
      cookieSubdir: "testnet4",
      halvingInterval: 210_000,
      powLimitBits: 0x1d00ffff,
      retargetInterval: 2016,
      powNoRetargeting: false,
      powAllowMinDifficultyBlocks: true,
    }),
    signet: Object.freeze({
      name: "signet",
      chain: "signet",
      rpcPort: 38332,
      p2pkhVersion: 0x6f,
      p2shVersion: 0xc4,
      bech32Hrp: "tb",
      genesisHash: "00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6",
      gbtRules: Object.freeze(["segwit", "signet"]),
      cookieSubdir: "signet",
      halvingInterval: 210_000,
      powLimitBits: 0x1e0377ae,
      retargetInterval: 2016,
      powNoRetargeting: false,
      powAllowMinDifficultyBlocks: false,
    }),
    regtest: Object.freeze({
      name: "regtest",
      chain: "regtest",
      rpcPort: 18443,
      p2pkhVersion: 0x6f,
      p2shVersion: 0xc4,
      bech32Hrp: "bcrt",
      genesisHash: "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206",
      gbtRules: Object.freeze(["segwit"]),
      cookieSubdir: "regtest",
      halvingInterval: 150,
      powLimitBits: 0x207fffff,
      retargetInterval: 2016,
      powNoRetargeting: true,
      powAllowMinDifficultyBlocks: true,
    }),
  } as const satisfies Record<NetworkName, Network>,
);

/** True when `s` names a known network. */
export function isNetworkName(s: string): s is NetworkName {
  return Object.hasOwn(NETWORKS, s);
}

/** The network Bitcoin Core reports as `chain` (from `getblockchaininfo`), or undefined. */
export function networkByChain(chain: string): Network | undefined {
  for (const name of Object.keys(NETWORKS) as NetworkName[]) {
    if (NETWORKS[name].chain === chain) return NETWORKS[name];
  }
  return undefined;
}

/** Initial block subsidy: 50 BTC in satoshis. */
const INITIAL_SUBSIDY = 50n * 100_000_000n;

/** Block subsidy in satoshis at `height` (halves every `halvingInterval`; 0 after 64 halvings). */
export function blockSubsidy(height: number, network: Network): bigint {
  if (!Number.isSafeInteger(height) || height < 0) {
    throw new RangeError(`block height must be a non-negative integer, got ${height}`);
  }
  const halvings = Math.floor(height / network.halvingInterval);
  if (halvings >= 64) return 0n;
  return INITIAL_SUBSIDY >> BigInt(halvings);
}
