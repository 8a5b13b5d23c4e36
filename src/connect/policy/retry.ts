/**
 * Retries of calls the server processed but failed, for methods that are
 * safe to repeat, with the semantics of gRPC's `retryPolicy` (gRFC A6,
 * "gRPC Retry Design"): the codes that are retried, at most `maxAttempts`
 * attempts per call (the first one included), and an exponential backoff
 * with full jitter before each retry, `random(0, min(initialBackoffMs ×
 * backoffMultiplier^(n−1), maxBackoffMs))`. A retry goes to another
 * endpoint when there is one, and only while the call's deadline leaves
 * time for the backoff. Retries are also bounded per transport by the
 * retry budget (`retry-budget.ts`).
 *
 * Which methods: the ones named in `methods` (`package.Service/Method`, or
 * `package.Service` for all of its methods), and, unless `idempotent` is
 * `false`, every method whose descriptor declares `idempotency_level`
 * `NO_SIDE_EFFECTS` or `IDEMPOTENT` (protobuf's `MethodOptions`, exposed by
 * `@bufbuild/protobuf` as `DescMethod.idempotency`). Only unary calls are
 * retried this way: a streaming call's request messages are consumed as
 * they are sent, and its response is the caller's as soon as its headers
 * arrive.
 *
 * These retries are separate from the retries of attempts that provably
 * were never sent (a refused connection or stream, a GOAWAY before the
 * stream): those are safe for any method, need no backoff, are bounded by
 * the transport's `maxAttempts` and do not count against this policy or the
 * budget (gRFC A6's "transparent retries").
 *
 * @module
 */
import { Code } from "@connectrpc/connect";
import type { DescMethod } from "@bufbuild/protobuf";
import { EndpointConfigError } from "../endpoint-source.ts";

/** Which methods a policy applies to (shared by `retry` and `hedging`). */
export interface MethodSelection {
  /**
   * Methods by name: `"package.Service/Method"`, or `"package.Service"` for
   * every method of that service. Default: none.
   */
  readonly methods?: readonly string[];
  /**
   * Also every method whose descriptor declares `idempotency_level`
   * `NO_SIDE_EFFECTS` or `IDEMPOTENT` (`option idempotency_level = IDEMPOTENT;`
   * in the `.proto`). Default `true`.
   */
  readonly idempotent?: boolean;
}

/** Options of retries (the transport's `retry` option). */
export interface RetryOptions extends MethodSelection {
  /** Attempts per call, the first one included (default 3; gRPC caps it at 5, so does kratos-kube). */
  readonly maxAttempts?: number;
  /** Codes that are retried (default `[Code.Unavailable]`). */
  readonly codes?: readonly Code[];
  /** Upper bound of the first retry's backoff in ms (default 10). */
  readonly initialBackoffMs?: number;
  /** Growth of the backoff bound per retry (default 2). */
  readonly backoffMultiplier?: number;
  /** Largest backoff bound in ms (default 1 000). */
  readonly maxBackoffMs?: number;
}

/** The options with every default filled in. */
export interface RetryConfig {
  readonly maxAttempts: number;
  readonly codes: ReadonlySet<Code>;
  readonly initialBackoffMs: number;
  readonly backoffMultiplier: number;
  readonly maxBackoffMs: number;
  /** Whether a method is retried (cached per descriptor). */
  readonly applies: (method: DescMethod) => boolean;
}

/** gRPC's limit on attempts (gRFC A6: larger values are treated as 5). */
export const MAX_ATTEMPTS_LIMIT = 5;

/** `MethodOptions.IdempotencyLevel` values that make a method safe to repeat. */
const NO_SIDE_EFFECTS = 1;
const IDEMPOTENT = 2;

const METHOD_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*(\/[A-Za-z_][A-Za-z0-9_]*)?$/;

/** A bad option, as an `EndpointConfigError` (`BAD_OPTION`) naming it. */
export function badOption(name: string, v: unknown, want: string): never {
  throw new EndpointConfigError("BAD_OPTION", `${name} must be ${want}, got ${JSON.stringify(v)}`);
}

/** A number option in [min, max], or its default. */
export function numberOption(name: string, v: unknown, def: number, min: number, max: number = Number.POSITIVE_INFINITY): number {
  if (v === undefined) return def;
  if (typeof v !== "number" || Number.isNaN(v) || v < min || v > max) badOption(name, v, `a number in [${min}, ${max}]`);
  return v;
}

/** A list of gRPC codes, or its default. */
export function codesOption(name: string, v: unknown, def: readonly Code[]): ReadonlySet<Code> {
  if (v === undefined) return new Set(def);
  if (!Array.isArray(v) || !v.every((c) => typeof c === "number" && Code[c] !== undefined)) badOption(name, v, "an array of Code values");
  return new Set(v as Code[]);
}

/** The method filter of a selection (`option` names it in errors); cached per descriptor. */
export function methodFilter(option: string, s: MethodSelection): (method: DescMethod) => boolean {
  const names = s.methods ?? [];
  if (!Array.isArray(names)) badOption(`${option}.methods`, names, "an array of \"package.Service/Method\" or \"package.Service\" names");
  for (const n of names) {
    if (typeof n !== "string" || !METHOD_NAME.test(n)) badOption(`${option}.methods`, n, "\"package.Service/Method\" or \"package.Service\"");
  }
  const byLevel = s.idempotent ?? true;
  if (typeof byLevel !== "boolean") badOption(`${option}.idempotent`, byLevel, "a boolean");
  const named = new Set(names);
  const cache = new WeakMap<DescMethod, boolean>();
  return (method) => {
    let v = cache.get(method);
    if (v === undefined) {
      const service = method.parent.typeName;
      v = named.has(service) || named.has(`${service}/${method.name}`) ||
        (byLevel && (method.idempotency === NO_SIDE_EFFECTS || method.idempotency === IDEMPOTENT));
      cache.set(method, v);
    }
    return v;
  };
}

/** Validates `o` and fills in the defaults; throws an `EndpointConfigError` (`BAD_OPTION`) naming a bad field. */
export function retryConfig(o: RetryOptions = {}): RetryConfig {
  if (typeof o !== "object" || o === null) badOption("retry", o, "an object or false");
  return {
    maxAttempts: Math.min(MAX_ATTEMPTS_LIMIT, Math.floor(numberOption("retry.maxAttempts", o.maxAttempts, 3, 1))),
    codes: codesOption("retry.codes", o.codes, [Code.Unavailable]),
    initialBackoffMs: numberOption("retry.initialBackoffMs", o.initialBackoffMs, 10, 0),
    backoffMultiplier: numberOption("retry.backoffMultiplier", o.backoffMultiplier, 2, 1),
    maxBackoffMs: numberOption("retry.maxBackoffMs", o.maxBackoffMs, 1_000, 0),
    applies: methodFilter("retry", o),
  };
}

/**
 * The backoff before retry number `retry` (1 = the first retry): full
 * jitter over the exponential bound (gRFC A6).
 */
export function retryBackoffMs(c: RetryConfig, retry: number, random: () => number): number {
  const bound = Math.min(c.maxBackoffMs, c.initialBackoffMs * c.backoffMultiplier ** Math.max(0, retry - 1));
  return random() * bound;
}

/** What the attempt loop knows when an attempt failed. */
export interface RetryInput {
  /** The failed attempt's code. */
  readonly code: Code;
  /** Attempts of this policy made so far (the first one included). */
  readonly attempts: number;
  /** The clock's time and the call's deadline (`Infinity` = none). */
  readonly now: number;
  readonly deadline: number;
}

/**
 * The backoff before the next attempt, or `undefined` when the failure is
 * final: a code not retried, no attempts left, or no time left before the
 * deadline for the backoff. (The budget is asked afterwards, so that only
 * retries that would happen withdraw from it.)
 */
export function retryDelay(c: RetryConfig, i: RetryInput, random: () => number): number | undefined {
  if (!c.codes.has(i.code) || i.attempts >= c.maxAttempts) return undefined;
  const delay = retryBackoffMs(c, i.attempts, random);
  return i.now + delay < i.deadline ? delay : undefined;
}
