/**
 * EndpointSlices over HTTP (`/apis/discovery.k8s.io/v1/[watch/][namespaces/NS/]endpointslices[/NAME]`):
 * LIST and WATCH through the same code as pods (one resourceVersion counter,
 * paging, selectors, history, bookmarks), GET, create, update, the three
 * patch types, delete and deletecollection, with the answers of a real
 * kube-apiserver v1.34 (checked against one): defaults, generation, field
 * selectors on `metadata.name`/`metadata.namespace` only, the apiserver's
 * IP rules (see `endpoint-slice-validation.ts`).
 *
 * Strategic merge patches are applied as JSON merge patches: every list of
 * an EndpointSlice is atomic (`+listType=atomic`), so both replace lists.
 *
 * @module
 */
import type { Clock } from "../kube/clock.ts";
import type { EndpointSlice, Pod, Status } from "../kube/wire.ts";
import { authorize, verbOf } from "./auth.ts";
import { checkDryRun, dryRunQuery } from "./dry-run.ts";
import { defaultEndpointSlice, validateEndpointSlice } from "./endpoint-slice-validation.ts";
import { sameJson } from "./same-json.ts";
import { listPods } from "./list.ts";
import { parseListQuery, type ListQuery } from "./list-options.ts";
import { jsonPatch, mergePatch, PatchError } from "./patch.ts";
import { readDeleteOptions } from "./pod-delete.ts";
import type { Caller } from "./pod-routes.ts";
import { patchDecodeError, readObject } from "./request-body.ts";
import { OBJECT_META_FIELDS } from "./selectors.ts";
import { copyPod, podKey, type PodStore } from "./store.ts";
import { badRequest, failure, forbidden, invalid, jsonResponse, methodNotSupported, pathNotFound, statusResponse, type FieldError } from "./status.ts";
import { protobufWatchEncoding, type Representation } from "./negotiation.ts";
import { openWatch, type BookmarkShape, type WatchContext, type WatchShape } from "./watch.ts";

/** The EndpointSlice paths: 1 legacy `watch/` prefix, 2 namespace, 3 name, 4 subresource. */
export const ENDPOINT_SLICE_PATH: RegExp = /^\/apis\/discovery\.k8s\.io\/v1\/(?:(watch)\/)?(?:namespaces\/([^/]+)\/)?endpointslices(?:\/([^/]+)(?:\/([^/]+))?)?$/;

const GROUP = "discovery.k8s.io";
const RESOURCE = "endpointslices";
const API_VERSION = "discovery.k8s.io/v1";

/** What the EndpointSlice handlers need from the server. */
export interface SliceContext {
  readonly store: PodStore<EndpointSlice>;
  readonly clock: Clock;
  readonly watches: WatchContext<EndpointSlice>;
  /** Wall-clock now as RFC 3339 (seconds). */
  timestamp(): string;
  uid(): string;
  /** Accept 127.0.0.0/8 and ::1 in slices (a documented relaxation; the real apiserver refuses them). */
  readonly allowLoopback: boolean;
  /** A Status while the watch cache is "not ready" (LIST and WATCH only). */
  notReady(): Status | undefined;
}

/** `kind` and `apiVersion` in front, as GETs and watch events carry them. */
export function sliceWithKind(s: EndpointSlice): EndpointSlice {
  const { kind: _k, apiVersion: _a, ...rest } = s;
  return { kind: "EndpointSlice", apiVersion: API_VERSION, ...rest };
}

/** A bookmark's object: an empty EndpointSlice as the v1.34 apiserver writes it. */
function sliceBookmark(rv: number, shape: BookmarkShape, end: boolean): unknown {
  const metadata: Record<string, unknown> = { resourceVersion: String(rv) };
  if (end) metadata["annotations"] = { "k8s.io/initial-events-end": "true" };
  if (shape === "metadata-only") return { kind: "EndpointSlice", apiVersion: API_VERSION, metadata };
  if (shape === "legacy-empty-pod") metadata["creationTimestamp"] = null;
  return { kind: "EndpointSlice", apiVersion: API_VERSION, metadata, addressType: "", endpoints: null, ports: null };
}

/** The EndpointSlices' watch shape. */
export const SLICE_WATCH_SHAPE: WatchShape<EndpointSlice> = { withKind: sliceWithKind, bookmark: sliceBookmark };

/** The failures of the generic registry, for endpointslices.discovery.k8s.io. */
function notFound(name: string): Status {
  return failure(404, "NotFound", `${RESOURCE}.${GROUP} "${name}" not found`, { name, group: GROUP, kind: RESOURCE });
}
function alreadyExists(name: string): Status {
  return failure(409, "AlreadyExists", `${RESOURCE}.${GROUP} "${name}" already exists`, { name, group: GROUP, kind: RESOURCE });
}
function conflict(name: string, why = "the object has been modified; please apply your changes to the latest version and try again"): Status {
  return failure(409, "Conflict", `Operation cannot be fulfilled on ${RESOURCE}.${GROUP} "${name}": ${why}`, { name, group: GROUP, kind: RESOURCE });
}
function invalidSlice(name: string, errors: readonly FieldError[]): Status {
  return invalid("EndpointSlice", GROUP, name, errors);
}

function isStatus(v: unknown): v is Status {
  return typeof v === "object" && v !== null && (v as { kind?: unknown }).kind === "Status" && "code" in v;
}

function answer(status: number, body: unknown): Response {
  return isStatus(body) ? statusResponse(body) : jsonResponse(status, body);
}

/**
 * Prepares a new slice as `create` does: namespace and name (or
 * generateName), defaults, validation, uid, creation time, generation 1.
 */
export function prepareSliceCreate(ctx: SliceContext, namespace: string, input: EndpointSlice): EndpointSlice | Status {
  const s = copyPod(input);
  s.metadata ??= {};
  if (s.metadata.namespace !== undefined && s.metadata.namespace !== "" && s.metadata.namespace !== namespace) {
    return badRequest("the namespace of the provided object does not match the namespace sent on the request");
  }
  s.metadata.namespace = namespace;
  const gen = s.metadata["generateName"];
  if ((s.metadata.name ?? "") === "" && typeof gen === "string" && gen !== "") s.metadata.name = gen + ctx.uid().replace(/-/g, "").slice(0, 5);
  const name = s.metadata.name ?? "";
  defaultEndpointSlice(s);
  const errors: FieldError[] = name === "" ? [{ type: "FieldValueRequired", field: "metadata.name", detail: "name or generateName is required" }] : [];
  errors.push(...validateEndpointSlice(s, ctx.allowLoopback));
  if (errors.length > 0) return invalidSlice(name, errors);
  if (ctx.store.get(podKey(namespace, name)) !== undefined) return alreadyExists(name);
  delete s.metadata.resourceVersion;
  delete s.metadata.deletionTimestamp;
  s.metadata.uid = ctx.uid();
  s.metadata.creationTimestamp = ctx.timestamp();
  s.metadata.generation = 1;
  return s;
}

/**
 * Stores `next` as the new state of `current`: identity fields kept, a set
 * resourceVersion must match (409), `addressType` is immutable, the
 * generation grows when anything but metadata, or the labels, change, and an update that
 * changes nothing is not written. `next` is the caller's own copy (a parsed
 * body, a patch result): it is changed and may be stored. The answer's
 * nested objects are the stored ones: serialise it or copy it.
 */
export function commitSliceUpdate(ctx: SliceContext, current: EndpointSlice, next: EndpointSlice, name: string, dryRun: boolean): { status: number; body: unknown } {
  const namespace = current.metadata.namespace!;
  next.metadata ??= {};
  if (next.metadata.name !== undefined && next.metadata.name !== name) {
    return { status: 400, body: badRequest(`the name of the object (${String(next.metadata.name)}) does not match the name on the URL (${name})`) };
  }
  if (next.metadata.namespace !== undefined && next.metadata.namespace !== "" && next.metadata.namespace !== namespace) {
    return { status: 400, body: badRequest("the namespace of the provided object does not match the namespace sent on the request") };
  }
  const rv = next.metadata.resourceVersion;
  if (rv !== undefined && rv !== "" && rv !== current.metadata.resourceVersion) return { status: 409, body: conflict(name) };
  delete next.kind;
  delete next.apiVersion;
  defaultEndpointSlice(next);
  const errors = validateEndpointSlice(next, ctx.allowLoopback);
  if (next.addressType !== current.addressType) {
    errors.unshift({ type: "FieldValueInvalid", field: "addressType", value: next.addressType, detail: "field is immutable" });
  }
  if (errors.length > 0) return { status: 422, body: invalidSlice(name, errors) };
  const meta = (next.metadata = { ...next.metadata, name, namespace }) as Record<string, unknown>;
  const cur = current.metadata as Record<string, unknown>;
  for (const k of ["uid", "creationTimestamp", "generation"]) meta[k] = cur[k];
  // Anything but metadata, and the labels (which say the Service), grows the generation (endpointslice strategy PrepareForUpdate).
  const specChanged = next.addressType !== current.addressType || !sameJson(next.endpoints, current.endpoints) || !sameJson(next.ports, current.ports) ||
    !sameJson(next.metadata.labels ?? {}, current.metadata.labels ?? {});
  if (specChanged && typeof meta["generation"] === "number") meta["generation"] += 1;
  next.metadata.resourceVersion = current.metadata.resourceVersion!;
  if (sameJson(next, current)) return { status: 200, body: sliceWithKind(current) };
  if (dryRun) return { status: 200, body: sliceWithKind(next) };
  return { status: 200, body: sliceWithKind(ctx.store.replace(podKey(namespace, name), next)) };
}

const PATCH_TYPES: Record<string, "json" | "merge"> = {
  "application/json-patch+json": "json",
  "application/merge-patch+json": "merge",
  "application/strategic-merge-patch+json": "merge",
};

async function patchSlice(ctx: SliceContext, req: Request, url: URL, namespace: string, name: string): Promise<Response> {
  const dryRun = checkDryRun(dryRunQuery(url), "PatchOptions");
  if (typeof dryRun !== "boolean") return statusResponse(dryRun);
  const type = (req.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  const kind = PATCH_TYPES[type];
  if (kind === undefined) return statusResponse(failure(415, "UnsupportedMediaType", "415: Unsupported Media Type", {}));
  const text = await req.text();
  const bad = patchDecodeError(text);
  if (bad) return statusResponse(bad);
  const patch = JSON.parse(text) as unknown;
  const current = ctx.store.get(podKey(namespace, name));
  if (current === undefined) return statusResponse(notFound(name));
  let next: unknown;
  try {
    next = kind === "json" ? jsonPatch(sliceWithKind(current), patch) : mergePatch(sliceWithKind(current), patch);
  } catch (e) {
    if (e instanceof PatchError) return statusResponse(e.status === 400 ? badRequest(e.message) : failure(422, "Invalid", e.message));
    throw e;
  }
  if (typeof next !== "object" || next === null || Array.isArray(next)) return statusResponse(badRequest("the patched object is not an EndpointSlice"));
  const r = commitSliceUpdate(ctx, current, next as EndpointSlice, name, dryRun);
  return answer(r.status, r.body);
}

async function deleteSlice(ctx: SliceContext, req: Request, url: URL, namespace: string, name: string | undefined, q?: ListQuery): Promise<Response> {
  const opts = await readDeleteOptions(req, url);
  if ("code" in opts) return statusResponse(opts);
  const dryRun = checkDryRun(opts.dryRun, "DeleteOptions");
  if (typeof dryRun !== "boolean") return statusResponse(dryRun);
  if (name === undefined) {
    const items: EndpointSlice[] = [];
    const listRv = ctx.store.rv;
    for (const [key, s] of ctx.store.sorted()) {
      if (!key.startsWith(`${namespace}/`) || (q !== undefined && !q.matches(s as unknown as Pod))) continue;
      const { kind: _k, apiVersion: _a, ...item } = copyPod(s);
      if (!dryRun) ctx.store.remove(key);
      items.push(item as EndpointSlice);
    }
    return jsonResponse(200, { kind: "EndpointSliceList", apiVersion: API_VERSION, metadata: { resourceVersion: String(listRv) }, items });
  }
  const key = podKey(namespace, name);
  const current = ctx.store.get(key);
  if (current === undefined) return statusResponse(notFound(name));
  const pre = opts.preconditions;
  if (pre?.uid !== undefined && pre.uid !== current.metadata.uid) {
    return statusResponse(conflict(name, `the UID in the precondition (${pre.uid}) does not match the UID in record (${current.metadata.uid ?? ""}). The object might have been deleted and then recreated`));
  }
  if (pre?.resourceVersion !== undefined && pre.resourceVersion !== current.metadata.resourceVersion) {
    return statusResponse(conflict(name, `the ResourceVersion in the precondition (${pre.resourceVersion}) does not match the ResourceVersion in record (${current.metadata.resourceVersion ?? ""}). The object might have been modified`));
  }
  if (!dryRun) ctx.store.remove(key);
  return jsonResponse(200, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details: { name, group: GROUP, kind: RESOURCE, uid: current.metadata.uid } });
}

/** Serves one request on a path matched by {@link ENDPOINT_SLICE_PATH}. */
export async function routeEndpointSlices(ctx: SliceContext, req: Request, url: URL, m: RegExpExecArray, caller: Caller, watch: boolean, rep: Representation = "json"): Promise<Response> {
  const encoding = rep === "protobuf" ? protobufWatchEncoding("EndpointSlice") : undefined;
  const method = req.method.toUpperCase();
  watch = watch || (m[1] === "watch" && method === "GET");
  const ns = m[2] !== undefined ? decodeURIComponent(m[2]) : undefined;
  const name = m[3] !== undefined ? decodeURIComponent(m[3]) : undefined;
  if (m[4] !== undefined) return statusResponse(pathNotFound());
  const verb = verbOf(method, name !== undefined && m[1] !== "watch", watch);
  if (!authorize(caller.grant, { verb, namespace: ns, resource: RESOURCE })) {
    return statusResponse(forbidden({ user: caller.user, verb, resource: RESOURCE, group: GROUP, ...(ns !== undefined ? { namespace: ns } : {}), ...(name !== undefined ? { name } : {}) }));
  }
  if (m[1] === "watch" && name !== undefined) {
    if (ns === undefined) return statusResponse(pathNotFound());
    if (method !== "GET") return statusResponse(methodNotSupported());
    const q = parseListQuery(url, true, name, OBJECT_META_FIELDS);
    if ("code" in q) return statusResponse(q);
    return ctx.notReady() ? statusResponse(ctx.notReady()!) : openWatch(ctx.watches, ns, q, undefined, SLICE_WATCH_SHAPE, encoding);
  }
  if (name === undefined) {
    if (method === "GET") {
      const q = parseListQuery(url, m[1] === "watch", undefined, OBJECT_META_FIELDS);
      if ("code" in q) return statusResponse(q);
      const notReady = ctx.notReady();
      if (notReady) return statusResponse(notReady);
      if (q.watch) return openWatch(ctx.watches, ns, q, undefined, SLICE_WATCH_SHAPE, encoding);
      const out = await listPods(ctx.store, ctx.clock, ns, q, req.signal, { kind: "EndpointSliceList", apiVersion: API_VERSION });
      return answer(200, out);
    }
    if (method === "POST" && ns !== undefined) {
      const dryRun = checkDryRun(dryRunQuery(url), "CreateOptions");
      if (typeof dryRun !== "boolean") return statusResponse(dryRun);
      const body = await readObject(req, "EndpointSlice");
      if (isStatus(body)) return statusResponse(body);
      const s = prepareSliceCreate(ctx, ns, body as unknown as EndpointSlice);
      if (isStatus(s)) return statusResponse(s);
      if (dryRun) return jsonResponse(201, sliceWithKind(s));
      return jsonResponse(201, sliceWithKind(ctx.store.add(podKey(ns, s.metadata.name!), s)));
    }
    if (method === "DELETE" && ns !== undefined) {
      const q = parseListQuery(url, false, undefined, OBJECT_META_FIELDS);
      if ("code" in q) return statusResponse(q);
      return deleteSlice(ctx, req, url, ns, undefined, q);
    }
    return statusResponse(methodNotSupported());
  }
  if (ns === undefined) return statusResponse(pathNotFound());
  switch (method) {
    case "GET": {
      const s = ctx.store.get(podKey(ns, name));
      return s === undefined ? statusResponse(notFound(name)) : jsonResponse(200, sliceWithKind(s));
    }
    case "PUT": {
      const dryRun = checkDryRun(dryRunQuery(url), "UpdateOptions");
      if (typeof dryRun !== "boolean") return statusResponse(dryRun);
      const body = await readObject(req, "EndpointSlice");
      if (isStatus(body)) return statusResponse(body);
      const current = ctx.store.get(podKey(ns, name));
      if (current === undefined) return statusResponse(notFound(name));
      const r = commitSliceUpdate(ctx, current, body as unknown as EndpointSlice, name, dryRun);
      return answer(r.status, r.body);
    }
    case "PATCH":
      return patchSlice(ctx, req, url, ns, name);
    case "DELETE":
      return deleteSlice(ctx, req, url, ns, name);
    default:
      return statusResponse(methodNotSupported());
  }
}
