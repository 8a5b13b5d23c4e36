/**
 * The fixed, read-only endpoints of the fake API server that clients such as
 * kubectl call before touching any object: version, legacy discovery
 * (`/api`, `/apis`, `/api/v1`, `/apis/authorization.k8s.io/v1`,
 * `/apis/authentication.k8s.io/v1`, `/apis/discovery.k8s.io/v1`), the minimal
 * OpenAPI v3 documents kubectl's `create -f` needs, and the health probes.
 *
 * Shapes follow the real kube-apiserver (apimachinery `meta/v1` `APIVersions`,
 * `APIGroupList`, `APIResourceList`; `version.Info`). Discovery is answered in
 * the legacy JSON form: kubectl asks for the aggregated
 * `apidiscovery.k8s.io/v2` form first and falls back when the response's
 * Content-Type is plain `application/json` (see shared spec `kubectl.md`).
 *
 * @module
 */

/** The Kubernetes version the fake reports on `/version` (matches kubectl v1.32, so no skew warning). */
export const FAKE_KUBE_VERSION: { major: string; minor: string; gitVersion: string } = {
  major: "1",
  minor: "32",
  gitVersion: "v1.32.4-kratos-kube-fake",
};

const AUTHZ_GROUP = "authorization.k8s.io";
const AUTHN_GROUP = "authentication.k8s.io";
const DISCOVERY_GROUP = "discovery.k8s.io";

/** Verbs of `pods`, as the real `/api/v1` lists them (kube-apiserver pod REST storage). */
const POD_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-cache, private" },
  });
}

function text(body: string): Response {
  return new Response(body, {
    status: 200,
    headers: { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" },
  });
}

function versionInfo(): unknown {
  return {
    major: FAKE_KUBE_VERSION.major,
    minor: FAKE_KUBE_VERSION.minor,
    // The emulated and minimum compatible releases a v1.33+ apiserver reports (compatibility versions, KEP-4330).
    emulationMajor: FAKE_KUBE_VERSION.major,
    emulationMinor: FAKE_KUBE_VERSION.minor,
    minCompatibilityMajor: FAKE_KUBE_VERSION.major,
    minCompatibilityMinor: String(Number(FAKE_KUBE_VERSION.minor) - 1),
    gitVersion: FAKE_KUBE_VERSION.gitVersion,
    gitCommit: "0000000000000000000000000000000000000000",
    gitTreeState: "clean",
    buildDate: "2026-01-01T00:00:00Z",
    goVersion: "go1.23.0",
    compiler: "gc",
    platform: "linux/amd64",
  };
}

function apiVersions(url: URL): unknown {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: url.host }],
  };
}

function apiGroup(name: string): { name: string; versions: unknown[]; preferredVersion: unknown } {
  const v1 = { groupVersion: `${name}/v1`, version: "v1" };
  return { name, versions: [v1], preferredVersion: v1 };
}

function apiGroupList(): unknown {
  return {
    kind: "APIGroupList",
    apiVersion: "v1",
    groups: [apiGroup(AUTHN_GROUP), apiGroup(AUTHZ_GROUP), apiGroup(DISCOVERY_GROUP)],
  };
}

function authenticationV1Resources(): unknown {
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: `${AUTHN_GROUP}/v1`,
    resources: [
      { name: "selfsubjectreviews", singularName: "selfsubjectreview", namespaced: false, kind: "SelfSubjectReview", verbs: ["create"] },
    ],
  };
}

function coreV1Resources(): unknown {
  return {
    kind: "APIResourceList",
    groupVersion: "v1",
    resources: [
      {
        name: "pods",
        singularName: "pod",
        namespaced: true,
        kind: "Pod",
        verbs: POD_VERBS,
        shortNames: ["po"],
        categories: ["all"],
        // The hash of the storage version (core/v1 Pod) every apiserver since 1.14 reports.
        storageVersionHash: "xPOwRZ+Yhw8=",
      },
      { name: "pods/status", singularName: "", namespaced: true, kind: "Pod", verbs: ["get", "patch", "update"] },
    ],
  };
}

/** `/apis/discovery.k8s.io/v1`, as a real v1.34 apiserver lists it. */
function discoveryV1Resources(): unknown {
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: `${DISCOVERY_GROUP}/v1`,
    resources: [
      {
        name: "endpointslices",
        singularName: "endpointslice",
        namespaced: true,
        kind: "EndpointSlice",
        verbs: POD_VERBS,
        storageVersionHash: "qgS0xkrxYAI=",
      },
    ],
  };
}

function authorizationV1Resources(): unknown {
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: `${AUTHZ_GROUP}/v1`,
    resources: [
      {
        name: "selfsubjectaccessreviews",
        singularName: "selfsubjectaccessreview",
        namespaced: false,
        kind: "SelfSubjectAccessReview",
        verbs: ["create"],
      },
    ],
  };
}

/** `GET /openapi/v3`: the index naming one document per group-version. */
function openApiV3Index(): unknown {
  return { paths: { "api/v1": { serverRelativeURL: "/openapi/v3/api/v1?hash=KRATOSKUBEFAKE0001" } } };
}

/**
 * `GET /openapi/v3/api/v1`: the smallest document for which kubectl decides
 * that the server validates fields itself. kubectl's `queryParamVerifierV3`
 * (k8s.io/kubectl `pkg/util/openapi`/`resource` query-param verifier) looks
 * for a PATCH on the Pod path tagged with `x-kubernetes-group-version-kind`
 * Pod and a `fieldValidation` query parameter; the real document declares it
 * on every write operation, and so does this one.
 */
function openApiV3CoreV1(): unknown {
  const gvk = { group: "", version: "v1", kind: "Pod" };
  const parameters = [
    { name: "fieldValidation", in: "query", schema: { type: "string", uniqueItems: true } },
    { name: "fieldManager", in: "query", schema: { type: "string", uniqueItems: true } },
    { name: "dryRun", in: "query", schema: { type: "string", uniqueItems: true } },
  ];
  const op = (action: string, id: string): unknown => ({
    operationId: id,
    tags: ["core_v1"],
    parameters,
    responses: { "200": { description: "OK" } },
    "x-kubernetes-action": action,
    "x-kubernetes-group-version-kind": gvk,
  });
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes", version: FAKE_KUBE_VERSION.gitVersion },
    paths: {
      "/api/v1/namespaces/{namespace}/pods": { post: op("post", "createCoreV1NamespacedPod") },
      "/api/v1/namespaces/{namespace}/pods/{name}": {
        put: op("put", "replaceCoreV1NamespacedPod"),
        patch: op("patch", "patchCoreV1NamespacedPod"),
      },
    },
    components: { schemas: {} },
  };
}

/**
 * Answers the fixed endpoints, or returns `undefined` so the caller routes
 * the request elsewhere (objects, watches, SelfSubjectAccessReview POSTs).
 * Only `GET` and `HEAD` are served; `/openapi/v2` is deliberately absent
 * (404 from the caller), since kubectl only falls back to it when v3 fails.
 */
export function metaRoute(req: Request, url: URL): Response | undefined {
  if (req.method !== "GET" && req.method !== "HEAD") return undefined;
  const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, "") : url.pathname;
  switch (path) {
    case "/version":
      return json(versionInfo());
    case "/api":
      return json(apiVersions(url));
    case "/apis":
      return json(apiGroupList());
    case "/api/v1":
      return json(coreV1Resources());
    case `/apis/${AUTHZ_GROUP}`:
    case `/apis/${AUTHN_GROUP}`:
    case `/apis/${DISCOVERY_GROUP}`:
      return json({ kind: "APIGroup", apiVersion: "v1", ...apiGroup(path.slice("/apis/".length)) });
    case `/apis/${AUTHZ_GROUP}/v1`:
      return json(authorizationV1Resources());
    case `/apis/${AUTHN_GROUP}/v1`:
      return json(authenticationV1Resources());
    case `/apis/${DISCOVERY_GROUP}/v1`:
      return json(discoveryV1Resources());
    case "/openapi/v3":
      return json(openApiV3Index());
    case "/openapi/v3/api/v1":
      return json(openApiV3CoreV1());
    case "/healthz":
    case "/readyz":
    case "/livez":
      return text("ok");
    default:
      return undefined;
  }
}
