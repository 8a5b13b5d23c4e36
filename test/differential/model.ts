/**
 * What a differential case is: setup steps, one request (or watch), and how
 * its answer is viewed. The same case runs against the fake and the real
 * kube-apiserver, each in a fresh namespace of the same name.
 *
 * Paths and bodies are templates: `{ns}` the case's namespace, `{pods}` its
 * pods collection path, `{rv:S}` / `{uid:S}` / `{continue:S}` the
 * resourceVersion, uid or continue token of setup step `S`'s answer, and
 * `{rv:S+N}` that resourceVersion plus N (a future one).
 */
import type { MakePodOptions } from "../../src/testing/index.ts";
import { podForCreate } from "../support/kubelet.ts";

/** Who sends a request: the admin (`system:masters`), alice (no rights), or nobody (no token). */
export type Who = "admin" | "alice" | "nobody" | "stranger";

/** One request, templated. */
export interface Req {
  method?: string;
  path: string;
  body?: unknown;
  contentType?: string;
  accept?: string;
  who?: Who;
}

/** A setup step: a request whose answer is remembered under `name`. */
export interface Step extends Req {
  name?: string;
  /** Accept a non-2xx answer (default: the step must succeed). */
  mayFail?: boolean;
}

/** When a watch case stops reading. */
export type Until =
  /** The server ends the stream (timeoutSeconds, an ERROR event). */
  | "end"
  /** The BOOKMARK carrying the initial-events-end annotation. */
  | "initial-events-end"
  /** An event whose object is the pod of this name (a sentinel written last). */
  | { pod: string };

/** How an answer is turned into what is compared (default: the whole normalised body). */
export type ViewKind = "body" | "discovery" | "version" | "status-only";

/** One differential case. */
export interface Case {
  /** Unique, `area/what`. */
  id: string;
  /** What it checks, for the report. */
  title?: string;
  setup?: Step[];
  /**
   * Runs on a real control plane of its own whose etcd compacts every second
   * and whose watch cache was restarted (so revisions from before the case
   * are too old for it, as they are for a fresh fake). `compacted` also
   * forgets the history before the last setup step (which must be a write):
   * the fake compacts, the real side waits until the revision before that
   * step is gone.
   */
  history?: "restarted" | "compacted";
  request: Req;
  /** Runs after the others, one at a time: its answer depends on what else changes pods meanwhile (periodic bookmarks). */
  alone?: boolean;
  /**
   * Makes `request` a watch. Periodic bookmarks (all but the initial-events-end
   * one) are compared only with `bookmarks: "compare"`: the real watch cache
   * sends them on a one-second timer, so elsewhere whether one falls between
   * two events is a matter of timing.
   */
  watch?: { during?: Step[]; until: Until; bookmarks?: "compare" };
  view?: ViewKind;
}

const POD_DEFAULTS = { app: "diff", ip: null } as const;

/** The body of a pod created by the tests (a kubelet-less pod on a named node). */
export function podBody(name: string, o: Partial<MakePodOptions> & { nodeName?: string | null } = {}): unknown {
  const labels = { "diff-ns": "{ns}", ...o.labels };
  return podForCreate({ ...POD_DEFAULTS, ...o, labels, name, namespace: "{ns}" });
}

/** A step creating pod `name` (remembered under `name`). */
export function create(name: string, o: Partial<MakePodOptions> & { nodeName?: string | null } = {}): Step {
  return { name, method: "POST", path: "{pods}", body: podBody(name, o) };
}

/** A step merge-patching pod `pod`'s labels (remembered under `as`). */
export function relabel(as: string, pod: string, labels: Record<string, string | null>): Step {
  return { name: as, method: "PATCH", path: `{pods}/${pod}`, body: { metadata: { labels } }, contentType: "application/merge-patch+json" };
}

/** A step deleting pod `pod` with a grace period (remembered under `as`). */
export function remove(as: string, pod: string, grace: number): Step {
  return { name: as, method: "DELETE", path: `{pods}/${pod}`, body: { kind: "DeleteOptions", apiVersion: "v1", gracePeriodSeconds: grace } };
}

/** A step writing pod status like a kubelet (remembered under `as`). */
export function running(as: string, pod: string, ip: string, ready = true): Step {
  const s = ready ? "True" : "False";
  return {
    name: as,
    method: "PATCH",
    path: `{pods}/${pod}/status`,
    contentType: "application/merge-patch+json",
    body: {
      status: {
        phase: "Running",
        podIP: ip,
        podIPs: [{ ip }],
        conditions: [
          { type: "Ready", status: s, lastTransitionTime: "2026-01-01T00:00:00Z" },
          { type: "ContainersReady", status: s, lastTransitionTime: "2026-01-01T00:00:00Z" },
        ],
      },
    },
  };
}

/** Three pods a, b, c (app=diff; b and c tier=back), then b relabelled. Steps a, b, c, b2. */
export const THREE_PODS: Step[] = [
  create("a", { labels: { tier: "front" } }),
  create("b", { labels: { tier: "back" } }),
  create("c", { labels: { tier: "back" } }),
  relabel("b2", "b", { touched: "yes" }),
];
