/**
 * The checks of `kratos-kube doctor <service>`: the design document's
 * troubleshooting list ("cannot discover the service", "cannot connect to
 * it") as checks that each PASS or FAIL with the fix. The checks run in order;
 * one that makes the later ones meaningless turns them into SKIP.
 *
 * @module
 */
import type { KubeClient, KubeConfig } from "../src/kube/index.ts";
import { KRATOS_LABEL_APP, projectPod, type PodRecord } from "../src/kube/index.ts";
import { explainError, listAllPods, rbacFix } from "./cluster.ts";
import type { Check } from "./doctor-pod-checks.ts";
import { protocolsCheck, readyCheck } from "./doctor-pod-checks.ts";
import { instanceRows } from "./instance-rows.ts";
import type { ProbeResult } from "./probe.ts";

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
}

/** Why discovery or registration needs each verb. */
const VERB_PURPOSE: Readonly<Record<string, string>> = {
  list: "discovery lists pods to fill its cache",
  watch: "discovery watches pods to see changes",
  get: "register() reads its own pod",
  patch: "register() patches its own pod's labels",
};

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
  const later = ["rbac", "namespace", "labels", "ready", "protocols", "reachable"];

  // 1. config and auth
  let config: KubeConfig;
  try {
    config = await input.loadConfig();
  } catch (error) {
    add({ name: "config", verdict: "FAIL", detail: explainError(error, undefined, "load the config") });
    return skipRest(later, "no config");
  }
  const namespace = input.namespace(config);
  const client = input.openClient(config);
  try {
    try {
      const res = await client.request("GET", "/version", input.signal ? { signal: input.signal } : {});
      const version = (await res.json().catch(() => ({}))) as { gitVersion?: string };
      add({
        name: "config",
        verdict: "PASS",
        detail: `${config.source}: ${config.server}${version.gitVersion ? ` (Kubernetes ${version.gitVersion})` : ""}, namespace ${namespace}, auth ${config.auth}${config.user ? ` (user ${config.user})` : ""}`,
      });
    } catch (error) {
      add({ name: "config", verdict: "FAIL", detail: explainError(error, config, `reach the API server ${config.server}`) });
      return skipRest(later, "the API server is not usable");
    }

    // Who are we? SelfSubjectReview (authentication.k8s.io/v1, GA since
    // Kubernetes 1.28, KEP-3325) names the identity the server sees; older
    // servers (and the fake) answer 404, then the kubeconfig user's name is shown.
    const identity = (await whoAmI(client, input.signal)) ?? config.user;

    // 2. RBAC via SelfSubjectAccessReview
    const denied: string[] = [];
    let rbacUnknown = false;
    for (const verb of ["get", "list", "watch", "patch"]) {
      try {
        const r = await client.selfSubjectAccessReview({ verb, resource: "pods", namespace }, input.signal ? { signal: input.signal } : {});
        if (r.allowed) add({ name: `rbac ${verb}`, verdict: "PASS", detail: `can ${verb} pods in ${namespace} (${VERB_PURPOSE[verb]})` });
        else {
          denied.push(verb);
          add({
            name: `rbac ${verb}`,
            verdict: "FAIL",
            detail: `cannot ${verb} pods in namespace ${namespace}${identity ? ` as ${identity}` : ""}: ${VERB_PURPOSE[verb]}${r.reason ? ` (${r.reason})` : ""}`,
            fix: rbacFix([verb], namespace),
          });
        }
      } catch (error) {
        rbacUnknown = true;
        add({ name: `rbac ${verb}`, verdict: "FAIL", detail: explainError(error, config, `ask whether we can ${verb} pods (SelfSubjectAccessReview)`) });
      }
    }
    if (denied.includes("list") || rbacUnknown) {
      return skipRest(later.slice(1), "pods cannot be listed with these credentials");
    }

    // 3. namespace: are the service's pods here, or elsewhere?
    const selector = `${KRATOS_LABEL_APP}=${input.service}`;
    let here: PodRecord[];
    try {
      here = project(await listAllPods(client, namespace, selector, input.signal));
    } catch (error) {
      add({ name: "namespace", verdict: "FAIL", detail: explainError(error, config, `list pods in ${namespace}`) });
      return skipRest(later.slice(2), "pods cannot be listed");
    }
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
      add({
        name: "namespace",
        verdict: "FAIL",
        detail: `no pod labelled ${selector} in ${namespace}, the namespace discovery watches; found ${where}`,
        fix: `Kratos discovers only in its own namespace by default: run the client in that namespace, or watch it explicitly (KubernetesRegistry({ namespace: "${[...(elsewhere as Map<string, number>).keys()][0]}" }), and here: --namespace ${[...(elsewhere as Map<string, number>).keys()][0]})`,
      });
      return skipRest(later.slice(2), `no pods in ${namespace}`);
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
        fix: `set labels kratos-service-app: ${input.service} (and kratos-service-version) in the Deployment's Pod template (deploy/sayhello.yaml), or call registry.register() when the server starts (needs get and patch on pods)`,
      });
      return skipRest(later.slice(3), "no pods to inspect");
    }
    add({ name: "labels", verdict: "PASS", detail: `${here.length} pod${here.length === 1 ? " carries" : "s carry"} ${selector}: ${here.slice(0, 5).map((p) => p.name).join(", ")}${here.length > 5 ? ", …" : ""}` });

    // 5. phase and Ready; 6. a protocols annotation with a grpc port
    const rows = instanceRows(here, input.service);
    add(readyCheck(rows));
    const protocols = protocolsCheck(here, rows);
    add(protocols.check);
    const grpcEndpoints = protocols.grpcEndpoints;

    // 7. each endpoint reachable
    if (grpcEndpoints.length === 0) {
      add({ name: "reachable", verdict: "SKIP", detail: "skipped: no routable grpc endpoint to probe", fix: "fix the failed checks above first" });
      return checks;
    }
    const results = await Promise.all(grpcEndpoints.map((e) => input.probe(e)));
    for (const r of results) {
      add(r.ok
        ? { name: "reachable", verdict: "PASS", detail: `${r.endpoint}: TCP connect and grpc.health.v1 ${r.detail}` }
        : { name: "reachable", verdict: "FAIL", detail: `${r.endpoint}: ${r.detail}`, fix: r.fix });
    }
    return checks;
  } finally {
    await client.close().catch(() => {});
  }
}

/** The username the API server sees (SelfSubjectReview), or undefined when it cannot say. */
async function whoAmI(client: KubeClient, signal: AbortSignal | undefined): Promise<string | undefined> {
  try {
    const res = await client.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", {
      body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
      signal,
    });
    const doc = (await res.json()) as { status?: { userInfo?: { username?: unknown } } };
    const name = doc.status?.userInfo?.username;
    return typeof name === "string" && name !== "" ? name : undefined;
  } catch {
    return undefined;
  }
}

function project(pods: readonly import("../src/kube/index.ts").Pod[]): PodRecord[] {
  const out: PodRecord[] = [];
  for (const p of pods) {
    const r = projectPod(p);
    if (typeof r !== "string") out.push(r);
  }
  return out;
}

/** Renders checks as `PASS  name  detail` lines with `fix:` lines under failures. */
export function renderCheck(c: Check, width = 12): string {
  const head = `${c.verdict.padEnd(4)}  ${c.name.padEnd(width)}  ${c.detail}`;
  return c.fix && c.verdict !== "PASS" ? `${head}\n${" ".repeat(8 + width)}fix: ${c.fix}` : head;
}
