/**
 * Errors of the connection layer as `ConnectError`s: a connection that could
 * not be made or broke is `Unavailable` (gRPC's code for "the service is
 * currently unavailable ... most likely a transient condition"), naming the
 * endpoint and the runtime's error, which stays as `cause`.
 *
 * @module
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { errorCode } from "../../runtime/http2-client.ts";

/** A connection-level failure (refused, reset, TLS, DNS, …) as Unavailable. */
export function connectionError(address: string, error: unknown): ConnectError {
  if (error instanceof ConnectError) return error;
  const code = errorCode(error);
  const text = error instanceof Error ? error.message : String(error);
  return new ConnectError(`connection to ${address} failed: ${text}${code !== undefined && !text.includes(code) ? ` (${code})` : ""}`, Code.Unavailable, undefined, undefined, error);
}

/** Runtime error codes that mean the connection broke under a stream. */
const CONNECTION_LOST = new Set(["ECONNRESET", "EPIPE", "ERR_HTTP2_SESSION_ERROR", "ERR_HTTP2_GOAWAY_SESSION", "ERR_STREAM_PREMATURE_CLOSE", "ERR_HTTP2_INVALID_SESSION", "ERR_HTTP2_STREAM_CANCEL"]);

/** True when `error` (a stream's) says its connection went away. */
export function isConnectionLoss(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && CONNECTION_LOST.has(code);
}
