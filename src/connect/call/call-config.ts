/**
 * What every call of a transport shares: protocol, codec, compression and
 * size limits, and per method a precomputed plan (framing, codec, the header
 * block each call copies). Built once per transport; plans are cached per
 * method descriptor.
 *
 * @module
 */
import type { DescMethod } from "@bufbuild/protobuf";
import { gunzip, gzip, OutputTooLargeError } from "../../runtime/compression.ts";
import { Code, ConnectError } from "@connectrpc/connect";
import { methodCodec, type JsonCodecOptions, type MethodCodec } from "../protocol/codec.ts";
import { addHeaders, type OutgoingHeaders } from "../protocol/headers.ts";
import type { ResponseReaderOptions } from "../protocol/response-reader.ts";
import { baseRequestHeaders, framingOf, type Framing, type WireProtocol } from "../protocol/wire-protocol.ts";
import type { TransportClock } from "../transport-clock.ts";

/** The compression encodings kratos-kube speaks. */
export type CompressionName = "gzip";

/** Settings shared by the calls of a transport. */
export interface CallSettings {
  readonly protocol: WireProtocol;
  /** Protobuf (true, default) or JSON messages. */
  readonly binary: boolean;
  /** Compress request messages with this encoding (default: none). */
  readonly sendCompression: CompressionName | undefined;
  /** Only messages at least this large are compressed. */
  readonly compressMinBytes: number;
  /** Encodings accepted in responses. */
  readonly acceptCompression: readonly CompressionName[];
  /** Largest response message, after decompression. */
  readonly readMaxBytes: number;
  /** Largest request message, before compression. */
  readonly writeMaxBytes: number;
  readonly userAgent: string;
  readonly clock: TransportClock;
  /** JSON options (a `registry` for `google.protobuf.Any`). */
  readonly jsonOptions?: JsonCodecOptions | undefined;
}

/** The per-method part of a call, computed once. */
export interface MethodPlan {
  readonly method: DescMethod;
  readonly framing: Framing;
  readonly codec: MethodCodec;
  /** The response has one message (unary and client-streaming methods). */
  readonly singleMessage: boolean;
  /** The header block without deadline and caller headers (shared; never mutated). */
  readonly headers: OutgoingHeaders;
  /** `/package.Service/Method`, for messages and interceptors. */
  readonly path: string;
  /** What the response reader of each call expects (shared by the calls). */
  readonly reader: ResponseReaderOptions;
}

/** Settings plus the method plans. */
export class CallConfig {
  readonly settings: CallSettings;
  #plans = new WeakMap<DescMethod, MethodPlan>();

  /** @param settings the transport's call settings */
  constructor(settings: CallSettings) {
    this.settings = settings;
  }

  /** The plan of `method` (built on first use). */
  plan(method: DescMethod): MethodPlan {
    let p = this.#plans.get(method);
    if (p !== undefined) return p;
    const s = this.settings;
    const streaming = method.methodKind !== "unary";
    const framing = framingOf(s.protocol, streaming);
    const path = `/${method.parent.typeName}/${method.name}`;
    const singleMessage = method.methodKind === "unary" || method.methodKind === "client_streaming";
    p = {
      method,
      framing,
      codec: methodCodec(method, s.binary, s.jsonOptions),
      singleMessage,
      headers: Object.freeze(
        baseRequestHeaders({ framing, path, binary: s.binary, sendEncoding: s.sendCompression, acceptEncodings: s.acceptCompression, userAgent: s.userAgent }),
      ) as OutgoingHeaders,
      path,
      reader: { framing, binary: s.binary, singleMessage, readMaxBytes: s.readMaxBytes, acceptEncodings: s.acceptCompression, decompress },
    };
    this.#plans.set(method, p);
    return p;
  }

  /** The header block of one call: the plan's, plus the deadline and the caller's headers when given. */
  headers(plan: MethodPlan, timeoutMs: number | undefined, header: HeadersInit | undefined): OutgoingHeaders {
    if (timeoutMs === undefined && header === undefined) return plan.headers;
    const h: OutgoingHeaders = { ...plan.headers };
    addHeaders(h, header);
    // Protocol headers win over a caller's header of the same name.
    Object.assign(h, plan.headers);
    if (timeoutMs !== undefined) h[plan.framing.timeoutHeader] = plan.framing.encodeTimeout(timeoutMs);
    return h;
  }

  /** A serialised message, compressed when configured and large enough; `compressed` tells which. */
  encode(plan: MethodPlan, message: unknown): { data: Uint8Array; compressed: boolean } {
    const data = plan.codec.serialize(message as never);
    const s = this.settings;
    if (data.byteLength > s.writeMaxBytes) {
      throw new ConnectError(`message size ${data.byteLength} is larger than configured writeMaxBytes ${s.writeMaxBytes}`, Code.ResourceExhausted);
    }
    if (s.sendCompression === undefined || data.byteLength < s.compressMinBytes) return { data, compressed: false };
    return { data: gzip(data), compressed: true };
  }
}

/** Decompresses a response message (the response reader's `decompress`). */
export function decompress(data: Uint8Array, encoding: string, maxBytes: number): Uint8Array {
  if (encoding !== "gzip") throw new ConnectError(`unsupported response encoding "${encoding}"`, Code.Internal);
  try {
    return gunzip(data, maxBytes);
  } catch (e) {
    if (e instanceof OutputTooLargeError) {
      throw new ConnectError(`message is larger than configured readMaxBytes ${maxBytes} once decompressed`, Code.ResourceExhausted);
    }
    throw new ConnectError(`decompressing a gzip message failed: ${e instanceof Error ? e.message : String(e)}`, Code.Internal, undefined, undefined, e);
  }
}
