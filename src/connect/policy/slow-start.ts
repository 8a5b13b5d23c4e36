/**
 * Slow start, as Envoy's `slow_start_config`: an endpoint that just became
 * ready while others were serving gets a growing share of the calls over a
 * window instead of its full share at once, so a cold Pod (empty caches, a
 * JIT not warmed up, lazy connections to its own backends) is not flooded.
 *
 * The weight factor after `t` ms in the window is
 * `max(minWeightPercent / 100, (max(t, 1) / windowMs) ^ (1 / aggression))`
 * (Envoy `EdfLoadBalancerBase::applySlowStartFactor`), and 1 after the
 * window. The endpoint pool applies it to every picker by rejection: a
 * picked endpoint with factor `f < 1` is kept with probability `f`, else
 * another pick is taken, which gives it the share of a weight scaled by `f`.
 *
 * @module
 */
import { EndpointConfigError } from "../endpoint-source.ts";

/** Options of slow start (the transport's `slowStart` option). */
export interface SlowStartOptions {
  /** How long a new endpoint ramps up, in ms (Envoy `slow_start_window`; required, > 0). */
  readonly windowMs: number;
  /** Shape of the ramp (Envoy `aggression`, default 1 = linear; larger = faster early growth). */
  readonly aggression?: number;
  /** Smallest weight during the window, in % (Envoy `min_weight_percent`, default 10). */
  readonly minWeightPercent?: number;
}

/** The options with the defaults filled in. */
export interface SlowStartConfig {
  readonly windowMs: number;
  readonly aggression: number;
  readonly minWeightPercent: number;
}

/** Validates `o` and fills in the defaults; throws an `EndpointConfigError` (`BAD_OPTION`) naming a bad field. */
export function slowStartConfig(o: SlowStartOptions): SlowStartConfig {
  const bad = (name: string, v: unknown, want: string): never => {
    throw new EndpointConfigError("BAD_OPTION", `slowStart.${name} must be ${want}, got ${JSON.stringify(v)}`);
  };
  if (typeof o !== "object" || o === null) bad("", o, "an object with windowMs");
  const { windowMs, aggression = 1, minWeightPercent = 10 } = o;
  if (typeof windowMs !== "number" || !(windowMs > 0) || !Number.isFinite(windowMs)) bad("windowMs", windowMs, "a finite number > 0");
  if (typeof aggression !== "number" || !(aggression > 0) || !Number.isFinite(aggression)) bad("aggression", aggression, "a finite number > 0");
  if (typeof minWeightPercent !== "number" || !(minWeightPercent >= 0 && minWeightPercent <= 100)) bad("minWeightPercent", minWeightPercent, "a number in [0, 100]");
  return { windowMs, aggression, minWeightPercent };
}

/** The weight factor in (0, 1] of an endpoint ready for `sinceReadyMs` ms. */
export function slowStartFactor(c: SlowStartConfig, sinceReadyMs: number): number {
  if (sinceReadyMs >= c.windowMs) return 1;
  const t = Math.max(sinceReadyMs, 1) / c.windowMs;
  const f = c.aggression === 1 ? t : t ** (1 / c.aggression);
  return Math.min(1, Math.max(c.minWeightPercent / 100, f));
}
