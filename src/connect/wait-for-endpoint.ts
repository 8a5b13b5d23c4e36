/**
 * A call that finds no ready endpoint waits here: until an endpoint becomes
 * ready, its deadline or `resolveTimeoutMs` passes, the caller aborts, the
 * transport closes, or every known endpoint is in backoff. The wait keeps
 * the process alive (a pending call must settle before a Node program
 * exits), while idle transports never do.
 *
 * @module
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { keepAlive } from "../runtime/process-lifetime.ts";
import type { Endpoint } from "./channel/endpoint.ts";
import type { EndpointPool } from "./endpoint-pool.ts";
import type { PickerNode, PickRequest } from "./picker.ts";
import type { TransportClock } from "./transport-clock.ts";

/** What a wait needs from its transport. */
export interface WaitContext {
  readonly service: string;
  readonly pool: EndpointPool;
  readonly clock: TransportClock;
  readonly resolveTimeoutMs: number;
  isClosed(): boolean;
}

/** Resolves with a picked node; rejects with Unavailable, DeadlineExceeded or the caller's abort. */
export async function waitForEndpoint(
  w: WaitContext,
  signal: AbortSignal | undefined,
  deadline: number,
  start: number,
  tried: readonly Endpoint[] | undefined,
  request?: PickRequest,
): Promise<PickerNode<Endpoint>> {
  const resolveLimit = start + w.resolveTimeoutMs;
  let release: (() => void) | undefined;
  try {
    for (;;) {
      const node = w.pool.pick(tried, request);
      if (node !== undefined) return node;
      if (w.isClosed()) throw new ConnectError(`transport for "${w.service}" is closed`, Code.Unavailable);
      if (signal?.aborted === true) throw ConnectError.from(signal.reason, Code.Canceled);
      if (w.pool.allInBackoff()) {
        throw new ConnectError(`no endpoint of service "${w.service}" is reachable: ${describePool(w)}`, Code.Unavailable);
      }
      const limit = Math.min(deadline, resolveLimit);
      const left = limit - w.clock.now();
      if (left <= 0) {
        const byDeadline = deadline <= resolveLimit;
        throw new ConnectError(
          `no endpoint of service "${w.service}" became ready within ${Math.round(limit - start)} ms ` +
            `(${byDeadline ? "call deadline" : "resolveTimeoutMs"}): ${describePool(w)}`,
          byDeadline ? Code.DeadlineExceeded : Code.Unavailable,
        );
      }
      release ??= keepAlive();
      await changedOrTimeout(w, left, signal);
    }
  } finally {
    release?.();
  }
}

/** Resolves on the next endpoint or discovery change, after `ms` (may be infinite), or on abort. */
export function changedOrTimeout(w: Pick<WaitContext, "pool" | "clock">, ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      remove();
      timer?.cancel();
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = Number.isFinite(ms) ? w.clock.setTimeout(done, ms) : undefined;
    signal?.addEventListener("abort", done, { once: true });
    const remove = w.pool.onNextChange(done);
  });
}

/** What discovery returned and the state of each endpoint, for error messages. */
export function describePool(w: Pick<WaitContext, "service" | "pool">): string {
  const pool = w.pool;
  if (!pool.discovered) {
    const err = pool.discoveryError === undefined ? "" : ` (last error: ${describeError(pool.discoveryError)})`;
    return `discovery has not returned the instances of "${w.service}" yet${err}`;
  }
  const eps = [...pool.endpoints].map((e) =>
    `${e.address} ${e.state}${e.lastError === undefined || e.state === "ready" ? "" : ` (${describeError(e.lastError)})`}`,
  );
  return `${pool.seen}${eps.length > 0 ? `; endpoints: ${eps.join(", ")}` : ""}`;
}

/** An error as text. */
export function describeError(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
