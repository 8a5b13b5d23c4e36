/**
 * Write cases: create, update (PUT), the three patch types (with
 * `$patch: delete`, `$retainKeys` and a failing JSON-patch `test`), server-side
 * apply, delete with preconditions and grace periods, dry runs, the status
 * subresource, and bad bodies and content types. Setup: pods a and b.
 */
import { create, podBody, remove, type Case, type Req, type Step } from "./model.ts";

const AB: Step[] = [create("a", { labels: { tier: "front" } }), create("b", { labels: { tier: "back" } })];
const A = "{pods}/a";
const MERGE = "application/merge-patch+json";
const STRATEGIC = "application/strategic-merge-patch+json";
const JSONPATCH = "application/json-patch+json";
const APPLY = "application/apply-patch+yaml";

function patch(path: string, contentType: string, body: unknown, extra: Partial<Req> = {}): Req {
  return { method: "PATCH", path, contentType, body, ...extra };
}

function withMeta(name: string, meta: Record<string, unknown>, o: Parameters<typeof podBody>[1] = {}): unknown {
  const p = podBody(name, o) as { metadata: Record<string, unknown> };
  return { ...p, metadata: { ...p.metadata, ...meta } };
}

const DELETE_OPTS = { kind: "DeleteOptions", apiVersion: "v1" };

export const WRITE_CASES: Case[] = [
  // ── create ──
  { id: "create/ok", setup: AB, request: { method: "POST", path: "{pods}", body: podBody("z") } },
  { id: "create/already-exists", setup: AB, request: { method: "POST", path: "{pods}", body: podBody("a") } },
  { id: "create/generate-name", setup: AB, request: { method: "POST", path: "{pods}", body: withMeta("", { name: undefined, generateName: "gen-" }) } },
  { id: "create/no-name", setup: AB, request: { method: "POST", path: "{pods}", body: withMeta("", { name: undefined, generateName: undefined }) } },
  { id: "create/namespace-mismatch", setup: AB, request: { method: "POST", path: "{pods}", body: withMeta("z", { namespace: "elsewhere" }) } },
  { id: "create/status-reset", title: "a created pod's status is reset to Pending", setup: AB, request: { method: "POST", path: "{pods}", body: { ...(podBody("z") as object), status: { phase: "Running", podIP: "10.1.1.1" } } } },
  { id: "create/bad-json", setup: AB, request: { method: "POST", path: "{pods}", body: '{"metadata": {"name": "z"' } },
  { id: "create/not-an-object", setup: AB, request: { method: "POST", path: "{pods}", body: "[1, 2]" } },
  { id: "create/wrong-kind", setup: AB, request: { method: "POST", path: "{pods}", body: { ...(podBody("z") as object), kind: "Service" } } },
  { id: "create/text-plain", title: "a body type the server does not decode: 415", setup: AB, request: { method: "POST", path: "{pods}", body: JSON.stringify(podBody("z")), contentType: "text/plain" } },
  { id: "create/yaml-body", setup: AB, request: { method: "POST", path: "{pods}", body: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: z\nspec:\n  nodeName: kratos-kube-test-node\n  containers:\n  - name: main\n    image: registry.example/app:1\n", contentType: "application/yaml" } },
  { id: "create/dry-run", setup: AB, request: { method: "POST", path: "{pods}?dryRun=All", body: podBody("z") } },
  { id: "create/dry-run-bad", setup: AB, request: { method: "POST", path: "{pods}?dryRun=Yes", body: podBody("z") } },
  { id: "create/strict-unknown-field", setup: AB, request: { method: "POST", path: "{pods}?fieldValidation=Strict", body: { ...(podBody("z") as object), extra: 1 } } },
  { id: "create/minimal", title: "defaults filled in by the server", setup: AB, request: { method: "POST", path: "{pods}", body: { apiVersion: "v1", kind: "Pod", metadata: { name: "z" }, spec: { containers: [{ name: "main", image: "registry.example/app:1" }] } } } },
  { id: "create/forbidden", setup: AB, request: { method: "POST", path: "{pods}", body: podBody("z"), who: "alice" } },
  // ── update ──
  { id: "update/ok", setup: AB, request: { method: "PUT", path: A, body: withMeta("a", { resourceVersion: "{rv:a}" }, { labels: { tier: "middle" } }) } },
  { id: "update/stale-rv", setup: [...AB, { name: "a2", ...patch(A, MERGE, { metadata: { labels: { x: "1" } } }) }], request: { method: "PUT", path: A, body: withMeta("a", { resourceVersion: "{rv:a}" }) } },
  { id: "update/no-rv", title: "pods allow unconditional updates", setup: AB, request: { method: "PUT", path: A, body: podBody("a", { labels: { tier: "middle" } }) } },
  { id: "update/name-mismatch", setup: AB, request: { method: "PUT", path: A, body: podBody("b") } },
  { id: "update/missing", setup: AB, request: { method: "PUT", path: "{pods}/nope", body: podBody("nope") } },
  { id: "update/image", title: "a container image may change", setup: AB, request: { method: "PUT", path: A, body: withMeta("a", {}, { version: "v2.0.0" }) } },
  { id: "update/immutable-spec", title: "pod spec fields other than images are immutable", setup: AB, request: { method: "PUT", path: A, body: withMeta("a", {}, { nodeName: "elsewhere" }) } },
  { id: "update/status", setup: AB, request: { method: "PUT", path: `${A}/status`, body: { ...(podBody("a", { labels: { ignored: "yes" } }) as object), status: { phase: "Running", podIP: "10.1.1.1", podIPs: [{ ip: "10.1.1.1" }] } } } },
  { id: "update/dry-run", setup: AB, request: { method: "PUT", path: `${A}?dryRun=All`, body: podBody("a", { labels: { tier: "middle" } }) } },
  // ── patch ──
  { id: "patch/merge", setup: AB, request: patch(A, MERGE, { metadata: { labels: { tier: "middle", extra: "1" }, annotations: { note: "x" } } }) },
  { id: "patch/merge-null-deletes", setup: AB, request: patch(A, MERGE, { metadata: { labels: { tier: null } } }) },
  { id: "patch/merge-missing", setup: AB, request: patch("{pods}/nope", MERGE, { metadata: { labels: { x: "1" } } }) },
  { id: "patch/merge-bad-json", setup: AB, request: patch(A, MERGE, "{not json") },
  { id: "patch/merge-rv-conflict", setup: [...AB, { name: "a2", ...patch(A, MERGE, { metadata: { labels: { x: "1" } } }) }], request: patch(A, MERGE, { metadata: { resourceVersion: "{rv:a}", labels: { y: "2" } } }) },
  { id: "patch/strategic-labels", setup: AB, request: patch(A, STRATEGIC, { metadata: { labels: { tier: "middle" } } }) },
  { id: "patch/strategic-conditions", title: "conditions merge by type", setup: AB, request: patch(`${A}/status`, STRATEGIC, { status: { conditions: [{ type: "Ready", status: "False" }, { type: "Custom", status: "True" }] } }) },
  { id: "patch/strategic-delete-item", title: "$patch: delete removes one list item by merge key", setup: [...AB, { name: "a2", ...patch(`${A}/status`, STRATEGIC, { status: { conditions: [{ type: "Custom", status: "True" }, { type: "Other", status: "True" }] } }) }], request: patch(`${A}/status`, STRATEGIC, { status: { conditions: [{ type: "Custom", $patch: "delete" }] } }) },
  { id: "patch/strategic-delete-map", title: "$patch: delete removes a whole map", setup: AB, request: patch(A, STRATEGIC, { metadata: { annotations: { $patch: "delete" } } }) },
  { id: "patch/strategic-replace-list", setup: [...AB, { name: "a2", ...patch(`${A}/status`, STRATEGIC, { status: { conditions: [{ type: "Custom", status: "True" }] } }) }], request: patch(`${A}/status`, STRATEGIC, { status: { conditions: [{ $patch: "replace" }, { type: "Only", status: "True" }] } }) },
  { id: "patch/strategic-finalizers", title: "finalizers merge as a set", setup: [...AB, { name: "a2", ...patch(A, MERGE, { metadata: { finalizers: ["example.com/one"] } }) }], request: patch(A, STRATEGIC, { metadata: { finalizers: ["example.com/two"] } }) },
  { id: "patch/strategic-retain-keys-noop", title: "$retainKeys naming what the volume has: nothing changes", setup: AB, request: patch(A, STRATEGIC, { spec: { volumes: [{ name: "kube-api-access-x7k2p", $retainKeys: ["name", "projected"] }] } }) },
  { id: "patch/strategic-retain-keys-clears", title: "$retainKeys dropping the volume source: an immutable spec change", setup: AB, request: patch(A, STRATEGIC, { spec: { volumes: [{ name: "kube-api-access-x7k2p", $retainKeys: ["name", "emptyDir"], emptyDir: {} }] } }) },
  { id: "patch/strategic-missing-merge-key", setup: AB, request: patch(`${A}/status`, STRATEGIC, { status: { conditions: [{ status: "True" }] } }) },
  { id: "patch/strategic-spec-image", setup: AB, request: patch(A, STRATEGIC, { spec: { containers: [{ name: "diff", image: "registry.example.com/diff:v9" }] } }) },
  { id: "patch/json-add", setup: AB, request: patch(A, JSONPATCH, [{ op: "add", path: "/metadata/labels/new", value: "1" }, { op: "replace", path: "/metadata/labels/tier", value: "middle" }]) },
  { id: "patch/json-test-passes", setup: AB, request: patch(A, JSONPATCH, [{ op: "test", path: "/metadata/labels/tier", value: "front" }, { op: "remove", path: "/metadata/labels/tier" }]) },
  { id: "patch/json-test-fails", title: "a failing test op: nothing changes", setup: AB, request: patch(A, JSONPATCH, [{ op: "test", path: "/metadata/labels/tier", value: "back" }, { op: "remove", path: "/metadata/labels/tier" }]) },
  { id: "patch/json-remove-missing", setup: AB, request: patch(A, JSONPATCH, [{ op: "remove", path: "/metadata/labels/nope" }]) },
  { id: "patch/json-not-a-list", setup: AB, request: patch(A, JSONPATCH, { op: "add" }) },
  { id: "patch/json-bad-op", setup: AB, request: patch(A, JSONPATCH, [{ op: "frobnicate", path: "/metadata/labels/x" }]) },
  { id: "patch/json-move-copy", setup: AB, request: patch(A, JSONPATCH, [{ op: "copy", from: "/metadata/labels/tier", path: "/metadata/labels/copied" }, { op: "move", from: "/metadata/labels/copied", path: "/metadata/annotations/moved" }]) },
  { id: "patch/unsupported-type", setup: AB, request: patch(A, "text/plain", { metadata: { labels: { x: "1" } } }) },
  { id: "patch/apply-no-manager", setup: AB, request: patch(A, APPLY, "metadata:\n  labels:\n    applied: \"yes\"\n") },
  { id: "patch/apply", setup: AB, request: patch(`${A}?fieldManager=differential&force=true`, APPLY, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  labels:\n    applied: \"yes\"\n") },
  { id: "patch/dry-run", setup: AB, request: patch(`${A}?dryRun=All`, MERGE, { metadata: { labels: { tier: "dry" } } }) },
  { id: "patch/status-merge", setup: AB, request: patch(`${A}/status`, MERGE, { status: { phase: "Running", podIP: "10.1.1.1", podIPs: [{ ip: "10.1.1.1" }] } }) },
  { id: "patch/status-ignores-spec", title: "the status subresource keeps the spec", setup: AB, request: patch(`${A}/status`, MERGE, { metadata: { labels: { via: "status" } }, spec: { activeDeadlineSeconds: 5 }, status: { phase: "Running" } }) },
  { id: "patch/forbidden", setup: AB, request: patch(A, MERGE, { metadata: { labels: { x: "1" } } }, { who: "alice" }) },
  // ── delete ──
  { id: "delete/now", setup: AB, request: { method: "DELETE", path: A, body: { ...DELETE_OPTS, gracePeriodSeconds: 0 } } },
  { id: "delete/graceful", setup: AB, request: { method: "DELETE", path: A, body: { ...DELETE_OPTS, gracePeriodSeconds: 30 } } },
  { id: "delete/default-grace", setup: AB, request: { method: "DELETE", path: A } },
  { id: "delete/grace-query", setup: AB, request: { method: "DELETE", path: `${A}?gracePeriodSeconds=5` } },
  { id: "delete/unscheduled", title: "a pod on no node is deleted at once", setup: [create("u", { nodeName: null })], request: { method: "DELETE", path: "{pods}/u", body: { ...DELETE_OPTS, gracePeriodSeconds: 30 } } },
  { id: "delete/shorter-grace", setup: [...AB, remove("a2", "a", 30)], request: { method: "DELETE", path: A, body: { ...DELETE_OPTS, gracePeriodSeconds: 10 } } },
  { id: "delete/longer-grace", setup: [...AB, remove("a2", "a", 10)], request: { method: "DELETE", path: A, body: { ...DELETE_OPTS, gracePeriodSeconds: 30 } } },
  { id: "delete/precondition-uid", setup: AB, request: { method: "DELETE", path: A, body: { ...DELETE_OPTS, gracePeriodSeconds: 0, preconditions: { uid: "{uid:a}" } } } },
  { id: "delete/precondition-uid-mismatch", setup: AB, request: { method: "DELETE", path: A, body: { ...DELETE_OPTS, preconditions: { uid: "{uid:b}" } } } },
  { id: "delete/precondition-rv-mismatch", setup: [...AB, { name: "a2", ...patch(A, MERGE, { metadata: { labels: { x: "1" } } }) }], request: { method: "DELETE", path: A, body: { ...DELETE_OPTS, preconditions: { resourceVersion: "{rv:a}" } } } },
  { id: "delete/precondition-rv", setup: AB, request: { method: "DELETE", path: A, body: { ...DELETE_OPTS, gracePeriodSeconds: 0, preconditions: { resourceVersion: "{rv:a}" } } } },
  { id: "delete/missing", setup: AB, request: { method: "DELETE", path: "{pods}/nope" } },
  { id: "delete/dry-run-query", setup: AB, request: { method: "DELETE", path: `${A}?dryRun=All` } },
  { id: "delete/dry-run-body", setup: AB, request: { method: "DELETE", path: A, body: { ...DELETE_OPTS, gracePeriodSeconds: 0, dryRun: ["All"] } } },
  { id: "delete/query-ignored-with-body", title: "with a body, the query's options (dryRun too) are ignored", setup: AB, request: { method: "DELETE", path: `${A}?dryRun=All&gracePeriodSeconds=7`, body: { ...DELETE_OPTS, gracePeriodSeconds: 0 } } },
  { id: "delete/bad-body", setup: AB, request: { method: "DELETE", path: A, body: "{nope" } },
  { id: "delete/collection", setup: AB, request: { method: "DELETE", path: "{pods}?labelSelector=tier%3Dback", body: { ...DELETE_OPTS, gracePeriodSeconds: 0 } } },
  { id: "delete/forbidden", setup: AB, request: { method: "DELETE", path: A, who: "alice" } },
];
