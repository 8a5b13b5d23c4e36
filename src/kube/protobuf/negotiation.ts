/**
 * Content negotiation of the Kubernetes client: which `Accept` a LIST, GET or
 * WATCH sends for an {@link Encoding}, and how an answer's `Content-Type`
 * picks the decoder, per request. kube-apiserver serves built-in types
 * (Pods, EndpointSlices) as protobuf and everything else (custom resources,
 * servers that do not speak it) as JSON; with `auto` the client lists both
 * and decodes whichever comes back, as client-go does
 * (`application/vnd.kubernetes.protobuf,application/json`).
 *
 * A watch body is handed to the reflector as bytes; its encoding travels with
 * it in a weak map ({@link protobufWatchOf}), so custom `ListWatchApi`s
 * returning plain JSON streams need nothing.
 *
 * @module
 */
import type { KubeObject } from "../wire.ts";
import type { ProtobufProjection } from "./decoder.ts";
import { decodeStatusBody } from "./decoder.ts";
import { PROTOBUF_MEDIA_TYPE } from "./reader.ts";

/**
 * The wire encoding the client asks for: `auto` (protobuf where the resource
 * descriptor can read it, JSON otherwise or when the server answers JSON),
 * `json` (never protobuf) or `protobuf` (protobuf only where the descriptor
 * can read it; a server that cannot serve it answers 406).
 */
export type Encoding = "auto" | "json" | "protobuf";

/** The encodings accepted by {@link Encoding}. */
export const ENCODINGS: readonly Encoding[] = ["auto", "json", "protobuf"];

/** Throws a `TypeError` naming `where` when `encoding` is not an {@link Encoding}. */
export function checkEncoding(encoding: unknown, where: string): asserts encoding is Encoding {
  if (!ENCODINGS.includes(encoding as Encoding)) {
    throw new TypeError(`${where}: encoding must be "auto", "json" or "protobuf", got ${JSON.stringify(encoding)}`);
  }
}

/** `Accept` of a LIST or GET. */
export function acceptHeader(encoding: Encoding, projection: ProtobufProjection | undefined): string {
  if (encoding === "json" || projection === undefined) return "application/json";
  return encoding === "protobuf" ? PROTOBUF_MEDIA_TYPE : `${PROTOBUF_MEDIA_TYPE}, application/json`;
}

/** `Accept` of a WATCH (`stream=watch` names the framed protobuf stream, apimachinery `runtime.SerializerInfo.StreamSerializer`). */
export function watchAcceptHeader(encoding: Encoding, projection: ProtobufProjection | undefined): string {
  if (encoding === "json" || projection === undefined) return "application/json";
  const pb = `${PROTOBUF_MEDIA_TYPE};stream=watch`;
  return encoding === "protobuf" ? pb : `${pb}, application/json`;
}

/** Whether a `Content-Type` is Kubernetes protobuf (parameters such as `stream=watch` allowed). */
export function isProtobufContentType(contentType: string | null): boolean {
  if (contentType === null) return false;
  const semi = contentType.indexOf(";");
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase() === PROTOBUF_MEDIA_TYPE;
}

const watches = new WeakMap<ReadableStream<Uint8Array>, ProtobufProjection>();

/** Marks a watch body as a protobuf frame stream whose objects `projection` reads. Advanced: for custom `ListWatchApi`s. */
export function markProtobufWatch<W extends KubeObject>(body: ReadableStream<Uint8Array>, projection: ProtobufProjection<W>): void {
  watches.set(body, projection as unknown as ProtobufProjection);
}

/** The projection of a watch body marked by {@link markProtobufWatch}; undefined for a JSON stream. */
export function protobufWatchOf(body: ReadableStream<Uint8Array>): ProtobufProjection | undefined {
  return watches.get(body);
}

/**
 * A protobuf error answer as the JSON answer of the same Status, so
 * `KubeApiError.fromResponse` reads both alike; an undecodable body keeps
 * the status line only (as an unreadable JSON body does).
 */
export async function protobufErrorAsJson(res: Response): Promise<Response> {
  let text = "";
  try {
    text = JSON.stringify(decodeStatusBody(new Uint8Array(await res.arrayBuffer())));
  } catch {
    // The status line is still worth reporting.
  }
  const headers = new Headers({ "content-type": "application/json" });
  const retry = res.headers.get("retry-after");
  if (retry !== null) headers.set("retry-after", retry);
  return new Response(text, { status: res.status, statusText: res.statusText, headers });
}
