/**
 * Turns an outcome into what is compared, and compares two of them.
 *
 * Normalised away, because they differ between any two servers (or two runs):
 * - resourceVersions: an object's becomes the setup step that produced it
 *   (`@a`), or `@>a` for a newer one nobody named; the list-wide and bookmark
 *   ones (a snapshot of a server that other tests write to as well) become
 *   `≥a`, the newest setup step at or before it; `old` is older than all;
 * - uids (`uid:a` for a setup step's), timestamps, generated name suffixes,
 *   the numbers in resourceVersion messages, the Age column of tables;
 * - `managedFields`: the fake does not do server-side field management
 *   (listed in the testing docs).
 * Continue tokens are decoded and their resourceVersion normalised too.
 * In watches, consecutive equal bookmarks count once, and periodic bookmarks
 * are compared only in the cases about them (see `view` and `Case.watch`).
 */
import { parse as parseYaml } from "yaml";
import type { Case } from "./model.ts";
import type { Outcome } from "./harness.ts";

const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

class Names {
  readonly #rvs: [string, bigint][];
  readonly #uids: Map<string, string>;
  constructor(o: Outcome) {
    this.#rvs = o.rvs.map(([n, v]) => [n, BigInt(v)] as [string, bigint]).sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    this.#uids = new Map([...o.uids].map(([k, v]) => [v, k]));
  }
  #below(v: bigint): string | undefined {
    let name: string | undefined;
    for (const [n, r] of this.#rvs) if (r <= v) name = n;
    return name;
  }
  /** An object's resourceVersion. */
  objectRv(s: string): string {
    if (!/^\d+$/.test(s)) return s;
    const v = BigInt(s);
    const exact = this.#rvs.find(([, r]) => r === v);
    if (exact) return `@${exact[0]}`;
    const b = this.#below(v);
    return b === undefined ? "old" : `@>${b}`;
  }
  /** A snapshot's resourceVersion (a list's, a bookmark's). */
  horizonRv(s: string): string {
    if (!/^\d+$/.test(s)) return s;
    const b = this.#below(BigInt(s));
    return b === undefined ? "old" : `≥${b}`;
  }
  uid(s: string): string {
    const n = this.#uids.get(s);
    return n === undefined ? "<uid>" : `uid:${n}`;
  }
  message(s: string): string {
    return s
      .replace(UUID, (u) => this.uid(u))
      .replace(/(resource version: |current: |ResourceVersion in (?:precondition|object meta): |\()(\d+)/g, (_a, p: string, n: string) => p + this.horizonRv(n));
  }
}

function decodeContinue(token: string): unknown {
  try {
    const b64 = token.replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(Buffer.from(b64, "base64").toString("utf8")) as unknown;
  } catch {
    return `<opaque ${token.length}>`;
  }
}

type J = Record<string, unknown>;

function walk(v: unknown, n: Names, path: string[], horizon: boolean): unknown {
  if (typeof v === "string") {
    if (TIME.test(v)) return "<time>";
    return v;
  }
  if (Array.isArray(v)) return v.map((x, i) => walk(x, n, [...path, String(i)], horizon));
  if (typeof v !== "object" || v === null) return v;
  const o = v as J;
  const kind = typeof o.kind === "string" ? o.kind : "";
  const out: J = {};
  for (const [k, x] of Object.entries(o)) {
    if (k === "managedFields") continue;
    if (k === "metadata" && typeof x === "object" && x !== null) {
      out[k] = metadata(x as J, n, horizon || kind.endsWith("List") || kind === "Table" || kind === "Status");
    } else if (k === "message" && typeof x === "string" && kind === "Status") out[k] = n.message(x);
    // A Success Status of a delete names the deleted object's uid (EndpointSlices answer one).
    else if (k === "details" && kind === "Status" && typeof x === "object" && x !== null && typeof (x as J).uid === "string") out[k] = { ...(walk(x, n, [...path, k], false) as J), uid: n.uid((x as J).uid as string) };
    else if (k === "object" && (o.type === "BOOKMARK" || o.type === "ERROR")) out[k] = walk(x, n, [...path, k], true);
    else out[k] = walk(x, n, [...path, k], false);
  }
  return out;
}

function metadata(m: J, n: Names, horizon: boolean): J {
  const out: J = {};
  for (const [k, x] of Object.entries(m)) {
    if (k === "managedFields") continue;
    if (k === "resourceVersion" && typeof x === "string") out[k] = horizon ? n.horizonRv(x) : n.objectRv(x);
    else if (k === "uid" && typeof x === "string") out[k] = n.uid(x);
    else if (k === "continue" && typeof x === "string") {
      const d = decodeContinue(x);
      out[k] = typeof d === "object" && d !== null && "rv" in d ? { ...(d as J), rv: (d as J).rv === -1 ? -1 : n.horizonRv(String((d as J).rv)) } : d;
    } else if (k === "name" && typeof x === "string" && typeof m.generateName === "string" && x.startsWith(m.generateName) && x.length === m.generateName.length + 5) {
      out[k] = `${m.generateName}<5>`;
    } else out[k] = walk(x, n, [k], false);
  }
  return out;
}

function table(body: J): J {
  const cols = Array.isArray(body.columnDefinitions) ? (body.columnDefinitions as J[]) : [];
  const age = cols.findIndex((c) => c.name === "Age");
  if (age < 0 || !Array.isArray(body.rows)) return body;
  return { ...body, rows: (body.rows as J[]).map((r) => ({ ...r, cells: (r.cells as unknown[]).map((c, i) => (i === age ? "<age>" : c)) })) };
}

/** The part of discovery documents the fake claims to serve (pods, the self reviews and their groups). */
function discovery(body: unknown): unknown {
  if (typeof body !== "object" || body === null) return body;
  const b = body as J;
  const out: J = { ...b };
  if (Array.isArray(b.resources)) {
    out.resources = (b.resources as J[]).filter((r) => ["pods", "pods/status", "selfsubjectaccessreviews", "selfsubjectreviews"].includes(String(r.name)));
  }
  if (Array.isArray(b.groups)) out.groups = (b.groups as J[]).filter((g) => g.name === "authorization.k8s.io" || g.name === "authentication.k8s.io");
  if (Array.isArray(b.serverAddressByClientCIDRs)) out.serverAddressByClientCIDRs = "<addresses>";
  return out;
}

/**
 * `/version`: the fields and the shape of their values, not the release; the
 * build fields (commit, tree state, date) are whatever the binaries' build
 * stamped (the test control plane is built without release ldflags).
 */
function version(body: unknown): unknown {
  if (typeof body !== "object" || body === null) return body;
  const build = new Set(["gitCommit", "gitTreeState", "buildDate", "goVersion"]);
  return Object.fromEntries(
    Object.entries(body as J).map(([k, v]) => [k, build.has(k) ? typeof v : typeof v === "string" ? v.replace(/\d+/g, "N").replace(/^vN\.N\.N.*$/, "vN.N.N") : typeof v]),
  );
}

/** The view of an outcome that is compared. */
export function view(c: Case, o: Outcome): unknown {
  const n = new Names(o);
  const out: J = { status: o.status };
  const json = (o.contentType.split(";")[0] ?? "").trim() === "application/json";
  out.contentType = o.contentType.split(";")[0]?.trim();
  if (o.events !== undefined) {
    // The real cacher schedules bookmarks in one-second buckets and may send
    // the one before the deadline twice: consecutive equal bookmarks count once.
    const periodic = (e: unknown): boolean =>
      (e as J).type === "BOOKMARK" && ((e as { object?: { metadata?: { annotations?: J } } }).object?.metadata?.annotations?.["k8s.io/initial-events-end"] ?? "") !== "true";
    // A Table watch (kubectl get -w) defines its columns in the first event
    // only; the Age cell of every event's rows depends on the wall clock.
    let age = -1;
    const ageless = (e: unknown): unknown => {
      const obj = (e as { object?: J }).object;
      if (obj?.kind !== "Table") return e;
      const cols = Array.isArray(obj.columnDefinitions) ? (obj.columnDefinitions as J[]) : [];
      if (cols.length > 0) age = cols.findIndex((col) => col.name === "Age");
      if (age < 0 || !Array.isArray(obj.rows)) return e;
      const at = age;
      return { ...(e as J), object: { ...obj, rows: (obj.rows as J[]).map((r) => ({ ...r, cells: (r.cells as unknown[]).map((cell, i) => (i === at ? "<age>" : cell)) })) } };
    };
    out.events = o.events
      .map(ageless)
      .map((e) => walk(e, n, [], false))
      .filter((e) => c.watch?.bookmarks === "compare" || !periodic(e))
      .filter((e, i, all) => i === 0 || (e as J).type !== "BOOKMARK" || JSON.stringify(e) !== JSON.stringify(all[i - 1]));
    out.stop = o.stop;
    return out;
  }
  let body = o.body;
  if (!json && typeof body === "string") {
    if (out.contentType === "application/yaml") body = parseYaml(body) as unknown;
    else if (out.contentType !== "text/plain") body = `<a body of ${String(out.contentType)}>`;
  }
  switch (c.view ?? "body") {
    case "status-only":
      return out;
    case "discovery":
      out.body = discovery(body);
      return out;
    case "version":
      out.body = version(body);
      return out;
  }
  const w = walk(body, n, [], false);
  out.body = typeof w === "object" && w !== null && (w as J).kind === "Table" ? table(w as J) : w;
  return out;
}

/** The paths where two views differ, with both values (`[]` when equal). */
export function diff(a: unknown, b: unknown, path = ""): { path: string; fake: unknown; real: unknown }[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const bothObjects = typeof a === "object" && a !== null && typeof b === "object" && b !== null && Array.isArray(a) === Array.isArray(b);
  if (!bothObjects) return [{ path: path || "/", fake: a, real: b }];
  if (Array.isArray(a) && Array.isArray(b) && a.length !== b.length) return [{ path: `${path}/length`, fake: a.length, real: b.length }, ...diff(a.slice(0, b.length), b.slice(0, a.length), path)];
  const keys = new Set([...Object.keys(a as J), ...Object.keys(b as J)]);
  return [...keys].flatMap((k) => diff((a as J)[k], (b as J)[k], `${path}/${k}`));
}
