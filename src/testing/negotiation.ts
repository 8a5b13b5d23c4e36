/**
 * Content negotiation of API responses as the apiserver does it (apiserver
 * `endpoints/handlers/negotiation/negotiate.go`): the first acceptable entry
 * of `Accept` in q order picks JSON, YAML, protobuf or a Table
 * (`application/json;as=Table;g=meta.k8s.io;v=v1`); nothing acceptable is
 * 406. Protobuf is written for the kinds `protobuf-encoder.ts` encodes (Pods,
 * EndpointSlices, their lists, Status); anything else stays JSON.
 *
 * @module
 */
import { stringify as toYaml } from "yaml";
import type { Status } from "../kube/wire.ts";
import { failure } from "./status.ts";
import { encodeProtobuf, encodeWatchFrame } from "./protobuf-encoder.ts";
import type { WatchEncoding } from "./watch-stream.ts";

/** What the response is written as. */
export type Representation = "json" | "yaml" | "protobuf" | "table";

/** The types the apiserver offers, in its 406 message's order. */
const AVAILABLE = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"];

interface Clause {
  type: string;
  params: Record<string, string>;
  q: number;
}

function parse(accept: string): Clause[] {
  const out: Clause[] = [];
  for (const part of accept.split(",")) {
    const [type, ...rest] = part.split(";").map((s) => s.trim());
    if (!type) continue;
    const params: Record<string, string> = {};
    for (const p of rest) {
      const eq = p.indexOf("=");
      if (eq > 0) params[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim();
    }
    const q = params["q"] === undefined ? 1 : Number(params["q"]);
    out.push({ type: type.toLowerCase(), params, q: Number.isFinite(q) ? q : 0 });
  }
  // Stable: equal q keeps the client's order.
  return out.filter((c) => c.q > 0).sort((a, b) => b.q - a.q);
}

function pick(c: Clause, tables: boolean): Representation | undefined {
  const as = c.params["as"];
  if (as !== undefined) {
    if (!tables || as !== "Table" || c.params["g"] !== "meta.k8s.io" || (c.params["v"] !== "v1" && c.params["v"] !== "v1beta1")) return undefined;
    if (c.type === "application/json") return "table";
    if (c.type === "application/vnd.kubernetes.protobuf") return "protobuf";
    return undefined;
  }
  if (c.type === "application/json" || c.type === "application/*" || c.type === "*/*") return "json";
  if (c.type === "application/yaml") return "yaml";
  if (c.type === "application/vnd.kubernetes.protobuf") return "protobuf";
  return undefined;
}

/**
 * The representation `accept` asks for, or undefined when none is acceptable
 * (406). `tables` says whether the endpoint can answer a Table (object GETs,
 * lists and watches of pods).
 */
export function negotiate(accept: string | null, tables: boolean): Representation | undefined {
  if (accept === null || accept.trim() === "") return "json";
  for (const c of parse(accept)) {
    const r = pick(c, tables);
    if (r !== undefined) return r;
  }
  return undefined;
}

/** 406 with the apiserver's text. */
export function notAcceptable(): Status {
  return failure(406, "NotAcceptable", `406: Not Acceptable\n\nAvailable representations: ${AVAILABLE.join(", ")}`, {});
}

/** Re-encodes a JSON response as YAML (keys sorted, as Go's JSON-to-YAML conversion writes them). */
export async function asYaml(res: Response): Promise<Response> {
  if (!(res.headers.get("content-type") ?? "").startsWith("application/json") || res.body === null) return res;
  const sortKeys = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sortKeys)
      : typeof v === "object" && v !== null
        ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]))
        : v;
  const body = toYaml(sortKeys(await res.json()));
  const headers = new Headers(res.headers);
  headers.set("content-type", "application/yaml");
  headers.delete("content-length");
  return new Response(body, { status: res.status, headers });
}

const PROTOBUF = "application/vnd.kubernetes.protobuf";

/**
 * A watch written in protobuf frames of `kind` objects (ERROR events carry a
 * Status), batched like the JSON lines: see `watch-stream.ts`.
 */
export function protobufWatchEncoding(kind: string): WatchEncoding {
  return { contentType: `${PROTOBUF};stream=watch`, encode: (event) => encodeWatchFrame(event, kind) };
}

/**
 * Re-encodes a JSON response (an object, a list or a Status) as protobuf; a
 * kind the encoder does not know stays JSON. A watch that opened (200) is
 * already written in protobuf ({@link protobufWatchEncoding}) and passes.
 */
export async function asProtobuf(res: Response, kind: string): Promise<Response> {
  if (!(res.headers.get("content-type") ?? "").startsWith("application/json") || res.body === null) return res;
  const headers = new Headers(res.headers);
  headers.delete("content-length");
  const text = await res.text();
  const bytes = encodeProtobuf(JSON.parse(text), kind);
  if (bytes === undefined) return new Response(text, { status: res.status, headers });
  headers.set("content-type", PROTOBUF);
  return new Response(bytes as Uint8Array<ArrayBuffer>, { status: res.status, headers });
}
