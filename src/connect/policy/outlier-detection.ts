/**
 * Outlier detection, with the semantics of grpc-js
 * (`packages/grpc-js/src/load-balancer-outlier-detection.ts`, gRFC A50) and
 * Envoy (`outlier_detection`): endpoints whose calls fail are ejected (no
 * longer picked) for a while, so one bad Pod stops costing a share of every
 * client's calls.
 *
 * - consecutive failures (Envoy `consecutive_5xx`): ejected at once after
 *   `consecutiveFailures` failed calls in a row;
 * - success rate (gRPC `success_rate_ejection`): once per interval, an
 *   endpoint whose success rate is below mean − stdev × `stdevFactor`/1000
 *   of the endpoints with enough calls is ejected;
 * - failure percentage (gRPC `failure_percentage_ejection`): once per
 *   interval, an endpoint failing more than `threshold` % of its calls is
 *   ejected;
 * - at most `maxEjectionPercent` % of the endpoints are ejected (always one
 *   may be), an ejection lasts `baseEjectionTimeMs` × times ejected (at most
 *   `max(baseEjectionTimeMs, maxEjectionTimeMs)`), and the count of times
 *   ejected goes down by one per interval without ejection.
 *
 * The detector is pure: the transport reports call outcomes and the time; the
 * interval evaluation runs on the first outcome reported after the interval
 * ended (no timer: an idle transport costs nothing, and with no calls no
 * decision needs taking). What to do with ejected endpoints (and the panic
 * threshold) is the endpoint pool's business.
 *
 * @module
 */
import { Code } from "@connectrpc/connect";
import { EndpointConfigError } from "../endpoint-source.ts";

/** Success-rate ejection (gRPC `success_rate_ejection`; Envoy `success_rate_*`). */
export interface SuccessRateEjection {
  /** Ejected below mean − stdev × stdevFactor / 1000 (default 1900). */
  readonly stdevFactor?: number;
  /** Chance, in %, that an outlier found is ejected (default 100). */
  readonly enforcementPercent?: number;
  /** Evaluated only when at least this many endpoints have `requestVolume` calls (default 5). */
  readonly minimumHosts?: number;
  /** Calls an endpoint needs in the interval to count (default 100). */
  readonly requestVolume?: number;
}

/** Failure-percentage ejection (gRPC `failure_percentage_ejection`; Envoy `failure_percentage_*`). */
export interface FailurePercentageEjection {
  /** Ejected when more than this % of its calls failed (default 85). */
  readonly threshold?: number;
  /** Chance, in %, that an outlier found is ejected (default 100). */
  readonly enforcementPercent?: number;
  /** Evaluated only when at least this many endpoints have `requestVolume` calls (default 5). */
  readonly minimumHosts?: number;
  /** Calls an endpoint needs in the interval to count (default 50). */
  readonly requestVolume?: number;
}

/** Options of outlier detection (the transport's `outlierDetection` option). */
export interface OutlierDetectionOptions {
  /** Evaluation interval in ms (default 10 000, as gRPC and Envoy). */
  readonly intervalMs?: number;
  /** Ejection time, multiplied by the times ejected (default 30 000). */
  readonly baseEjectionTimeMs?: number;
  /** Longest ejection (default 300 000). */
  readonly maxEjectionTimeMs?: number;
  /** Most endpoints ejected at once, in % (default 10; one endpoint may always be ejected). */
  readonly maxEjectionPercent?: number;
  /** Failed calls in a row that eject at once (Envoy `consecutive_5xx`, default 5); `false` = off. */
  readonly consecutiveFailures?: number | false;
  /** Success-rate ejection (default on with the defaults above); `false` = off. */
  readonly successRate?: SuccessRateEjection | false;
  /** Failure-percentage ejection (default off, as gRPC and Envoy); `true` = on with the defaults above. */
  readonly failurePercentage?: FailurePercentageEjection | boolean;
  /** Codes that count as failures (default Unavailable, DeadlineExceeded, Internal, Unknown, ResourceExhausted). */
  readonly failureCodes?: readonly Code[];
  /**
   * Panic threshold in % (Envoy `healthy_panic_threshold`, default 50): when
   * fewer of a service's endpoints than this are ready and not ejected,
   * ejections are ignored and calls spread over every ready endpoint.
   * 0 = never.
   */
  readonly panicThresholdPercent?: number;
}

/** Why an endpoint was ejected. */
export type EjectionReason = "consecutive-failures" | "success-rate" | "failure-percentage";

/** Codes counted as failures by default. */
export const DEFAULT_FAILURE_CODES: readonly Code[] = [Code.Unavailable, Code.DeadlineExceeded, Code.Internal, Code.Unknown, Code.ResourceExhausted];

/** The options with every default filled in. */
export interface OutlierConfig {
  readonly intervalMs: number;
  readonly baseEjectionTimeMs: number;
  readonly maxEjectionTimeMs: number;
  readonly maxEjectionPercent: number;
  readonly consecutiveFailures: number;
  readonly successRate: Required<SuccessRateEjection> | undefined;
  readonly failurePercentage: Required<FailurePercentageEjection> | undefined;
  readonly failureCodes: ReadonlySet<Code>;
  readonly panicThresholdPercent: number;
}

function num(name: string, v: number | undefined, def: number, min: number, max = Number.POSITIVE_INFINITY): number {
  if (v === undefined) return def;
  if (typeof v !== "number" || Number.isNaN(v) || v < min || v > max) {
    throw new EndpointConfigError("BAD_OPTION", `outlierDetection.${name} must be a number in [${min}, ${max}], got ${JSON.stringify(v)}`);
  }
  return v;
}

function codes(v: readonly Code[] | undefined): readonly Code[] {
  if (v === undefined) return DEFAULT_FAILURE_CODES;
  if (!Array.isArray(v) || !v.every((c) => typeof c === "number" && Code[c] !== undefined)) {
    throw new EndpointConfigError("BAD_OPTION", `outlierDetection.failureCodes must be an array of Code values, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Validates `o` and fills in the defaults; throws an `EndpointConfigError` (`BAD_OPTION`) naming a bad field. */
export function outlierConfig(o: OutlierDetectionOptions = {}): OutlierConfig {
  const sr = o.successRate;
  const fp = o.failurePercentage === true ? {} : o.failurePercentage;
  const cf = o.consecutiveFailures;
  return {
    intervalMs: num("intervalMs", o.intervalMs, 10_000, 1),
    baseEjectionTimeMs: num("baseEjectionTimeMs", o.baseEjectionTimeMs, 30_000, 0),
    maxEjectionTimeMs: num("maxEjectionTimeMs", o.maxEjectionTimeMs, 300_000, 0),
    maxEjectionPercent: num("maxEjectionPercent", o.maxEjectionPercent, 10, 0, 100),
    consecutiveFailures: cf === false ? 0 : num("consecutiveFailures", cf, 5, 1),
    successRate: sr === false ? undefined : {
      stdevFactor: num("successRate.stdevFactor", sr?.stdevFactor, 1900, 0),
      enforcementPercent: num("successRate.enforcementPercent", sr?.enforcementPercent, 100, 0, 100),
      minimumHosts: num("successRate.minimumHosts", sr?.minimumHosts, 5, 1),
      requestVolume: num("successRate.requestVolume", sr?.requestVolume, 100, 1),
    },
    failurePercentage: fp === false || fp === undefined ? undefined : {
      threshold: num("failurePercentage.threshold", fp.threshold, 85, 0, 100),
      enforcementPercent: num("failurePercentage.enforcementPercent", fp.enforcementPercent, 100, 0, 100),
      minimumHosts: num("failurePercentage.minimumHosts", fp.minimumHosts, 5, 1),
      requestVolume: num("failurePercentage.requestVolume", fp.requestVolume, 50, 1),
    },
    failureCodes: new Set(codes(o.failureCodes)),
    panicThresholdPercent: num("panicThresholdPercent", o.panicThresholdPercent, 50, 0, 100),
  };
}

interface HostState {
  successes: number;
  failures: number;
  consecutive: number;
  /** Times ejected, decremented per interval without ejection. */
  multiplier: number;
  ejectedAt: number | undefined;
  reason: EjectionReason | undefined;
}

/** An ejection or un-ejection, for the pool to rebuild its picker and to report. */
export interface EjectionChange {
  readonly key: string;
  /** The reason of an ejection; `undefined` = un-ejected. */
  readonly ejected: EjectionReason | undefined;
}

/** See the module doc. */
export class OutlierDetector {
  readonly config: OutlierConfig;
  #hosts = new Map<string, HostState>();
  #random: () => number;
  #nextEval: number;
  #lastEval: number;
  #ejected = 0;

  /** @param config see {@link outlierConfig}; @param now the clock's time; @param random in [0, 1) */
  constructor(config: OutlierConfig, now: number, random: () => number = Math.random) {
    this.config = config;
    this.#random = random;
    this.#lastEval = now;
    this.#nextEval = now + config.intervalMs;
  }

  /** Tracks `key` (idempotent). */
  add(key: string): void {
    if (!this.#hosts.has(key)) this.#hosts.set(key, { successes: 0, failures: 0, consecutive: 0, multiplier: 0, ejectedAt: undefined, reason: undefined });
  }

  /** Forgets `key` (it left discovery). */
  remove(key: string): void {
    const h = this.#hosts.get(key);
    if (h?.ejectedAt !== undefined) this.#ejected--;
    this.#hosts.delete(key);
  }

  /** Why `key` is ejected, or `undefined`. */
  ejected(key: string): EjectionReason | undefined {
    return this.#hosts.get(key)?.reason;
  }

  /** Endpoints ejected now. */
  get ejectedCount(): number {
    return this.#ejected;
  }

  /**
   * A call on `key` ended with `code` (`undefined` = OK). Returns the
   * changes it caused (a consecutive-failure ejection, or the interval
   * evaluation when it was due), usually none.
   */
  record(key: string, code: Code | undefined, now: number): readonly EjectionChange[] {
    const h = this.#hosts.get(key);
    let out: EjectionChange[] | undefined;
    if (h !== undefined) {
      if (code === undefined || !this.config.failureCodes.has(code)) {
        h.successes++;
        h.consecutive = 0;
      } else {
        h.failures++;
        h.consecutive++;
        const limit = this.config.consecutiveFailures;
        if (limit > 0 && h.consecutive >= limit && h.ejectedAt === undefined && this.#mayEject()) {
          this.#eject(h, "consecutive-failures", now);
          out = [{ key, ejected: "consecutive-failures" }];
        }
      }
    }
    const more = this.tick(now);
    return out === undefined ? more : [...out, ...more];
  }

  /** Runs the interval evaluation when it is due. */
  tick(now: number): readonly EjectionChange[] {
    return now < this.#nextEval ? NONE : this.evaluate(now);
  }

  /** Runs the interval evaluation now (also called by {@link record} when due). */
  evaluate(now: number): readonly EjectionChange[] {
    const c = this.config;
    const intervals = Math.max(1, Math.floor((now - this.#lastEval) / c.intervalMs));
    this.#lastEval = now;
    this.#nextEval = now + c.intervalMs;
    const out: EjectionChange[] = [];
    const justEjected = new Set<HostState>();
    if (c.successRate !== undefined) {
      const sr = c.successRate;
      const cands = this.#candidates(sr.requestVolume);
      if (cands.length >= sr.minimumHosts) {
        const rates = cands.map(([, h]) => h.successes / (h.successes + h.failures));
        const mean = rates.reduce((a, b) => a + b, 0) / rates.length;
        const stdev = Math.sqrt(rates.reduce((a, r) => a + (r - mean) ** 2, 0) / rates.length);
        const threshold = mean - stdev * (sr.stdevFactor / 1000);
        cands.forEach(([key, h], i) => {
          if (rates[i]! >= threshold || h.ejectedAt !== undefined || !this.#mayEject()) return;
          if (this.#random() * 100 >= sr.enforcementPercent) return;
          this.#eject(h, "success-rate", now);
          justEjected.add(h);
          out.push({ key, ejected: "success-rate" });
        });
      }
    }
    if (c.failurePercentage !== undefined) {
      const fp = c.failurePercentage;
      const cands = this.#candidates(fp.requestVolume);
      if (cands.length >= fp.minimumHosts) {
        for (const [key, h] of cands) {
          if ((100 * h.failures) / (h.successes + h.failures) <= fp.threshold || h.ejectedAt !== undefined || !this.#mayEject()) continue;
          if (this.#random() * 100 >= fp.enforcementPercent) continue;
          this.#eject(h, "failure-percentage", now);
          justEjected.add(h);
          out.push({ key, ejected: "failure-percentage" });
        }
      }
    }
    for (const [key, h] of this.#hosts) {
      h.successes = 0;
      h.failures = 0;
      if (justEjected.has(h)) continue;
      if (h.ejectedAt === undefined) {
        h.multiplier = Math.max(0, h.multiplier - intervals);
      } else if (now >= h.ejectedAt + this.ejectionTimeMs(h.multiplier)) {
        h.ejectedAt = undefined;
        h.reason = undefined;
        h.consecutive = 0;
        this.#ejected--;
        out.push({ key, ejected: undefined });
      }
    }
    return out;
  }

  /** How long an ejection lasts after `times` ejections (gRFC A50: min(base × times, max(base, max))). */
  ejectionTimeMs(times: number): number {
    const c = this.config;
    return Math.min(c.baseEjectionTimeMs * times, Math.max(c.baseEjectionTimeMs, c.maxEjectionTimeMs));
  }

  #candidates(volume: number): [string, HostState][] {
    const out: [string, HostState][] = [];
    for (const e of this.#hosts) if (e[1].successes + e[1].failures >= volume) out.push(e);
    return out;
  }

  /** Below the maximum ejection percentage (gRFC A50: checked before each ejection, so one is always allowed). */
  #mayEject(): boolean {
    return this.#hosts.size > 0 && (100 * this.#ejected) / this.#hosts.size < this.config.maxEjectionPercent;
  }

  #eject(h: HostState, reason: EjectionReason, now: number): void {
    h.ejectedAt = now;
    h.reason = reason;
    h.multiplier++;
    this.#ejected++;
  }
}

const NONE: readonly EjectionChange[] = [];
