/**
 * The checks of `kratos-kube doctor <service>`: the design document's
 * troubleshooting list ("cannot discover the service", "cannot connect to
 * it") as checks that each PASS or FAIL with the fix (WARN: worth knowing,
 * not a failure). The checks run in order; one that makes the later ones
 * meaningless turns them into SKIP.
 *
 * @module
 */
import type { Clock, KubeClient, KubeConfig, Pod } from "../src/kube/index.ts";
import { systemClock, type PodRecord } from "../src/kube/index.ts";
import { KRATOS_LABEL_APP, parseDiscoveryTarget, projectKratosPod, type DiscoveryTarget } from "../src/index.ts";
import { sliceChecks } from "./doctor-slices.ts";
import { explainError, listAllPods } from "./cluster.ts";
import type { Check } from "./doctor-pod-checks.ts";
import { annotationsCheck, protocolsCheck, readyCheck, terminatingCheck } from "./doctor-pod-checks.ts";
import { watchStreamsCheck } from "./doctor-watch.ts";
import { instanceRows } from "./instance-rows.ts";
import type { ProbeResult } from "./probe.ts";
import { identityFromDenial, whoAmI } from "./identity.ts";
import { rbacManifest } from "./rbac-fix.ts";

export type { Check, Verdict } from "./doctor-pod-checks.ts";

/** What the checks need. */
export interface DoctorInput {
  readonly service: string;
  /** Loads the config (throws on failure). */
  readonly loadConfig: () => Promise<KubeConfig>;
  readonly openClient: (config: KubeConfig) => KubeClient;
  /** `--namespace`, else the config's. */
  readonly namespace: (config: KubeConfig) => string;
  readonly probe: (endpoint: string) => Promise<ProbeResult>;
  /** Called as each check finishes (to print progressively). */
  readonly onCheck?: ((check: Check) => void) | undefined;
  readonly signal?: AbortSignal;
  /** Deadline of the first watch event (default 2000 ms). */
  readonly watchDeadlineMs?: number | undefined;
  /** Timers of the watch check (default the system clock). */
  readonly clock?: Clock | undefined;
  /** Wall time in ms, to compare deletion timestamps with (default `Date.now`). */
  readonly now?: (() => number) | undefined;
}

/** Why discovery or registration needs each verb. */
const VERB_PURPOSE: Readonly<Record<string, string>> = {
  list: "discovery lists pods to fill its cache",
  watch: "discovery watches pods to see changes",
  patch: "register() patches its own pod's kratos labels and annotations",
};

/** The verbs kratos-kube uses on pods (register() sends one patch and reads nothing, as go-kratos does). */
const VERBS = ["list", "watch", "patch"] as const;

/** Verbs only register() needs: a client, or a server with the labels static in its Pod template, does without them. */
const REGISTER_VERBS: ReadonlySet<string> = new Set(["patch"]);

/** Runs every check; resolves to all of them (never throws). */
export async function runDoctor(input: DoctorInput): Promise<Check[]> {
  const checks: Check[] = [];
  const add = (c: Check): void => {
    checks.push(c);
    input.onCheck?.(c);
  };
  const skipRest = (names: readonly string[], why: string): Check[] => {
    for (const name of names) add({ name, verdict: "SKIP", detail: `skipped: ${why}`, fix: "fix the failed check above first" });
    return checks;
  };
  const later = ["rbac", "namespace", "labels", "watch", "annotations", "ready", "terminating", "protocols", "reachable"];
  const after = (name: string): string[] => later.slice(later.indexOf(name) + 1);
  const signalOpt = input.signal ? { signal: input.signal } : {};

  // 1. config and auth
  let config: KubeConfig;
  try {
    config = await input.loadConfig();
  } catch (error) {
    add({ name: "config", verdict: "FAIL", detail: explainError(error, undefined, "load the config") });
    return skipRest(later, "no config");
  }
  // `discovery://ns/name` and `kubernetes:///svc.ns:port` name their namespace; it wins over --namespace.
  const target = targetOf(input.service);
  const service = target.service;
  const namespace = target.namespace ?? input.namespace(config);
  const client = input.openClient(config);
  const explain = (error: unknown, what: string): string => explainError(error, config, what, { verbs: ["list", "watch"], namespace });
  try {
    try {
      const res = await client.request("GET", "/version", signalOpt);
      const version = (await res.json().catch(() => ({}))) as { gitVersion?: string };
      add({
        name: "config",
        verdict: "PASS",
        detail: `${config.source}: ${config.server}${version.gitVersion ? ` (Kubernetes ${version.gitVersion})` : ""}, namespace ${namespace}, auth ${config.auth}`,
      });
    } catch (error) {
      add({ name: "config", verdict: "FAIL", detail: explain(error, `reach the API server ${config.server}`) });
      return skipRest(later, "the API server is not usable");
    }

    if (target.scheme === "kubernetes") {
      await sliceChecks({
        client,
        target,
        namespace,
        add,
        explain,
        probe: input.probe,
        identity: async (denied) => (await whoAmI(client, input.signal)) ?? (await identityFromDenial(client, namespace, denied, input.signal)),
        signal: input.signal,
      });
      return checks;
    }

    // 2. RBAC via SelfSubjectAccessReview; who we are via SelfSubjectReview
    // (authentication.k8s.io/v1, GA since Kubernetes 1.28), else from a 403.
    const verdicts = new Map<string, { allowed: boolean; reason?: string | undefined } | unknown>();
    for (const verb of VERBS) {
      try {
        verdicts.set(verb, await client.selfSubjectAccessReview({ verb, resource: "pods", namespace }, signalOpt));
      } catch (error) {
        verdicts.set(verb, error);
      }
    }
    const denied = [...verdicts].filter(([, v]) => isReview(v) && !v.allowed).map(([verb]) => verb);
    const identity = denied.length === 0 ? undefined : (await whoAmI(client, input.signal)) ?? (await identityFromDenial(client, namespace, denied, input.signal));
    const manifest = denied.length === 0 ? "" : rbacManifest({ verbs: denied, namespace, identity });
    let printed = false;
    let rbacUnknown = false;
    for (const [verb, v] of verdicts) {
      if (!isReview(v)) {
        rbacUnknown = true;
        add({ name: `rbac ${verb}`, verdict: "FAIL", detail: explain(v, `ask whether we can ${verb} pods (SelfSubjectAccessReview)`) });
        continue;
      }
      if (v.allowed) {
        add({ name: `rbac ${verb}`, verdict: "PASS", detail: `can ${verb} pods in ${namespace} (${VERB_PURPOSE[verb]})` });
        continue;
      }
      const optional = REGISTER_VERBS.has(verb);
      const fix = printed
        ? `the Role printed under rbac ${denied[0]} grants it too`
        : `grant ${denied.join(", ")} on pods in ${namespace} with one Role and RoleBinding:\n${manifest}`;
      printed = true;
      add({
        name: `rbac ${verb}`,
        verdict: optional ? "WARN" : "FAIL",
        detail: `cannot ${verb} pods in namespace ${namespace}${identity ? ` as ${identity}` : ""}: ${VERB_PURPOSE[verb]}${optional ? " (only a server that calls register() needs it; a client, or a server whose labels are static in its Pod template, does not)" : ""}${v.reason ? ` (${v.reason})` : ""}`,
        fix,
      });
    }
    if (denied.includes("list") || rbacUnknown) {
      return skipRest(after("rbac"), "pods cannot be listed with these credentials");
    }

    // 3. namespace: are the service's pods here, or elsewhere?
    const selector = `${KRATOS_LABEL_APP}=${service}`;
    let raw: Pod[];
    try {
      raw = await listAllPods(client, namespace, selector, input.signal);
    } catch (error) {
      add({ name: "namespace", verdict: "FAIL", detail: explain(error, `list pods in ${namespace}`) });
      return skipRest(after("namespace"), "pods cannot be listed");
    }
    const here = project(raw);
    let elsewhere: Map<string, number> | string;
    try {
      const all = project(await listAllPods(client, undefined, selector, input.signal));
      elsewhere = new Map();
      for (const p of all) if (p.namespace !== namespace) elsewhere.set(p.namespace, (elsewhere.get(p.namespace) ?? 0) + 1);
    } catch {
      elsewhere = "not allowed to list pods in other namespaces, so they were not searched";
    }
    const where = typeof elsewhere === "string" ? "" : [...elsewhere].map(([ns, n]) => `${n} in ${ns}`).join(", ");
    if (here.length > 0) {
      add({
        name: "namespace",
        verdict: "PASS",
        detail: `${here.length} pod${here.length === 1 ? "" : "s"} labelled ${selector} in ${namespace}, the namespace discovery watches${where ? `; also ${where} (not watched unless asked: KubernetesRegistry({ namespace: [...] }))` : ""}`,
      });
    } else if (where) {
      const other = [...(elsewhere as Map<string, number>).keys()][0];
      add({
        name: "namespace",
        verdict: "FAIL",
        detail: `no pod labelled ${selector} in ${namespace}, the namespace discovery watches; found ${where}`,
        fix: `Kratos discovers only in its own namespace by default: run the client in that namespace, or watch it explicitly (KubernetesRegistry({ namespace: "${other}" }), and here: --namespace ${other})`,
      });
      return skipRest(after("namespace"), `no pods in ${namespace}`);
    } else {
      add({
        name: "namespace",
        verdict: "FAIL",
        detail: `no pod labelled ${selector} in ${namespace}${typeof elsewhere === "string" ? ` (${elsewhere})` : " nor in any other namespace"}`,
        fix: `check the service name (kratos-service-app is case-sensitive) and that its pods run; see the labels check`,
      });
    }

    // 4. pods carrying the label
    if (here.length === 0) {
      let unlabelled = "";
      try {
        const any = project(await listAllPods(client, namespace, KRATOS_LABEL_APP, input.signal));
        const names = [...new Set(any.map((p) => p.labels[KRATOS_LABEL_APP]).filter((v) => v))];
        if (names.length > 0) unlabelled = `; services registered in ${namespace}: ${names.slice(0, 8).join(", ")}`;
      } catch {
        // listing without a value is best-effort context
      }
      add({
        name: "labels",
        verdict: "FAIL",
        detail: `no pod carries the label ${selector}${unlabelled}`,
        fix: `set the labels in the Pod template of the service's Deployment (spec.template.metadata: labels: {${KRATOS_LABEL_APP}: ${service}, kratos-service-version: v1.0.0}, annotations: {kratos-service-protocols: '{"9000":"grpc"}'}), or call registry.register() when the server starts (needs patch on its pod)`,
      });
      return skipRest(after("labels"), "no pods to inspect");
    }
    add({ name: "labels", verdict: "PASS", detail: `${here.length} pod${here.length === 1 ? " carries" : "s carry"} ${selector}: ${here.slice(0, 5).map((p) => p.name).join(", ")}${here.length > 5 ? ", …" : ""}` });

    // 5. the watch streams (a buffering proxy holds events back)
    if (denied.includes("watch")) {
      add({ name: "watch", verdict: "SKIP", detail: "skipped: pods cannot be watched with these credentials", fix: "fix rbac watch above first" });
    } else {
      add(
        await watchStreamsCheck({
          client,
          namespace,
          labelSelector: selector,
          deadlineMs: input.watchDeadlineMs ?? 2000,
          clock: input.clock ?? systemClock,
          signal: input.signal,
          explain: (e) => explain(e, `watch pods in ${namespace}`),
        }),
      );
    }

    // 6. annotations parse; 7. Running and Ready; 8. not stuck terminating;
    // 9. a grpc endpoint the transport dials
    const rows = instanceRows(here, service, "ready", { protocol: "grpc" });
    add(annotationsCheck(here));
    add(readyCheck(rows));
    add(terminatingCheck(raw, (input.now ?? Date.now)()));
    const protocols = protocolsCheck(here, rows);
    add(protocols.check);
    const grpcEndpoints = protocols.grpcEndpoints;

    // 10. each endpoint reachable
    if (grpcEndpoints.length === 0) {
      add({ name: "reachable", verdict: "SKIP", detail: "skipped: no routable grpc endpoint to probe", fix: "fix the failed checks above first" });
      return checks;
    }
    const results = await Promise.all(grpcEndpoints.map((e) => input.probe(e)));
    for (const r of results) {
      add(r.ok
        ? { name: "reachable", verdict: "PASS", detail: `${r.endpoint}: ${r.detail.startsWith("SERVING") ? `TCP connect and grpc.health.v1 ${r.detail}` : r.detail}` }
        : { name: "reachable", verdict: "FAIL", detail: `${r.endpoint}: ${r.detail}`, fix: r.fix });
    }
    return checks;
  } finally {
    await client.close().catch(() => {});
  }
}

/** The doctor's target: a Kratos service name (as before), `discovery://ns/name` or `kubernetes:///…`. */
function targetOf(service: string): DiscoveryTarget {
  try {
    return parseDiscoveryTarget(service);
  } catch {
    // Not a target: checked as a Kratos service name, as before (its labels check explains).
    return { scheme: "discovery", service, namespace: undefined, port: undefined };
  }
}

function isReview(v: unknown): v is { allowed: boolean; reason?: string | undefined } {
  return typeof v === "object" && v !== null && typeof (v as { allowed?: unknown }).allowed === "boolean";
}

function project(pods: readonly Pod[]): PodRecord[] {
  const out: PodRecord[] = [];
  for (const p of pods) {
    const r = projectKratosPod(p);
    if (typeof r !== "string") out.push(r);
  }
  return out;
}

/** Renders checks as `PASS  name  detail` lines with `fix:` lines (indented, also when several) under the others. */
export function renderCheck(c: Check, width = 12): string {
  const head = `${c.verdict.padEnd(4)}  ${c.name.padEnd(width)}  ${c.detail}`;
  if (!c.fix || c.verdict === "PASS") return head;
  const pad = " ".repeat(8 + width);
  const [first, ...rest] = c.fix.split("\n");
  // Further lines (a manifest for `kubectl apply -f - <<'EOF'`) stay flush
  // left, so they can be pasted into a shell as they are.
  return [head, `${pad}fix: ${first}`, ...rest].join("\n");
}
