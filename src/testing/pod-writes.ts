/**
 * Pod writes over HTTP: create, update and patch (also of `pods/status`),
 * with the checks and answers of the apiserver's generic registry
 * (apiserver `registry/generic/registry/store.go`, `registry/rest/create.go`
 * and `update.go`, `endpoints/handlers/`) and the pod strategy (kubernetes
 * `pkg/registry/core/pod/strategy.go`). Deletion is in pod-delete.ts.
 *
 * @module
 */
import { parse as parseYaml } from "yaml";
import type { Pod, Status } from "../kube/wire.ts";
import { checkDryRun, dryRunQuery } from "./dry-run.ts";
import { jsonPatch, mergePatch, PatchError, strategicMergePatch } from "./patch.ts";
import { admitPod, defaultPod, podQosClass, serialisePod } from "./pod-defaults.ts";
import { strictDecodingMessage, unknownPodFields } from "./pod-schema.ts";
import { validatePodSpecUpdate, validatePodStatus } from "./pod-validation.ts";
import { sameJson } from "./same-json.ts";
import { patchDecodeError, readObject } from "./request-body.ts";
import { copyPod, podKey, type PodStore } from "./store.ts";
import { alreadyExists, badRequest, conflict, failure, invalid, notFound, type FieldError } from "./status.ts";
import { withKind } from "./watch.ts";

/** What the write handlers need from the server. */
export interface WriteContext {
  readonly store: PodStore;
  /** Wall-clock now as an RFC 3339 timestamp (seconds precision, like metav1.Time). */
  timestamp(offsetSeconds?: number): string;
  /** A fresh UID. */
  uid(): string;
  /** Called after a graceful delete began with `grace` seconds; the server finishes it later. */
  scheduleFinish(namespace: string, name: string, graceSeconds: number): void;
}

/** A write's outcome: an HTTP status and a body (object or Status). */
export interface WriteResult {
  status: number;
  body: unknown;
}

const PATCH_TYPES = {
  "application/json-patch+json": "json",
  "application/merge-patch+json": "merge",
  "application/strategic-merge-patch+json": "strategic",
  "application/apply-patch+yaml": "apply",
} as const;

/** A failed write. */
export function fail(s: Status): WriteResult {
  return { status: s.code, body: s };
}

function isStatus(v: unknown): v is Status {
  return typeof v === "object" && v !== null && (v as { kind?: unknown }).kind === "Status" && "code" in v;
}

function strictCheck(url: URL, obj: unknown): Status | undefined {
  if (url.searchParams.get("fieldValidation") !== "Strict") return undefined;
  const unknown = unknownPodFields(obj);
  return unknown.length > 0 ? badRequest(strictDecodingMessage(unknown)) : undefined;
}

/**
 * Prepares a new pod the way `create` does (uid, timestamp, namespace,
 * generation 1; over HTTP also the v1 defaults, admission defaults and a
 * reset status with the computed QoS class); shared with `createPod()`,
 * which keeps the pod as given (`keepStatus`).
 */
export function prepareCreate(ctx: WriteContext, namespace: string, pod: Pod, keepStatus: boolean): Pod | Status {
  const p = copyPod(pod);
  delete p.kind;
  delete p.apiVersion;
  p.metadata ??= {};
  if (p.metadata.namespace !== undefined && p.metadata.namespace !== "" && p.metadata.namespace !== namespace) {
    return badRequest("the namespace of the provided object does not match the namespace sent on the request");
  }
  p.metadata.namespace = namespace;
  const errors: FieldError[] = [];
  if ((p.metadata.name ?? "") === "") {
    const gen = p.metadata["generateName"];
    if (typeof gen === "string" && gen !== "") p.metadata.name = gen + ctx.uid().replace(/-/g, "").slice(0, 5);
    else errors.push({ type: "FieldValueRequired", field: "metadata.name", detail: "name or generateName is required" });
  }
  const name = p.metadata.name ?? "";
  if (!Array.isArray(p.spec?.containers) || p.spec.containers.length === 0) {
    errors.push({ type: "FieldValueRequired", field: "spec.containers", detail: "" });
  }
  if (errors.length > 0) return invalid("Pod", "", name, errors);
  if (ctx.store.get(podKey(namespace, name)) !== undefined) return alreadyExists("pods", name);
  if (!keepStatus || typeof p.metadata.uid !== "string" || p.metadata.uid === "") p.metadata.uid = ctx.uid();
  if (!keepStatus || !p.metadata.creationTimestamp) p.metadata.creationTimestamp = ctx.timestamp();
  if (!keepStatus || typeof p.metadata.generation !== "number") p.metadata.generation = 1;
  if (!keepStatus) {
    delete p.metadata.deletionTimestamp;
    delete p.metadata.deletionGracePeriodSeconds;
    defaultPod(p);
    admitPod(p);
    // PrepareForCreate resets the status (pod strategy).
    p.status = { phase: "Pending", qosClass: podQosClass(p) };
    serialisePod(p);
  }
  return p;
}

/** POST /api/v1/namespaces/NS/pods. */
export async function createFromRequest(ctx: WriteContext, req: Request, url: URL, namespace: string): Promise<WriteResult> {
  const dryRun = checkDryRun(dryRunQuery(url), "CreateOptions");
  if (typeof dryRun !== "boolean") return fail(dryRun);
  const body = await readObject(req, "Pod");
  if (isStatus(body)) return fail(body);
  const strict = strictCheck(url, body);
  if (strict) return fail(strict);
  const p = prepareCreate(ctx, namespace, body as unknown as Pod, false);
  if (isStatus(p)) return fail(p);
  if (dryRun) {
    // Answered as created, with no resourceVersion: nothing was written (apiserver `dryrun.go` `Create`).
    delete p.metadata.resourceVersion;
    return { status: 201, body: withKind(p) };
  }
  const stored = ctx.store.add(podKey(namespace, p.metadata.name!), p);
  return { status: 201, body: withKind(stored) };
}

/** Without the resourceVersion, for "did anything change" (the storage skips writes that change nothing). */
function sameObject(a: Pod, b: Pod): boolean {
  const strip = (p: Pod): unknown => ({ ...p, metadata: { ...p.metadata, resourceVersion: undefined } });
  return sameJson(strip(a), strip(b));
}

/**
 * Stores `next` as the new state of `current` (update semantics, `rest.BeforeUpdate`
 * and the pod strategies): identity fields are kept, a set resourceVersion
 * must match (409 otherwise); the main resource keeps the status, bumps the
 * generation on a spec change and refuses immutable spec changes; `pods/status`
 * keeps the spec, owner references and deletion timestamp, and takes the
 * rest (labels included). An update that changes nothing is not written.
 */
function commitUpdate(ctx: WriteContext, current: Pod, next: Pod, name: string, statusOnly: boolean, dryRun: boolean): WriteResult {
  const namespace = current.metadata.namespace!;
  if (next.metadata?.name !== undefined && next.metadata.name !== name) {
    return fail(badRequest(`the name of the object (${String(next.metadata.name)}) does not match the name on the URL (${name})`));
  }
  if (next.metadata?.namespace !== undefined && next.metadata.namespace !== "" && next.metadata.namespace !== namespace) {
    return fail(badRequest("the namespace of the provided object does not match the namespace sent on the request"));
  }
  const rv = next.metadata?.resourceVersion;
  if (rv !== undefined && rv !== "" && rv !== current.metadata.resourceVersion) return fail(conflict("pods", name));
  const result = copyPod(next);
  delete result.kind;
  delete result.apiVersion;
  defaultPod(result);
  const meta = (result.metadata = { ...result.metadata, name, namespace }) as Record<string, unknown>;
  const cur = current.metadata as Record<string, unknown>;
  meta["generation"] = cur["generation"];
  for (const k of ["uid", "creationTimestamp", "deletionTimestamp"]) {
    if (cur[k] !== undefined) meta[k] = cur[k];
    else delete meta[k];
  }
  if (cur["deletionGracePeriodSeconds"] !== undefined) meta["deletionGracePeriodSeconds"] ??= cur["deletionGracePeriodSeconds"];
  if (statusOnly) {
    const spec = copyPod(current).spec;
    if (spec !== undefined) result.spec = spec;
    else delete result.spec;
    if (cur["ownerReferences"] !== undefined) meta["ownerReferences"] = cur["ownerReferences"];
    else delete meta["ownerReferences"];
    result.status ??= {};
    if (!result.status.qosClass && current.status?.qosClass) result.status.qosClass = current.status.qosClass;
    const errors = validatePodStatus(result);
    if (errors.length > 0) return fail(invalid("Pod", "", name, errors));
  } else {
    // PrepareForUpdate keeps the status (pod strategy): only pods/status changes it.
    const status = copyPod(current).status;
    if (status !== undefined) result.status = status;
    else delete result.status;
    if (!Array.isArray(result.spec?.containers) || result.spec.containers.length === 0) {
      return fail(invalid("Pod", "", name, [{ type: "FieldValueRequired", field: "spec.containers", detail: "" }]));
    }
    const errors = validatePodSpecUpdate(current, result);
    if (errors.length > 0) return fail(invalid("Pod", "", name, errors));
    if (typeof meta["generation"] === "number" && !sameJson(result.spec, current.spec)) meta["generation"] += 1;
  }
  serialisePod(result);
  result.metadata.resourceVersion = current.metadata.resourceVersion!;
  // Nothing changed: no write, no new resourceVersion (etcd3 store `GuaranteedUpdate`).
  if (sameObject(result, current)) return { status: 200, body: withKind(current) };
  // A dry run answers with the would-be object, still at the current resourceVersion (apiserver `dryrun.go`).
  if (dryRun) return { status: 200, body: withKind(result) };
  const stored = ctx.store.replace(podKey(namespace, name), result);
  return { status: 200, body: withKind(stored) };
}

/** PUT /api/v1/namespaces/NS/pods/NAME[/status]. */
export async function updateFromRequest(
  ctx: WriteContext,
  req: Request,
  url: URL,
  namespace: string,
  name: string,
  statusOnly: boolean,
): Promise<WriteResult> {
  const dryRun = checkDryRun(dryRunQuery(url), "UpdateOptions");
  if (typeof dryRun !== "boolean") return fail(dryRun);
  const body = await readObject(req, "Pod");
  if (isStatus(body)) return fail(body);
  const strict = strictCheck(url, body);
  if (strict) return fail(strict);
  const current = ctx.store.get(podKey(namespace, name));
  if (current === undefined) return fail(notFound("pods", name));
  const next = body as unknown as Pod;
  next.metadata ??= {};
  return commitUpdate(ctx, current, next, name, statusOnly, dryRun);
}

/** The media types of PATCH bodies, in the apiserver's order. */
export const ACCEPTED_PATCH_TYPES: readonly string[] = [
  "application/json-patch+json",
  "application/merge-patch+json",
  "application/apply-patch+yaml",
  "application/strategic-merge-patch+json",
];

/** 422 for a JSON patch that does not apply: the apiserver drops the reason (`NewGenericServerResponse`). */
const JSON_PATCH_REJECTED = "the server rejected our request due to an error in our request";

/** PATCH /api/v1/namespaces/NS/pods/NAME[/status]. */
export async function patchFromRequest(
  ctx: WriteContext,
  req: Request,
  url: URL,
  namespace: string,
  name: string,
  statusOnly: boolean,
): Promise<WriteResult> {
  const dryRun = checkDryRun(dryRunQuery(url), "PatchOptions");
  if (typeof dryRun !== "boolean") return fail(dryRun);
  const type = (req.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  const kind = (PATCH_TYPES as Record<string, (typeof PATCH_TYPES)[keyof typeof PATCH_TYPES]>)[type];
  if (kind === undefined) return fail(failure(415, "UnsupportedMediaType", "415: Unsupported Media Type", {}));
  if (kind === "apply" && (url.searchParams.get("fieldManager") ?? "") === "") {
    return fail(invalid("PatchOptions", "meta.k8s.io", "", [
      { type: "FieldValueRequired", field: "fieldManager", detail: "is required for apply patch" },
    ]));
  }
  const text = await req.text();
  let patch: unknown;
  if (kind === "apply") {
    try {
      patch = parseYaml(text);
    } catch (e) {
      return fail(badRequest(`error decoding YAML: ${(e as Error).message.split("\n")[0]}`));
    }
  } else {
    const bad = patchDecodeError(text);
    if (bad) return fail(bad);
    patch = JSON.parse(text);
    if (kind === "json" && !Array.isArray(patch)) {
      return fail(badRequest(`error decoding patch: json: cannot unmarshal ${Array.isArray(patch) ? "array" : typeof patch === "object" && patch !== null ? "object" : typeof patch} into Go value of type []handlers.jsonPatchOp`));
    }
  }
  const current = ctx.store.get(podKey(namespace, name));
  if (current === undefined) return fail(notFound("pods", name));
  const base = withKind(current);
  let next: unknown;
  try {
    if (kind === "json") next = jsonPatch(base, patch);
    else if (kind === "strategic") next = strategicMergePatch(base, patch);
    // Server-side apply without field ownership: a merge of the applied configuration.
    else next = mergePatch(base, patch);
  } catch (e) {
    if (e instanceof PatchError) {
      if (kind === "json" && e.status === 422) return fail(failure(422, "Invalid", JSON_PATCH_REJECTED, {}));
      return fail(e.status === 400 ? badRequest(e.message) : failure(422, "Invalid", e.message));
    }
    throw e;
  }
  if (typeof next !== "object" || next === null || Array.isArray(next)) return fail(badRequest("the patched object is not a Pod"));
  const pod = next as Pod;
  pod.metadata ??= {};
  const strict = strictCheck(url, pod);
  if (strict) return fail(strict);
  return commitUpdate(ctx, current, pod, name, statusOnly, dryRun);
}
