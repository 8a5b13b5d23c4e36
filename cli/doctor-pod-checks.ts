/**
 * Pure doctor checks over the pods of a service, each failure with its own
 * fix: are any Running and Ready (`ready`), do the kratos annotations parse
 * (`annotations`), does each pod carry a grpc endpoint the transport would
 * dial (`protocols`), and is a Ready pod stuck terminating (`terminating`).
 *
 * @module
 */
import type { Pod, PodRecord } from "../src/kube/index.ts";
import { KRATOS_ANNOTATION_METADATA, KRATOS_ANNOTATION_PROTOCOLS } from "../src/index.ts";
import { instanceFromRecord, parseStringMapAnnotation } from "../src/index.ts";
import { routableAddress } from "../src/connect/index.ts";
import type { Exclusion, InstanceRow } from "./instance-rows.ts";

/** The verdict of one check: WARN is shown but does not fail doctor. */
export type Verdict = "PASS" | "WARN" | "FAIL" | "SKIP";

/** One check's outcome. */
export interface Check {
  readonly name: string;
  readonly verdict: Verdict;
  /** What was found. */
  readonly detail: string;
  /** What to do (WARN, FAIL and SKIP only); may span several lines. */
  readonly fix?: string | undefined;
}

/** The exclusions the `ready` check is about: the selection rule and a missing IP. */
const NOT_READY: ReadonlySet<Exclusion | undefined> = new Set(["phase", "terminating", "not-ready", "no-ip"]);

/** What to do about a pod left out for `code`; each reason has its own advice. */
export function exclusionFix(code: Exclusion, rows: readonly InstanceRow[]): string {
  const first = rows[0];
  const describe = first ? `kubectl describe pod ${first.pod} -n ${first.namespace}` : "kubectl describe pod";
  switch (code) {
    case "phase": {
      const pending = rows.some((r) => r.phase === "Pending" || r.phase === "");
      return pending
        ? `a Pending pod is not scheduled or not started yet: ${describe} (Events: scheduling, image pulls, volumes)`
        : `the pod's containers exited (phase ${first?.phase ?? "Failed"}): kubectl logs ${first?.pod ?? "<pod>"} -n ${first?.namespace ?? "<namespace>"} --previous`;
    }
    case "not-ready":
      return `its readiness probe fails or it is still starting: ${describe} (Events: probe failures, restarts)`;
    case "terminating":
      return "it is being deleted (a rollout or scale-down); discovery drops it at once and its replacement takes calls once Ready";
    case "no-ip":
      return `the pod has no usable IP yet (not scheduled, or its network sandbox failed): ${describe}`;
    case "bad-metadata":
      return `annotation ${KRATOS_ANNOTATION_METADATA} must be a JSON object of strings, e.g. '{"region":"eu-west-1"}': fix it in the Pod template or in the metadata given to register()`;
    case "bad-protocols":
      return `annotation ${KRATOS_ANNOTATION_PROTOCOLS} must be a JSON object of port → scheme, e.g. '{"9000":"grpc"}': fix it in the Pod template or in the endpoints given to register()`;
    case "no-endpoint":
      return `annotate the pod ${KRATOS_ANNOTATION_PROTOCOLS}: '{"9000":"grpc"}' or name the container port "grpc"`;
  }
}

/** PASS when at least one pod is Running, Ready, not terminating and has an IP; names the pods left out, with a fix per reason. */
export function readyCheck(rows: readonly InstanceRow[]): Check {
  const left = rows.filter((r) => NOT_READY.has(r.exclusion));
  const ok = rows.length - left.length;
  const issues = left.map((r) => `${r.pod}: ${r.excluded}`);
  if (ok === 0) {
    const codes = [...new Set(left.map((r) => r.exclusion).filter((c): c is Exclusion => c !== undefined))];
    return {
      name: "ready",
      verdict: "FAIL",
      detail: `none of ${rows.length} pods is Running and Ready: ${issues.join("; ")}`,
      fix: `discovery uses only Running, Ready pods that are not terminating. ${codes.map((c) => exclusionFix(c, left.filter((r) => r.exclusion === c))).join("; ")}`,
    };
  }
  return {
    name: "ready",
    verdict: "PASS",
    detail: `${ok} of ${rows.length} pods Running and Ready${issues.length ? `; left out: ${issues.join("; ")}` : ""}`,
  };
}

/** FAIL when a pod's kratos annotations do not parse: discovery skips such a pod whatever its state. */
export function annotationsCheck(pods: readonly PodRecord[]): Check {
  const bad: { pod: PodRecord; code: "bad-metadata" | "bad-protocols"; reason: string }[] = [];
  for (const p of pods) {
    const metadata = parseStringMapAnnotation(p.annotations[KRATOS_ANNOTATION_METADATA]);
    if (typeof metadata === "string") bad.push({ pod: p, code: "bad-metadata", reason: `annotation ${KRATOS_ANNOTATION_METADATA}: ${metadata}` });
    const protocols = parseStringMapAnnotation(p.annotations[KRATOS_ANNOTATION_PROTOCOLS]);
    if (typeof protocols === "string") bad.push({ pod: p, code: "bad-protocols", reason: `annotation ${KRATOS_ANNOTATION_PROTOCOLS}: ${protocols}` });
  }
  if (bad.length === 0) return { name: "annotations", verdict: "PASS", detail: `the kratos-service-* annotations of every pod parse` };
  const codes = [...new Set(bad.map((b) => b.code))];
  return {
    name: "annotations",
    verdict: "FAIL",
    detail: `discovery skips ${bad.map((b) => `${b.pod.name} (${b.reason})`).join("; ")}`,
    fix: codes.map((c) => exclusionFix(c, [])).join("; "),
  };
}

/**
 * PASS when every pod yields an endpoint the gRPC transport dials (a
 * `grpc://` endpoint, decided by `routableAddress`, the transport's own
 * rule). Also returns `grpc://address` of each routable pod, for the
 * reachability probes.
 */
export function protocolsCheck(pods: readonly PodRecord[], rows: readonly InstanceRow[]): { check: Check; grpcEndpoints: string[] } {
  const issues: string[] = [];
  let checked = 0;
  for (const p of pods) {
    const inst = instanceFromRecord(p);
    if (!inst.ok) continue; // no IP or bad annotations: the ready and annotations checks name those
    checked++;
    if (routableAddress(inst.instance.endpoints, { protocol: "grpc" }) !== undefined) continue;
    const parsed = parseStringMapAnnotation(p.annotations[KRATOS_ANNOTATION_PROTOCOLS]);
    const has = typeof parsed !== "string" && Object.keys(parsed).length > 0;
    const secureOnly = routableAddress(inst.instance.endpoints, { protocol: "grpc", secure: true }) !== undefined;
    issues.push(
      `${p.name}: no grpc endpoint (${inst.instance.endpoints.join(", ") || "no container ports"}${has ? `; annotation ${KRATOS_ANNOTATION_PROTOCOLS} is ${p.annotations[KRATOS_ANNOTATION_PROTOCOLS]}` : `; no ${KRATOS_ANNOTATION_PROTOCOLS} annotation`}${secureOnly ? "; grpcs only: the transport needs secure: true, and doctor probes h2c only" : ""})`,
    );
  }
  const grpcEndpoints = rows.filter((r) => r.included && r.address !== undefined).map((r) => `grpc://${r.address}`);
  if (issues.length > 0) {
    const port = pods[0]?.ports[0]?.port ?? 9000;
    return {
      grpcEndpoints,
      check: {
        name: "protocols",
        verdict: "FAIL",
        detail: issues.join("; "),
        fix: `the gRPC transport dials only grpc:// endpoints: annotate the pod ${KRATOS_ANNOTATION_PROTOCOLS}: '{"${port}":"grpc"}' (register() writes it from endpoints like grpc://0.0.0.0:${port}), or name the container port "grpc"`,
      },
    };
  }
  if (checked === 0) {
    return { grpcEndpoints, check: { name: "protocols", verdict: "SKIP", detail: "skipped: no pod yields an instance to look at (see the annotations and ready checks)", fix: "fix the failed checks above first" } };
  }
  const shown = grpcEndpoints.length ? `: ${grpcEndpoints.slice(0, 4).join(", ")}${grpcEndpoints.length > 4 ? ", …" : ""}` : "";
  return { grpcEndpoints, check: { name: "protocols", verdict: "PASS", detail: `every pod has a grpc endpoint${shown}` } };
}

/**
 * Flags pods that are still Ready while being deleted. kratos-kube drops them
 * at once, but Go Kratos clients (phase Running only) keep calling them, so
 * their server must keep serving until it exits: WARN while the grace period
 * runs, FAIL once it is over (a finalizer or an unreachable node keeps the
 * pod, and Go Kratos clients keep routing to it).
 */
export function terminatingCheck(pods: readonly Pod[], nowMs: number): Check {
  const within: string[] = [];
  const stuck: string[] = [];
  for (const p of pods) {
    const at = p.metadata?.deletionTimestamp;
    if (typeof at !== "string") continue;
    const ready = p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
    if (!ready) continue;
    const name = p.metadata?.name ?? "?";
    const left = Math.round((Date.parse(at) - nowMs) / 1000);
    if (Number.isFinite(left) && left < 0) {
      const f = p.metadata?.["finalizers"];
      const finalizers = Array.isArray(f) ? f.filter((x): x is string => typeof x === "string") : [];
      stuck.push(`${name}: grace period ended ${-left} s ago${finalizers.length ? `; finalizers ${finalizers.join(", ")}` : ""}`);
    } else within.push(`${name}: deletion requested, ${Number.isFinite(left) ? `${left} s` : "some time"} of grace left`);
  }
  if (stuck.length > 0) {
    return {
      name: "terminating",
      verdict: "FAIL",
      detail: `Ready but stuck terminating: ${stuck.join("; ")}`,
      fix: "kratos-kube no longer routes to them, but Go Kratos clients (phase Running only) still do: remove the finalizer that holds them, or check the node (kubectl get node; a pod on an unreachable node stays until the node returns or is deleted)",
    };
  }
  if (within.length > 0) {
    return {
      name: "terminating",
      verdict: "WARN",
      detail: `Ready but terminating: ${within.join("; ")}`,
      fix: "kratos-kube clients already dropped them; Go Kratos clients (phase Running only) keep calling until the pod exits, so its server must serve until then (a preStop pause, then drain on SIGTERM)",
    };
  }
  return { name: "terminating", verdict: "PASS", detail: "no Ready pod is terminating" };
}
