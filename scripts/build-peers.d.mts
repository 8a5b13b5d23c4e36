/** Types of scripts/build-peers.mjs (the Go test peers' build). */

/** A peer of the test/peers Go module. */
export type PeerName = "grpc-go" | "greeter-bench" | "kratos" | "connectconformance";

/** The result of one build. */
export interface BuiltPeer {
  readonly name: PeerName;
  /** Path of the binary. */
  readonly path: string;
  /** False when the cached binary was up to date. */
  readonly built: boolean;
  readonly ms: number;
}

export const MODULE_DIR: string;
export const PEERS: readonly PeerName[];
export function peersCacheDir(): string;
export function goCommand(): string | undefined;
export function goMissing(): string | undefined;
export function buildPeer(name: PeerName): BuiltPeer;
export function buildPeers(names?: readonly PeerName[]): BuiltPeer[];
