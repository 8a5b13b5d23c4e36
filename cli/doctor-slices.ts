/**
 * The checks of `kratos-kube doctor kubernetes:///service.namespace:port`:
 * RBAC on endpointslices in the target's namespace, the Service's slices,
 * the port in them, ready endpoints, and each endpoint reachable — read with
 * the same merge discovery uses (`createEndpointSet`), so doctor and the
 * transport agree on which endpoints take calls.
 *
 * @module
 */
import type { KubeClient } from "../src/kube/index.ts";
import { endpointSliceResource, ENDPOINT_SLICE_RESOURCE, resourcePath, SERVICE_NAME_LABEL, sliceEndpoints, systemClock, type EndpointSliceRecord, type EndpointSlice } from "../src/kube/index.ts";
import { createEndpointSet, type DiscoveryTarget } from "../src/index.ts";
import { routableAddress } from "../src/connect/index.ts";
import type { Check } from "./doctor-pod-checks.ts";
import type { ProbeResult } from "./probe.ts";
import { rbacManifest } from "./rbac-fix.ts";

/** What the EndpointSlice checks need from the doctor. */
export interface SliceDoctorContext {
  readonly client: KubeClient;
  readonly target: DiscoveryTarget;
  /** The target's namespace, else `--namespace`, else the config's. */
  readonly namespace: string;
  readonly add: (c: Check) => void;
  readonly explain: (error: unknown, what: string) => string;
  readonly probe: (endpoint: string) => Promise<ProbeResult>;
  /** Who we are (SelfSubjectReview, else a 403), for the RBAC fix. */
  readonly identity: (denied: string[]) => Promise<string | undefined>;
  readonly signal?: AbortSignal | undefined;
}

const LATER = ["slices", "port", "ready", "reachable"];

/** Runs the checks after `config`; never throws. */
export async function sliceChecks(ctx: SliceDoctorContext): Promise<void> {
  const { client, target, namespace, add } = ctx;
  const skipRest = (from: string, why: string): void => {
    for (const name of LATER.slice(LATER.indexOf(from))) add({ name, verdict: "SKIP", detail: `skipped: ${why}`, fix: "fix the failed check above first" });
  };
  const signalOpt = ctx.signal ? { signal: ctx.signal } : {};

  // RBAC: list and watch on endpointslices in the target's namespace.
  const denied: string[] = [];
  for (const verb of ["list", "watch"]) {
    try {
      const v = await client.selfSubjectAccessReview({ verb, resource: "endpointslices", group: "discovery.k8s.io", namespace }, signalOpt);
      if (v.allowed) add({ name: `rbac ${verb}`, verdict: "PASS", detail: `can ${verb} endpointslices in ${namespace}` });
      else denied.push(verb);
    } catch (error) {
      add({ name: `rbac ${verb}`, verdict: "FAIL", detail: ctx.explain(error, `ask whether we can ${verb} endpointslices (SelfSubjectAccessReview)`) });
      return skipRest("slices", "RBAC could not be checked");
    }
  }
  if (denied.length > 0) {
    const identity = await ctx.identity(denied);
    const manifest = rbacManifest({ verbs: denied, namespace, identity, resource: "endpointslices" });
    denied.forEach((verb, i) =>
      add({
        name: `rbac ${verb}`,
        verdict: "FAIL",
        detail: `cannot ${verb} endpointslices (discovery.k8s.io) in namespace ${namespace}${identity ? ` as ${identity}` : ""}: discovery of ${target.service} reads its EndpointSlices there`,
        fix: i === 0 ? `grant ${denied.join(", ")} on endpointslices in ${namespace} with one Role and RoleBinding:\n${manifest}` : `the Role printed under rbac ${denied[0]} grants it too`,
      })
    );
    if (denied.includes("list")) return skipRest("slices", "endpointslices cannot be listed with these credentials");
  }

  // The Service's slices.
  let slices: EndpointSlice[];
  try {
    const res = await client.listObjects(ENDPOINT_SLICE_RESOURCE, { namespace, labelSelector: `${SERVICE_NAME_LABEL}=${target.service}`, ...signalOpt });
    slices = res.items as EndpointSlice[];
  } catch (error) {
    add({ name: "slices", verdict: "FAIL", detail: ctx.explain(error, `list ${resourcePath(ENDPOINT_SLICE_RESOURCE, namespace)}`) });
    return skipRest("port", "the slices cannot be listed");
  }
  if (slices.length === 0) {
    add({
      name: "slices",
      verdict: "FAIL",
      detail: `no EndpointSlice labelled ${SERVICE_NAME_LABEL}=${target.service} in ${namespace}`,
      fix: `check the Service name and namespace (kubectl get service ${target.service} -n ${namespace}); a Service without a selector gets slices only from whoever manages its endpoints`,
    });
    return skipRest("port", "no slices");
  }
  const desc = endpointSliceResource();
  const records = slices.map((s) => desc.project(s)).filter((r): r is EndpointSliceRecord => typeof r !== "string");
  add({ name: "slices", verdict: "PASS", detail: `${slices.length} slice${slices.length === 1 ? "" : "s"} of Service ${target.service} in ${namespace}: ${records.map((r) => `${r.name} (${r.addressType}, ${r.addresses.length})`).join(", ")}` });

  // The port, resolved per slice.
  const portNames = [...new Set(records.flatMap((r) => r.ports.map((p) => `${p.name || "(unnamed)"}=${p.port ?? "all"}`)))];
  const set = createEndpointSet(target.service, records, { port: target.port, family: "dual", moveGraceMs: 0, clock: systemClock }, () => {});
  const withPort = records.filter((r) => target.port === undefined || /^\d+$/.test(target.port) || r.ports.some((p) => p.name === target.port && p.port !== undefined));
  if (withPort.length === 0) {
    add({ name: "port", verdict: "FAIL", detail: `no slice has a port named ${target.port}; ports: ${portNames.join(", ")}`, fix: `name a port the Service has (kubernetes:///${target.service}.${namespace}:<name or number>)` });
    return skipRest("ready", "the port is in no slice");
  }
  add({ name: "port", verdict: "PASS", detail: `${target.port === undefined ? "every port" : `port ${target.port}`} in ${withPort.length} of ${records.length} slice${records.length === 1 ? "" : "s"} (${portNames.join(", ")})` });

  // Ready endpoints (terminating ones are drained, as terminating Pods).
  const all = records.flatMap((r) => sliceEndpoints(r));
  const instances = set.instances();
  const notReady = all.filter((e) => !e.ready || e.terminating);
  if (instances.length === 0) {
    add({ name: "ready", verdict: "FAIL", detail: `no ready endpoint (${all.length} endpoint${all.length === 1 ? "" : "s"}, ${notReady.length} not ready or terminating)`, fix: "check the Pods' readiness probes (kubectl get pods -l <the Service's selector>)" });
    return skipRest("reachable", "no ready endpoint");
  }
  add({
    name: "ready",
    verdict: notReady.length > 0 ? "WARN" : "PASS",
    detail: `${instances.length} ready endpoint${instances.length === 1 ? "" : "s"}${notReady.length > 0 ? `; ${notReady.length} not ready or terminating (not called): ${notReady.slice(0, 5).map((e) => e.targetName ?? e.address).join(", ")}` : ""}`,
  });

  // Each endpoint reachable, as the transport dials it.
  const addresses = instances.map((i) => routableAddress(i.endpoints, { anyScheme: true })).filter((a): a is string => a !== undefined);
  const results = await Promise.all(addresses.map((a) => ctx.probe(`grpc://${a}`)));
  for (const r of results) {
    add(r.ok
      ? { name: "reachable", verdict: "PASS", detail: `${r.endpoint}: ${r.detail.startsWith("SERVING") ? `TCP connect and grpc.health.v1 ${r.detail}` : r.detail}` }
      : { name: "reachable", verdict: "FAIL", detail: `${r.endpoint}: ${r.detail}`, fix: r.fix });
  }
}
