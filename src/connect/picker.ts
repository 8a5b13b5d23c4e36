/**
 * Pure pickers: given an immutable snapshot of ready endpoints, choose one per
 * call in O(1) without allocating. The balancing transport rebuilds a picker
 * whenever the set of ready endpoints changes, passing the previous picker so
 * round robin keeps its position; per-endpoint statistics live in
 * {@link NodeStats} objects the transport keeps across snapshots, so p2c does
 * not forget what it learnt about endpoints that stay (Go Kratos rebuilds its
 * selector, and resets them, on every change).
 *
 * This module does no I/O: time and randomness are injected.
 *
 * @module
 */

/**
 * Mutable per-endpoint statistics, owned by the transport and shared by every
 * picker snapshot the endpoint appears in. Only the p2c policy reads them.
 */
export interface NodeStats {
  /** Calls in flight plus one, as Go Kratos starts it (`selector/node/ewma`). */
  inflight: number;
  /** EWMA of unary latency in ms; 0 = no sample yet. */
  lag: number;
  /** EWMA of success on a 0–1000 scale. */
  success: number;
  /** Clock time of the last completion (the EWMA's previous sample). */
  stamp: number;
  /** Clock time this endpoint was last picked. */
  lastPick: number;
}

/** Fresh statistics, as Go Kratos's EWMA node starts: success 1000, inflight 1. */
export function createNodeStats(now: number): NodeStats {
  return { inflight: 1, lag: 0, success: 1000, stamp: Number.NEGATIVE_INFINITY, lastPick: now };
}

/** One pickable endpoint. The same object is reused across snapshots. */
export interface PickerNode<T> {
  /** Unique key (the endpoint address). */
  readonly key: string;
  /** What the transport dispatches to. */
  readonly value: T;
  /** Static weight for `wrr` (Kratos metadata `weight`, default 100). */
  readonly weight: number;
  /** Statistics kept across snapshots. */
  readonly stats: NodeStats;
}

/** An immutable snapshot over a fixed list of nodes. */
export interface Picker<T> {
  /** The nodes of this snapshot, in the order given to `build`. */
  readonly nodes: readonly PickerNode<T>[];
  /**
   * Chooses a node, or `undefined` when the snapshot is empty; O(1) (`ringHash`:
   * O(log n)). `request` is the call, for policies keyed per call; others ignore it.
   */
  pick(request?: PickRequest): PickerNode<T> | undefined;
  /**
   * Reports that a unary call on `node` that started at `startedAt` (clock
   * ms) ended; `failed` marks errors that speak about the endpoint's health.
   */
  done(node: PickerNode<T>, startedAt: number, failed: boolean): void;
  /** Reports that a streaming call on `node` ended (no latency sample). */
  release(node: PickerNode<T>): void;
}

/**
 * The call a pick is for, as the transport passes it to {@link Picker.pick}:
 * what policies that pick by a per-call key (`ringHash`) read. Declared
 * structurally: this pure core imports nothing.
 */
export interface PickRequest {
  /** The method called (a `DescMethod`: `name`, `parent.typeName`, `methodKind`, …). */
  readonly method: { readonly name: string; readonly parent: { readonly typeName: string } };
  /** The call's request headers as given (by the caller, or by the `interceptors` when there are some). */
  readonly header: HeadersInit | undefined;
  /** Unary: the request message (or its init object); streaming: the request iterable. */
  readonly input: unknown;
  /** The call's context values, when given (connect `ContextValues`). */
  readonly contextValues: { get<V>(key: { id: symbol; defaultValue: V }): V } | undefined;
  /** Values of nodes already tried by this call (a retry): pick another one when there is one. */
  readonly avoid?: readonly unknown[] | undefined;
}

/** Builds picker snapshots. Pass one as `balancer` for a custom policy. */
export interface PickerPolicy {
  /** Name for messages and diagnostics. */
  readonly name: string;
  /** Builds a snapshot; `previous` is the snapshot it replaces, if any. */
  build<T>(nodes: readonly PickerNode<T>[], previous?: Picker<T>): Picker<T>;
}

/**
 * The part of the library's `Clock` pickers need: monotonic milliseconds
 * (declared structurally: this pure core imports nothing).
 */
export interface PickerClock {
  /** Milliseconds since an arbitrary origin. */
  now(): number;
}

const noop = (): void => {};

// ---------------------------------------------------------------------------
// round robin

const positions = new WeakMap<object, () => number>();

/**
 * Round robin over the snapshot. A rebuilt snapshot resumes with the node the
 * previous one would have picked next when it is still present (else at the
 * same index), so updates do not send a burst to the first endpoint.
 */
export function roundRobin(): PickerPolicy {
  return {
    name: "round_robin",
    build<T>(nodes: readonly PickerNode<T>[], previous?: Picker<T>): Picker<T> {
      const list = nodes.slice();
      const n = list.length;
      let next = 0;
      const prevNext = previous === undefined ? undefined : positions.get(previous);
      if (prevNext !== undefined && previous !== undefined && n > 0) {
        const i = prevNext();
        const wanted = previous.nodes[i];
        const found = wanted === undefined ? -1 : list.indexOf(wanted);
        next = found >= 0 ? found : i % n;
      }
      const picker: Picker<T> = {
        nodes: list,
        pick() {
          if (n === 0) return undefined;
          const node = list[next];
          next = next + 1 === n ? 0 : next + 1;
          return node;
        },
        done: noop,
        release: noop,
      };
      positions.set(picker, () => next);
      return picker;
    },
  };
}

// ---------------------------------------------------------------------------
// random

/** Uniform random choice (Kratos `selector/random`). */
export function randomPicker(o: { random?: () => number } = {}): PickerPolicy {
  const rnd = o.random ?? Math.random;
  return {
    name: "random",
    build<T>(nodes: readonly PickerNode<T>[]): Picker<T> {
      const list = nodes.slice();
      return {
        nodes: list,
        pick: () => (list.length === 0 ? undefined : list[Math.floor(rnd() * list.length)]),
        done: noop,
        release: noop,
      };
    },
  };
}

// ---------------------------------------------------------------------------
// smooth weighted round robin

/** Largest precomputed schedule (entries × nodes simulated) before falling back to O(N) picks. */
const WRR_SCHEDULE_BUDGET = 1 << 20;

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * Smooth weighted round robin, the nginx algorithm Go Kratos uses
 * (`selector/wrr`): each pick adds every node's weight to its current value,
 * takes the largest and subtracts the total from it. Weights {5,1,1} give
 * a a b a c a a. The sequence is periodic, so when the period is small enough
 * it is precomputed once per snapshot and each pick is O(1); otherwise each
 * pick is the O(N) step.
 */
export function weightedRoundRobin(): PickerPolicy {
  return {
    name: "wrr",
    build<T>(nodes: readonly PickerNode<T>[]): Picker<T> {
      const list = nodes.slice();
      const n = list.length;
      const weights = list.map((x) => x.weight);
      const total = weights.reduce((a, b) => a + b, 0);
      const current = new Float64Array(n);
      const step = (): number => {
        let best = -1;
        for (let i = 0; i < n; i++) {
          current[i]! += weights[i]!;
          if (best < 0 || current[i]! > current[best]!) best = i;
        }
        current[best]! -= total;
        return best;
      };
      const integral = weights.every((w) => Number.isInteger(w));
      const g = integral && n > 0 ? weights.reduce(gcd) : 0;
      const period = g > 0 ? total / g : Number.POSITIVE_INFINITY;
      if (n > 0 && period * n <= WRR_SCHEDULE_BUDGET) {
        const schedule = new Uint32Array(period);
        for (let i = 0; i < period; i++) schedule[i] = step();
        let at = 0;
        return {
          nodes: list,
          pick() {
            const node = list[schedule[at]!];
            at = at + 1 === period ? 0 : at + 1;
            return node;
          },
          done: noop,
          release: noop,
        };
      }
      return { nodes: list, pick: () => (n === 0 ? undefined : list[step()]), done: noop, release: noop };
    },
  };
}

// ---------------------------------------------------------------------------
// p2c with EWMA (Go Kratos selector/p2c + selector/node/ewma)

/** EWMA decay constant: τ = 600 ms (go-kratos selector/node/ewma `tau`). */
export const P2C_TAU_MS = 600;
/** Load of a node with no latency sample yet: 100 µs per in-flight call (ewma `penalty`). */
const PENALTY_NS = 100_000;
/** Added to the lag before the square root, "the latency gap between zones" (ewma: 5 ms). */
const ZONE_GAP_NS = 5_000_000;
/** A losing node not picked for this long is picked once (go-kratos selector/p2c `forcePick`). */
export const P2C_FORCE_PICK_MS = 3000;

/** The weight p2c compares: success × 10 µs ÷ load (go-kratos ewma `Weight()`), in Kratos's ns units. */
export function p2cWeight(s: NodeStats): number {
  const load = s.lag === 0 ? PENALTY_NS * s.inflight : Math.sqrt(s.lag * 1e6 + ZONE_GAP_NS) * s.inflight;
  return (s.success * 10_000) / load;
}

/**
 * Power of two choices over EWMA latency and success, with Go Kratos's
 * constants: two distinct random nodes, the higher {@link p2cWeight} wins,
 * and a loser not picked for {@link P2C_FORCE_PICK_MS} is picked instead so
 * its statistics refresh. Differences from Kratos: statistics survive
 * snapshot rebuilds; the lag prediction from slow in-flight calls is left out
 * (it scans the in-flight list, which a pick must not do); caller
 * cancellations are not failures (the transport decides `failed`).
 */
export function p2c(o: { clock: PickerClock; random?: () => number }): PickerPolicy {
  const { clock } = o;
  const rnd = o.random ?? Math.random;
  return {
    name: "p2c",
    build<T>(nodes: readonly PickerNode<T>[]): Picker<T> {
      const list = nodes.slice();
      const n = list.length;
      return {
        nodes: list,
        pick() {
          if (n === 0) return undefined;
          const now = clock.now();
          let pc = list[0]!;
          if (n > 1) {
            const a = Math.floor(rnd() * n);
            let b = Math.floor(rnd() * (n - 1));
            if (b >= a) b++;
            const na = list[a]!;
            const nb = list[b]!;
            const bWins = p2cWeight(nb.stats) > p2cWeight(na.stats);
            pc = bWins ? nb : na;
            const upc = bWins ? na : nb;
            if (now - upc.stats.lastPick > P2C_FORCE_PICK_MS) pc = upc;
          }
          pc.stats.lastPick = now;
          pc.stats.inflight++;
          return pc;
        },
        done(node, startedAt, failed) {
          const s = node.stats;
          s.inflight--;
          const now = clock.now();
          const td = Math.max(0, now - s.stamp);
          s.stamp = now;
          let w = Math.exp(-td / P2C_TAU_MS);
          const lag = Math.max(0, now - startedAt);
          if (s.lag === 0) w = 0;
          s.lag = s.lag * w + lag * (1 - w);
          s.success = s.success * w + (failed ? 0 : 1000) * (1 - w);
        },
        release(node) {
          node.stats.inflight--;
        },
      };
    },
  };
}
