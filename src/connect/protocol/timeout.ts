/**
 * Deadlines on the wire: gRPC's `grpc-timeout` (at most 8 digits and a unit,
 * https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md, "Timeout")
 * and Connect's `connect-timeout-ms` (at most 10 digits,
 * https://connectrpc.com/docs/protocol/#unary-request). Pure.
 *
 * @module
 */

const MAX_GRPC_DIGITS = 99_999_999;
/** Units from the finest to the coarsest, with their length in milliseconds. */
const UNITS: readonly (readonly [string, number])[] = [
  ["n", 1e-6],
  ["u", 1e-3],
  ["m", 1],
  ["S", 1000],
  ["M", 60_000],
  ["H", 3_600_000],
];

/**
 * `grpc-timeout` for a deadline `ms` milliseconds away: the finest unit
 * whose value fits in 8 digits, rounded up (a deadline is never shortened).
 * Whole milliseconds below 10⁸ are written in `m` (the common case, no search).
 */
export function encodeGrpcTimeout(ms: number): string {
  if (!(ms > 0)) return "1n";
  if (Number.isInteger(ms) && ms <= MAX_GRPC_DIGITS) return `${ms}m`;
  for (const [unit, size] of UNITS) {
    const v = Math.ceil(ms / size - 1e-9);
    if (v <= MAX_GRPC_DIGITS) return `${Math.max(1, v)}${unit}`;
  }
  return `${MAX_GRPC_DIGITS}H`;
}

/** The deadline a `grpc-timeout` value names, in ms; `undefined` when malformed. */
export function parseGrpcTimeout(value: string): number | undefined {
  const m = /^([0-9]{1,8})([HMSmun])$/.exec(value);
  if (m === null) return undefined;
  const size = UNITS.find(([u]) => u === m[2])![1];
  return Number(m[1]) * size;
}

const MAX_CONNECT_TIMEOUT_MS = 9_999_999_999;

/** `connect-timeout-ms` for a deadline `ms` away: whole milliseconds, rounded up, at most 10 digits. */
export function encodeConnectTimeout(ms: number): string {
  if (!(ms > 0)) return "1";
  return String(Math.min(MAX_CONNECT_TIMEOUT_MS, Math.max(1, Math.ceil(ms))));
}

/** The deadline a `connect-timeout-ms` value names; `undefined` when malformed. */
export function parseConnectTimeout(value: string): number | undefined {
  return /^[0-9]{1,10}$/.test(value) ? Number(value) : undefined;
}
