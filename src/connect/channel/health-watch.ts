/**
 * The `grpc.health.v1.Health/Watch` stream of one endpoint
 * (https://github.com/grpc/grpc/blob/master/doc/health-checking.md): the
 * server pushes its status as it changes, so an endpoint whose server says
 * NOT_SERVING (a Kratos server does on Stop, before Kubernetes marks the Pod
 * unready) stops taking new calls at once, and takes them again on SERVING.
 *
 * - Started once a Check probe got a status from the health service (a
 *   server without it, or that does not know the service, is never
 *   watched); runs on the endpoint's ready connection as a background
 *   stream (it keeps no process alive and is cancelled when its connection
 *   retires), never dials, and never goes through the user's interceptors.
 * - Only NOT_SERVING takes the endpoint out, as with the Check probe.
 * - A stream that ends or breaks is opened again after the endpoint's
 *   backoff (its first delay after a stream that said SERVING, growing
 *   otherwise, so a stopping server that answers NOT_SERVING and ends is not
 *   hammered), while the endpoint has a connection; at once when a probe of
 *   the endpoint succeeds (a new connection); else at its next probe.
 * - `Unimplemented`: the server has no Watch; the endpoint keeps Check probes.
 *
 * @module
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus, type HealthCheckResponse } from "../gen/health_pb.ts";
import { newAttempt } from "../call/attempt.ts";
import type { CallOwner } from "../call/call-base.ts";
import type { CallConfig } from "../call/call-config.ts";
import { streamCall } from "../call/stream-call.ts";
import { backoffDelay, type BackoffPolicy, type TransportClock, type TransportTimer } from "../transport-clock.ts";
import type { Connection } from "./connection.ts";

/** What a {@link HealthWatch} needs. */
export interface HealthWatchOptions {
  readonly address: string;
  /** The health service name watched (`""`: the whole server). */
  readonly service: string;
  readonly config: CallConfig;
  readonly clock: TransportClock;
  readonly backoff: BackoffPolicy;
  readonly random: () => number;
  /** A ready connection of the endpoint, or `undefined` while it has none to offer (the watch then waits for {@link HealthWatch.start}). */
  connection(): Connection | undefined;
  /** A status arrived: `serving` is false for NOT_SERVING, with an error saying so. */
  onStatus(serving: boolean, error: ConnectError | undefined): void;
}

const noOwner: CallOwner = { callEnded() {} };

async function* once<T>(value: T): AsyncGenerator<T> {
  yield value;
}

/** See the module doc. */
export class HealthWatch {
  #o: HealthWatchOptions;
  #running = false;
  #closed = false;
  #unsupported = false;
  #failures = 0;
  #ac: AbortController | undefined;
  #timer: TransportTimer | undefined;
  #wake: (() => void) | undefined;

  /** @param o see {@link HealthWatchOptions} */
  constructor(o: HealthWatchOptions) {
    this.#o = o;
  }

  /** The server answered Watch with `Unimplemented`. */
  get unsupported(): boolean {
    return this.#unsupported;
  }

  /**
   * Opens the stream unless it is open, unsupported or closed; one waiting
   * to reopen does so at once (the endpoint just proved itself again).
   */
  start(): void {
    if (this.#wake !== undefined) {
      this.#timer?.cancel();
      return this.#wake();
    }
    if (this.#running || this.#closed || this.#unsupported) return;
    this.#running = true;
    void this.#run();
  }

  /** Cancels the stream and any reopening; final. */
  close(): void {
    this.#closed = true;
    this.#ac?.abort(new ConnectError(`endpoint ${this.#o.address} closed`, Code.Canceled));
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#wake?.();
  }

  async #run(): Promise<void> {
    try {
      while (!this.#closed) {
        const conn = this.#o.connection();
        if (conn === undefined) return;
        const { served, error } = await this.#watchOnce(conn);
        if (this.#closed) return;
        if (error?.code === Code.Unimplemented) {
          this.#unsupported = true;
          return;
        }
        this.#failures = served ? 1 : this.#failures + 1;
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          this.#timer = this.#o.clock.setTimeout(resolve, backoffDelay(this.#o.backoff, this.#failures, this.#o.random));
        });
        this.#wake = this.#timer = undefined;
      }
    } finally {
      this.#running = false;
    }
  }

  /** One stream until it ends; `served`: it said SERVING. */
  async #watchOnce(conn: Connection): Promise<{ served: boolean; error: ConnectError | undefined }> {
    const o = this.#o;
    const ac = (this.#ac = new AbortController());
    let served = false;
    try {
      const res = await streamCall({ config: o.config, owner: noOwner, background: true }, conn, o.config.plan(Health.method.watch), newAttempt(), {
        signal: ac.signal,
        timeoutMs: undefined,
        header: undefined,
        input: once({ service: o.service }),
      });
      for await (const m of res.message) {
        if (this.#closed) break;
        const status = (m as HealthCheckResponse).status;
        if (status === HealthCheckResponse_ServingStatus.NOT_SERVING) {
          o.onStatus(false, new ConnectError(`endpoint ${o.address} reports NOT_SERVING (health watch)`, Code.Unavailable));
        } else {
          if (status === HealthCheckResponse_ServingStatus.SERVING) served = true;
          o.onStatus(true, undefined);
        }
      }
      return { served, error: undefined };
    } catch (e) {
      return { served, error: ConnectError.from(e) };
    } finally {
      this.#ac = undefined;
    }
  }
}
