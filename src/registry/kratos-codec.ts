/**
 * Pure conversions between Kratos service instances and Pods, byte-compatible
 * with go-kratos/kratos `contrib/registry/kubernetes/registry.go`
 * (`getServiceInstanceFromPod`, `Register`, `getProtocolMapByEndpoints`).
 * No I/O: everything here is a function of its arguments.
 *
 * @module
 */
import type { PodRecord } from "../kube/pod-record.ts";
import {
  KRATOS_ANNOTATION_METADATA,
  KRATOS_ANNOTATION_PROTOCOLS,
  KRATOS_LABEL_APP,
  KRATOS_LABEL_ID,
  KRATOS_LABEL_VERSION,
  projectKratosPod,
} from "./kratos-pods.ts";
import type { Pod } from "../kube/wire.ts";
import { RegistryError } from "./errors.ts";
import { goJsonString, goJsonStringMap } from "./go-json.ts";
import { protocolsFromEndpoints } from "./kratos-endpoints.ts";

export { endpointSchemePort, protocolsFromEndpoints } from "./kratos-endpoints.ts";

/** A service instance, the same shape as Go Kratos's `registry.ServiceInstance`. */
export interface ServiceInstance {
  /** Instance ID (label `kratos-service-id`, usually the Pod name). */
  id: string;
  /** Service name (label `kratos-service-app`), e.g. `sayhello.service`. */
  name: string;
  /** Version (label `kratos-service-version`). */
  version: string;
  /** String metadata (annotation `kratos-service-metadata`), e.g. `weight`, `region`. */
  metadata: Record<string, string>;
  /** Endpoint URLs such as `grpc://10.1.2.3:9000` (IPv6 in brackets). */
  endpoints: string[];
}

/**
 * Which pods count as instances.
 * - `"ready"` (default): phase Running, condition Ready=True, no deletionTimestamp;
 *   a pod leaves at the MODIFIED event that starts its graceful deletion.
 * - `"kratos"`: exactly Go Kratos's rule, phase Running only (it keeps routing
 *   to unready and terminating pods).
 */
export type Selection = "ready" | "kratos";

/** Why a pod gives no instance. Only `bad-*` and `no-ip` are worth reporting. */
export type SkipCode = "not-registered" | "not-selected" | "no-ip" | "bad-metadata" | "bad-protocols" | "bad-object";

/** The outcome of reading one pod: an instance, or why not. */
export type InstanceResult =
  | { readonly ok: true; readonly instance: ServiceInstance }
  | { readonly ok: false; readonly code: SkipCode; readonly reason: string };

/** True for skip codes that mean a malformed pod (reported through `onSkippedPod`). */
export function isMalformed(code: SkipCode): boolean {
  return code === "no-ip" || code === "bad-metadata" || code === "bad-protocols" || code === "bad-object";
}

/** Whether a pod passes the selection rule (see {@link Selection}). */
export function isSelected(pod: PodRecord, selection: Selection = "ready"): boolean {
  if (pod.phase !== "Running") return false;
  return selection === "kratos" || (pod.ready && !pod.terminating);
}

/** Annotation values Go Kratos treats as "none" (`isEmptyObjectString`). */
const EMPTY_SPELLINGS: ReadonlySet<string> = new Set(["", "{}", "null", "nil", "[]"]);

function setOwn(target: Record<string, string>, key: string, value: string): void {
  if (key === "__proto__") Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/**
 * Parses a `kratos-service-metadata` or `kratos-service-protocols` annotation
 * as Go Kratos does (json-iterator into `map[string]string`): the "empty"
 * spellings give `{}`, JSON `null` values give `""`, anything but an object of
 * strings is an error (returned as a string).
 */
export function parseStringMapAnnotation(raw: string | undefined): Record<string, string> | string {
  const out: Record<string, string> = {};
  if (raw === undefined || EMPTY_SPELLINGS.has(raw)) return out;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (e) {
    return `invalid JSON (${e instanceof Error ? e.message : String(e)})`;
  }
  if (value === null) return out;
  if (typeof value !== "object" || Array.isArray(value)) return `expected a JSON object, got ${Array.isArray(value) ? "an array" : typeof value}`;
  for (const [k, v] of Object.entries(value)) {
    if (v === null) setOwn(out, k, "");
    else if (typeof v === "string") setOwn(out, k, v);
    else return `value of ${JSON.stringify(k)} is a ${Array.isArray(v) ? "array" : typeof v}, not a string`;
  }
  return out;
}

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const HEX16 = /^[0-9A-Fa-f]{1,4}$/;

/**
 * Whether `s` is an IP literal as Go's `net.ParseIP` accepts one for a pod IP:
 * dotted-quad IPv4 without leading zeros, or IPv6 (`::` compression, optional
 * IPv4 tail), no zone and no brackets.
 */
export function isIpLiteral(s: string): boolean {
  if (IPV4.test(s)) return true;
  if (s.length > 45 || !s.includes(":")) return false;
  let groups = 8;
  let body = s;
  const lastColon = s.lastIndexOf(":");
  if (s.slice(lastColon + 1).includes(".")) {
    if (!IPV4.test(s.slice(lastColon + 1))) return false;
    groups = 6;
    body = s.slice(0, lastColon + 1) + "0";
    groups += 1; // the placeholder "0" stands for the IPv4 tail's first half
  }
  const halves = body.split("::");
  if (halves.length > 2) return false;
  const parts = halves.map((h) => (h === "" ? [] : h.split(":")));
  if (!parts.every((p) => p.every((g) => HEX16.test(g)))) return false;
  const count = parts.reduce((n, p) => n + p.length, 0);
  return halves.length === 2 ? count < groups : count === groups;
}

/** `scheme://` + `net.JoinHostPort` (IPv6 in brackets) as one flat string (`+` would keep every piece). */
export function endpointUrl(scheme: string, host: string, port: number): string {
  return host.includes(":") ? [scheme, "://[", host, "]:", port].join("") : [scheme, "://", host, ":", port].join("");
}

/**
 * Reads a cached pod as Go Kratos's `getServiceInstanceFromPod` does, without
 * applying a selection rule. Pods without a `kratos-service-app` label value
 * (never registered, or deregistered by Go Kratos, which blanks the labels)
 * are `not-registered`. A pod without an IP, or with a malformed annotation,
 * is skipped with the reason instead of failing the whole service.
 */
export function instanceFromRecord(pod: PodRecord): InstanceResult {
  return readInstance(pod, parseStringMapAnnotation);
}

/** {@link instanceFromRecord} with the annotation parser given (internal: discovery passes one that shares equal maps). */
export function readInstance(pod: PodRecord, parseMap: (raw: string | undefined) => Readonly<Record<string, string>> | string): InstanceResult {
  const name = pod.labels[KRATOS_LABEL_APP];
  if (name === undefined || name === "") return { ok: false, code: "not-registered", reason: `label ${KRATOS_LABEL_APP} is empty or missing` };
  const ip = pod.podIPs[0];
  if (ip === undefined) return { ok: false, code: "no-ip", reason: "pod has no IP (status.podIP is empty)" };
  // The API server validates pod IPs; anything else came from a hostile or broken source and must never become a host to dial.
  if (!isIpLiteral(ip)) return { ok: false, code: "no-ip", reason: `pod IP ${JSON.stringify(ip.slice(0, 64))} is not an IPv4 or IPv6 address` };
  const metadata = parseMap(pod.annotations?.[KRATOS_ANNOTATION_METADATA]);
  if (typeof metadata === "string") return { ok: false, code: "bad-metadata", reason: `annotation ${KRATOS_ANNOTATION_METADATA}: ${metadata}` };
  const protocols = parseMap(pod.annotations?.[KRATOS_ANNOTATION_PROTOCOLS]);
  if (typeof protocols === "string") return { ok: false, code: "bad-protocols", reason: `annotation ${KRATOS_ANNOTATION_PROTOCOLS}: ${protocols}` };
  // `map`, not `push`: an exact-size array (a pushed-to one keeps 17 slots), kept by every instance.
  const endpoints = pod.ports.map((p) => {
    // Order of Go Kratos: the annotation's entry, else the port name up to its
    // first "-", else the port protocol (TCP).
    let scheme = Object.hasOwn(protocols, String(p.port)) ? protocols[String(p.port)]! : "";
    if (scheme === "") scheme = p.name !== undefined ? p.name.split("-")[0]! : p.protocol;
    return endpointUrl(scheme, ip, p.port);
  });
  return {
    ok: true,
    instance: {
      id: pod.labels[KRATOS_LABEL_ID] ?? "",
      name,
      version: pod.labels[KRATOS_LABEL_VERSION] ?? "",
      metadata: metadata as Record<string, string>,
      endpoints,
    },
  };
}

/** {@link instanceFromRecord} behind the {@link Selection} rule (`not-selected` when it fails). */
export function selectInstance(pod: PodRecord, selection: Selection = "ready"): InstanceResult {
  if (!isSelected(pod, selection)) {
    return { ok: false, code: "not-selected", reason: `phase ${pod.phase || "(none)"}, ready ${pod.ready}, terminating ${pod.terminating}` };
  }
  return instanceFromRecord(pod);
}

/** {@link selectInstance} on a Pod as read from the API (projected first). */
export function instanceFromPod(pod: Pod, selection: Selection = "ready"): InstanceResult {
  const record = projectKratosPod(pod);
  if (typeof record === "string") return { ok: false, code: "bad-object", reason: record };
  return selectInstance(record, selection);
}

/** Kubernetes label value syntax (apimachinery `validation.IsValidLabelValue`). */
const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
/** apimachinery `validation.LabelValueMaxLength`. */
const LABEL_VALUE_MAX = 63;

/** Returns why `value` is not a valid label value, or undefined when it is. */
export function labelValueProblem(value: unknown): string | undefined {
  if (typeof value !== "string") return `must be a string, got ${typeof value}`;
  if (value.length > LABEL_VALUE_MAX) return `must be at most ${LABEL_VALUE_MAX} characters, got ${value.length}`;
  if (!LABEL_VALUE.test(value)) {
    return "must be empty or consist of alphanumerics, '-', '_' or '.', and start and end with an alphanumeric";
  }
  return undefined;
}

/**
 * Checks that an instance can be written to a Pod: the three label values are
 * valid Kubernetes label values, metadata values are strings, endpoints parse.
 * Throws a {@link RegistryError} `INVALID_INSTANCE` naming the field.
 */
export function validateInstance(instance: ServiceInstance): void {
  if (instance === null || typeof instance !== "object") throw new RegistryError("INVALID_INSTANCE", "service instance must be an object");
  const labels: [string, unknown][] = [
    [KRATOS_LABEL_ID, instance.id],
    [KRATOS_LABEL_APP, instance.name],
    [KRATOS_LABEL_VERSION, instance.version],
  ];
  for (const [key, value] of labels) {
    const problem = labelValueProblem(value);
    if (problem !== undefined) {
      throw new RegistryError("INVALID_INSTANCE", `label ${key}=${JSON.stringify(value)} is not a valid Kubernetes label value: ${problem}`);
    }
  }
  if (instance.name === "") throw new RegistryError("INVALID_INSTANCE", `label ${KRATOS_LABEL_APP} (the service name) must not be empty`);
  const metadata: unknown = instance.metadata ?? {};
  if (typeof metadata !== "object" || metadata === null) throw new RegistryError("INVALID_INSTANCE", "metadata must be an object of strings");
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== "string") throw new RegistryError("INVALID_INSTANCE", `metadata ${JSON.stringify(k)} is a ${typeof v}, not a string`);
  }
  if (!Array.isArray(instance.endpoints)) throw new RegistryError("INVALID_INSTANCE", "endpoints must be an array of strings");
  protocolsFromEndpoints(instance.endpoints);
}

/** The labels and annotations Go Kratos's `Register` writes for an instance (validated first). */
export function registrationMetadata(instance: ServiceInstance): {
  labels: Record<string, string>;
  annotations: Record<string, string>;
} {
  validateInstance(instance);
  return {
    labels: {
      [KRATOS_LABEL_APP]: instance.name,
      [KRATOS_LABEL_ID]: instance.id,
      [KRATOS_LABEL_VERSION]: instance.version,
    },
    annotations: {
      [KRATOS_ANNOTATION_METADATA]: goJsonStringMap(instance.metadata ?? {}),
      [KRATOS_ANNOTATION_PROTOCOLS]: goJsonStringMap(protocolsFromEndpoints(instance.endpoints)),
    },
  };
}

/**
 * The strategic merge patch body registering `instance`, byte for byte as Go
 * Kratos marshals it: `{"metadata":{"labels":{…},"annotations":{…}}}`, keys
 * sorted, no spaces. (Go's `metav1.ObjectMeta` also emits
 * `"creationTimestamp":null`, which the apiserver ignores on update; it is
 * left out here.) Throws `INVALID_INSTANCE` before anything is sent.
 */
export function registerPatchBody(instance: ServiceInstance): string {
  const { labels, annotations } = registrationMetadata(instance);
  return `{"metadata":{"labels":${goJsonStringMap(labels)},"annotations":${goJsonStringMap(annotations)}}}`;
}

/**
 * The strategic merge patch body deregistering: the three labels and two
 * annotations set to `null`, which removes them (Go Kratos instead blanks
 * them to `""` and `{}`; discovery treats both the same).
 */
export function deregisterPatchBody(): string {
  const nul = (keys: string[]): string => `{${keys.map((k) => `${goJsonString(k)}:null`).join(",")}}`;
  return `{"metadata":{"labels":${nul([KRATOS_LABEL_APP, KRATOS_LABEL_ID, KRATOS_LABEL_VERSION])},"annotations":${nul([KRATOS_ANNOTATION_METADATA, KRATOS_ANNOTATION_PROTOCOLS])}}}`;
}
