/**
 * Keepalive of one HTTP/2 connection, gRPC's client-side keepalive
 * (https://github.com/grpc/proposal/blob/master/A8-client-side-keepalive.md):
 * while calls are open (or always, with `pingIdleConnection`), a PING goes
 * out after `pingIntervalMs` without any data received, and a PING that is
 * not acknowledged within `pingTimeoutMs` closes the connection (its calls
 * fail with Unavailable). A connection without calls for
 * `idleConnectionTimeoutMs` is closed; the next call dials again. The option
 * names are connect-node's `Http2SessionOptions`.
 *
 * @module
 */
import type { TransportClock, TransportTimer } from "../transport-clock.ts";

/** Keepalive settings of the transport's connections. */
export interface KeepaliveOptions {
  /** PING after this long without data while calls are open (default: never, as grpc-go clients). */
  readonly pingIntervalMs?: number;
  /** Close the connection when a PING is not acknowledged within this (default 15 000 ms). */
  readonly pingTimeoutMs?: number;
  /** Also PING connections without calls (default `false`). */
  readonly pingIdleConnection?: boolean;
  /** Close a connection without calls after this long (default 15 min). */
  readonly idleConnectionTimeoutMs?: number;
}

/** What the keepalive drives. */
export interface KeepaliveTarget {
  /** Data received so far (response headers and body chunks): changes while the peer talks. */
  readonly activity: number;
  /** Sends a PING; resolves true when acknowledged within `timeoutMs`. */
  ping(timeoutMs: number): Promise<boolean>;
  /** The PING was not acknowledged. */
  unresponsive(timeoutMs: number): void;
  /** No call for the idle timeout. */
  idle(): void;
}

const DEFAULT_PING_TIMEOUT_MS = 15_000;
const DEFAULT_IDLE_TIMEOUT_MS = 15 * 60_000;

/** See the module doc. */
export class Keepalive {
  #t: KeepaliveTarget;
  #clock: TransportClock;
  #interval: number;
  #timeout: number;
  #pingIdle: boolean;
  #idleMs: number;
  #pingTimer: TransportTimer | undefined;
  #idleTimer: TransportTimer | undefined;
  #seen = -1;
  #streams = 0;
  #stopped = false;

  /** Starts watching an idle connection. */
  constructor(target: KeepaliveTarget, clock: TransportClock, o: KeepaliveOptions | undefined) {
    this.#t = target;
    this.#clock = clock;
    this.#interval = o?.pingIntervalMs ?? Number.POSITIVE_INFINITY;
    this.#timeout = o?.pingTimeoutMs ?? DEFAULT_PING_TIMEOUT_MS;
    this.#pingIdle = o?.pingIdleConnection ?? false;
    this.#idleMs = o?.idleConnectionTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.streams(0);
  }

  /** The number of open calls changed. */
  streams(n: number): void {
    if (this.#stopped) return;
    const was = this.#streams;
    this.#streams = n;
    if (n > 0 && was === 0) {
      this.#idleTimer?.cancel();
      this.#idleTimer = undefined;
      this.#schedulePing();
    } else if (n === 0 && (was > 0 || this.#idleTimer === undefined)) {
      if (Number.isFinite(this.#idleMs)) {
        this.#idleTimer?.cancel();
        this.#idleTimer = this.#clock.setTimeout(() => this.#t.idle(), this.#idleMs);
      }
      if (!this.#pingIdle) {
        this.#pingTimer?.cancel();
        this.#pingTimer = undefined;
      } else this.#schedulePing();
    }
  }

  /** Stops every timer. */
  stop(): void {
    this.#stopped = true;
    this.#pingTimer?.cancel();
    this.#idleTimer?.cancel();
    this.#pingTimer = this.#idleTimer = undefined;
  }

  #schedulePing(): void {
    if (!Number.isFinite(this.#interval) || this.#pingTimer !== undefined) return;
    this.#seen = this.#t.activity;
    this.#pingTimer = this.#clock.setTimeout(() => void this.#tick(), this.#interval);
  }

  async #tick(): Promise<void> {
    this.#pingTimer = undefined;
    if (this.#stopped || (this.#streams === 0 && !this.#pingIdle)) return;
    // Data arrived since the last tick: the peer is alive, no PING needed.
    if (this.#t.activity === this.#seen && !(await this.#t.ping(this.#timeout))) {
      if (!this.#stopped) this.#t.unresponsive(this.#timeout);
      return;
    }
    this.#schedulePing();
  }
}
