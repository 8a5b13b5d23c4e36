/**
 * Everything else a client meets: GET, discovery documents, `/version`,
 * health probes, unknown paths and resources, methods a path does not serve,
 * authentication and authorization (403 texts, SelfSubjectAccessReview),
 * content negotiation (Table, YAML, protobuf, unacceptable types).
 */
import { create, type Case, type Step } from "./model.ts";

const AB: Step[] = [create("a", { labels: { tier: "front" } }), create("b", { labels: { tier: "back" } })];
const TABLE = "application/json;as=Table;g=meta.k8s.io;v=v1";
const PROTOBUF = "application/vnd.kubernetes.protobuf";
const SSAR = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";

function review(verb: string, namespace: string, extra: Record<string, string> = {}): unknown {
  return { apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview", spec: { resourceAttributes: { verb, resource: "pods", namespace, ...extra } } };
}

export const MISC_CASES: Case[] = [
  // ── get ──
  { id: "get/ok", setup: AB, request: { path: "{pods}/a" } },
  { id: "get/missing", setup: AB, request: { path: "{pods}/nope" } },
  { id: "get/status", setup: AB, request: { path: "{pods}/a/status" } },
  { id: "get/unknown-subresource", setup: AB, request: { path: "{pods}/a/frobnicate" } },
  { id: "get/cluster-scope-name", setup: AB, request: { path: "/api/v1/pods/a" } },
  { id: "get/resource-version-ignored", setup: AB, request: { path: "{pods}/a?resourceVersion=0" } },
  // ── discovery and probes ──
  { id: "discovery/api", request: { path: "/api" }, view: "discovery" },
  { id: "discovery/api-v1", request: { path: "/api/v1" }, view: "discovery" },
  { id: "discovery/apis", request: { path: "/apis" }, view: "discovery" },
  { id: "discovery/authorization-group", request: { path: "/apis/authorization.k8s.io" }, view: "discovery" },
  { id: "discovery/authorization-v1", request: { path: "/apis/authorization.k8s.io/v1" }, view: "discovery" },
  { id: "discovery/authentication-v1", request: { path: "/apis/authentication.k8s.io/v1" }, view: "discovery" },
  { id: "discovery/version", request: { path: "/version" }, view: "version" },
  { id: "discovery/readyz", request: { path: "/readyz" } },
  { id: "discovery/unknown-group", request: { path: "/apis/example.com/v1" } },
  // ── unknown paths and methods ──
  { id: "path/unknown-resource", request: { path: "/api/v1/namespaces/{ns}/widgets" } },
  { id: "path/unknown-version", request: { path: "/api/v2/namespaces/{ns}/pods" } },
  { id: "path/not-api", request: { path: "/nonsense" } },
  { id: "path/collection-put", setup: AB, request: { method: "PUT", path: "{pods}", body: {} } },
  { id: "path/post-to-name", setup: AB, request: { method: "POST", path: "{pods}/a", body: {} } },
  { id: "path/delete-status", setup: AB, request: { method: "DELETE", path: "{pods}/a/status" } },
  { id: "path/post-cluster-scope", setup: AB, request: { method: "POST", path: "/api/v1/pods", body: {} } },
  // ── who ──
  { id: "auth/no-token", setup: AB, request: { path: "{pods}", who: "nobody" } },
  { id: "auth/unknown-token", setup: AB, request: { path: "{pods}", who: "stranger" } },
  { id: "auth/forbidden-list", setup: AB, request: { path: "{pods}", who: "alice" } },
  { id: "auth/forbidden-get", setup: AB, request: { path: "{pods}/a", who: "alice" } },
  { id: "auth/forbidden-cluster-list", request: { path: "/api/v1/pods", who: "alice" } },
  { id: "auth/forbidden-status", setup: AB, request: { method: "PATCH", path: "{pods}/a/status", body: { status: {} }, contentType: "application/merge-patch+json", who: "alice" } },
  { id: "ssar/admin-allowed", request: { method: "POST", path: SSAR, body: review("watch", "{ns}") } },
  { id: "ssar/alice-denied", request: { method: "POST", path: SSAR, body: review("list", "{ns}"), who: "alice" } },
  { id: "ssar/alice-denied-cluster", request: { method: "POST", path: SSAR, body: review("patch", "", { name: "a" }), who: "alice" } },
  { id: "ssar/no-attributes", request: { method: "POST", path: SSAR, body: { apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview", spec: {} } } },
  { id: "ssr/alice", title: "SelfSubjectReview (kubectl auth whoami)", request: { method: "POST", path: "/apis/authentication.k8s.io/v1/selfsubjectreviews", body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" }, who: "alice" } },
  { id: "ssar/bad-json", request: { method: "POST", path: SSAR, body: "{" } },
  // ── content negotiation ──
  { id: "accept/table-list", setup: AB, request: { path: "{pods}", accept: TABLE } },
  { id: "accept/table-get", setup: AB, request: { path: "{pods}/a", accept: TABLE } },
  { id: "accept/table-fallback", title: "Table first, JSON as the fallback (what kubectl sends)", setup: AB, request: { path: "{pods}?limit=500", accept: `${TABLE},application/json` } },
  { id: "accept/yaml", setup: AB, request: { path: "{pods}/a", accept: "application/yaml" } },
  { id: "accept/protobuf", setup: AB, request: { path: "{pods}/a", accept: PROTOBUF } },
  { id: "accept/protobuf-fallback", setup: AB, request: { path: "{pods}/a", accept: `${PROTOBUF}, application/json` } },
  { id: "accept/unacceptable", setup: AB, request: { path: "{pods}/a", accept: "text/html" } },
  { id: "accept/wildcard", setup: AB, request: { path: "{pods}/a", accept: "*/*" } },
];
