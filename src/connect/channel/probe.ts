/**
 * The probe that decides whether an endpoint may take calls: a
 * `grpc.health.v1.Health/Check` (any answer but NOT_SERVING proves the peer
 * alive, even Unimplemented from a server without the health service), or,
 * with health checking off, the dial alone for a new connection and an
 * HTTP/2 PING on one that was in use (a silent peer accepts TCP: a call
 * that timed out without an answer makes the endpoint verify it this way).
 * The probe's calls do not go through the user's interceptors.
 *
 * @module
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus, type HealthCheckResponse } from "../gen/health_pb.ts";
import { newAttempt } from "../call/attempt.ts";
import type { CallOwner } from "../call/call-base.ts";
import type { CallConfig } from "../call/call-config.ts";
import { unaryCall } from "../call/unary-call.ts";
import type { TransportClock } from "../transport-clock.ts";
import { EndpointConfigError } from "../endpoint-source.ts";
import type { Connection } from "./connection.ts";

/** The `healthCheck` option as an object. */
export interface HealthCheckOptions {
  /** The health service name checked and watched (`""`: the whole server). */
  readonly service: string;
  /** Watch the health service's status (default `true`); `false`: Check probes only. */
  readonly watch?: boolean;
}

/** The health service probed and whether it is watched, from the `healthCheck` option; throws `BAD_OPTION` naming a bad field. */
export function healthCheckOf(h: boolean | HealthCheckOptions | undefined): { service: string | false; watch: boolean } {
  if (h === undefined || h === true) return { service: "", watch: true };
  if (h === false) return { service: false, watch: false };
  if (typeof h !== "object" || h === null || typeof h.service !== "string") {
    throw new EndpointConfigError("BAD_OPTION", `healthCheck must be a boolean or { service: string, watch?: boolean }, got ${JSON.stringify(h)}`);
  }
  if (h.watch !== undefined && typeof h.watch !== "boolean") throw new EndpointConfigError("BAD_OPTION", `healthCheck.watch must be a boolean, got ${JSON.stringify(h.watch)}`);
  return { service: h.service, watch: h.watch !== false };
}

/** What a probe needs. */
export interface ProbeInput {
  readonly address: string;
  readonly clock: TransportClock;
  /** Bound on the dial and on the check. */
  readonly timeoutMs: number;
  /** The health service name to check, or `false` for a PING. */
  readonly healthService: string | false;
  readonly config: CallConfig;
  /** A ready connection (dialing one when needed, then `fresh`); rejects when the dial fails. */
  connection(): Promise<{ conn: Connection; fresh: boolean }>;
}

/** The outcome of a probe. */
export type ProbeResult =
  /** `served`: the health service answered with a status (it may then be watched). */
  | { readonly ok: true; readonly served?: boolean }
  /** `timedOut`: the peer stayed silent (its connection should not be reused); `conn` the connection probed, if any. */
  | { readonly ok: false; readonly error: unknown; readonly timedOut: boolean; readonly conn: Connection | undefined };

const noOwner: CallOwner = { callEnded() {} };

/** Runs one probe; never rejects. */
export async function probe(p: ProbeInput): Promise<ProbeResult> {
  let conn: Connection;
  let fresh: boolean;
  try {
    ({ conn, fresh } = await p.connection());
  } catch (e) {
    return { ok: false, error: e, timedOut: ConnectError.from(e).message.includes("timed out"), conn: undefined };
  }
  if (p.healthService === false) {
    if (fresh || (await conn.ping(p.timeoutMs))) return { ok: true };
    const error = new ConnectError(`${p.address} did not answer an HTTP/2 PING within ${p.timeoutMs} ms`, Code.Unavailable);
    return { ok: false, error, timedOut: true, conn };
  }
  const att = newAttempt();
  const plan = p.config.plan(Health.method.check);
  try {
    const res = await unaryCall({ config: p.config, owner: noOwner }, conn, plan, att, {
      signal: undefined,
      timeoutMs: p.timeoutMs,
      header: undefined,
      input: { service: p.healthService },
    });
    if ((res.message as HealthCheckResponse).status === HealthCheckResponse_ServingStatus.NOT_SERVING) {
      return { ok: false, error: new ConnectError(`endpoint ${p.address} reports NOT_SERVING`, Code.Unavailable), timedOut: false, conn };
    }
    return { ok: true, served: true };
  } catch (e) {
    // Any answer (e.g. Unimplemented: no health service) proves the peer is alive.
    if (att.responded) return { ok: true };
    const err = ConnectError.from(e);
    const timedOut = err.code === Code.DeadlineExceeded;
    return {
      ok: false,
      error: timedOut ? new ConnectError(`health check of ${p.address} timed out after ${p.timeoutMs} ms`, Code.DeadlineExceeded) : err,
      timedOut: timedOut || !att.notSent,
      conn,
    };
  }
}
