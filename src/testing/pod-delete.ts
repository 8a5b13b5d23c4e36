/**
 * Pod deletion over HTTP, one pod or a collection, as the apiserver's generic
 * registry does it (apiserver `registry/rest/delete.go` `BeforeDelete`,
 * `registry/generic/registry/store.go` `Delete` and `DeleteCollection`,
 * `endpoints/handlers/delete.go`) with the pod strategy's grace rules
 * (kubernetes `pkg/registry/core/pod/strategy.go` `CheckGracefulDelete`):
 *
 * - the options come from the body when there is one, else from the query;
 * - preconditions (uid, resourceVersion) are checked first (409);
 * - every delete of a pod is graceful: the pod is first updated with
 *   `deletionTimestamp` = now + grace, `deletionGracePeriodSeconds` and a
 *   bumped generation (MODIFIED); with a grace of 0 (also for a pod on no
 *   node or already finished) it is then removed (DELETED);
 * - a pod already terminating only takes a shorter grace period.
 *
 * @module
 */
import type { Pod, PodList, Status } from "../kube/wire.ts";
import { checkDryRun } from "./dry-run.ts";
import { goJsonSyntaxError } from "./go-json.ts";
import type { ListQuery } from "./list-options.ts";
import { fail, type WriteContext, type WriteResult } from "./pod-writes.ts";
import { podKey } from "./store.ts";
import { failure, notFound, unclassified } from "./status.ts";
import { withKind } from "./watch.ts";

/** The DeleteOptions the handler uses. */
interface DeleteOptions {
  gracePeriodSeconds?: number;
  dryRun: string[];
  preconditions?: { uid?: string; resourceVersion?: string };
}

/** Reads DeleteOptions from the body, or (only when there is none) from the query. */
export async function readDeleteOptions(req: Request, url: URL): Promise<DeleteOptions | Status> {
  const text = await req.text();
  if (text.trim() === "") {
    const g = url.searchParams.get("gracePeriodSeconds");
    const grace = g !== null && /^[+-]?\d+$/.test(g) ? Number(g) : undefined;
    return { ...(grace !== undefined ? { gracePeriodSeconds: grace } : {}), dryRun: url.searchParams.getAll("dryRun") };
  }
  const syntax = goJsonSyntaxError(text);
  // A body that does not decode is not an API error to the handler: 500 without a reason.
  if (syntax !== undefined) return unclassified(`couldn't get version/kind; json parse error: ${syntax}`);
  const o = JSON.parse(text) as { gracePeriodSeconds?: unknown; dryRun?: unknown; preconditions?: { uid?: unknown; resourceVersion?: unknown } } | null;
  const pre = o?.preconditions;
  return {
    ...(typeof o?.gracePeriodSeconds === "number" ? { gracePeriodSeconds: o.gracePeriodSeconds } : {}),
    dryRun: Array.isArray(o?.dryRun) ? o.dryRun.map(String) : [],
    ...(pre ? { preconditions: { ...(typeof pre.uid === "string" ? { uid: pre.uid } : {}), ...(typeof pre.resourceVersion === "string" ? { resourceVersion: pre.resourceVersion } : {}) } } : {}),
  };
}

function preconditionFailed(name: string, what: string): Status {
  return failure(409, "Conflict", `Operation cannot be fulfilled on Pod "${name}": ${what}`, { name, kind: "Pod" });
}

/** Deletes one pod with `opts` (already validated); the answer the handler sends. */
export function deletePod(ctx: WriteContext, namespace: string, name: string, opts: DeleteOptions, dryRun: boolean): WriteResult {
  const key = podKey(namespace, name);
  const current = ctx.store.get(key);
  if (current === undefined) return fail(notFound("pods", name));
  const pre = opts.preconditions;
  if (pre?.uid !== undefined && pre.uid !== current.metadata.uid) {
    return fail(preconditionFailed(name, `the UID in the precondition (${pre.uid}) does not match the UID in record (${current.metadata.uid ?? ""}). The object might have been deleted and then recreated`));
  }
  if (pre?.resourceVersion !== undefined && pre.resourceVersion !== current.metadata.resourceVersion) {
    return fail(preconditionFailed(name, `the ResourceVersion in the precondition (${pre.resourceVersion}) does not match the ResourceVersion in record (${current.metadata.resourceVersion ?? ""}). The object might have been modified`));
  }
  const explicit = opts.gracePeriodSeconds === undefined ? undefined : opts.gracePeriodSeconds < 0 ? 1 : opts.gracePeriodSeconds;
  const finalizers = Array.isArray(current.metadata.finalizers) && current.metadata.finalizers.length > 0;
  const next = structuredClone(current);
  const meta = next.metadata;
  const terminating = meta.deletionTimestamp !== undefined && meta.deletionTimestamp !== null;
  let grace: number;
  if (terminating) {
    const existing = meta.deletionGracePeriodSeconds;
    if (typeof existing === "number" && existing > 0) {
      // Only a shorter grace period changes anything (rest.BeforeDelete).
      if (explicit === undefined || explicit >= existing) return { status: 200, body: withKind(current) };
      const shortened = Date.parse(String(meta.deletionTimestamp)) - (existing - explicit) * 1000;
      const now = Date.parse(ctx.timestamp());
      grace = explicit;
      if (shortened < now) {
        meta.deletionTimestamp = ctx.timestamp();
        if (grace !== 0) grace = 1;
      } else meta.deletionTimestamp = new Date(shortened).toISOString().replace(/\.\d{3}Z$/, "Z");
      meta.deletionGracePeriodSeconds = grace;
    } else grace = 0;
  } else {
    grace = explicit ?? next.spec?.terminationGracePeriodSeconds ?? 0;
    const phase = next.status?.phase;
    if (!next.spec?.nodeName || phase === "Succeeded" || phase === "Failed") grace = 0;
    if (grace < 0) grace = 1;
    meta.deletionTimestamp = ctx.timestamp(grace);
    meta.deletionGracePeriodSeconds = grace;
    if (typeof meta.generation === "number" && meta.generation > 0) meta.generation += 1;
  }
  // A dry run answers with the would-be object; nothing is written (apiserver `dryrun.go`).
  if (dryRun) return { status: 200, body: withKind(next) };
  // An already terminating pod with no grace left is removed without another update.
  const unchanged = terminating && meta.deletionGracePeriodSeconds === current.metadata.deletionGracePeriodSeconds;
  const updated = unchanged ? current : ctx.store.replace(key, next);
  if (grace > 0 || finalizers) {
    if (grace > 0) ctx.scheduleFinish(namespace, name, grace);
    return { status: 200, body: withKind(updated) };
  }
  const gone = ctx.store.remove(key)!;
  return { status: 200, body: withKind(gone) };
}

/** DELETE /api/v1/namespaces/NS/pods/NAME, with optional DeleteOptions. */
export async function deleteFromRequest(ctx: WriteContext, req: Request, url: URL, namespace: string, name: string): Promise<WriteResult> {
  const opts = await readDeleteOptions(req, url);
  if ("code" in opts) return fail(opts);
  const dryRun = checkDryRun(opts.dryRun, "DeleteOptions");
  if (typeof dryRun !== "boolean") return fail(dryRun);
  return deletePod(ctx, namespace, name, opts, dryRun);
}

/**
 * DELETE /api/v1/namespaces/NS/pods (deletecollection): every pod the list
 * options select is deleted as one DELETE would; the answer is a PodList of
 * those pods as listed before deleting.
 */
export async function deleteCollectionFromRequest(ctx: WriteContext, req: Request, url: URL, namespace: string, q: ListQuery): Promise<WriteResult> {
  const opts = await readDeleteOptions(req, url);
  if ("code" in opts) return fail(opts);
  const dryRun = checkDryRun(opts.dryRun, "DeleteOptions");
  if (typeof dryRun !== "boolean") return fail(dryRun);
  const { preconditions: _ignored, ...each } = opts;
  const listRv = ctx.store.rv;
  const items: Pod[] = [];
  for (const [key, pod] of ctx.store.sorted()) {
    if (!key.startsWith(`${namespace}/`) || !q.matches(pod)) continue;
    // The answer lists the pods as they were listed, before their deletion.
    const { kind: _k, apiVersion: _a, ...item } = structuredClone(pod);
    const r = deletePod(ctx, namespace, pod.metadata.name!, each, dryRun);
    if (r.status !== 200) return r;
    items.push(item as Pod);
  }
  const list: PodList = { kind: "PodList", apiVersion: "v1", metadata: { resourceVersion: String(listRv) }, items };
  return { status: 200, body: list };
}
