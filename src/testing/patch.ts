/**
 * The three JSON patch formats the apiserver accepts for pods. Pure.
 *
 * - JSON merge patch (RFC 7386): objects merge recursively, `null` deletes a key,
 *   arrays are replaced.
 * - Strategic merge patch (apimachinery `pkg/util/strategicpatch/patch.go`): like a merge
 *   patch, but lists carrying a `patchMergeKey` in k8s.io/api `core/v1/types.go`
 *   (containers by `name`, ports by `containerPort`, conditions by `type`, …) merge
 *   item by item (in the order apimachinery's `normalizeElementOrder` gives),
 *   and the `$patch: delete|replace`, `$retainKeys` and
 *   `$deleteFromPrimitiveList` directives are honoured.
 * - JSON patch (RFC 6902): `add`, `remove`, `replace`, `move`, `copy`, `test`.
 *
 * @module
 */
import { copyJson } from "./copy-json.ts";

/** A malformed or inapplicable patch; the message goes into the 4xx Status. */
export class PatchError extends Error {
  override readonly name = "PatchError";
  /** 400 for a body that cannot be decoded, 422 for a patch that does not apply. */
  readonly status: 400 | 422;
  constructor(message: string, status: 400 | 422) {
    super(message);
    this.status = status;
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isObject(v: unknown): v is Record<string, Json> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function clone<T>(v: T): T {
  return v === undefined ? v : copyJson(v);
}

/** Applies an RFC 7386 JSON merge patch; returns a new value. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: Record<string, unknown> = isObject(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/**
 * `patchMergeKey` of the pod's mergeable lists (k8s.io/api `core/v1/types.go` and
 * `meta/v1/types.go`), by field name. Lists not named here are replaced.
 */
const MERGE_KEYS: Record<string, string> = {
  containers: "name",
  initContainers: "name",
  ephemeralContainers: "name",
  ports: "containerPort",
  env: "name",
  volumeMounts: "mountPath",
  volumeDevices: "devicePath",
  volumes: "name",
  conditions: "type",
  ownerReferences: "uid",
  imagePullSecrets: "name",
  hostAliases: "ip",
  podIPs: "ip",
  hostIPs: "ip",
  readinessGates: "conditionType",
  resourceClaims: "name",
  topologySpreadConstraints: "topologyKey",
};

/** Lists of scalars with `patchStrategy:"merge"`: union instead of replace. */
const SET_LISTS = new Set(["finalizers"]);

/** The merge key value (maps) or the value itself (scalars) that identifies a list item. */
function identity(item: unknown, key: string | undefined): string {
  return JSON.stringify(key === undefined ? item : isObject(item) ? item[key] : item);
}

/**
 * Apimachinery `strategicpatch` `mergeSortedSlice`: the server-only items
 * (`left`, in their original order) are woven into the patch's items
 * (`right`, in patch order), an item going first only when the original
 * order puts it before the other; items the original lacks go in patch order.
 */
function mergeSortedSlice(left: unknown[], right: unknown[], original: unknown[], key: string | undefined): unknown[] {
  const order = original.map((o) => identity(o, key));
  const index = (v: unknown): number => order.indexOf(identity(v, key));
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = index(left[i]);
      const ri = index(right[j]);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

/** `normalizeElementOrder`: patch items in patch order, server-only ones in original order, woven together. */
function normalizeOrder(merged: unknown[], patch: unknown[], original: unknown[], key: string | undefined): unknown[] {
  const inPatch = new Map(patch.map((p, n) => [identity(p, key), n]));
  const patchItems = merged
    .filter((m) => inPatch.has(identity(m, key)))
    .sort((a, b) => inPatch.get(identity(a, key))! - inPatch.get(identity(b, key))!);
  const serverOnly = merged.filter((m) => !inPatch.has(identity(m, key)));
  return mergeSortedSlice(serverOnly, patchItems, original, key);
}

function strategicList(field: string, target: unknown, patch: Json[]): unknown {
  const key = MERGE_KEYS[field];
  if (SET_LISTS.has(field)) {
    const original: unknown[] = Array.isArray(target) ? clone(target) : [];
    const merged = [...original];
    for (const v of patch) if (!merged.some((b) => JSON.stringify(b) === JSON.stringify(v))) merged.push(clone(v));
    return normalizeOrder(merged, patch, original, undefined);
  }
  if (key === undefined) {
    return patch.filter((p) => !(isObject(p) && p["$patch"] !== undefined)).map((p) => clone(p));
  }
  if (patch.some((p) => isObject(p) && p["$patch"] === "replace")) {
    return patch.filter((p) => !(isObject(p) && p["$patch"] === "replace")).map((p) => clone(p));
  }
  // A list the original does not have is taken from the patch as it is (no merge key needed).
  if (!Array.isArray(target)) {
    return patch.filter((p) => !(isObject(p) && p["$patch"] === "delete")).map((p) => (isObject(p) ? strategicMergePatch({}, p) : clone(p)));
  }
  const original: unknown[] = clone(target);
  const merged: unknown[] = [...original];
  const effective: unknown[] = [];
  for (const item of patch) {
    if (!isObject(item) || !(key in item)) {
      throw new PatchError(`map: ${JSON.stringify(item)} does not contain declared merge key: ${key}`, 422);
    }
    const idx = merged.findIndex((o) => isObject(o) && JSON.stringify(o[key]) === JSON.stringify(item[key]));
    if (item["$patch"] === "delete") {
      if (idx >= 0) merged.splice(idx, 1);
      continue;
    }
    effective.push(item);
    if (idx >= 0) merged[idx] = strategicMergePatch(merged[idx], item);
    else merged.push(strategicMergePatch({}, item));
  }
  return normalizeOrder(merged, effective, original, key);
}

/** Applies a strategic merge patch to a pod-shaped object; returns a new value. */
export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  if (patch["$patch"] === "replace") {
    const { $patch: _, ...rest } = patch;
    return clone(rest);
  }
  if (patch["$patch"] === "delete") return undefined;
  const out: Record<string, unknown> = isObject(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith("$deleteFromPrimitiveList/") && Array.isArray(v)) {
      const f = k.slice("$deleteFromPrimitiveList/".length);
      const list = out[f];
      if (Array.isArray(list)) out[f] = list.filter((x) => !v.some((d) => JSON.stringify(d) === JSON.stringify(x)));
      continue;
    }
    if (k === "$patch" || k.startsWith("$setElementOrder/") || k === "$retainKeys") continue;
    if (v === null) delete out[k];
    else if (Array.isArray(v)) out[k] = strategicList(k, out[k], v);
    else if (isObject(v)) {
      const merged = strategicMergePatch(out[k], v);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else out[k] = v;
  }
  // `$retainKeys`: fields it does not list are cleared (the union-type directive, e.g. a volume's source).
  const retain = patch["$retainKeys"];
  if (Array.isArray(retain)) for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k];
  return out;
}

function decodePointer(path: string): string[] {
  if (path === "") return [];
  if (!path.startsWith("/")) throw new PatchError(`JSON pointer must start with '/': ${JSON.stringify(path)}`, 422);
  return path
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function parentOf(doc: unknown, tokens: string[], path: string): { parent: unknown; last: string } {
  let cur: unknown = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isObject(cur)) cur = cur[t];
    else cur = undefined;
    if (cur === undefined) throw new PatchError(`jsonpatch: doc is missing path: "${path}": missing value`, 422);
  }
  return { parent: cur, last: tokens[tokens.length - 1]! };
}

function getAt(doc: unknown, path: string): unknown {
  let cur: unknown = doc;
  for (const t of decodePointer(path)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isObject(cur)) cur = Object.prototype.hasOwnProperty.call(cur, t) ? cur[t] : undefined;
    else cur = undefined;
    if (cur === undefined) throw new PatchError(`jsonpatch: doc is missing path: "${path}": missing value`, 422);
  }
  return cur;
}

function arrayIndex(arr: unknown[], last: string, path: string, forAdd: boolean): number {
  if (forAdd && last === "-") return arr.length;
  if (!/^(0|[1-9]\d*)$/.test(last)) throw new PatchError(`jsonpatch: invalid array index in "${path}"`, 422);
  const i = Number(last);
  if (i > arr.length || (!forAdd && i === arr.length)) {
    throw new PatchError(`jsonpatch: index out of bounds in "${path}"`, 422);
  }
  return i;
}

function removeAt(doc: unknown, path: string): unknown {
  const tokens = decodePointer(path);
  const { parent, last } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, last, path, false), 1)[0];
  if (isObject(parent) && Object.prototype.hasOwnProperty.call(parent, last)) {
    const v = parent[last];
    delete parent[last];
    return v;
  }
  throw new PatchError(`jsonpatch remove operation does not apply: doc is missing path: "${path}"`, 422);
}

function addAt(doc: unknown, path: string, value: unknown, replace: boolean): unknown {
  const tokens = decodePointer(path);
  if (tokens.length === 0) return clone(value);
  const { parent, last } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) {
    const i = arrayIndex(parent, last, path, !replace);
    if (replace) parent[i] = clone(value);
    else parent.splice(i, 0, clone(value));
  } else if (isObject(parent)) {
    if (replace && !Object.prototype.hasOwnProperty.call(parent, last)) {
      throw new PatchError(`jsonpatch replace operation does not apply: doc is missing key: ${path}: missing value`, 422);
    }
    parent[last] = clone(value) as Json;
  } else throw new PatchError(`jsonpatch: doc is missing path: "${path}": missing value`, 422);
  return doc;
}

/** Applies an RFC 6902 JSON patch; returns a new value. */
export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) {
    throw new PatchError("json: cannot unmarshal object into Go value of type jsonpatch.Patch", 400);
  }
  let doc = clone(target);
  for (const op of ops) {
    if (!isObject(op) || typeof op["op"] !== "string") throw new PatchError("Unexpected kind: <nil>", 422);
    const path = typeof op["path"] === "string" ? op["path"] : undefined;
    if (path === undefined) throw new PatchError(`jsonpatch ${op["op"]} operation does not apply: missing path`, 422);
    switch (op["op"]) {
      case "add":
        doc = addAt(doc, path, op["value"], false);
        break;
      case "replace":
        doc = addAt(doc, path, op["value"], true);
        break;
      case "remove":
        removeAt(doc, path);
        break;
      case "move":
      case "copy": {
        const from = typeof op["from"] === "string" ? op["from"] : "";
        const v = op["op"] === "move" ? removeAt(doc, from) : clone(getAt(doc, from));
        doc = addAt(doc, path, v, false);
        break;
      }
      case "test":
        if (JSON.stringify(getAt(doc, path)) !== JSON.stringify(op["value"])) {
          throw new PatchError(`testing value ${path} failed: test failed`, 422);
        }
        break;
      default:
        throw new PatchError(`Unexpected kind: ${String(op["op"])}`, 422);
    }
  }
  return doc;
}
