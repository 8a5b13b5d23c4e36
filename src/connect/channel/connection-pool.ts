/**
 * The HTTP/2 connections of one endpoint. Calls share one connection;
 * another is dialed when every open one reached the peer's
 * SETTINGS_MAX_CONCURRENT_STREAMS, and with `maxConnectionAgeMs` a
 * connection is replaced once that old (a new one is dialed first, the old
 * one finishes its streams), so long-lived clients spread onto new Pods.
 * The endpoint hears only when its last usable connection went away.
 *
 * @module
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { TransportClock, TransportTimer } from "../transport-clock.ts";
import { Connection, type ConnectionOptions, type ConnectionOwner } from "./connection.ts";

/** Options of a {@link ConnectionPool}. */
export interface ConnectionPoolOptions {
  readonly connection: ConnectionOptions;
  /** Replace connections older than this (±10 %); undefined = never. */
  readonly maxConnectionAgeMs: number | undefined;
  readonly clock: TransportClock;
  readonly random: () => number;
  /** The last connection that took streams went away (GOAWAY, closed). */
  readonly onLost: (error: ConnectError) => void;
  /** Whether an old connection may be replaced now (its endpoint is ready). */
  readonly mayReplace: () => boolean;
}

/** See the module doc. */
export class ConnectionPool implements ConnectionOwner {
  #o: ConnectionPoolOptions;
  /** Connections that take new streams (connecting or ready). */
  #conns: Connection[] = [];
  /** Every connection not closed yet (also retiring ones). */
  #all = new Set<Connection>();
  #ageTimers = new Map<Connection, TransportTimer>();

  /** @param o see {@link ConnectionPoolOptions} */
  constructor(o: ConnectionPoolOptions) {
    this.#o = o;
  }

  /** A ready connection below the peer's stream limit (the common case: the first). */
  ready(): Connection | undefined {
    const cs = this.#conns;
    for (let i = 0; i < cs.length; i++) if (cs[i]!.available) return cs[i];
    return undefined;
  }

  /** The connection being dialed, or a new one. */
  dialing(): Connection {
    return this.#conns.find((c) => c.state === "connecting") ?? this.#dial();
  }

  /** Data received over every open connection (grows while the peer answers). */
  get activity(): number {
    let n = 0;
    for (const c of this.#all) n += c.activity;
    return n;
  }

  /** Closes every connection now; their calls fail with `reason`. */
  closeAll(reason: ConnectError): void {
    for (const t of this.#ageTimers.values()) t.cancel();
    this.#ageTimers.clear();
    this.#conns = [];
    for (const c of [...this.#all]) c.destroy(reason);
    this.#all.clear();
  }

  #dial(): Connection {
    const c = new Connection(this.#o.connection, this);
    this.#conns.push(c);
    this.#all.add(c);
    return c;
  }

  /** @internal ConnectionOwner */
  connected(c: Connection): void {
    const age = this.#o.maxConnectionAgeMs;
    if (age === undefined || !Number.isFinite(age)) return;
    // ±10 % so that the connections of many clients do not all move at once.
    const ms = age * (0.9 + 0.2 * this.#o.random());
    this.#ageTimers.set(c, this.#o.clock.setTimeout(() => this.#replace(c), ms));
  }

  /** Dials a successor of an old connection, then retires the old one. */
  #replace(old: Connection): void {
    this.#ageTimers.delete(old);
    if (!this.#o.mayReplace() || old.state !== "ready") return;
    this.#dial().whenReady().then(
      () => {
        this.#conns = this.#conns.filter((c) => c !== old);
        old.retire();
      },
      () => {}, // the old connection stays; the failed dial closed itself
    );
  }

  /** @internal ConnectionOwner */
  lost(c: Connection, error: ConnectError): void {
    const before = this.#conns.length;
    this.#conns = this.#conns.filter((x) => x !== c);
    this.#ageTimers.get(c)?.cancel();
    this.#ageTimers.delete(c);
    if (before > 0 && this.#conns.length === 0) this.#o.onLost(error);
  }

  /** @internal ConnectionOwner */
  closed(c: Connection): void {
    this.#all.delete(c);
    if (!this.#conns.includes(c)) return;
    // An idle connection closed by its keepalive is no failure: the next call dials again.
    if (c.idleClosed) {
      this.#conns = this.#conns.filter((x) => x !== c);
      return;
    }
    this.lost(c, c.error ?? new ConnectError(`connection to ${c.address} closed`, Code.Unavailable));
  }
}
