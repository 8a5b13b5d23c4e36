/**
 * The response half of a call as a pure state machine, for all three
 * protocols: fed the HTTP/2 events of one stream (headers, body chunks,
 * trailers, end of body) in order, it validates the response, splits the
 * messages out of the body, and reads the final status from wherever the
 * protocol keeps it (gRPC: trailers, or the headers of a trailers-only
 * response; gRPC-web: the trailer envelope; Connect unary: the HTTP status,
 * a JSON error body and `trailer-` headers; Connect streaming: the
 * end-of-stream envelope). Results go to a {@link ResponseSink}.
 *
 * State: `headers` → `body` → `done` (or straight to `done` for an error
 * at the headers). Events after `done` are ignored.
 *
 * @module
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { parseEndStream, errorFromBody } from "./connect-wire.ts";
import { EnvelopeReader, FLAG_COMPRESSED, FLAG_CONNECT_END_STREAM, FLAG_GRPC_WEB_TRAILER } from "./envelope.ts";
import { readGrpcStatus, statusError } from "./grpc-status.ts";
import { parseGrpcWebTrailer } from "./grpc-web-trailer.ts";
import { headerValue, statusOf, toWebHeaders, type RawHeaders } from "./headers.ts";
import { codeFromHttpStatus } from "./http-status.ts";
import type { Framing } from "./wire-protocol.ts";

/** Where a {@link ResponseReader} delivers what it read. */
export interface ResponseSink {
  /** The response headers, once, before any message (not for an error response). */
  headers(h: RawHeaders): void;
  /** One message, decompressed, still serialised. */
  message(data: Uint8Array): void;
  /** The end: `error` undefined on success; `trailers` as received. Called once. */
  end(error: ConnectError | undefined, trailers: RawHeaders | Headers | undefined): void;
}

/** Options of a {@link ResponseReader}. */
export interface ResponseReaderOptions {
  readonly framing: Framing;
  /** The codec the request used: protobuf (true) or JSON. */
  readonly binary: boolean;
  /** The response has exactly one message (unary and client-streaming methods). */
  readonly singleMessage: boolean;
  /** Largest message accepted, in bytes (as received; the driver checks decompressed sizes). */
  readonly readMaxBytes: number;
  /** Encodings the client can decompress (besides identity). */
  readonly acceptEncodings: readonly string[];
  /**
   * Decompresses `data` of `encoding` (one of `acceptEncodings`); throws a
   * `ConnectError` (ResourceExhausted) past `maxBytes`, anything else when
   * the data is corrupt.
   */
  readonly decompress?: ((data: Uint8Array, encoding: string, maxBytes: number) => Uint8Array) | undefined;
}

/** The state of a {@link ResponseReader}. */
export type ResponseState = "headers" | "body" | "done";

/** See the module doc. */
export class ResponseReader {
  #o: ResponseReaderOptions;
  #sink: ResponseSink;
  #state: ResponseState = "headers";
  #statusFromServer = false;
  #headers: RawHeaders | undefined;
  /** gRPC: the headers carried the status (trailers-only response). */
  #trailersOnly = false;
  /** The response's message encoding, `undefined` for identity. */
  #encoding: string | undefined;
  #envelopes: EnvelopeReader | undefined;
  /** Connect unary: the body chunks, and the HTTP status (non-200: the body is a JSON error). */
  #body: Uint8Array[] | undefined;
  #bodyBytes = 0;
  #httpStatus = 0;
  #messages = 0;

  /** @param o what to expect; @param sink where results go */
  constructor(o: ResponseReaderOptions, sink: ResponseSink) {
    this.#o = o;
    this.#sink = sink;
  }

  /** The current state. */
  get state(): ResponseState {
    return this.#state;
  }

  /** The call's outcome is a status the server sent (trailers, an end-of-stream message, an error body or an HTTP status), not one the reader inferred. */
  get statusFromServer(): boolean {
    return this.#statusFromServer;
  }

  /** Messages delivered so far. */
  get messages(): number {
    return this.#messages;
  }

  /** The response header block. */
  onHeaders(h: RawHeaders): void {
    if (this.#state !== "headers") return;
    this.#headers = h;
    const f = this.#o.framing;
    const status = statusOf(h);
    this.#httpStatus = status;
    if (f.protocol === "connect" && !f.connectStream) return this.#connectUnaryHeaders(h, status);
    if (status !== 200) {
      this.#statusFromServer = true;
      return this.#finish(new ConnectError(`HTTP ${status}`, codeFromHttpStatus(status), toWebHeaders(h)), h);
    }
    const codec = f.parseContentType(headerValue(h, "content-type"));
    if (readGrpcStatus(h) !== undefined) {
      // Trailers-only (gRPC and gRPC-web): the status is in the headers and the body is empty.
      this.#trailersOnly = true;
    } else if (codec === undefined || codec !== this.#o.binary) {
      const ct = headerValue(h, "content-type") ?? "none";
      return this.#finish(new ConnectError(`unsupported content type ${ct}`, codec === undefined ? Code.Unknown : Code.Internal, toWebHeaders(h)), h);
    }
    const enc = this.#negotiated(headerValue(h, f.encodingHeader));
    if (enc instanceof ConnectError) return this.#finish(enc, h);
    this.#encoding = enc;
    this.#envelopes = new EnvelopeReader(this.#o.readMaxBytes);
    this.#state = "body";
    this.#sink.headers(h);
  }

  #connectUnaryHeaders(h: RawHeaders, status: number): void {
    const enc = this.#negotiated(headerValue(h, "content-encoding"));
    if (enc instanceof ConnectError) return this.#finish(enc, h);
    this.#encoding = enc;
    this.#body = [];
    this.#state = "body";
    if (status !== 200) return; // the body is a JSON error
    const codec = this.#o.framing.parseContentType(headerValue(h, "content-type"));
    if (codec !== this.#o.binary) {
      const ct = headerValue(h, "content-type") ?? "none";
      return this.#finish(new ConnectError(`unsupported content type ${ct}`, codec === undefined ? Code.Unknown : Code.Internal, toWebHeaders(h)), h);
    }
    const plain: Record<string, string | string[] | number | undefined> = {};
    for (const k of Object.keys(h)) if (!k.startsWith("trailer-")) plain[k] = h[k];
    this.#sink.headers(plain);
  }

  /** The encoding a response names: `undefined` for identity, an error for one we cannot read. */
  #negotiated(enc: string | undefined): string | undefined | ConnectError {
    if (enc === undefined || enc === "" || enc.toLowerCase() === "identity") return undefined;
    if (this.#o.acceptEncodings.includes(enc)) return enc;
    return new ConnectError(`unsupported response encoding "${enc}"`, Code.Internal, toWebHeaders(this.#headers));
  }

  /** A chunk of the response body. */
  onData(chunk: Uint8Array): void {
    if (this.#state !== "body") return;
    const body = this.#body;
    if (body !== undefined) {
      this.#bodyBytes += chunk.byteLength;
      if (this.#encoding === undefined && this.#httpStatus === 200 && this.#bodyBytes > this.#o.readMaxBytes) {
        return this.#tooLarge(this.#bodyBytes);
      }
      body.push(chunk);
      return;
    }
    const r = this.#envelopes!;
    r.push(chunk);
    for (;;) {
      const e = r.next();
      if (e === undefined) return;
      if ("kind" in e) return this.#tooLarge(e.length);
      const f = this.#o.framing;
      const compressed = (e.flags & FLAG_COMPRESSED) !== 0;
      if (compressed && this.#encoding === undefined) {
        return this.#protocolError("received a compressed message without a response encoding");
      }
      if (f.protocol === "grpc-web" && (e.flags & FLAG_GRPC_WEB_TRAILER) !== 0) {
        const data = compressed ? this.#inflate(e.data) : e.data;
        return data === undefined ? undefined : this.#grpcFinish(parseGrpcWebTrailer(data));
      }
      if (f.connectStream && (e.flags & FLAG_CONNECT_END_STREAM) !== 0) {
        const data = compressed ? this.#inflate(e.data) : e.data;
        return data === undefined ? undefined : this.#connectEnd(data);
      }
      if ((e.flags & ~FLAG_COMPRESSED) !== 0) {
        return this.#protocolError(`invalid envelope flags 0x${e.flags.toString(16)}`);
      }
      if (this.#trailersOnly) return this.#protocolError("received a message in a trailers-only response");
      if (++this.#messages > 1 && this.#o.singleMessage) {
        return this.#finish(new ConnectError("protocol error: received extra output message for unary method", Code.Unimplemented), undefined);
      }
      const data = compressed ? this.#inflate(e.data) : e.data;
      if (data === undefined) return;
      this.#sink.message(data);
      if (this.#state !== "body") return; // the sink failed the call
    }
  }

  /** The trailer block (gRPC; tolerated for gRPC-web). */
  onTrailers(t: RawHeaders): void {
    if (this.#state !== "body") return;
    const p = this.#o.framing.protocol;
    if (p === "grpc" || p === "grpc-web") this.#grpcFinish(t);
  }

  /** The body ended (END_STREAM) without the reader having finished. */
  onEnd(): void {
    if (this.#state === "done") return;
    if (this.#state === "headers") return this.#protocolError("the response ended before its headers");
    const f = this.#o.framing;
    if (this.#body !== undefined) return this.#connectUnaryEnd();
    if (this.#trailersOnly) return this.#grpcFinish(this.#headers!);
    if (this.#envelopes!.pending > 0) return this.#protocolError("the response ended inside a message");
    if (f.connectStream) return this.#protocolError("the stream ended without an end-of-stream message");
    this.#finish(new ConnectError("protocol error: missing status", Code.Internal, toWebHeaders(this.#headers)), undefined);
  }

  #grpcFinish(trailers: RawHeaders): void {
    if ((this.#envelopes?.pending ?? 0) > 0) return this.#protocolError("the response ended inside a message");
    const s = readGrpcStatus(trailers);
    if (s === undefined) {
      return this.#finish(new ConnectError("protocol error: missing status", Code.Internal, metadataOf(this.#headers, trailers)), trailers);
    }
    this.#statusFromServer = true;
    if (s.code !== 0) return this.#finish(statusError(s, metadataOf(this.#headers, trailers)), trailers);
    if (this.#o.singleMessage && this.#messages === 0) {
      return this.#finish(new ConnectError("protocol error: missing output message for unary method", Code.Unimplemented, metadataOf(this.#headers, trailers)), trailers);
    }
    this.#finish(undefined, trailers);
  }

  #connectEnd(data: Uint8Array): void {
    const end = parseEndStream(data);
    if (end instanceof ConnectError) return this.#finish(end, undefined);
    this.#statusFromServer = true;
    if (end.error !== undefined) {
      toWebHeaders(this.#headers, end.error.metadata);
      return this.#finish(end.error, end.metadata);
    }
    if (this.#o.singleMessage && this.#messages === 0) {
      return this.#finish(new ConnectError("protocol error: missing output message for unary method", Code.Unimplemented), end.metadata);
    }
    this.#finish(undefined, end.metadata);
  }

  #connectUnaryEnd(): void {
    const h = this.#headers!;
    const trailers = toWebHeaders(h, new Headers(), "trailer-");
    const raw = concat(this.#body!, this.#bodyBytes);
    // An error body may be compressed too.
    const body = this.#encoding !== undefined && raw.byteLength > 0 ? this.#inflate(raw) : raw;
    if (body === undefined) return;
    this.#statusFromServer = true;
    if (this.#httpStatus !== 200) {
      const metadata = toWebHeaders(h);
      toWebHeaders(h, metadata, "trailer-");
      return this.#finish(errorFromBody(body, codeFromHttpStatus(this.#httpStatus), `HTTP ${this.#httpStatus}`, metadata), trailers);
    }
    this.#messages = 1;
    this.#sink.message(body);
    if (this.#state === "done") return;
    this.#finish(undefined, trailers);
  }

  /** Decompresses with the negotiated encoding; ends the reader and returns undefined on failure. */
  #inflate(data: Uint8Array): Uint8Array | undefined {
    const dec = this.#o.decompress;
    if (dec === undefined) {
      this.#protocolError(`cannot decompress "${this.#encoding}"`);
      return undefined;
    }
    try {
      return dec(data, this.#encoding!, this.#o.readMaxBytes);
    } catch (e) {
      this.#finish(
        e instanceof ConnectError ? e : new ConnectError(`decompressing a message with "${this.#encoding}" failed`, Code.Internal, undefined, undefined, e),
        undefined,
      );
      return undefined;
    }
  }

  #tooLarge(length: number): void {
    this.#finish(
      new ConnectError(`message size ${length} is larger than configured readMaxBytes ${this.#o.readMaxBytes}`, Code.ResourceExhausted),
      undefined,
    );
  }

  #protocolError(what: string): void {
    this.#finish(new ConnectError(`protocol error: ${what}`, Code.Internal), undefined);
  }

  /** Ends the reader (also used by the driver when the sink fails a message). */
  fail(error: ConnectError): void {
    if (this.#state !== "done") this.#finish(error, undefined);
  }

  #finish(error: ConnectError | undefined, trailers: RawHeaders | Headers | undefined): void {
    this.#state = "done";
    this.#sink.end(error, trailers);
  }
}

/** Headers and trailers in one `Headers`, as connect puts them on an error's metadata. */
function metadataOf(headers: RawHeaders | undefined, trailers: RawHeaders): Headers {
  const m = toWebHeaders(headers);
  if (trailers !== headers) toWebHeaders(trailers, m);
  return m;
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
