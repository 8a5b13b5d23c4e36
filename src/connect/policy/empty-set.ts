/**
 * What an empty instance list from discovery means. A synced Kubernetes
 * watch is authoritative: after a Service scaled to zero its list is empty,
 * and the Pod IPs it held may already belong to other Pods, so calls must
 * not go there (go-kratos/kratos#2641 shows what keeping them costs). A list
 * from a watch that is not synced yet or failing may be stale, and keeping
 * the last endpoints is then the better bet (what Kratos always does).
 *
 * @module
 */
import { EndpointConfigError, type InstanceWatcherState } from "../endpoint-source.ts";

/**
 * The transport's `emptySet` option: `"fail"` (default) drops every
 * endpoint on an empty list from a synced watch, so calls wait up to
 * `resolveTimeoutMs` for a scale-up and then fail with `Unavailable`;
 * `"keep-last"` always keeps the last endpoints, as Kratos does.
 */
export type EmptySetPolicy = "fail" | "keep-last";

/** Why an empty list was not applied, or `undefined` when it replaces the endpoints. */
export function keepLastReason(policy: EmptySetPolicy, state: InstanceWatcherState | undefined): string | undefined {
  if (policy === "keep-last") return "emptySet is \"keep-last\"";
  if (state === "synced") return undefined;
  // Sources that do not say (custom ones) keep the Kratos behaviour: their empty list may be a hiccup.
  return state === undefined ? "the discovery source does not report whether it is synced" : `discovery is ${state}`;
}

/** Checks the option, naming a bad value. */
export function emptySetPolicy(v: unknown): EmptySetPolicy {
  if (v === undefined) return "fail";
  if (v === "fail" || v === "keep-last") return v;
  throw new EndpointConfigError("BAD_OPTION", `emptySet must be "fail" or "keep-last", got ${JSON.stringify(v)}`);
}
