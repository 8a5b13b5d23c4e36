/**
 * EndpointSlice cases (discovery.k8s.io/v1): create with defaults, the
 * apiserver's address and port validation, LIST with paging and selectors
 * (metadata fields only), WATCH with initial events and the end bookmark,
 * history replay, the three patch types, conflicts, delete and
 * deletecollection, and RBAC. Setup: slices a (Service x) and b (Service y).
 */
import type { Case, Req, Step } from "./model.ts";

const S = "/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices";
const MERGE = "application/merge-patch+json";

function slice(name: string, service: string, ips: string[], o: { ready?: boolean; type?: string; ports?: unknown } = {}): unknown {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name, labels: { "kubernetes.io/service-name": service, "endpointslice.kubernetes.io/managed-by": "kratos-kube-diff" } },
    addressType: o.type ?? "IPv4",
    endpoints: ips.map((ip, i) => ({ addresses: [ip], conditions: { ready: o.ready ?? true }, targetRef: { kind: "Pod", name: `${name}-${i}` } })),
    ports: o.ports ?? [{ name: "grpc", port: 9000 }],
  };
}

function make(name: string, service: string, ips: string[], o: { ready?: boolean; type?: string } = {}): Step {
  return { name, method: "POST", path: S, body: slice(name, service, ips, o) };
}

const AB: Step[] = [make("a", "x", ["10.251.0.1", "10.251.0.2"]), make("b", "y", ["10.251.0.3"])];
const patch = (path: string, body: unknown, contentType = MERGE): Req => ({ method: "PATCH", path, body, contentType });

export const SLICE_CASES: Case[] = [
  // ── create and validation ──
  { id: "slices/create", setup: AB, request: { method: "POST", path: S, body: slice("z", "x", ["10.251.0.9"]) } },
  { id: "slices/create-defaults", title: "conditions {}, port name \"\" and protocol TCP, null lists", setup: AB, request: { method: "POST", path: S, body: { metadata: { name: "z" }, addressType: "IPv4", endpoints: [{ addresses: ["10.251.0.9"] }], ports: [{ port: 80 }] } } },
  { id: "slices/create-empty", setup: AB, request: { method: "POST", path: S, body: { metadata: { name: "z" }, addressType: "IPv4" } } },
  { id: "slices/create-exists", setup: AB, request: { method: "POST", path: S, body: slice("a", "x", ["10.251.0.9"]) } },
  { id: "slices/create-loopback", title: "loopback, link-local, unspecified addresses and another family are refused", setup: AB, request: { method: "POST", path: S, body: slice("z", "x", ["127.0.0.1", "169.254.1.1", "0.0.0.0", "fe80::1"]) } },
  // Link-local multicast is left out: its message's "(224.0.0.0/24" reads as a resourceVersion to the normaliser.
  { id: "slices/create-ipv6-loopback", setup: AB, request: { method: "POST", path: S, body: slice("z", "x", ["::1", "10.0.0.1"], { type: "IPv6" }) } },
  { id: "slices/create-bad-ports", setup: AB, request: { method: "POST", path: S, body: slice("z", "x", [], { ports: [{ name: "a", port: 1 }, { name: "a", port: 2, protocol: "FOO" }, { name: "Bad_Name", port: 3 }] }) } },
  { id: "slices/create-bad-type", setup: AB, request: { method: "POST", path: S, body: { metadata: { name: "z" }, addressType: "IPv5", endpoints: [{ addresses: [] }] } } },
  { id: "slices/create-forbidden", setup: AB, request: { method: "POST", path: S, body: slice("z", "x", ["10.251.0.9"]), who: "alice" } },
  // ── read ──
  { id: "slices/get", setup: AB, request: { path: `${S}/a` } },
  { id: "slices/get-missing", setup: AB, request: { path: `${S}/nope` } },
  { id: "slices/list", setup: AB, request: { path: S } },
  { id: "slices/list-page", setup: AB, request: { path: `${S}?limit=1` } },
  { id: "slices/list-service", setup: AB, request: { path: `${S}?labelSelector=kubernetes.io%2Fservice-name%3Dy` } },
  { id: "slices/list-field-name", setup: AB, request: { path: `${S}?fieldSelector=metadata.name%3Da` } },
  { id: "slices/list-field-unknown", title: "only metadata fields are selectable", setup: AB, request: { path: `${S}?fieldSelector=addressType%3DIPv4` } },
  { id: "slices/list-forbidden", setup: AB, request: { path: S, who: "alice" } },
  // ── watch ──
  {
    id: "slices/watch-initial-events",
    title: "sendInitialEvents: the slices, then the initial-events-end bookmark in the EndpointSlice shape",
    setup: AB,
    request: { path: `${S}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true` },
    watch: { until: "initial-events-end" },
  },
  {
    id: "slices/watch-from-rv",
    title: "from a revision: the changes since, in order",
    setup: AB,
    request: { path: `${S}?watch=1&resourceVersion={rv:b}` },
    watch: { during: [{ name: "a2", ...patch(`${S}/a`, { endpoints: [{ addresses: ["10.251.0.1"], conditions: { ready: false } }] }) }, { name: "bd", method: "DELETE", path: `${S}/b` }, make("z", "x", ["10.251.0.9"])], until: { pod: "z" } },
  },
  // ── write ──
  { id: "slices/patch-merge", title: "lists are replaced; the generation grows", setup: AB, request: patch(`${S}/a`, { endpoints: [{ addresses: ["10.251.0.5"], conditions: { ready: false, serving: true, terminating: true } }] }) },
  { id: "slices/patch-strategic", title: "strategic merge on atomic lists replaces them", setup: AB, request: patch(`${S}/a`, { endpoints: [{ addresses: ["10.251.0.6"] }] }, "application/strategic-merge-patch+json") },
  { id: "slices/patch-labels", title: "a label change grows the generation (labels say which Service a slice serves)", setup: AB, request: patch(`${S}/a`, { metadata: { labels: { extra: "1" } } }) },
  { id: "slices/patch-annotations", title: "an annotation change keeps the generation", setup: AB, request: patch(`${S}/a`, { metadata: { annotations: { note: "1" } } }) },
  { id: "slices/patch-json", setup: AB, request: patch(`${S}/a`, [{ op: "replace", path: "/endpoints/0/conditions/ready", value: false }], "application/json-patch+json") },
  { id: "slices/update-stale-rv", setup: [...AB, { name: "a2", ...patch(`${S}/a`, { metadata: { labels: { x: "1" } } }) }], request: { method: "PUT", path: `${S}/a`, body: { ...(slice("a", "x", ["10.251.0.1"]) as object), metadata: { name: "a", resourceVersion: "{rv:a}" } } } },
  { id: "slices/update-address-type", title: "addressType is immutable", setup: AB, request: { method: "PUT", path: `${S}/a`, body: { ...(slice("a", "x", ["fd6b::1"], { type: "IPv6" }) as object), metadata: { name: "a", resourceVersion: "{rv:a}" } } } },
  { id: "slices/delete", setup: AB, request: { method: "DELETE", path: `${S}/a` } },
  { id: "slices/delete-missing", setup: AB, request: { method: "DELETE", path: `${S}/nope` } },
  { id: "slices/delete-collection", setup: AB, request: { method: "DELETE", path: `${S}?labelSelector=kubernetes.io%2Fservice-name%3Dx` } },
];
