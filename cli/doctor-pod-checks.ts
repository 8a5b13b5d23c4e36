/**
 * Pure doctor checks over the pods of a service: are any routable (phase and
 * Ready), and does each carry a grpc endpoint (the protocols annotation, or a
 * port named `grpc`)?
 *
 * @module
 */
import { KRATOS_ANNOTATION_PROTOCOLS, type PodRecord } from "../src/kube/index.ts";
import { instanceFromRecord, parseStringMapAnnotation } from "../src/index.ts";
import type { InstanceRow } from "./instance-rows.ts";

/** The verdict of one check. */
export type Verdict = "PASS" | "FAIL" | "SKIP";

/** One check's outcome. */
export interface Check {
  readonly name: string;
  readonly verdict: Verdict;
  /** What was found. */
  readonly detail: string;
  /** What to do (FAIL and SKIP only). */
  readonly fix?: string | undefined;
}

/** PASS when at least one pod is Running, Ready and not terminating; names the pods left out and why. */
export function readyCheck(rows: readonly InstanceRow[]): Check {
  const routable = rows.filter((r) => r.included);
  const issues = rows.filter((r) => !r.included).map((r) => `${r.pod}: ${r.excluded}`);
  if (routable.length === 0) {
    return {
      name: "ready",
      verdict: "FAIL",
      detail: `none of ${rows.length} pods is routable: ${issues.join("; ")}`,
      fix: "discovery uses only Running, Ready pods that are not terminating: check `kubectl describe pod` for failing readiness probes or crash loops",
    };
  }
  return {
    name: "ready",
    verdict: "PASS",
    detail: `${routable.length} of ${rows.length} pods Running and Ready${issues.length ? `; left out: ${issues.join("; ")}` : ""}`,
  };
}

/**
 * PASS when every pod yields a `grpc://` (or `grpcs://`) endpoint, the only
 * kind the gRPC resolver uses. Also returns the grpc endpoints of the
 * routable pods, for the reachability probes.
 */
export function protocolsCheck(pods: readonly PodRecord[], rows: readonly InstanceRow[]): { check: Check; grpcEndpoints: string[] } {
  const issues: string[] = [];
  const grpcEndpoints: string[] = [];
  for (const p of pods) {
    const inst = instanceFromRecord(p);
    if (!inst.ok) {
      if (inst.code !== "no-ip") issues.push(`${p.name}: ${inst.reason}`);
      continue;
    }
    const grpc = inst.instance.endpoints.filter((e) => e.startsWith("grpc://") || e.startsWith("grpcs://"));
    if (grpc.length === 0) {
      const parsed = parseStringMapAnnotation(p.protocols);
      const has = typeof parsed !== "string" && Object.keys(parsed).length > 0;
      issues.push(
        `${p.name}: no grpc endpoint (${inst.instance.endpoints.join(", ") || "no container ports"}${has ? `; annotation ${KRATOS_ANNOTATION_PROTOCOLS} is ${p.protocols}` : `; no ${KRATOS_ANNOTATION_PROTOCOLS} annotation`})`,
      );
    } else if (rows.find((r) => r.pod === p.name && r.namespace === p.namespace)?.included) {
      grpcEndpoints.push(...grpc);
    }
  }
  if (issues.length > 0) {
    const port = pods[0]?.ports[0]?.port ?? 9000;
    return {
      grpcEndpoints,
      check: {
        name: "protocols",
        verdict: "FAIL",
        detail: issues.join("; "),
        fix: `the gRPC resolver uses only grpc:// (or grpcs://) endpoints: annotate the pod ${KRATOS_ANNOTATION_PROTOCOLS}: '{"${port}":"grpc"}' (register() writes it from endpoints like grpc://0.0.0.0:${port}), or name the container port "grpc"`,
      },
    };
  }
  const shown = grpcEndpoints.length ? `: ${grpcEndpoints.slice(0, 4).join(", ")}${grpcEndpoints.length > 4 ? ", …" : ""}` : "";
  return { grpcEndpoints, check: { name: "protocols", verdict: "PASS", detail: `every pod has a grpc endpoint${shown}` } };
}
