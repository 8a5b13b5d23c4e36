/**
 * Server-side dry run (`dryRun=All`): the request is validated and answered as
 * if it were written, but nothing is stored, no resourceVersion is used and no
 * watch event is sent (apiserver `registry/generic/registry/dryrun.go`
 * `DryRunnableStorage`; DOC api-concepts `#dry-run`).
 *
 * @module
 */
import type { Status } from "../kube/wire.ts";
import { invalid } from "./status.ts";

/** The only accepted value (apimachinery `metav1.DryRunAll`). */
export const DRY_RUN_ALL = "All";

/** The options kind whose validation rejects a bad value, per verb (apiserver `endpoints/handlers/*.go`). */
export type OptionsKind = "CreateOptions" | "UpdateOptions" | "PatchOptions" | "DeleteOptions";

/** A `[]string` value as `field.NotSupported` prints it since v1.34: JSON. */
function goStringSlice(values: readonly string[]): string {
  return JSON.stringify(values);
}

/**
 * Validates dryRun values: none → false, only `All` → true, anything else →
 * 422 Invalid for `kind` (apimachinery `validation.ValidateDryRun`, turned into
 * `NewInvalid(meta.k8s.io/<kind>)` by the handlers), e.g.
 * `CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: ["x"]: supported values: "All"`.
 */
export function checkDryRun(values: readonly string[], kind: OptionsKind): boolean | Status {
  if (values.length === 0) return false;
  if (values.every((v) => v === DRY_RUN_ALL)) return true;
  return invalid(kind, "meta.k8s.io", "", [
    { type: "FieldValueNotSupported", field: "dryRun", detail: `${goStringSlice(values)}: supported values: "${DRY_RUN_ALL}"` },
  ]);
}

/** The `dryRun` query values of `url` (repeatable, as `[]string` parameters are). */
export function dryRunQuery(url: URL): string[] {
  return url.searchParams.getAll("dryRun");
}
