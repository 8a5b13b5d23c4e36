/**
 * `metav1.Status` bodies with the messages a real kube-apiserver writes, and
 * the JSON responses that carry them.
 *
 * Message formats follow apimachinery `pkg/api/errors/errors.go` (`NewNotFound`,
 * `NewAlreadyExists`, `NewConflict`, `NewInvalid`, `NewForbidden`, …) and
 * apiserver `endpoints/handlers/responsewriters/errors.go`.
 *
 * @module
 */
import type { Status } from "../kube/wire.ts";

/** One entry of `details.causes`. */
export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

/** `StatusDetails` as Go serialises it: every field is `omitempty`, so empty strings and lists are left out. */
function compactDetails(d: NonNullable<Status["details"]>): NonNullable<Status["details"]> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(d)) {
    if (v === undefined || v === "" || v === 0 || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = v;
  }
  return out as NonNullable<Status["details"]>;
}

/**
 * Builds a failure Status. An empty `reason` is left out (the apiserver's
 * answer for errors it does not classify, with code 500); empty details
 * fields are left out as Go's `omitempty` does.
 */
export function failure(
  code: number,
  reason: string,
  message: string,
  details?: Status["details"],
): Status {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    ...(reason !== "" ? { reason } : {}),
    ...(details !== undefined ? { details: compactDetails(details) } : {}),
    code,
  };
}

/**
 * A 500 without a reason: what the apiserver answers for an error that is not
 * an API status (apimachinery `ErrorToAPIStatus` on a plain Go error), e.g. a
 * DeleteOptions body it cannot decode.
 */
export function unclassified(message: string): Status {
  return failure(500, "", message);
}

/** 404 `pods "x" not found` (apimachinery `NewNotFound`). */
export function notFound(resource: string, name: string): Status {
  return failure(404, "NotFound", `${resource} "${name}" not found`, { name, kind: resource });
}

/** 404 for a path the server does not serve (the real body of an unknown URL). */
export function pathNotFound(): Status {
  return failure(404, "NotFound", "the server could not find the requested resource", {});
}

/** 409 `pods "x" already exists` (apimachinery `NewAlreadyExists`). */
export function alreadyExists(resource: string, name: string): Status {
  return failure(409, "AlreadyExists", `${resource} "${name}" already exists`, { name, kind: resource });
}

/** 409 Conflict for a stale resourceVersion (apimachinery `NewConflict` + registry store's message). */
export function conflict(resource: string, name: string): Status {
  return failure(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${resource} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, kind: resource },
  );
}

/** 400 BadRequest with a free message. */
export function badRequest(message: string): Status {
  return failure(400, "BadRequest", message);
}

/**
 * 405 for a method the path does not route (go-restful's answer through the
 * apiserver's `NewGenericServerResponse`: the same text for every resource).
 */
export function methodNotSupported(): Status {
  return failure(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {});
}

/** 415 for a PATCH body type the server does not accept (apiserver `handlers/patch.go`). */
export function unsupportedPatchType(accepted: readonly string[]): Status {
  return failure(
    415,
    "UnsupportedMediaType",
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(", ")}`,
  );
}

/** One `field.Error` of a 422 Invalid. */
export interface FieldError {
  /** `FieldValueForbidden`, `FieldValueRequired`, `FieldValueInvalid`, `FieldValueNotSupported`, `FieldValueDuplicate`, `FieldValueTooMany`. */
  type: "FieldValueForbidden" | "FieldValueRequired" | "FieldValueInvalid" | "FieldValueNotSupported" | "FieldValueDuplicate" | "FieldValueTooMany";
  field: string;
  /** The part after the type, e.g. `resourceVersionMatch is forbidden …`; may be empty. */
  detail: string;
  /** For Invalid / NotSupported: the bad value, printed as Go's `field.Error` does (strings quoted, `null`, numbers). */
  value?: unknown;
}

const TYPE_TEXT: Record<FieldError["type"], string> = {
  FieldValueForbidden: "Forbidden",
  FieldValueRequired: "Required value",
  FieldValueInvalid: "Invalid value",
  FieldValueNotSupported: "Unsupported value",
  FieldValueDuplicate: "Duplicate value",
  FieldValueTooMany: "Too many",
};

function fieldErrorBody(e: FieldError): string {
  let s = TYPE_TEXT[e.type];
  if (e.value !== undefined) s += `: ${JSON.stringify(e.value)}`;
  if (e.detail !== "") s += `: ${e.detail}`;
  return s;
}

/**
 * 422 Invalid (apimachinery `NewInvalid`): `Kind.group "name" is invalid: field: Type: detail`,
 * several errors joined as `[a, b]`.
 */
export function invalid(kind: string, group: string, name: string, errors: readonly FieldError[]): Status {
  const texts = errors.map((e) => `${e.field}: ${fieldErrorBody(e)}`);
  const agg = texts.length === 1 ? texts[0]! : `[${texts.join(", ")}]`;
  const qualified = group === "" ? kind : `${kind}.${group}`;
  const details: NonNullable<Status["details"]> = {
    name,
    kind,
    causes: errors.map((e) => ({ reason: e.type, message: fieldErrorBody(e), field: e.field })),
  };
  if (group !== "") details.group = group;
  return failure(422, "Invalid", `${qualified} "${name}" is invalid: ${agg}`, details);
}

/** 410 Expired for a LIST at a compacted exact resourceVersion (apiserver `etcd3/errors.go`). */
export function listTooOld(): Status {
  return failure(410, "Expired", "The resourceVersion for the provided list is too old.");
}

/** In-stream ERROR 410 for a watch from a compacted resourceVersion (apiserver `cacher.go`). */
export function watchTooOld(requested: number, oldest: number): Status {
  return failure(410, "Expired", `too old resource version: ${requested} (${oldest})`);
}

/** The message of a 410 for an expired continue token (apiserver `etcd3/errors.go` `handleCompactedErrorForPaging`). */
export const CONTINUE_EXPIRED_MESSAGE =
  "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

/** 504 "Too large resource version" with retryAfterSeconds 1 (apiserver `storage/errors.go`). */
export function tooLargeResourceVersion(requested: number, current: number): Status {
  return failure(504, "Timeout", `Timeout: Too large resource version: ${requested}, current: ${current}`, {
    causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }],
    retryAfterSeconds: 1,
  });
}

/**
 * 429 while the watch cache (re)initializes (apiserver `storage/cacher/util.go`
 * `calculateRetryAfterForUnreadyCache`: clamp(e^(0.06·downtime), 1, 30) seconds;
 * apimachinery `NewTooManyRequests`).
 */
export function cacheNotReady(downtimeSeconds: number): Status {
  const retry = Math.min(30, Math.max(1, Math.floor(Math.exp(0.06 * downtimeSeconds))));
  return failure(429, "TooManyRequests", "Too many requests: storage is (re)initializing", {
    retryAfterSeconds: retry,
  });
}

/** 401 Unauthorized (apiserver `endpoints/filters/authentication.go`). */
export function unauthorized(): Status {
  return failure(401, "Unauthorized", "Unauthorized");
}

/**
 * 403 Forbidden with the message of apiserver `responsewriters/errors.go`
 * `forbiddenMessage`, wrapped by apimachinery `NewForbidden`.
 */
export function forbidden(a: {
  user: string;
  verb: string;
  resource: string;
  /** API group; `""` (the core group) by default. */
  group?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}): Status {
  const group = a.group ?? "";
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : "at the cluster scope";
  const why = `User "${a.user}" cannot ${a.verb} resource "${res}" in API group "${group}" ${scope}`;
  const qualified = group === "" ? a.resource : `${a.resource}.${group}`;
  const subject = a.name ? `${qualified} "${a.name}"` : qualified;
  const details: NonNullable<Status["details"]> = { name: a.name ?? "", kind: a.resource };
  if (group !== "") details.group = group;
  return failure(403, "Forbidden", `${subject} is forbidden: ${why}`, details);
}

/** 403 for a non-resource path (apiserver `responsewriters/errors.go` `forbiddenMessage` for non-resource requests). */
export function forbiddenPath(user: string, verb: string, path: string): Status {
  return failure(403, "Forbidden", `forbidden: User "${user}" cannot ${verb} path "${path}"`, {});
}

/** 403 for creating a cluster-scoped review (SelfSubjectAccessReview, SelfSubjectReview) in `group`. */
export function forbiddenReview(user: string, resource: string, group: string): Status {
  return failure(403, "Forbidden", `${resource}.${group} is forbidden: User "${user}" cannot create resource "${resource}" in API group "${group}" at the cluster scope`, {
    group,
    kind: resource,
  });
}

/** 500 InternalError (apimachinery `NewInternalError`). */
export function internalError(message: string): Status {
  return failure(500, "InternalError", `Internal error occurred: ${message}`, {
    causes: [{ message }],
  });
}

/** A JSON response, `Content-Type: application/json`. */
export function jsonResponse(status: number, body: unknown, headers?: Record<string, string>): Response {
  const bytes = new TextEncoder().encode(JSON.stringify(body));
  return new Response(bytes, {
    status,
    headers: {
      "content-type": "application/json",
      "cache-control": "no-cache, private",
      "content-length": String(bytes.length),
      ...headers,
    },
  });
}

/** The response carrying a Status; a `retryAfterSeconds` becomes a `Retry-After` header as the real server does. */
export function statusResponse(s: Status): Response {
  const retry = s.details?.retryAfterSeconds;
  return jsonResponse(s.code, s, retry !== undefined ? { "retry-after": String(retry) } : undefined);
}
