/**
 * Query parameters of a pod LIST or WATCH, decoded and validated as the
 * apiserver does (apimachinery `apis/meta/internalversion/validation/validation.go`
 * `ValidateListOptions`; errors are 422 Invalid for kind `ListOptions`, or 400
 * BadRequest for values that do not decode or selectors that do not parse).
 *
 * @module
 */
import type { Status } from "../kube/wire.ts";
import { parseFieldSelector, parseLabelSelector, SelectorError, type FieldSet, type PodPredicate } from "./selectors.ts";
import { badRequest, invalid, unclassified, type FieldError } from "./status.ts";

/** Decoded list/watch parameters. */
export interface ListQuery {
  watch: boolean;
  labelSelector: string;
  fieldSelector: string;
  /** Label and field selectors combined. */
  matches: PodPredicate;
  /** True when either selector is non-empty. */
  selective: boolean;
  limit: number;
  continue: string;
  /** `""` when unset. */
  resourceVersion: string;
  /** The parsed resourceVersion; undefined when unset, 0 for "0". */
  rv: number | undefined;
  resourceVersionMatch: string;
  sendInitialEvents: boolean | undefined;
  allowWatchBookmarks: boolean;
  timeoutSeconds: number | undefined;
}

/**
 * A boolean query parameter as the apiserver's parameter codec reads it
 * (apimachinery `runtime/conversion.go` `Convert_Slice_string_To_bool`):
 * `0`, `f` and `false` (any case) are false, anything else (even `maybe` or
 * an empty value) is true.
 */
export function queryBool(v: string): boolean {
  const l = v.toLowerCase();
  return !(v === "0" || l === "f" || l === "false");
}

function parseBool(v: string | null): boolean | undefined {
  return v === null ? undefined : queryBool(v);
}

/** An int64 query parameter (`Convert_Slice_string_To_int64`): Go's `strconv.ParseInt` errors, unprefixed. */
function parseInt64(v: string | null): number | undefined | Status {
  if (v === null) return undefined;
  if (!/^[+-]?\d+$/.test(v)) return badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  const n = BigInt(v);
  if (n > 9223372036854775807n || n < -9223372036854775808n) return badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: value out of range`);
  return Number(n);
}

function isStatus(v: unknown): v is Status {
  return typeof v === "object" && v !== null && (v as { kind?: unknown }).kind === "Status";
}

/**
 * Parses the query of a pods LIST/WATCH. `forceWatch` is set for the legacy
 * `/api/v1/watch/…` paths, `name` for the legacy watch of one pod (as if
 * `metadata.name=NAME` were selected), `fields` for a resource other than
 * pods. Returns a Status (400 or 422) on a bad request.
 */
export function parseListQuery(url: URL, forceWatch: boolean, name?: string, fields?: FieldSet): ListQuery | Status {
  const q = url.searchParams;
  const watch = parseBool(q.get("watch"));
  const allow = parseBool(q.get("allowWatchBookmarks"));
  const sie = parseBool(q.get("sendInitialEvents"));
  const limit = parseInt64(q.get("limit"));
  if (isStatus(limit)) return limit;
  const timeout = parseInt64(q.get("timeoutSeconds"));
  if (isStatus(timeout)) return timeout;
  const labelSelector = q.get("labelSelector") ?? "";
  const fieldSelector = q.get("fieldSelector") ?? "";
  let matches: PodPredicate;
  try {
    const l = parseLabelSelector(labelSelector);
    const f = parseFieldSelector(fieldSelector, fields);
    matches = name === undefined ? (p) => l(p) && f(p) : (p) => p.metadata.name === name && l(p) && f(p);
  } catch (e) {
    if (e instanceof SelectorError) return badRequest(e.message);
    throw e;
  }
  const resourceVersion = q.get("resourceVersion") ?? "";
  const out: ListQuery = {
    watch: forceWatch || watch === true,
    labelSelector,
    fieldSelector,
    matches,
    selective: labelSelector.trim() !== "" || fieldSelector.trim() !== "" || name !== undefined,
    limit: limit !== undefined && limit > 0 ? limit : 0,
    continue: q.get("continue") ?? "",
    resourceVersion,
    rv: undefined,
    resourceVersionMatch: q.get("resourceVersionMatch") ?? "",
    sendInitialEvents: sie,
    allowWatchBookmarks: allow === true,
    timeoutSeconds: timeout,
  };
  const errors = out.watch ? validateWatch(out) : validateList(out);
  if (errors.length > 0) return invalid("ListOptions", "meta.k8s.io", "", errors);
  if (resourceVersion !== "") {
    if (!/^\d+$/.test(resourceVersion)) {
      // apiserver `storage/api_object_versioner.go` ParseResourceVersion → InvalidError.
      const err: FieldError = {
        type: "FieldValueInvalid",
        field: "resourceVersion",
        value: resourceVersion,
        detail: `strconv.ParseUint: parsing ${JSON.stringify(resourceVersion)}: invalid syntax`,
      };
      // WATCH: the cacher's parse error is a plain error to the handler: 500 without a reason.
      if (out.watch) return unclassified(`${err.field}: Invalid value: ${JSON.stringify(resourceVersion)}: ${err.detail}`);
      // LIST: `CacheDelegator.GetList` runs `storage.ValidateListOptions` first, which
      // answers 400 "invalid resource version: …" (after its continue checks, left to list.ts).
      if (out.continue === "") return badRequest(`invalid resource version: ${err.field}: Invalid value: ${JSON.stringify(resourceVersion)}: ${err.detail}`);
      return out;
    }
    out.rv = Number(resourceVersion);
  }
  return out;
}

const EXACT = "Exact";
const NOT_OLDER = "NotOlderThan";

function validateList(o: ListQuery): FieldError[] {
  const errs: FieldError[] = [];
  const match = o.resourceVersionMatch;
  if (match !== "") {
    if (o.resourceVersion === "") {
      errs.push({ type: "FieldValueForbidden", field: "resourceVersionMatch", detail: "resourceVersionMatch is forbidden unless resourceVersion is provided" });
    }
    if (o.continue !== "") {
      errs.push({ type: "FieldValueForbidden", field: "resourceVersionMatch", detail: "resourceVersionMatch is forbidden when continue is provided" });
    }
    if (match !== EXACT && match !== NOT_OLDER) {
      errs.push({ type: "FieldValueNotSupported", field: "resourceVersionMatch", value: match, detail: `supported values: "Exact", "NotOlderThan", ""` });
    }
    if (match === EXACT && o.resourceVersion === "0") {
      errs.push({ type: "FieldValueForbidden", field: "resourceVersionMatch", detail: `resourceVersionMatch "exact" is forbidden for resourceVersion "0"` });
    }
  }
  if (o.sendInitialEvents !== undefined) {
    errs.push({ type: "FieldValueForbidden", field: "sendInitialEvents", detail: "sendInitialEvents is forbidden for list" });
  }
  return errs;
}

function validateWatch(o: ListQuery): FieldError[] {
  const errs: FieldError[] = [];
  const match = o.resourceVersionMatch;
  if (o.sendInitialEvents !== undefined && match !== NOT_OLDER) {
    errs.push({ type: "FieldValueForbidden", field: "resourceVersionMatch", detail: "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan" });
  }
  if (match !== "") {
    if (o.sendInitialEvents === undefined) {
      errs.push({ type: "FieldValueForbidden", field: "resourceVersionMatch", detail: "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided" });
    }
    if (match !== NOT_OLDER) {
      errs.push({ type: "FieldValueNotSupported", field: "resourceVersionMatch", value: match, detail: `supported values: "NotOlderThan"` });
    }
    if (o.continue !== "") {
      errs.push({ type: "FieldValueForbidden", field: "resourceVersionMatch", detail: "resourceVersionMatch is forbidden when continue is provided" });
    }
  }
  return errs;
}
