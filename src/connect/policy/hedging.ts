/**
 * Hedging, with the semantics of gRPC's `hedgingPolicy` (gRFC A6, as
 * grpc-js implements it): a call on a hedged method sends its first attempt,
 * then another one every `delayMs` while no answer came, up to
 * `maxAttempts`, each on an endpoint not tried yet. The first OK answer, or
 * the first failure with a code that is not in `nonFatalCodes`, is the
 * call's answer and the other attempts are cancelled (RST_STREAM CANCEL). A
 * failure with a non-fatal code sends the next attempt at once, without
 * waiting for the delay; when every attempt failed, the last failure is the
 * answer. Hedges withdraw from the retry budget like retries, and none is
 * sent when it is exhausted.
 *
 * Hedging trades load for tail latency, and only suits idempotent unary
 * methods: it is off by default, and applies to the methods selected as for
 * retries (`methods`, and the methods whose descriptor declares an
 * `idempotency_level`). A hedged method is not also retried (as in gRPC, a
 * method has a retry or a hedging policy).
 *
 * This file holds the options and the pure state of one hedged call; the
 * driver is `hedged-call.ts`.
 *
 * @module
 */
import { Code } from "@connectrpc/connect";
import type { DescMethod } from "@bufbuild/protobuf";
import { badOption, codesOption, MAX_ATTEMPTS_LIMIT, methodFilter, numberOption, type MethodSelection, type RetryConfig } from "./retry.ts";

/** Options of hedging (the transport's `hedging` option). */
export interface HedgingOptions extends MethodSelection {
  /** Time in ms after which, without an answer, the next attempt is sent (gRPC `hedgingDelay`; required, ≥ 0). */
  readonly delayMs: number;
  /** Attempts per call, the first one included (default 2; at most 5, as gRPC). */
  readonly maxAttempts?: number;
  /**
   * Codes after which the other attempts go on and the next one is sent at
   * once (gRPC `nonFatalStatusCodes`; default `[Code.Unavailable]`, the code
   * `retry` retries). Any other failure ends the call.
   */
  readonly nonFatalCodes?: readonly Code[];
}

/** The options with every default filled in. */
export interface HedgingConfig {
  readonly delayMs: number;
  readonly maxAttempts: number;
  readonly nonFatalCodes: ReadonlySet<Code>;
  /** Whether a method is hedged (cached per descriptor). */
  readonly applies: (method: DescMethod) => boolean;
}

/** Validates `o` and fills in the defaults; throws an `EndpointConfigError` (`BAD_OPTION`) naming a bad field. */
export function hedgingConfig(o: HedgingOptions): HedgingConfig {
  if (typeof o !== "object" || o === null) badOption("hedging", o, "an object with delayMs, or false");
  if (typeof o.delayMs !== "number" || !(o.delayMs >= 0) || !Number.isFinite(o.delayMs)) badOption("hedging.delayMs", o.delayMs, "a finite number ≥ 0");
  return {
    delayMs: o.delayMs,
    maxAttempts: Math.min(MAX_ATTEMPTS_LIMIT, Math.floor(numberOption("hedging.maxAttempts", o.maxAttempts, 2, 1))),
    nonFatalCodes: codesOption("hedging.nonFatalCodes", o.nonFatalCodes, [Code.Unavailable]),
    applies: methodFilter("hedging", o),
  };
}

/** How an attempt of a hedged call ended. */
export type HedgeOutcome =
  | { readonly ok: true }
  /** `unsent`: provably never reached the server, non-fatal whatever its code. */
  | { readonly ok: false; readonly code: Code; readonly unsent: boolean };

/**
 * What the driver does after an attempt ended: `"win"` (resolve with it,
 * cancel the others), `"fail"` (reject with it, cancel the others),
 * `"send"` (send the next attempt now), `"wait"` (others are still running).
 */
export type HedgeAction = "win" | "fail" | "send" | "wait";

/** The pure state of one hedged call. */
export class HedgeState {
  readonly config: HedgingConfig;
  /** Attempts sent. */
  sent = 0;
  /** Attempts sent and not ended. */
  inflight = 0;
  /** The call has its answer. */
  done = false;

  /** @param config see {@link hedgingConfig} */
  constructor(config: HedgingConfig) {
    this.config = config;
  }

  /** Whether another attempt may be sent (the driver still needs an endpoint and, for a hedge, the budget). */
  canSend(): boolean {
    return !this.done && this.sent < this.config.maxAttempts;
  }

  /** An attempt was sent. */
  sentOne(): void {
    this.sent++;
    this.inflight++;
  }

  /** An attempt ended with `o`: what to do (see {@link HedgeAction}). */
  ended(o: HedgeOutcome): HedgeAction {
    this.inflight--;
    if (this.done) return "wait";
    if (o.ok || (!o.unsent && !this.config.nonFatalCodes.has(o.code))) {
      this.done = true;
      return o.ok ? "win" : "fail";
    }
    if (this.canSend()) return "send";
    return this.unsendable();
  }

  /**
   * The driver could not send the next attempt (no endpoint left, budget
   * exhausted): `"wait"` for the others, or `"fail"` with the last failure
   * when none is running.
   */
  unsendable(): HedgeAction {
    if (this.inflight > 0) return "wait";
    this.done = true;
    return "fail";
  }
}

/** The retry and hedging policies of one method. */
export interface MethodPolicy {
  readonly retry: RetryConfig | undefined;
  readonly hedging: HedgingConfig | undefined;
}

/**
 * The policies `method` gets: only unary methods are retried or hedged, and
 * a hedged method is not also retried (gRFC A6: a method has a retry or a
 * hedging policy).
 */
export function methodPolicy(method: DescMethod, retry: RetryConfig | undefined, hedging: HedgingConfig | undefined): MethodPolicy {
  if (method.methodKind !== "unary") return NO_POLICY;
  if (hedging?.applies(method) === true) return { retry: undefined, hedging };
  return retry?.applies(method) === true ? { retry, hedging: undefined } : NO_POLICY;
}

const NO_POLICY: MethodPolicy = { retry: undefined, hedging: undefined };
