/**
 * The demo's micro-forge client: calls SayHello at a steady rate through the
 * balancing transport and counts outcomes per answering pod and per error
 * code.
 *
 * @module
 */
import { Code, ConnectError, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { Greeter } from "../../proto/gen/helloworld_pb.ts";

/** Counters of the calls made so far. */
export interface TrafficStats {
  sent: number;
  ok: number;
  failed: number;
  inFlight: number;
  /** Successful calls per answering pod name. */
  readonly byPod: Map<string, number>;
  /** Failed calls per Connect code name. */
  readonly byCode: Map<string, number>;
  /** The last few failure messages, newest last. */
  readonly lastErrors: string[];
  /** Failed calls per endpoint address (`127.0.0.1:port`) of their last attempt; `none` when no attempt was made. */
  readonly failedOn: Map<string, number>;
}

/** The request header that tags each call with an id, so the attempt interceptor can attribute it. */
const CALL_HEADER = "x-demo-call";

/**
 * Remembers which endpoint each call's latest attempt went to. Its
 * interceptor goes into the transport's `attemptInterceptors` (they run on
 * every attempt, once the endpoint is picked, so `req.url` names it; the
 * plain `interceptors` run once per call, before any endpoint is known).
 */
export interface AttemptTracker {
  readonly interceptor: Interceptor;
  /** The address of the latest attempt of call `id`, if any. */
  endpointOf(id: string): string | undefined;
  forget(id: string): void;
}

/** Creates an {@link AttemptTracker}. */
export function createAttemptTracker(): AttemptTracker {
  const last = new Map<string, string>();
  return {
    interceptor: (next) => (req) => {
      const id = req.header.get(CALL_HEADER);
      if (id !== null) last.set(id, new URL(req.url).host);
      return next(req);
    },
    endpointOf: (id) => last.get(id),
    forget: (id) => void last.delete(id),
  };
}

/** A running caller. */
export interface Traffic {
  readonly stats: TrafficStats;
  /** Stops issuing calls and waits for every call in flight to settle. */
  stop(): Promise<void>;
}

/** Starts calling `transport` `rate` times a second, each call with a `timeoutMs` deadline (Kratos clients default to 2 s). */
export function startTraffic(o: { transport: Transport; tracker: AttemptTracker; rate: number; timeoutMs: number; onFailure?: (message: string) => void }): Traffic {
  const client = createClient(Greeter, o.transport);
  const stats: TrafficStats = emptyStats();
  let seq = 0;
  const pending = new Set<Promise<void>>();
  const call = (): void => {
    stats.sent++;
    stats.inFlight++;
    const id = String(++seq);
    const p = client
      .sayHello({ name: "micro-forge" }, { timeoutMs: o.timeoutMs, headers: { [CALL_HEADER]: id } })
      .then(
        (reply) => {
          stats.ok++;
          const from = reply.message.split(" from ")[1] ?? "?";
          stats.byPod.set(from, (stats.byPod.get(from) ?? 0) + 1);
        },
        (error: unknown) => {
          stats.failed++;
          const e = ConnectError.from(error);
          const code = Code[e.code] ?? String(e.code);
          stats.byCode.set(code, (stats.byCode.get(code) ?? 0) + 1);
          const on = o.tracker.endpointOf(id) ?? "none";
          stats.failedOn.set(on, (stats.failedOn.get(on) ?? 0) + 1);
          stats.lastErrors.push(`${e.message} (last attempt: ${on})`);
          if (stats.lastErrors.length > 5) stats.lastErrors.shift();
          o.onFailure?.(`${e.message} (last attempt: ${on})`);
        },
      )
      .finally(() => {
        o.tracker.forget(id);
        stats.inFlight--;
        pending.delete(p);
      });
    pending.add(p);
  };
  // Spread calls evenly: catch up on missed ticks so the rate holds under load.
  const period = 1000 / o.rate;
  const started = performance.now();
  let issued = 0;
  const burst = Math.max(5, Math.ceil(o.rate / 10));
  const timer = setInterval(() => {
    const due = Math.floor((performance.now() - started) / period);
    // After a stall (GC, a slow step) skip what cannot be caught up in a burst.
    if (due - issued > burst) issued = due - burst;
    while (issued < due) {
      issued++;
      call();
    }
  }, Math.max(1, Math.min(period, 20)));
  return {
    stats,
    async stop() {
      clearInterval(timer);
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}

/** Zeroed counters. */
export function emptyStats(): TrafficStats {
  return { sent: 0, ok: 0, failed: 0, inFlight: 0, byPod: new Map(), byCode: new Map(), lastErrors: [], failedOn: new Map() };
}
