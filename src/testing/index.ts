/**
 * `kratos-kube/testing`: an in-memory Kubernetes API server for pods and
 * EndpointSlices, to test discovery code without a cluster (what envtest is
 * for Go, without etcd).
 *
 * `FakeKubeApiServer` behaves like a real kube-apiserver for `core/v1` pods:
 * one resourceVersion counter for every write; LIST with `limit`/`continue`
 * and the resourceVersion rules of the watch cache; WATCH from a
 * resourceVersion with a bounded history (a too old one gets HTTP 200 and one
 * in-stream `ERROR` 410), bookmarks in both real shapes, `sendInitialEvents`,
 * label and field selectors with ADDED/DELETED transitions, and output
 * re-chunked at random byte boundaries; strategic merge, merge and JSON patch;
 * graceful deletion; the `status` subresource; server-side dry run
 * (`dryRun=All`: validated and answered, nothing stored); bearer tokens with
 * per-token verbs and namespaces; and fault injection (dropped watches, hung
 * half-open watches that only the client's idle watchdog can end, compaction,
 * failing requests, delays, token rotation).
 *
 * Use `server.fetch` as an injected `fetch`, or `await server.listen()` for real
 * HTTP(S) on loopback (kubectl works against `server.kubeconfig()`).
 *
 * ```ts
 * await using server = new FakeKubeApiServer();
 * server.createPod(makePod({ name: "greeter-1", app: "greeter" }));
 * const res = await server.fetch(new Request("http://fake/api/v1/namespaces/default/pods"));
 * ```
 *
 * EndpointSlices (`discovery.k8s.io/v1`) go through the same list and watch
 * code; `server.endpointSlices` creates and changes them, and `mirror()`
 * keeps a Service's slices in step with its pods as the endpointslice
 * controller does. Loopback addresses are refused as by a real apiserver
 * unless `allowLoopbackEndpoints` is set.
 *
 * Errors: every failure answer is a `metav1.Status` with the real apiserver's
 * code, reason and message. Programmatic state methods (`createPod`,
 * `updatePod`, …) throw an `Error` naming the pod on a missing or duplicate pod.
 *
 * @module
 */
export { FakeKubeApiServer } from "./fake-api-server.ts";
export type { FakeKubeApiServerOptions, FakeFaults, LoggedRequest } from "./fake-api-server.ts";
export type { TokenGrant } from "./auth.ts";
export type { FailSpec } from "./faults.ts";
export { makePod, setPodReady } from "./pods.ts";
export type { MakePodOptions } from "./pods.ts";
export { FakeEndpointSlices, makeEndpointSlice } from "./fake-endpoint-slices.ts";
export type { MakeEndpointOptions, MakeEndpointSliceOptions, MirroredService, ServicePortSpec, ServiceSpec } from "./fake-endpoint-slices.ts";
export { createManualClock } from "./manual-clock.ts";
export type { ManualClock } from "./manual-clock.ts";

// ── Advanced: building blocks, for tests of clients and decoders ─────────
export { parseLabelSelector, parseFieldSelector, podFields, SelectorError, OBJECT_META_FIELDS } from "./selectors.ts";
export type { FieldSet, PodPredicate } from "./selectors.ts";
export { reconcileService } from "./endpoint-slice-controller.ts";
export type { SliceWrites } from "./endpoint-slice-controller.ts";
export { defaultEndpointSlice, endpointIpProblems, validateEndpointSlice } from "./endpoint-slice-validation.ts";
export { strategicMergePatch, mergePatch, jsonPatch, PatchError } from "./patch.ts";
export { encodeContinue, decodeContinue } from "./continue-token.ts";
export type { ContinueToken } from "./continue-token.ts";
export { generateTlsMaterial } from "./tls.ts";
export type { TlsMaterial, TlsMaterialOptions } from "./tls.ts";
export { serve } from "./listen.ts";
export type { Listening, ServeOptions } from "./listen.ts";
