/**
 * The parts of the apiserver's Pod validation a client meets in practice
 * (kubernetes `pkg/apis/core/validation/validation.go`): a running pod's spec
 * is immutable except for container images, `activeDeadlineSeconds`,
 * tolerations and a negative grace period set to 1 (`ValidatePodUpdate`);
 * condition types in a status write are qualified names
 * (`ValidatePodStatusUpdate`). Pure.
 *
 * @module
 */
import type { Pod } from "../kube/wire.ts";
import { sameJson } from "./same-json.ts";
import type { FieldError } from "./status.ts";

type Obj = Record<string, unknown>;

/** The fields a pod update may change, in the apiserver's words (`updatablePodSpecFieldsStringArray`). */
const UPDATABLE =
  "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/** The top-level spec fields that differ, as `spec.<field>`, for the fake's short summary. */
function changedFields(a: Obj, b: Obj): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter((k) => !sameJson(a[k], b[k])).map((k) => `spec.${k}`);
}

/**
 * The errors of a spec update from `old` to `next` (both defaulted).
 * The real message continues with a Go struct diff of the two specs; the
 * fake names the changed fields instead.
 */
export function validatePodSpecUpdate(old: Pod, next: Pod): FieldError[] {
  const o = (old.spec ?? {}) as Obj;
  const n = (next.spec ?? {}) as Obj;
  for (const list of ["containers", "initContainers"] as const) {
    const a = Array.isArray(o[list]) ? (o[list] as Obj[]) : [];
    const b = Array.isArray(n[list]) ? (n[list] as Obj[]) : [];
    if (a.length !== b.length) {
      return [{ type: "FieldValueForbidden", field: `spec.${list}`, detail: `pod updates may not add or remove ${list === "containers" ? "containers" : "init containers"}` }];
    }
  }
  const munged: Obj = { ...n };
  for (const list of ["containers", "initContainers"] as const) {
    if (Array.isArray(n[list])) munged[list] = (n[list] as Obj[]).map((c, i) => ({ ...c, image: ((o[list] as Obj[])[i] ?? {}).image }));
  }
  munged.activeDeadlineSeconds = o.activeDeadlineSeconds;
  munged.tolerations = o.tolerations;
  if (typeof o.terminationGracePeriodSeconds === "number" && o.terminationGracePeriodSeconds < 0 && n.terminationGracePeriodSeconds === 1) {
    munged.terminationGracePeriodSeconds = o.terminationGracePeriodSeconds;
  }
  if (sameJson(munged, o)) return [];
  return [{ type: "FieldValueForbidden", field: "spec", detail: `${UPDATABLE}\n(kratos-kube/testing: changed ${changedFields(o, munged).join(", ")})` }];
}

const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const NAME_MSG =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const DNS1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Apimachinery `IsQualifiedName`'s messages for `v`. */
function qualifiedNameErrors(v: string): string[] {
  const parts = v.split("/");
  let name = v;
  const errs: string[] = [];
  if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) errs.push("prefix part must be non-empty");
    else if (!DNS1123.test(prefix) || prefix.length > 253) {
      errs.push("prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
    }
  } else if (parts.length > 2) {
    return ["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"];
  }
  if (name.length === 0) errs.push("name part must be non-empty");
  else if (name.length > 63) errs.push("name part must be no more than 63 bytes");
  if (!NAME.test(name)) errs.push(NAME_MSG);
  return errs;
}

/** The errors of a status write (condition types are qualified names). */
export function validatePodStatus(pod: Pod): FieldError[] {
  const conditions = Array.isArray(pod.status?.conditions) ? pod.status.conditions : [];
  return conditions.flatMap((c, i) =>
    qualifiedNameErrors(typeof c.type === "string" ? c.type : "").map(
      (detail): FieldError => ({ type: "FieldValueInvalid", field: `status.conditions[${i}].Type`, value: typeof c.type === "string" ? c.type : "", detail }),
    ),
  );
}
