/**
 * Response objects of the call path. The header blocks are kept as the
 * HTTP/2 library delivered them and turned into fetch `Headers` only when
 * read (`onHeader`, `onTrailer`, an interceptor): most calls never look.
 *
 * @module
 */
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { toWebHeaders, type RawHeaders } from "../protocol/headers.ts";

/** A received header block, or `Headers` already. */
export type HeaderSource = RawHeaders | Headers | undefined;

/** `h` as `Headers` (a copy for raw blocks, the same object otherwise). */
export function asHeaders(h: HeaderSource): Headers {
  return h instanceof Headers ? h : toWebHeaders(h);
}

/** A unary response whose `header` and `trailer` are built on first read. */
export class LazyUnaryResponse {
  readonly stream = false as const;
  readonly service: DescService;
  readonly method: DescMethod;
  readonly message: unknown;
  #rawHeader: HeaderSource;
  #rawTrailer: HeaderSource;
  #header: Headers | undefined;
  #trailer: Headers | undefined;

  /** @param method the method; @param header, trailer as received; @param message the parsed response */
  constructor(method: DescMethod, header: HeaderSource, trailer: HeaderSource, message: unknown) {
    this.service = method.parent;
    this.method = method;
    this.message = message;
    this.#rawHeader = header;
    this.#rawTrailer = trailer;
  }

  /** Response headers. */
  get header(): Headers {
    return (this.#header ??= asHeaders(this.#rawHeader));
  }

  /** Response trailers. */
  get trailer(): Headers {
    return (this.#trailer ??= asHeaders(this.#rawTrailer));
  }
}
