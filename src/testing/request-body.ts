/**
 * Decoding request bodies the way the apiserver's handlers do
 * (apiserver `endpoints/handlers/create.go`, `update.go`, `rest.go`
 * `transformDecodeError`; apimachinery `runtime/serializer/json/meta.go`):
 * content negotiation (JSON and YAML; 415 otherwise), the kind sniffing step
 * with Go's JSON errors, and the messages that quote the start of the body.
 *
 * @module
 */
import { parse as parseYaml } from "yaml";
import type { Status } from "../kube/wire.ts";
import { goJsonKind, goJsonSyntaxError } from "./go-json.ts";
import { badRequest, failure } from "./status.ts";

/** The media types the apiserver decodes object bodies from (protobuf is accepted but not decoded by the fake). */
export const OBJECT_MEDIA_TYPES: readonly string[] = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"];

/** Go's `%v` of the struct the kind is sniffed into. */
const FIND_KIND_TYPE = 'struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }';

/** Core v1 kinds the apiserver knows (a body of one of them "cannot be handled as" the endpoint's kind). */
const CORE_KINDS = new Set(
  "Binding ComponentStatus ConfigMap Endpoints Event LimitRange Namespace Node PersistentVolume PersistentVolumeClaim PodTemplate ReplicationController ResourceQuota Secret Service ServiceAccount Deployment ReplicaSet StatefulSet DaemonSet Job CronJob".split(" "),
);

/** `rest.go` `summarizeData`: the first 30 bytes of a JSON object, else their hex; `<empty>` for none. */
export function summarizeData(bytes: Uint8Array, max = 30): string {
  if (bytes.length === 0) return "<empty>";
  const head = bytes.subarray(0, max);
  const more = bytes.length > max ? " ..." : "";
  if (bytes[0] === 0x7b) return new TextDecoder().decode(head) + more;
  return [...head].map((b) => b.toString(16).padStart(2, "0")).join("") + more;
}

/** The request's media type, lower case, without parameters (`""` when there is none). */
export function mediaType(req: Request): string {
  return (req.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
}

/** 415 for an object body in a type the server does not decode. */
export function unsupportedObjectType(): Status {
  return failure(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: ${OBJECT_MEDIA_TYPES.join(", ")}`);
}

function unrecognized(kind: string, err: string, bytes: Uint8Array): Status {
  return badRequest(`the object provided is unrecognized (must be of type ${kind}): ${err} (${summarizeData(bytes)})`);
}

/**
 * Reads an object body meant to be of `kind` (`Pod`, `SelfSubjectAccessReview`):
 * the decoded object, or the 400/415 Status the apiserver answers.
 */
export async function readObject(req: Request, kind: string): Promise<Record<string, unknown> | Status> {
  const type = mediaType(req);
  const bytes = new Uint8Array(await req.arrayBuffer());
  let value: unknown;
  if (type === "" || type === "application/json") {
    const syntax = goJsonSyntaxError(bytes);
    if (syntax !== undefined) return unrecognized(kind, `couldn't get version/kind; json parse error: ${syntax}`, bytes);
    value = JSON.parse(new TextDecoder().decode(bytes));
  } else if (type === "application/yaml") {
    try {
      value = parseYaml(new TextDecoder().decode(bytes)) as unknown;
    } catch (e) {
      return unrecognized(kind, `yaml: ${(e as Error).message.split("\n")[0]}`, bytes);
    }
  } else if (type === "application/vnd.kubernetes.protobuf") {
    return badRequest(`kratos-kube/testing does not decode protobuf ${kind} bodies; send JSON or YAML`);
  } else return unsupportedObjectType();
  if (value === null || value === undefined) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    return unrecognized(kind, `couldn't get version/kind; json parse error: json: cannot unmarshal ${goJsonKind(value)} into Go value of type ${FIND_KIND_TYPE}`, bytes);
  }
  const obj = value as Record<string, unknown>;
  const k = typeof obj.kind === "string" ? obj.kind : "";
  if (k !== "" && k !== kind) {
    const apiVersion = typeof obj.apiVersion === "string" ? obj.apiVersion : "";
    const version = apiVersion.slice(apiVersion.lastIndexOf("/") + 1);
    const why = CORE_KINDS.has(k)
      ? `converting (${version}.${k}) to (core.${kind}): unknown conversion`
      : `no kind ${JSON.stringify(k)} is registered for version ${JSON.stringify(apiVersion)} in scheme "pkg/runtime/scheme.go:110"`;
    return badRequest(`${k} in version ${JSON.stringify(version)} cannot be handled as a ${kind}: ${why}`);
  }
  return obj;
}

/** A PATCH body that is not JSON: `error decoding patch: <Go's error>` (400). */
export function patchDecodeError(text: string): Status | undefined {
  const syntax = goJsonSyntaxError(text);
  return syntax === undefined ? undefined : badRequest(`error decoding patch: ${syntax}`);
}
