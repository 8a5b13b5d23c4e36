/**
 * The projection of a Pod that a cache keeps: identity, labels, the
 * annotations the caller asks for, phase, readiness, IPs and container ports,
 * so that a cached pod costs well under 1 KB of heap instead of the ~5 KB of
 * JSON (and ~19 KB of objects) a full Pod takes.
 *
 * Which annotations are kept is the caller's choice (the registry keeps the
 * two it reads); no other vocabulary is known here.
 *
 * @module
 */
import type { ObjectRecord } from "./resource.ts";
import type { Pod } from "./wire.ts";

/** One container port, as discovery needs it. */
export interface PodPort {
  readonly name: string | undefined;
  readonly port: number;
  /** `TCP`, `UDP` or `SCTP`; `TCP` when the spec leaves it out. */
  readonly protocol: string;
}

/** A cached pod, immutable. Replaced as a whole on every change. */
export interface PodRecord extends ObjectRecord {
  /** All labels of the pod (string values only). */
  readonly labels: Readonly<Record<string, string>>;
  /** The annotations the projection was asked to keep (string values only). */
  readonly annotations: Readonly<Record<string, string>>;
  /** `status.phase`, `""` when absent. */
  readonly phase: string;
  /** The `Ready` condition is `"True"`. */
  readonly ready: boolean;
  /** `metadata.deletionTimestamp` is set: graceful deletion has started. */
  readonly terminating: boolean;
  /** `status.podIPs` (or `status.podIP`), in order; may be empty. */
  readonly podIPs: readonly string[];
  /** Container ports over all containers, in spec order. */
  readonly ports: readonly PodPort[];
}

/** Options of {@link projectPod}. */
export interface ProjectPodOptions {
  /** Annotation keys to keep, or `"all"`; default none. */
  readonly annotations?: readonly string[] | "all" | undefined;
}

const EMPTY: Readonly<Record<string, string>> = Object.freeze({});

function setOwn(target: Record<string, string>, key: string, value: string): void {
  if (key === "__proto__") Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function stringMap(value: unknown, keep?: readonly string[] | "all"): Readonly<Record<string, string>> {
  if (value === null || typeof value !== "object" || keep === undefined) return EMPTY;
  let out: Record<string, string> | undefined;
  if (keep === "all") {
    for (const [k, v] of Object.entries(value)) if (typeof v === "string") setOwn((out ??= {}), k, v);
  } else {
    for (const k of keep) {
      if (!Object.hasOwn(value, k)) continue;
      const v = (value as Record<string, unknown>)[k];
      if (typeof v === "string") setOwn((out ??= {}), k, v);
    }
  }
  return out ?? EMPTY;
}

/**
 * Projects a Pod read from the API into a {@link PodRecord}.
 *
 * Returns an error string instead of throwing when the object cannot be a pod
 * at all (no name or namespace); every other oddity (missing status, ports
 * without numbers) is tolerated, so one strange pod never stops the cache.
 */
export function projectPod(pod: Pod, options: ProjectPodOptions = {}): PodRecord | string {
  const meta = pod?.metadata;
  if (meta === null || typeof meta !== "object") return "object has no metadata";
  const { name, namespace } = meta;
  if (typeof name !== "string" || name === "") return "metadata.name is missing";
  if (typeof namespace !== "string" || namespace === "") return "metadata.namespace is missing";
  const status = pod.status && typeof pod.status === "object" ? pod.status : undefined;
  const ips: string[] = [];
  if (Array.isArray(status?.podIPs)) {
    for (const entry of status.podIPs) {
      if (entry && typeof entry.ip === "string" && entry.ip !== "") ips.push(entry.ip);
    }
  }
  if (ips.length === 0 && typeof status?.podIP === "string" && status.podIP !== "") ips.push(status.podIP);
  const ports: PodPort[] = [];
  const containers = pod.spec && Array.isArray(pod.spec.containers) ? pod.spec.containers : [];
  for (const c of containers) {
    if (!c || !Array.isArray(c.ports)) continue;
    for (const p of c.ports) {
      if (!p || typeof p.containerPort !== "number") continue;
      ports.push({
        name: typeof p.name === "string" && p.name !== "" ? p.name : undefined,
        port: p.containerPort,
        protocol: typeof p.protocol === "string" && p.protocol !== "" ? p.protocol : "TCP",
      });
    }
  }
  let ready = false;
  if (Array.isArray(status?.conditions)) {
    for (const c of status.conditions) if (c && c.type === "Ready") ready = c.status === "True";
  }
  return {
    namespace,
    name,
    uid: typeof meta.uid === "string" ? meta.uid : "",
    resourceVersion: typeof meta.resourceVersion === "string" ? meta.resourceVersion : "",
    labels: stringMap(meta.labels, "all"),
    annotations: stringMap(meta.annotations, options.annotations),
    phase: typeof status?.phase === "string" ? status.phase : "",
    ready,
    terminating: meta.deletionTimestamp !== undefined && meta.deletionTimestamp !== null,
    podIPs: ips,
    ports,
  };
}
