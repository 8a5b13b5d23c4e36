/**
 * The attempt loop of the balancing transport, one for unary and streaming
 * calls: pick an endpoint (or wait for one), run the attempt there (through
 * the per-attempt interceptors); on failure try another endpoint at once if
 * the attempt provably was not sent (within `maxAttempts`), or after a
 * backoff if the method's retry policy and the budget allow it, never past
 * the call's deadline. Hedged methods go to `hedged-call.ts`. A first attempt
 * whose pick succeeds runs without an async frame (one promise hop).
 *
 * @module
 */
import { Code, ConnectError, type ContextValues, type Interceptor, type StreamResponse, type UnaryResponse } from "@connectrpc/connect";
import type { DescMethod } from "@bufbuild/protobuf";
import { newAttempt, type Attempt } from "./call/attempt.ts";
import type { CallConfig, MethodPlan } from "./call/call-config.ts";
import type { Endpoint } from "./channel/endpoint.ts";
import type { EndpointPool } from "./endpoint-pool.ts";
import type { PickerNode } from "./picker.ts";
import { shieldInput, type ShieldedInput } from "./shield-input.ts";
import type { TransportClock } from "./transport-clock.ts";
import { waitForEndpoint, type WaitContext } from "./wait-for-endpoint.ts";
import type { CallTrace } from "./telemetry/call-trace.ts";
import { runHedged } from "./hedged-call.ts";
import { interceptedAttempt } from "./attempt-interceptors.ts";
import { methodPolicy, type HedgingConfig, type MethodPolicy } from "./policy/hedging.ts";
import { retryDelay, type RetryConfig } from "./policy/retry.ts";
import type { RetryBudget } from "./policy/retry-budget.ts";
import { keepAlive } from "../runtime/process-lifetime.ts";
import { sleep } from "../runtime/clock.ts";

/** What the loop needs from its transport. */
export interface AttemptLoopOptions extends WaitContext {
  readonly config: CallConfig;
  readonly clock: TransportClock;
  /** Per-attempt interceptors (`attemptInterceptors`; the call's own run once, outside the loop). */
  readonly interceptors: readonly Interceptor[];
  readonly maxAttempts: number;
  readonly defaultTimeoutMs: number | undefined;
  readonly secure: boolean;
  /** Retries of processed calls (`retry`), hedging (`hedging`) and their budget (`retryBudget`). */
  readonly retry?: RetryConfig | undefined;
  readonly hedging?: HedgingConfig | undefined;
  readonly budget?: RetryBudget | undefined;
  /** Randomness for the retry backoff's jitter. */
  readonly random: () => number;
  /** A retry or hedge the budget refused (telemetry, logs). */
  readonly onBudgetExhausted?: ((method: DescMethod, kind: "retry" | "hedge") => void) | undefined;
}

/** One call as the loop carries it from attempt to attempt (and the request pickers keyed per call read). */
interface Call {
  readonly method: DescMethod;
  readonly plan: MethodPlan;
  readonly signal: AbortSignal | undefined;
  readonly start: number;
  readonly deadline: number;
  readonly header: HeadersInit | undefined;
  /** Unary: the request; streaming: the shielded request iterable. */
  readonly input: unknown;
  readonly shielded: ShieldedInput<unknown> | undefined;
  readonly contextValues: ContextValues | undefined;
  /** The call's telemetry, when the transport has some. */
  readonly trace: CallTrace | undefined;
  /** Attempts started (telemetry only). */
  attempts: number;
  /** True for the attempts of a hedged call: those after the first count as hedges, not retries. */
  readonly hedged?: boolean;
  /** The method's retry policy (unary calls only); retries of unsent attempts, and of the policy. */
  readonly retry: RetryConfig | undefined;
  unsentRetries: number;
  retries: number;
}

const unsent = new WeakSet<object>();

/** See the module doc. */
export class AttemptLoop {
  #o: AttemptLoopOptions;
  #policies = new WeakMap<DescMethod, MethodPolicy>();

  /** @param o see {@link AttemptLoopOptions} */
  constructor(o: AttemptLoopOptions) {
    this.#o = o;
  }

  /** Runs a call of either kind. */
  run(
    method: DescMethod,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    header: HeadersInit | undefined,
    input: unknown,
    contextValues: ContextValues | undefined,
    trace?: CallTrace,
  ): Promise<UnaryResponse | StreamResponse> {
    const o = this.#o;
    const start = o.clock.now();
    const t = timeoutMs ?? o.defaultTimeoutMs;
    const streaming = method.methodKind !== "unary";
    const shielded = streaming ? shieldInput(input as AsyncIterable<unknown>) : undefined;
    const policy = this.#policyOf(method);
    o.budget?.deposit(start);
    const call: Call = {
      method,
      plan: o.config.plan(method),
      signal,
      start,
      deadline: t !== undefined && t > 0 ? start + t : Number.POSITIVE_INFINITY,
      header,
      input: shielded?.iterable ?? input,
      shielded,
      contextValues,
      trace,
      attempts: 0,
      retry: policy.retry,
      unsentRetries: 0,
      retries: 0,
    };
    if (policy.hedging !== undefined) return this.#hedged(call, policy.hedging);
    const node = o.pool.pick(undefined, call);
    if (node === undefined) return this.#loop(call, undefined, 0);
    const att = newAttempt();
    // One promise hop: the unary latency sample and the failure path in one then().
    return this.#attempt(call, node, att, start).then(
      (res) => {
        if (!streaming) o.pool.picker.done(node, start, false);
        o.pool.outcome(node, undefined);
        return res;
      },
      (e: unknown) => this.#failed(call, node, att, start, e),
    );
  }

  /** The retry and hedging policies of `method` (unary methods only). */
  #policyOf(method: DescMethod): MethodPolicy {
    let p = this.#policies.get(method);
    if (p === undefined) this.#policies.set(method, (p = methodPolicy(method, this.#o.retry, this.#o.hedging)));
    return p;
  }

  /** Attempts after no endpoint was ready, or a retry (after `delayMs` of backoff). */
  async #loop(call: Call, tried: Endpoint[] | undefined, delayMs: number): Promise<UnaryResponse | StreamResponse> {
    const o = this.#o;
    for (;;) {
      if (delayMs > 0) await backoff(o.clock, delayMs, call.signal);
      const node = o.pool.pick(tried, call) ?? (await waitForEndpoint(o, call.signal, call.deadline, call.start, tried, call));
      const att = newAttempt();
      const startedAt = o.clock.now();
      try {
        const res = await this.#attempt(call, node, att, startedAt);
        if (call.shielded === undefined) o.pool.picker.done(node, startedAt, false);
        o.pool.outcome(node, undefined);
        return res;
      } catch (e) {
        const err = this.#report(call, node, att, startedAt, e);
        const next = this.#next(call, att, err);
        if (next === undefined) throw this.#final(err, node.value, att, call.signal);
        (tried ??= []).push(node.value);
        delayMs = next;
      }
    }
  }

  /** A failed first attempt: report it, then retry in the loop or fail. */
  #failed(call: Call, node: PickerNode<Endpoint>, att: Attempt, startedAt: number, e: unknown): Promise<UnaryResponse | StreamResponse> {
    const err = this.#report(call, node, att, startedAt, e);
    const next = this.#next(call, att, err);
    if (next === undefined) throw this.#final(err, node.value, att, call.signal);
    return this.#loop(call, [node.value], next);
  }

  /** A hedged unary call (`hedged-call.ts`): each attempt with its own signal, reported as any attempt. */
  #hedged(call: Call, config: HedgingConfig): Promise<UnaryResponse> {
    const o = this.#o;
    return runHedged({
      clock: o.clock, budget: o.budget,
      first: async () => o.pool.pick(undefined, call) ?? (await waitForEndpoint(o, call.signal, call.deadline, call.start, undefined, call)),
      other: (tried) => {
        if (o.isClosed() || o.clock.now() >= call.deadline) return undefined;
        const n = o.pool.pick(tried, call);
        if (n === undefined || !tried.includes(n.value)) return n;
        o.pool.picker.release(n);
        return undefined;
      },
      release: (n) => o.pool.picker.release(n),
      exhausted: () => o.onBudgetExhausted?.(call.plan.method, "hedge"),
      attempt: (node, signal, att) => {
        const c: Call = { ...call, signal, hedged: true };
        const startedAt = o.clock.now();
        const p = this.#attempt(c, node, att, startedAt);
        call.attempts = c.attempts;
        return p.then(
          (res) => (o.pool.picker.done(node, startedAt, false), o.pool.outcome(node, undefined), res as UnaryResponse),
          (e: unknown) => Promise.reject(this.#final(this.#report(c, node, att, startedAt, e), node.value, att, signal)),
        );
      },
    }, config, call.signal);
  }

  /** Runs one attempt on `node` (the caller reports a unary success to the picker), traced when the call is. */
  #attempt(call: Call, node: PickerNode<Endpoint>, att: Attempt, startedAt: number): Promise<UnaryResponse | StreamResponse> {
    if (call.trace === undefined) return this.#send(call, node, att, startedAt);
    const at = call.trace.attempt(node.value.address, ++call.attempts, call.header, call.hedged === true ? "hedge" : "retry");
    const p = this.#send({ ...call, header: at.header }, node, att, startedAt);
    if (call.shielded === undefined) return p.then((r) => (at.end(), r), (e: unknown) => (at.end(e), Promise.reject(e)));
    // A stream whose response came is the call's last attempt: it ends with the call.
    p.then(undefined, (e: unknown) => at.end(e));
    return p;
  }

  /** Sends one attempt on `node`. */
  #send(call: Call, node: PickerNode<Endpoint>, att: Attempt, startedAt: number): Promise<UnaryResponse | StreamResponse> {
    const o = this.#o;
    const ep = node.value;
    const timeoutMs = remainingMs(call.deadline, startedAt);
    if (call.shielded === undefined) {
      return (o.interceptors.length === 0
        ? ep.unary(att, call.plan, { signal: call.signal, timeoutMs, header: call.header, input: call.input })
        : interceptedAttempt(o, call, ep, att, timeoutMs)) as Promise<UnaryResponse>;
    }
    // A stream's pick is released once the stream is completely over.
    const onFinal = (): void => o.pool.picker.release(node);
    if (o.interceptors.length === 0) {
      return ep.stream(att, call.plan, { signal: call.signal, timeoutMs, header: call.header, input: call.input as AsyncIterable<unknown> }, onFinal) as Promise<StreamResponse>;
    }
    return interceptedAttempt(o, call, ep, att, timeoutMs, onFinal) as Promise<StreamResponse>;
  }

  /** Reports a failed attempt to the picker (unary) and outlier detection; returns the error as a ConnectError. */
  #report(call: Call, node: PickerNode<Endpoint>, att: Attempt, startedAt: number, e: unknown): ConnectError {
    const err = ConnectError.from(e);
    const callerGone = call.signal?.aborted === true;
    if (call.shielded === undefined) this.#o.pool.picker.done(node, startedAt, !callerGone && healthFailure(err, att.responded));
    // A call the caller cancelled says nothing about the endpoint.
    if (!callerGone) this.#o.pool.outcome(node, err.code);
    return err;
  }

  /**
   * After a failed attempt: `0` = retry at once (provably not sent, within
   * `maxAttempts`; streams: before any message was pulled), a backoff in ms
   * (the method's retry policy, within the budget), or `undefined` = the
   * failure is the call's answer. Never past the deadline.
   */
  #next(call: Call, att: Attempt, err: ConnectError): number | undefined {
    const o = this.#o;
    if (call.signal?.aborted === true || o.isClosed()) return undefined;
    const now = o.clock.now();
    if (now >= call.deadline) return undefined;
    if (att.notSent && call.unsentRetries + 1 < o.maxAttempts && (call.shielded === undefined || !call.shielded.pulled())) {
      call.unsentRetries++;
      return 0;
    }
    const r = call.retry;
    if (r === undefined) return undefined;
    const delay = retryDelay(r, { code: err.code, attempts: call.retries + 1, now, deadline: call.deadline }, o.random);
    if (delay === undefined) return undefined;
    if (o.budget !== undefined && !o.budget.tryWithdraw(now)) return void o.onBudgetExhausted?.(call.plan.method, "retry");
    call.retries++;
    return delay;
  }

  /** The error a call ends with: re-probes a silent endpoint, marks unsent errors. */
  #final(err: ConnectError, ep: Endpoint, att: Attempt, signal: AbortSignal | undefined): ConnectError {
    if (err.code === Code.DeadlineExceeded && !att.responded && signal?.aborted !== true) ep.suspect();
    if (att.notSent) unsent.add(err);
    return err;
  }
}

/**
 * True for an error of a call that provably never reached a server (refused
 * connection, REFUSED_STREAM, GOAWAY before the stream, …) after the
 * transport ran out of attempts or deadline: safe to retry even for a
 * non-idempotent method.
 */
export function isUnsentError(error: unknown): boolean {
  return typeof error === "object" && error !== null && unsent.has(error);
}

export { applyInterceptors } from "./attempt-interceptors.ts";

/** A retry's backoff on the transport's clock, keeping the process alive; rejects when the caller aborts. */
async function backoff(clock: TransportClock, ms: number, signal: AbortSignal | undefined): Promise<void> {
  const release = keepAlive();
  await sleep(clock, ms, signal).finally(release).catch((e: unknown) => Promise.reject(ConnectError.from(e, Code.Canceled)));
}

/** Time left before `deadline`, as a call's `timeoutMs` (undefined = none). */
function remainingMs(deadline: number, now: number): number | undefined {
  if (deadline === Number.POSITIVE_INFINITY) return undefined;
  // The epsilon absorbs float error: (start + t) - start may exceed t.
  return Math.max(1, Math.ceil(deadline - now - 1e-6));
}

/** Errors that speak about the endpoint's health (Kratos ewma: 503, 504, deadline, network). */
function healthFailure(err: ConnectError, responded: boolean): boolean {
  return err.code === Code.Unavailable || err.code === Code.DeadlineExceeded || !responded;
}
