/**
 * Label and field selectors as the kube-apiserver parses them. Pure.
 *
 * - Label selectors: the full grammar of apimachinery `pkg/labels/selector.go`
 *   (`=`, `==`, `!=`, `in (…)`, `notin (…)`, `key`, `!key`, `>`, `<`; a comma is AND;
 *   `!=` and `notin` also match objects without the key).
 * - Field selectors: apimachinery `pkg/fields/selector.go` (`=`, `==`, `!=`, comma-AND,
 *   backslash escapes) over the pod fields of kubernetes `pkg/registry/core/pod/strategy.go`
 *   `ToSelectableFields` and the conversion in `pkg/apis/core/v1/conversion.go`.
 *
 * @module
 */
import type { Pod } from "../kube/wire.ts";

/** A parse failure; its message is what the apiserver puts in the 400 BadRequest. */
export class SelectorError extends Error {
  override readonly name = "SelectorError";
}

/** A predicate over a pod. */
export type PodPredicate = (pod: Pod) => boolean;

type Op = "=" | "==" | "!=" | "in" | "notin" | "exists" | "!" | ">" | "<";

interface Requirement {
  key: string;
  op: Op;
  values: string[];
}

type Tok = { t: "id"; v: string } | { t: "sym"; v: string } | { t: "end" };

const SYMBOLS = ["!=", "==", "=", "!", "(", ")", ",", ">", "<"];

function lex(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
      continue;
    }
    const sym = SYMBOLS.find((x) => s.startsWith(x, i));
    if (sym !== undefined) {
      out.push({ t: "sym", v: sym });
      i += sym.length;
      continue;
    }
    let j = i;
    while (j < s.length && !/[\s!=(),<>]/.test(s[j]!)) j++;
    out.push({ t: "id", v: s.slice(i, j) });
    i = j;
  }
  out.push({ t: "end" });
  return out;
}

const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function validateKey(key: string): void {
  const slash = key.lastIndexOf("/");
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) {
    throw new SelectorError(
      `key: Invalid value: ${JSON.stringify(key)}: prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
    );
  }
  if (name.length === 0 || name.length > 63 || !NAME.test(name)) {
    throw new SelectorError(
      `key: Invalid value: ${JSON.stringify(key)}: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
    );
  }
}

function validateValue(key: string, v: string, i: number): void {
  if (v === "") return;
  if (v.length > 63 || !NAME.test(v)) {
    throw new SelectorError(
      `values[${i}][${key}]: Invalid value: ${JSON.stringify(v)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
    );
  }
}

function show(t: Tok): string {
  return t.t === "end" ? "" : t.v;
}

/** Parses a label selector into requirements; throws {@link SelectorError}. */
function parseLabelRequirements(selector: string): Requirement[] {
  const toks = lex(selector);
  let p = 0;
  const peek = (): Tok => toks[p]!;
  const next = (): Tok => toks[p++]!;
  const reqs: Requirement[] = [];
  if (peek().t === "end") return reqs;
  for (;;) {
    let t = next();
    if (t.t === "sym" && t.v === "!") {
      const k = next();
      if (k.t !== "id") throw new SelectorError(`found '${show(k)}', expected: identifier`);
      validateKey(k.v);
      reqs.push({ key: k.v, op: "!", values: [] });
    } else if (t.t === "id") {
      const key = t.v;
      validateKey(key);
      const o = peek();
      if (o.t === "end" || (o.t === "sym" && o.v === ",")) {
        reqs.push({ key, op: "exists", values: [] });
      } else if (o.t === "sym" && (o.v === "=" || o.v === "==" || o.v === "!=")) {
        next();
        const v = peek();
        let value = "";
        if (v.t === "id") {
          value = v.v;
          next();
        } else if (!(v.t === "end" || (v.t === "sym" && v.v === ","))) {
          throw new SelectorError(`found '${show(v)}', expected: identifier`);
        }
        validateValue(key, value, 0);
        reqs.push({ key, op: o.v, values: [value] });
      } else if (o.t === "sym" && (o.v === ">" || o.v === "<")) {
        next();
        const v = next();
        if (v.t !== "id") throw new SelectorError(`found '${show(v)}', expected: identifier`);
        if (!/^-?\d+$/.test(v.v)) {
          throw new SelectorError(`values[0]: Invalid value: ${JSON.stringify(v.v)}: for 'Gt', 'Lt' operators, the value must be an integer`);
        }
        reqs.push({ key, op: o.v, values: [v.v] });
      } else if (o.t === "id" && (o.v === "in" || o.v === "notin")) {
        next();
        const open = next();
        if (!(open.t === "sym" && open.v === "(")) throw new SelectorError(`found '${show(open)}' expected: '('`); // sic: no comma (apimachinery labels/selector.go parseValues)
        const values: string[] = [];
        let expectValue = true;
        for (;;) {
          const v = next();
          if (v.t === "sym" && v.v === ")") {
            if (expectValue && values.length > 0) values.push("");
            break;
          }
          if (v.t === "sym" && v.v === ",") {
            if (expectValue) values.push("");
            expectValue = true;
            continue;
          }
          if (v.t === "id" && expectValue) {
            values.push(v.v);
            expectValue = false;
            continue;
          }
          throw new SelectorError(`found '${show(v)}', expected: ',', ')' or identifier`);
        }
        if (values.length === 0) {
          throw new SelectorError(`values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty`);
        }
        values.forEach((v, i) => validateValue(key, v, i));
        reqs.push({ key, op: o.v, values });
      } else {
        throw new SelectorError(
          `found '${show(o)}', expected: in, notin, =, ==, !=, gt, lt`,
        );
      }
    } else {
      throw new SelectorError(`found '${show(t)}', expected: !, identifier, or 'end of string'`);
    }
    t = next();
    if (t.t === "end") return reqs;
    if (!(t.t === "sym" && t.v === ",")) throw new SelectorError(`found '${show(t)}', expected: ',' or 'end of string'`);
  }
}

function matchRequirement(r: Requirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const v = has ? labels[r.key] : undefined;
  switch (r.op) {
    case "exists":
      return has;
    case "!":
      return !has;
    case "=":
    case "==":
    case "in":
      return has && r.values.includes(v!);
    case "!=":
    case "notin":
      return !has || !r.values.includes(v!);
    case ">":
    case "<": {
      if (!has || !/^-?\d+$/.test(v!)) return false;
      const a = Number(v);
      const b = Number(r.values[0]);
      return r.op === ">" ? a > b : a < b;
    }
  }
}

/** Parses a `labelSelector`; throws {@link SelectorError} with the apiserver's message. */
export function parseLabelSelector(selector: string): PodPredicate {
  let reqs: Requirement[];
  try {
    reqs = parseLabelRequirements(selector);
  } catch (e) {
    // apimachinery labels.Parse wraps requirement errors this way; the apiserver
    // returns the text as a 400 BadRequest.
    if (e instanceof SelectorError) throw new SelectorError(`unable to parse requirement: ${e.message}`);
    throw e;
  }
  if (reqs.length === 0) return () => true;
  return (pod) => {
    const raw = pod.metadata?.labels;
    const labels = raw && typeof raw === "object" ? raw : {};
    return reqs.every((r) => matchRequirement(r, labels));
  };
}

/** The selectable pod fields (kubernetes `pkg/registry/core/pod/strategy.go` `ToSelectableFields`). */
export function podFields(pod: Pod): Record<string, string> {
  const m = pod.metadata ?? {};
  const spec = pod.spec ?? {};
  const st = pod.status ?? {};
  const ips = Array.isArray(st.podIPs) ? st.podIPs : [];
  return {
    "metadata.name": m.name ?? "",
    "metadata.namespace": m.namespace ?? "",
    "spec.nodeName": spec.nodeName ?? "",
    "spec.restartPolicy": spec.restartPolicy ?? "",
    "spec.schedulerName": spec.schedulerName ?? "",
    "spec.serviceAccountName": spec.serviceAccountName ?? "",
    "spec.hostNetwork": spec.hostNetwork === true ? "true" : "false",
    "status.phase": st.phase ?? "",
    "status.podIP": ips[0]?.ip ?? st.podIP ?? "",
    "status.nominatedNodeName": st.nominatedNodeName ?? "",
  };
}

/** Field labels the pod conversion accepts (`status.podIPs` passes conversion but selects nothing). */
const CONVERTIBLE = new Set([...Object.keys(podFields({ metadata: {} })), "status.podIPs"]);

/**
 * The selectable fields of a resource other than pods: what they are for an
 * object, and the error for a field the resource does not know (the
 * apiserver's message for resources with only the metadata fields).
 */
export interface FieldSet {
  fields(object: Pod): Record<string, string>;
  /** Undefined when `field` is selectable, else the error message. */
  unknown(field: string): string | undefined;
}

/** `metadata.name` and `metadata.namespace` only (apiserver `generic.ObjectMetaFieldsSet`, e.g. EndpointSlices). */
export const OBJECT_META_FIELDS: FieldSet = {
  fields: (o) => ({ "metadata.name": o.metadata?.name ?? "", "metadata.namespace": o.metadata?.namespace ?? "" }),
  unknown: (field) =>
    field === "metadata.name" || field === "metadata.namespace"
      ? undefined
      : `${JSON.stringify(field)} is not a known field selector: only "metadata.name", "metadata.namespace"`,
};

function splitUnescaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "\\" && i + 1 < s.length) {
      cur += c + s[i + 1];
      i++;
    } else if (c === sep) {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function unescapeValue(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== "\\") {
      if (c === "," || c === "=") throw new SelectorError(`invalid field selector: unescaped ${c} in value: ${JSON.stringify(s)}`);
      out += c;
      continue;
    }
    const n = s[i + 1];
    if (n === "\\" || n === "," || n === "=") {
      out += n;
      i++;
    } else throw new SelectorError(`invalid field selector: invalid escape sequence in value: ${JSON.stringify(s)}`);
  }
  return out;
}

/**
 * Parses a pod `fieldSelector`; throws {@link SelectorError} with "field label not
 * supported: X" for a field pods cannot be selected on.
 */
export function parseFieldSelector(selector: string, fieldSet?: FieldSet): PodPredicate {
  if (selector.trim() === "") return () => true;
  const terms: { field: string; neg: boolean; value: string }[] = [];
  for (const term of splitUnescaped(selector, ",")) {
    let found: { field: string; neg: boolean; value: string } | undefined;
    for (let i = 0; i < term.length && found === undefined; i++) {
      for (const op of ["!=", "==", "="]) {
        if (term.startsWith(op, i)) {
          found = { field: term.slice(0, i).trim(), neg: op === "!=", value: unescapeValue(term.slice(i + op.length)) };
          break;
        }
      }
    }
    if (found === undefined) throw new SelectorError(`invalid selector: '${selector}'; can't understand '${term}'`);
    if (fieldSet !== undefined) {
      const problem = fieldSet.unknown(found.field);
      if (problem !== undefined) throw new SelectorError(problem);
      terms.push(found);
      continue;
    }
    if (found.field === "spec.host") found.field = "spec.nodeName";
    if (!CONVERTIBLE.has(found.field)) throw new SelectorError(`field label not supported: ${found.field}`);
    terms.push(found);
  }
  const fieldsOf = fieldSet?.fields ?? podFields;
  return (pod) => {
    const f = fieldsOf(pod);
    return terms.every((t) => ((f[t.field] ?? "") === t.value) !== t.neg);
  };
}
