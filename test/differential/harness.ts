/**
 * Runs one differential case against one target (the fake or a real
 * kube-apiserver): templating, setup steps, the request or watch, and the raw
 * outcome with everything the normaliser needs to know (the resourceVersions
 * and uids the setup produced, by step name).
 */
import { open, send, type Endpoint, type HttpAnswer, type HttpRequest } from "./http.ts";
import type { Case, Req, Step, Until, Who } from "./model.ts";

/** A server under comparison. */
export interface Target {
  readonly name: "fake" | "real";
  readonly endpoint: Endpoint;
  readonly tokens: Readonly<Record<Who, string | undefined>>;
  /** A fresh namespace of exactly this name (the fake needs none). */
  makeNamespace(name: string): Promise<void>;
  /** The target for cases with `history` set (see `Case.history`). */
  compacting(): Promise<Target>;
  /** Forgets the history before the last setup step: returns once a LIST at `rv` (the revision before it) is 410. */
  compact(ns: string, rv: string): Promise<void>;
}

/** What a case produced on one target. */
export interface Outcome {
  status: number;
  contentType: string;
  body: unknown;
  /** Watch only: the events read, and how the stream stopped. */
  events?: unknown[];
  stop?: "ended" | "until" | "deadline";
  /** resourceVersions by step name, in step order. */
  rvs: [string, string][];
  uids: Map<string, string>;
}

/** The longest a watch case reads before it gives up (a safety net, not a synchronisation). */
const WATCH_DEADLINE_MS = 15_000;

interface Ctx {
  ns: string;
  answers: Map<string, HttpAnswer>;
}

function meta(a: HttpAnswer | undefined): Record<string, unknown> {
  const j = a?.json as { metadata?: Record<string, unknown> } | undefined;
  return j?.metadata ?? {};
}

/** Fills the `{…}` placeholders of a template string. */
export function fill(s: string, ctx: Ctx): string {
  return s.replace(/\{(ns|pods|rv|uid|continue)(?::([A-Za-z0-9_-]+)(?:\+(\d+))?)?\}/g, (all, what: string, step?: string, plus?: string) => {
    if (what === "ns") return ctx.ns;
    if (what === "pods") return `/api/v1/namespaces/${ctx.ns}/pods`;
    const a = ctx.answers.get(step ?? "");
    if (a === undefined) throw new Error(`template ${all}: no step named ${String(step)}`);
    const m = meta(a);
    if (what === "rv") return String(BigInt(String(m.resourceVersion)) + BigInt(plus ?? "0"));
    if (what === "uid") return String(m.uid);
    return encodeURIComponent(String(m.continue ?? ""));
  });
}

function fillDeep(v: unknown, ctx: Ctx): unknown {
  if (typeof v === "string") return fill(v, ctx);
  if (Array.isArray(v)) return v.map((x) => fillDeep(x, ctx));
  if (typeof v === "object" && v !== null && !(v instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fillDeep(x, ctx)]));
  }
  return v;
}

function toHttp(t: Target, r: Req, ctx: Ctx): HttpRequest {
  const out: HttpRequest = { method: r.method ?? (r.body === undefined ? "GET" : "POST"), path: fill(r.path, ctx) };
  if (r.body !== undefined) out.body = fillDeep(r.body, ctx);
  if (r.contentType !== undefined) out.contentType = r.contentType;
  if (r.accept !== undefined) out.accept = r.accept;
  const token = t.tokens[r.who ?? "admin"];
  if (token !== undefined) out.token = token;
  return out;
}

async function runSteps(t: Target, steps: readonly Step[], ctx: Ctx, rvs: [string, string][], uids: Map<string, string>): Promise<void> {
  for (const [i, s] of steps.entries()) {
    const a = await send(t.endpoint, toHttp(t, s, ctx));
    if (!s.mayFail && (a.status < 200 || a.status > 299)) {
      throw new Error(`${t.name}: setup step ${s.name ?? i} ${s.method ?? "GET"} ${s.path}: HTTP ${a.status} ${a.text.slice(0, 600)}`);
    }
    const name = s.name ?? `#${i}`;
    ctx.answers.set(name, a);
    const m = meta(a);
    // Only writes name revisions: a read's snapshot is not the case's own.
    const write = (s.method ?? (s.body === undefined ? "GET" : "POST")) !== "GET";
    if (write && typeof m.resourceVersion === "string" && m.resourceVersion !== "") rvs.push([name, m.resourceVersion]);
    if (typeof m.uid === "string") uids.set(name, m.uid);
  }
}

function stopsAt(until: Until, ev: { type?: string; object?: { metadata?: { name?: string; annotations?: Record<string, string> } } }): boolean {
  if (until === "end") return false;
  if (until === "initial-events-end") return ev.type === "BOOKMARK" && ev.object?.metadata?.annotations?.["k8s.io/initial-events-end"] === "true";
  return ev.object?.metadata?.name === until.pod;
}

/** Runs case `c` in namespace `ns` (already created on `t`). */
export async function runCase(t: Target, c: Case, ns: string): Promise<Outcome> {
  const ctx: Ctx = { ns, answers: new Map() };
  const rvs: [string, string][] = [];
  const uids = new Map<string, string>();
  await runSteps(t, c.setup ?? [], ctx, rvs, uids);
  const req = toHttp(t, c.request, ctx);
  const written = rvs[rvs.length - 1];
  if (written !== undefined && /[?&]resourceVersion=0(?:&|$)/.test(req.path)) {
    // resourceVersion=0 is served from the watch cache as it is, which may
    // not have seen the last setup write yet; a NotOlderThan read of the same
    // collection at that write's revision returns once the cache has it.
    const collection = req.path.split("?")[0]!;
    const a = await send(t.endpoint, { method: "GET", path: `${collection}?resourceVersion=${written[1]}&resourceVersionMatch=NotOlderThan`, token: t.tokens.admin! });
    if (a.status !== 200) throw new Error(`${t.name}: the watch cache of ${collection} did not reach revision ${written[1]} of setup step ${written[0]}: HTTP ${a.status} ${a.text.slice(0, 300)}`);
  }
  if (c.history === "compacted") {
    const last = rvs[rvs.length - 1];
    if (last === undefined) throw new Error(`case ${c.id}: compact needs a setup step with a resourceVersion`);
    await t.compact(ns, String(BigInt(last[1]) - 1n));
  }
  if (c.watch === undefined) {
    const a = await send(t.endpoint, req);
    return { status: a.status, contentType: a.contentType, body: a.json ?? a.text, rvs, uids };
  }
  const s = await open(t.endpoint, req);
  if (s.status !== 200) {
    const lines: string[] = [];
    for (let l = await s.next(); l !== undefined; l = await s.next()) lines.push(l);
    const text = lines.join("\n");
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: s.status, contentType: s.contentType, body, rvs, uids };
  }
  const events: unknown[] = [];
  let stop: Outcome["stop"] = "ended";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"deadline">((r) => (timer = setTimeout(() => r("deadline"), WATCH_DEADLINE_MS)));
  try {
    await runSteps(t, c.watch.during ?? [], ctx, rvs, uids);
    for (;;) {
      const line = await Promise.race([s.next(), deadline]);
      if (line === "deadline") {
        stop = "deadline";
        break;
      }
      if (line === undefined) break;
      if (line.trim() === "") continue;
      let ev: unknown;
      try {
        ev = JSON.parse(line);
      } catch {
        ev = { unparsable: line };
      }
      events.push(ev);
      if (stopsAt(c.watch.until, ev as never)) {
        stop = "until";
        break;
      }
    }
  } finally {
    clearTimeout(timer);
    s.close();
  }
  return { status: s.status, contentType: s.contentType, body: undefined, events, stop, rvs, uids };
}
