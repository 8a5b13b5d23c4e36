/**
 * Pod writes over HTTP: create, update, patch (also of `pods/status`) and
 * delete, with the checks and answers of the apiserver's generic registry
 * (apiserver `registry/generic/registry/store.go`, `endpoints/handlers/`) and
 * the pod strategy (kubernetes `pkg/registry/core/pod/strategy.go`).
 *
 * @module
 */
import { parse as parseYaml } from "yaml";
import type { Pod, Status } from "../kube/wire.ts";
import { jsonPatch, mergePatch, PatchError, strategicMergePatch } from "./patch.ts";
import { strictDecodingMessage, unknownPodFields } from "./pod-schema.ts";
import { checkDryRun, dryRunQuery } from "./dry-run.ts";
import { copyPod, podKey, type PodStore } from "./store.ts";
import { alreadyExists, badRequest, conflict, failure, invalid, notFound, unsupportedPatchType } from "./status.ts";
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

function fail(s: Status): WriteResult {
  return { status: s.code, body: s };
}

async function readJson(req: Request): Promise<unknown | Status> {
  const text = await req.text();
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    return badRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`);
  }
}

function isStatus(v: unknown): v is Status {
  return typeof v === "object" && v !== null && (v as { kind?: unknown }).kind === "Status" && "code" in v;
}

function isPodShape(v: unknown): v is Pod {
  return typeof v === "object" && v !== null && !Array.isArray(v) && typeof (v as Pod).metadata === "object" && (v as Pod).metadata !== null;
}

function strictCheck(url: URL, obj: unknown): Status | undefined {
  if (url.searchParams.get("fieldValidation") !== "Strict") return undefined;
  const unknown = unknownPodFields(obj);
  return unknown.length > 0 ? badRequest(strictDecodingMessage(unknown)) : undefined;
}

/** Prepares a new pod the way `create` does (uid, timestamp, namespace); shared with `createPod()`. */
export function prepareCreate(ctx: WriteContext, namespace: string, pod: Pod, keepStatus: boolean): Pod | Status {
  const p = copyPod(pod);
  delete p.kind;
  delete p.apiVersion;
  p.metadata ??= {};
  if (p.metadata.namespace !== undefined && p.metadata.namespace !== "" && p.metadata.namespace !== namespace) {
    return badRequest("the namespace of the provided object does not match the namespace sent on the request");
  }
  p.metadata.namespace = namespace;
  if ((p.metadata.name ?? "") === "") {
    const gen = p.metadata["generateName"];
    if (typeof gen === "string" && gen !== "") {
      p.metadata.name = gen + ctx.uid().replace(/-/g, "").slice(0, 5);
    } else {
      return invalid("Pod", "", "", [
        { type: "FieldValueRequired", field: "metadata.name", detail: "name or generateName is required" },
      ]);
    }
  }
  const name = p.metadata.name!;
  if (!Array.isArray(p.spec?.containers) || p.spec.containers.length === 0) {
    return invalid("Pod", "", name, [{ type: "FieldValueRequired", field: "spec.containers", detail: "" }]);
  }
  if (ctx.store.get(podKey(namespace, name)) !== undefined) return alreadyExists("pods", name);
  if (!keepStatus || typeof p.metadata.uid !== "string" || p.metadata.uid === "") p.metadata.uid = ctx.uid();
  if (!keepStatus || !p.metadata.creationTimestamp) p.metadata.creationTimestamp = ctx.timestamp();
  if (!keepStatus) {
    delete p.metadata.deletionTimestamp;
    delete p.metadata.deletionGracePeriodSeconds;
    // PrepareForCreate resets the status (pod strategy).
    p.status = { phase: "Pending", qosClass: "BestEffort" };
  }
  return p;
}

/** POST /api/v1/namespaces/NS/pods. */
export async function createFromRequest(ctx: WriteContext, req: Request, url: URL, namespace: string): Promise<WriteResult> {
  const dryRun = checkDryRun(dryRunQuery(url), "CreateOptions");
  if (typeof dryRun !== "boolean") return fail(dryRun);
  const body = await readJson(req);
  if (isStatus(body)) return fail(body);
  if (!isPodShape(body)) return fail(badRequest("Object 'Kind' is missing in the request body"));
  const strict = strictCheck(url, body);
  if (strict) return fail(strict);
  const p = prepareCreate(ctx, namespace, body, false);
  if (isStatus(p)) return fail(p);
  if (dryRun) {
    // Answered as created, with no resourceVersion: nothing was written (apiserver `dryrun.go` `Create`).
    delete p.metadata.resourceVersion;
    return { status: 201, body: withKind(p) };
  }
  const stored = ctx.store.add(podKey(namespace, p.metadata.name!), p);
  return { status: 201, body: withKind(stored) };
}

/**
 * Stores `next` as the new state of `current` (update semantics): identity
 * fields are kept, a set resourceVersion must match (409 otherwise), and only
 * the part the endpoint owns changes (status for `pods/status`, the rest otherwise).
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
  let result: Pod;
  if (statusOnly) {
    result = copyPod(current);
    if (next.status !== undefined) result.status = next.status;
    else delete result.status;
  } else {
    result = copyPod(next);
    delete result.kind;
    delete result.apiVersion;
    result.metadata = { ...result.metadata, name, namespace };
    const meta = result.metadata as Record<string, unknown>;
    for (const k of ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"]) {
      if (current.metadata[k] !== undefined) meta[k] = current.metadata[k];
      else delete meta[k];
    }
    // PrepareForUpdate keeps the status (pod strategy): only pods/status changes it.
    if (current.status !== undefined) result.status = current.status;
    else delete result.status;
    if (!Array.isArray(result.spec?.containers) || result.spec.containers.length === 0) {
      return fail(invalid("Pod", "", name, [{ type: "FieldValueRequired", field: "spec.containers", detail: "" }]));
    }
  }
  if (dryRun) {
    // The would-be object, still at the current resourceVersion (apiserver `dryrun.go` `GuaranteedUpdate`).
    result.metadata.resourceVersion = current.metadata.resourceVersion!;
    return { status: 200, body: withKind(result) };
  }
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
  const body = await readJson(req);
  if (isStatus(body)) return fail(body);
  if (!isPodShape(body)) return fail(badRequest("Object 'Kind' is missing in the request body"));
  const strict = strictCheck(url, body);
  if (strict) return fail(strict);
  const current = ctx.store.get(podKey(namespace, name));
  if (current === undefined) return fail(notFound("pods", name));
  return commitUpdate(ctx, current, body, name, statusOnly, dryRun);
}

/** The media types of PATCH bodies, in the apiserver's 415 message order. */
export const ACCEPTED_PATCH_TYPES: readonly string[] = [
  "application/json-patch+json",
  "application/merge-patch+json",
  "application/apply-patch+yaml",
  "application/strategic-merge-patch+json",
];

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
  if (kind === undefined) return fail(unsupportedPatchType(ACCEPTED_PATCH_TYPES));
  if (kind === "apply" && (url.searchParams.get("fieldManager") ?? "") === "") {
    return fail(invalid("PatchOptions", "meta.k8s.io", "", [
      { type: "FieldValueRequired", field: "fieldManager", detail: "is required for apply patch" },
    ]));
  }
  const text = await req.text();
  let patch: unknown;
  try {
    patch = kind === "apply" ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    return fail(badRequest(`error decoding patch: ${(e as Error).message}`));
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
      return fail(e.status === 400 ? badRequest(e.message) : failure(422, "Invalid", e.message));
    }
    throw e;
  }
  if (!isPodShape(next)) return fail(badRequest("the patched object is not a Pod"));
  const strict = strictCheck(url, next);
  if (strict) return fail(strict);
  return commitUpdate(ctx, current, next, name, statusOnly, dryRun);
}

/** Whether a pod is deleted at once regardless of the grace period (pod strategy `CheckGracefulDelete`). */
function deletesImmediately(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return !pod.spec?.nodeName || phase === "Succeeded" || phase === "Failed";
}

/** DELETE /api/v1/namespaces/NS/pods/NAME, with an optional DeleteOptions body. */
export async function deleteFromRequest(ctx: WriteContext, req: Request, url: URL, namespace: string, name: string): Promise<WriteResult> {
  const text = await req.text();
  let opts: { gracePeriodSeconds?: unknown; dryRun?: unknown; preconditions?: { uid?: unknown; resourceVersion?: unknown } } = {};
  if (text.trim() !== "") {
    try {
      opts = JSON.parse(text) as typeof opts;
    } catch (e) {
      return fail(badRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`));
    }
  }
  // DeleteOptions.dryRun comes in the body (kubectl) or the query.
  const bodyDryRun = Array.isArray(opts.dryRun) ? opts.dryRun.map(String) : [];
  const dryRun = checkDryRun([...bodyDryRun, ...dryRunQuery(url)], "DeleteOptions");
  if (typeof dryRun !== "boolean") return fail(dryRun);
  const key = podKey(namespace, name);
  const current = ctx.store.get(key);
  if (current === undefined) return fail(notFound("pods", name));
  const pre = opts.preconditions;
  if (typeof pre?.uid === "string" && pre.uid !== current.metadata.uid) {
    return fail(failure(409, "Conflict", `Operation cannot be fulfilled on pods "${name}": Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid ?? ""}`, { name, kind: "pods" }));
  }
  if (typeof pre?.resourceVersion === "string" && pre.resourceVersion !== current.metadata.resourceVersion) {
    return fail(failure(409, "Conflict", `Operation cannot be fulfilled on pods "${name}": Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion ?? ""}`, { name, kind: "pods" }));
  }
  const q = url.searchParams.get("gracePeriodSeconds");
  let grace: number | undefined = typeof opts.gracePeriodSeconds === "number" ? opts.gracePeriodSeconds : undefined;
  if (q !== null && q !== "") grace = Number(q);
  grace ??= current.spec?.terminationGracePeriodSeconds ?? 30;
  if (!Number.isFinite(grace) || grace < 0) grace = 0;
  const existing = current.metadata.deletionGracePeriodSeconds;
  if (grace === 0 || deletesImmediately(current)) {
    // A dry run answers with the object as it is; nothing is removed (apiserver `dryrun.go` `Delete`).
    if (dryRun) return { status: 200, body: withKind(current) };
    const gone = ctx.store.remove(key)!;
    return { status: 200, body: withKind(gone) };
  }
  if (typeof existing === "number" && existing <= grace) {
    // Already terminating with a shorter or equal grace: nothing changes.
    return { status: 200, body: withKind(current) };
  }
  const next = copyPod(current);
  next.metadata.deletionTimestamp = ctx.timestamp(grace);
  next.metadata.deletionGracePeriodSeconds = grace;
  if (dryRun) return { status: 200, body: withKind(next) };
  const stored = ctx.store.replace(key, next);
  ctx.scheduleFinish(namespace, name, grace);
  return { status: 200, body: withKind(stored) };
}
