/**
 * The App's running servers as one: calls in flight across all of them, the
 * wait for them to end (bounded on the injected clock, cut short by a forced
 * stop), GOAWAY, and the close that leaves no connection behind.
 *
 * @module
 */
import type { Clock } from "../kube/clock.ts";
import { AppError, messageOf } from "./errors.ts";
import type { RunningServer } from "./server.ts";

/** The least time the close gives connections to end after GOAWAY, even when the stop budget is spent. */
export const CLOSE_GRACE_MS = 1_000;

/** Servers that listen, handled together. */
export class ServerGroup {
  readonly #servers: RunningServer[] = [];
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Adds a server that listens. */
  add(server: RunningServer): void {
    this.#servers.push(server);
  }

  /** The endpoints of the servers, in the order they were added. */
  get endpoints(): string[] {
    return this.#servers.map((s) => s.endpoint);
  }

  /** Calls running on every server. */
  get inflight(): number {
    return this.#servers.reduce((n, s) => n + s.inflight, 0);
  }

  /** Resolves when no call runs, after `budgetMs`, or when `force` aborts, whichever comes first. */
  waitIdle(budgetMs: number, force: AbortSignal): Promise<void> {
    if (this.inflight === 0 || force.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const finish = (): void => {
        for (const off of offs) off();
        timer.cancel();
        force.removeEventListener("abort", finish);
        resolve();
      };
      const check = (): void => {
        if (this.inflight === 0) finish();
      };
      const offs = this.#servers.map((s) => s.onIdle(check));
      const timer = this.#clock.setTimeout(finish, budgetMs);
      force.addEventListener("abort", finish, { once: true });
    });
  }

  /** Sends GOAWAY on every server; throws `CLOSE_FAILED` naming the failures (after trying every server). */
  goaway(): void {
    const failures: unknown[] = [];
    for (const s of this.#servers) {
      try {
        s.goaway();
      } catch (e) {
        failures.push(e);
      }
    }
    if (failures.length > 0) throw new AppError("CLOSE_FAILED", `GOAWAY failed: ${failures.map(messageOf).join("; ")}`, { step: "goaway", cause: failures[0] });
  }

  /**
   * Closes every server: connections still carrying calls are destroyed at
   * once; the others get up to `max(budgetMs, CLOSE_GRACE_MS)` to end after
   * GOAWAY, then are destroyed. Resolves when every listener and connection closed.
   */
  async close(budgetMs: number): Promise<void> {
    if (this.inflight > 0) for (const s of this.#servers) s.destroy();
    const all = Promise.all(this.#servers.map((s) => s.closed()));
    let timer: { cancel(): void } | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = this.#clock.setTimeout(() => resolve("late"), Math.max(budgetMs, CLOSE_GRACE_MS));
    });
    try {
      if ((await Promise.race([all, late])) === "late") {
        for (const s of this.#servers) s.destroy();
        await all;
      }
    } finally {
      timer?.cancel();
    }
  }
}
