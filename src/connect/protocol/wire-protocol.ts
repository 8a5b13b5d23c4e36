/**
 * What each protocol puts in its request headers and expects back: content
 * types, compression header names, the deadline header and whether messages
 * travel in envelopes. gRPC (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md),
 * gRPC-web (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-WEB.md) and
 * Connect unary and streaming (https://connectrpc.com/docs/protocol/). Pure.
 *
 * @module
 */
import { encodeConnectTimeout, encodeGrpcTimeout } from "./timeout.ts";
import type { OutgoingHeaders } from "./headers.ts";

/** The wire protocol spoken to an endpoint. */
export type WireProtocol = "grpc" | "grpc-web" | "connect";

/** How one kind of call is framed: a protocol, and for Connect whether the method streams. */
export interface Framing {
  readonly protocol: WireProtocol;
  /** Connect only: streaming framing (envelopes, end-of-stream message) instead of unary. */
  readonly connectStream: boolean;
  /** Messages travel in envelopes (everything but Connect unary). */
  readonly enveloped: boolean;
  /** Header naming the message encoding of the request and response. */
  readonly encodingHeader: string;
  /** Header listing the encodings the client accepts. */
  readonly acceptEncodingHeader: string;
  /** The deadline header and its encoding. */
  readonly timeoutHeader: string;
  readonly encodeTimeout: (ms: number) => string;
  /** Content type for `binary` (protobuf) or JSON messages. */
  contentType(binary: boolean): string;
  /** The codec a response content type names: `true` protobuf, `false` JSON, `undefined` not this protocol. */
  parseContentType(value: string | undefined): boolean | undefined;
}

function codecOf(re: RegExp, value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  const m = re.exec(value.toLowerCase());
  if (m === null) return undefined;
  return m[1] === undefined || m[1] === "proto";
}

const GRPC: Framing = {
  protocol: "grpc",
  connectStream: false,
  enveloped: true,
  encodingHeader: "grpc-encoding",
  acceptEncodingHeader: "grpc-accept-encoding",
  timeoutHeader: "grpc-timeout",
  encodeTimeout: encodeGrpcTimeout,
  contentType: (binary) => (binary ? "application/grpc" : "application/grpc+json"),
  parseContentType: (v) => codecOf(/^application\/grpc(?:\+(proto|json))?\s*(?:;.*)?$/, v),
};

const GRPC_WEB: Framing = {
  ...GRPC,
  protocol: "grpc-web",
  contentType: (binary) => (binary ? "application/grpc-web+proto" : "application/grpc-web+json"),
  parseContentType: (v) => codecOf(/^application\/grpc-web(?:\+(proto|json))?\s*(?:;.*)?$/, v),
};

const CONNECT_UNARY: Framing = {
  protocol: "connect",
  connectStream: false,
  enveloped: false,
  encodingHeader: "content-encoding",
  acceptEncodingHeader: "accept-encoding",
  timeoutHeader: "connect-timeout-ms",
  encodeTimeout: encodeConnectTimeout,
  contentType: (binary) => (binary ? "application/proto" : "application/json"),
  parseContentType: (v) => codecOf(/^application\/(proto|json)\s*(?:;.*)?$/, v),
};

const CONNECT_STREAM: Framing = {
  ...CONNECT_UNARY,
  connectStream: true,
  enveloped: true,
  encodingHeader: "connect-content-encoding",
  acceptEncodingHeader: "connect-accept-encoding",
  contentType: (binary) => (binary ? "application/connect+proto" : "application/connect+json"),
  parseContentType: (v) => codecOf(/^application\/connect\+(proto|json)\s*(?:;.*)?$/, v),
};

/** The framing of a call: `streaming` is true for every method kind but unary. */
export function framingOf(protocol: WireProtocol, streaming: boolean): Framing {
  if (protocol === "grpc") return GRPC;
  if (protocol === "grpc-web") return GRPC_WEB;
  return streaming ? CONNECT_STREAM : CONNECT_UNARY;
}

/** What a request's header block is built from. */
export interface RequestShape {
  readonly framing: Framing;
  /** `/package.Service/Method`. */
  readonly path: string;
  /** Protobuf (true) or JSON messages. */
  readonly binary: boolean;
  /** Encoding the request's messages are compressed with, if any. */
  readonly sendEncoding: string | undefined;
  /** Encodings accepted in responses (besides identity). */
  readonly acceptEncodings: readonly string[];
  readonly userAgent: string;
}

/**
 * The header block every call of a method starts from (without deadline and
 * caller headers), built once per method and copied per call by the HTTP/2
 * library. `:authority` and `:scheme` come from the connection.
 */
export function baseRequestHeaders(s: RequestShape): OutgoingHeaders {
  const f = s.framing;
  const h: OutgoingHeaders = { ":method": "POST", ":path": s.path, "content-type": f.contentType(s.binary) };
  if (f.protocol === "grpc") h["te"] = "trailers";
  if (f.protocol === "grpc-web") h["x-grpc-web"] = "1";
  if (f.protocol === "connect") h["connect-protocol-version"] = "1";
  if (s.sendEncoding !== undefined) h[f.encodingHeader] = s.sendEncoding;
  if (s.acceptEncodings.length > 0) h[f.acceptEncodingHeader] = s.acceptEncodings.join(",");
  h[f.protocol === "grpc" ? "user-agent" : "x-user-agent"] = s.userAgent;
  if (f.protocol !== "grpc") h["user-agent"] = s.userAgent;
  return h;
}
