/**
 * Status codes for what is not a gRPC or Connect status: an HTTP status
 * other than 200 (https://github.com/grpc/grpc/blob/master/doc/http-grpc-status-mapping.md,
 * also Connect's table, https://connectrpc.com/docs/protocol/#http-to-error-code)
 * and an HTTP/2 RST_STREAM code
 * (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md, "Errors"). Pure.
 *
 * @module
 */
import { Code } from "@connectrpc/connect";

/** The code of a response whose HTTP status is not 200 and that carries no status of its own. */
export function codeFromHttpStatus(status: number): Code {
  switch (status) {
    case 400:
      return Code.Internal;
    case 401:
      return Code.Unauthenticated;
    case 403:
      return Code.PermissionDenied;
    case 404:
      return Code.Unimplemented;
    case 429:
    case 502:
    case 503:
    case 504:
      return Code.Unavailable;
    default:
      return Code.Unknown;
  }
}

/** HTTP/2 error codes (RFC 9113 §7). */
export const H2 = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const;

const H2_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(H2).map(([k, v]) => [v, k]));

/** The name of an HTTP/2 error code, e.g. `REFUSED_STREAM (0x7)`. */
export function h2CodeName(code: number): string {
  return `${H2_NAMES[code] ?? "UNKNOWN"} (0x${code.toString(16)})`;
}

/**
 * The code of a stream reset by the peer before its status arrived: REFUSED_STREAM
 * is Unavailable (the request was not processed), CANCEL is Canceled,
 * ENHANCE_YOUR_CALM is ResourceExhausted, INADEQUATE_SECURITY (and
 * HTTP_1_1_REQUIRED) PermissionDenied, every other code Internal.
 */
export function codeFromH2Reset(rstCode: number): Code {
  switch (rstCode) {
    case H2.REFUSED_STREAM:
      return Code.Unavailable;
    case H2.CANCEL:
      return Code.Canceled;
    case H2.ENHANCE_YOUR_CALM:
      return Code.ResourceExhausted;
    case H2.INADEQUATE_SECURITY:
    case H2.HTTP_1_1_REQUIRED:
      return Code.PermissionDenied;
    default:
      return Code.Internal;
  }
}
