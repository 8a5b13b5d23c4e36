/**
 * What the App needs from a server, so any server can join it: listen, say
 * which endpoint it serves, count its calls in flight, send GOAWAY, close.
 * `grpcServer` and `connectServer` implement it on `node:http2`.
 *
 * @module
 */
import type { HealthState } from "./health.ts";
import type { InterfaceAddress } from "./endpoint.ts";

/** What the App hands a server when it starts it. */
export interface AppServerContext {
  /** The App's serving status: serve it as `grpc.health.v1` and follow its changes. */
  readonly health: HealthState;
  /** This host's interface addresses, for the endpoint of a server bound to every interface. */
  readonly addresses: readonly InterfaceAddress[];
}

/** A server the App runs: a description until the App starts it. */
export interface AppServerSpec {
  /** A short label for logs, e.g. `grpc :9000`. */
  readonly label: string;
  /** Starts listening; rejects when it cannot. */
  listen(ctx: AppServerContext): Promise<RunningServer>;
}

/** A server that listens. */
export interface RunningServer {
  /** The endpoint URL registered for it, e.g. `grpc://10.244.1.7:9000`. */
  readonly endpoint: string;
  /** Calls (HTTP/2 streams) running now. */
  readonly inflight: number;
  /** Calls `fn` whenever a call ends and none is running; returns the unsubscribe function. */
  onIdle(fn: () => void): () => void;
  /** Stops accepting connections and sends GOAWAY: running calls finish, new ones are refused. */
  goaway(): void;
  /** Destroys every connection now (calls still running are cancelled). */
  destroy(): void;
  /** Resolves once the listener and every connection are closed. */
  closed(): Promise<void>;
}
