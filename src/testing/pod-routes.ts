/**
 * Routing of the pod endpoints (`/api/v1/[watch/][namespaces/NS/]pods[/NAME[/status]]`):
 * authorization per verb, then LIST/WATCH, GET and the writes.
 *
 * @module
 */
import type { Clock } from "../kube/clock.ts";
import type { Pod } from "../kube/wire.ts";
import { authorize, verbOf, type TokenGrant } from "./auth.ts";
import { listPods } from "./list.ts";
import { parseListQuery } from "./list-options.ts";
import { deleteCollectionFromRequest, deleteFromRequest } from "./pod-delete.ts";
import { createFromRequest, patchFromRequest, updateFromRequest, type WriteContext, type WriteResult } from "./pod-writes.ts";
import { podKey, type PodStore } from "./store.ts";
import { forbidden, jsonResponse, methodNotSupported, notFound, pathNotFound, statusResponse } from "./status.ts";
import { protobufWatchEncoding, type Representation } from "./negotiation.ts";
import { podTable, type IncludeObject } from "./pod-table.ts";
import { openWatch, withKind, type ObjectTransform, type WatchContext } from "./watch.ts";

/** The pod paths: 1 legacy `watch/` prefix, 2 namespace, 3 name, 4 subresource. */
export const POD_PATH: RegExp = /^\/api\/v1\/(?:(watch)\/)?(?:namespaces\/([^/]+)\/)?pods(?:\/([^/]+)(?:\/([^/]+))?)?$/;

/** What pod routing needs from the server. */
export interface PodRouteContext {
  readonly store: PodStore;
  readonly clock: Clock;
  readonly writes: WriteContext;
  readonly watches: WatchContext;
}

/** Who is asking. */
export interface Caller {
  /** The token's grant; undefined when the server does not authenticate. */
  grant: TokenGrant | undefined;
  user: string;
}

/** Serves one request on a path matched by {@link POD_PATH}. */
export async function routePods(
  ctx: PodRouteContext,
  req: Request,
  url: URL,
  m: RegExpExecArray,
  caller: Caller,
  watch: boolean,
  rep: Representation = "json",
): Promise<Response> {
  const method = req.method.toUpperCase();
  // Table output (kubectl's server-side printing) for GETs, lists and watches.
  const include = (["None", "Metadata", "Object"] as const).find((v) => v === url.searchParams.get("includeObject")) ?? "Metadata";
  const now = (): number => Date.parse(ctx.writes.timestamp());
  const asTable = (pods: Pod[], metadata: Record<string, unknown>): Response => jsonResponse(200, podTable(pods, metadata, now(), include as IncludeObject));
  const tableEvents: ObjectTransform | undefined =
    rep === "table" ? (pod, first) => podTable([pod], { resourceVersion: pod.metadata.resourceVersion }, now(), include as IncludeObject, first) : undefined;
  const encoding = rep === "protobuf" ? protobufWatchEncoding("Pod") : undefined;
  const ns = m[2] !== undefined ? decodeURIComponent(m[2]) : undefined;
  const name = m[3] !== undefined ? decodeURIComponent(m[3]) : undefined;
  const sub = m[4];
  if (sub !== undefined && sub !== "status") return statusResponse(pathNotFound());
  if (m[1] === "watch" && sub !== undefined) return statusResponse(pathNotFound());
  const verb = verbOf(method, name !== undefined && m[1] !== "watch", watch);
  if (!authorize(caller.grant, { verb, namespace: ns, resource: "pods" })) {
    return statusResponse(
      forbidden({
        user: caller.user,
        verb,
        resource: "pods",
        ...(sub !== undefined ? { subresource: sub } : {}),
        ...(ns !== undefined ? { namespace: ns } : {}),
        ...(name !== undefined ? { name } : {}),
      }),
    );
  }
  const writes = ctx.writes;
  const send = (r: WriteResult): Response => jsonResponse(r.status, r.body);
  if (m[1] === "watch" && name !== undefined) {
    // The legacy watch of one object: a watch with metadata.name=NAME.
    if (ns === undefined) return statusResponse(pathNotFound());
    if (method !== "GET") return statusResponse(methodNotSupported());
    const q = parseListQuery(url, true, name);
    if ("code" in q) return statusResponse(q);
    return openWatch(ctx.watches, ns, q, tableEvents, undefined, encoding);
  }
  if (name === undefined) {
    if (method === "GET") {
      const q = parseListQuery(url, m[1] === "watch");
      if ("code" in q) return statusResponse(q);
      if (q.watch) {
        return openWatch(ctx.watches, ns, q, tableEvents, undefined, encoding);
      }
      const out = await listPods(ctx.store, ctx.clock, ns, q, req.signal);
      if ("code" in out) return statusResponse(out);
      return rep === "table" ? asTable(out.items, out.metadata as Record<string, unknown>) : jsonResponse(200, out);
    }
    if (method === "POST" && ns !== undefined) return send(await createFromRequest(writes, req, url, ns));
    if (method === "DELETE" && ns !== undefined) {
      const q = parseListQuery(url, false);
      if ("code" in q) return statusResponse(q);
      return send(await deleteCollectionFromRequest(writes, req, url, ns, q));
    }
    return statusResponse(methodNotSupported());
  }
  if (ns === undefined) return statusResponse(pathNotFound());
  switch (method) {
    case "GET": {
      const p = ctx.store.get(podKey(ns, name));
      if (!p) return statusResponse(notFound("pods", name));
      return rep === "table" ? asTable([p], { resourceVersion: p.metadata.resourceVersion }) : jsonResponse(200, withKind(p));
    }
    case "PUT":
      return send(await updateFromRequest(writes, req, url, ns, name, sub === "status"));
    case "PATCH":
      return send(await patchFromRequest(writes, req, url, ns, name, sub === "status"));
    case "DELETE":
      if (sub !== undefined) return statusResponse(methodNotSupported());
      return send(await deleteFromRequest(writes, req, url, ns, name));
    default:
      return statusResponse(methodNotSupported());
  }
}
