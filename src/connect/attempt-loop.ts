/**
 * The attempt loop of the balancing transport, one for unary and streaming
 * calls: pick an endpoint (or wait for one), run the attempt there (through
 * the per-attempt interceptors), and on failure try another endpoint only when
 * the attempt provably was not sent, within `maxAttempts` and the call's
 * remaining deadline. The first attempt of a call whose pick succeeds runs
 * without an async frame: the common case costs one promise hop.
 *
 * @module
 */
import { Code, ConnectError, createContextValues, type ContextValues, type Interceptor, type StreamResponse, type UnaryResponse } from "@connectrpc/connect";
import type { DescMethod } from "@bufbuild/protobuf";
import { newAttempt, type Attempt } from "./call/attempt.ts";
import type { CallConfig, MethodPlan } from "./call/call-config.ts";
import type { Endpoint } from "./channel/endpoint.ts";
import type { EndpointPool } from "./endpoint-pool.ts";
import type { PickerNode } from "./picker.ts";
import { toMessage } from "./protocol/codec.ts";
import { shieldInput, type ShieldedInput } from "./shield-input.ts";
import type { TransportClock } from "./transport-clock.ts";
import { waitForEndpoint, type WaitContext } from "./wait-for-endpoint.ts";
import type { CallTrace } from "./telemetry/call-trace.ts";

/** What the loop needs from its transport. */
export interface AttemptLoopOptions extends WaitContext {
  readonly config: CallConfig;
  readonly clock: TransportClock;
  /** Per-attempt interceptors (`attemptInterceptors`; the call's own run once, outside the loop). */
  readonly interceptors: readonly Interceptor[];
  readonly maxAttempts: number;
  readonly defaultTimeoutMs: number | undefined;
  readonly secure: boolean;
}

/** One call as the loop carries it from attempt to attempt. */
interface Call {
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
}

const unsent = new WeakSet<object>();

/** See the module doc. */
export class AttemptLoop {
  #o: AttemptLoopOptions;

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
    const call: Call = {
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
    };
    const node = o.pool.pick(undefined);
    if (node === undefined) return this.#loop(call, 1, undefined);
    const att = newAttempt();
    // One promise hop: the unary latency sample and the failure path in one then().
    return this.#attempt(call, node, att, start).then(
      (res) => {
        if (!streaming) o.pool.picker.done(node, start, false);
        o.pool.outcome(node, undefined);
        return res;
      },
      (e: unknown) => this.#failed(call, node, att, start, e, 1, undefined),
    );
  }

  /** Attempts `first`, `first + 1`, … (after no endpoint was ready, or a retry). */
  async #loop(call: Call, first: number, tried: Endpoint[] | undefined): Promise<UnaryResponse | StreamResponse> {
    const o = this.#o;
    for (let attempt = first; ; attempt++) {
      const node = o.pool.pick(tried) ?? (await waitForEndpoint(o, call.signal, call.deadline, call.start, tried));
      const att = newAttempt();
      const startedAt = o.clock.now();
      try {
        const res = await this.#attempt(call, node, att, startedAt);
        if (call.shielded === undefined) o.pool.picker.done(node, startedAt, false);
        o.pool.outcome(node, undefined);
        return res;
      } catch (e) {
        const err = this.#report(call, node, att, startedAt, e);
        if (!this.#mayRetry(call, att, attempt)) throw this.#final(err, node.value, att, call.signal);
        (tried ??= []).push(node.value);
      }
    }
  }

  /** A failed first attempt: report it, then retry in the loop or fail. */
  #failed(call: Call, node: PickerNode<Endpoint>, att: Attempt, startedAt: number, e: unknown, attempt: number, tried: Endpoint[] | undefined): Promise<UnaryResponse | StreamResponse> {
    const err = this.#report(call, node, att, startedAt, e);
    if (!this.#mayRetry(call, att, attempt)) throw this.#final(err, node.value, att, call.signal);
    return this.#loop(call, attempt + 1, [...(tried ?? []), node.value]);
  }

  /** Runs one attempt on `node` (the caller reports a unary success to the picker), traced when the call is. */
  #attempt(call: Call, node: PickerNode<Endpoint>, att: Attempt, startedAt: number): Promise<UnaryResponse | StreamResponse> {
    if (call.trace === undefined) return this.#send(call, node, att, startedAt);
    const at = call.trace.attempt(node.value.address, ++call.attempts, call.header);
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
        : this.#intercepted(call, ep, att, timeoutMs)) as Promise<UnaryResponse>;
    }
    // A stream's pick is released once the stream is completely over.
    const onFinal = (): void => o.pool.picker.release(node);
    if (o.interceptors.length === 0) {
      return ep.stream(att, call.plan, { signal: call.signal, timeoutMs, header: call.header, input: call.input as AsyncIterable<unknown> }, onFinal) as Promise<StreamResponse>;
    }
    return this.#intercepted(call, ep, att, timeoutMs, onFinal) as Promise<StreamResponse>;
  }

  /** An attempt through the interceptors, with connect's request object and a per-attempt signal. */
  #intercepted(call: Call, ep: Endpoint, att: Attempt, timeoutMs: number | undefined, onFinal?: () => void): Promise<UnaryResponse | StreamResponse> {
    const o = this.#o;
    const plan = call.plan;
    const method = plan.method;
    const controller = new AbortController();
    const user = call.signal;
    const onAbort = (): void => controller.abort(user?.reason);
    if (user !== undefined) {
      if (user.aborted) onAbort();
      else user.addEventListener("abort", onAbort, { once: true });
    }
    const header = new Headers();
    const block = o.config.headers(plan, timeoutMs, call.header);
    for (const k of Object.keys(block)) {
      if (k.charCodeAt(0) === 58) continue;
      const v = block[k]!;
      if (Array.isArray(v)) for (const x of v) header.append(k, x);
      else header.set(k, v);
    }
    const common = {
      service: method.parent,
      requestMethod: "POST",
      url: `${o.secure ? "https" : "http"}://${ep.address}${plan.path}`,
      signal: controller.signal,
      header,
      contextValues: call.contextValues ?? createContextValues(),
    };
    const done = (): void => {
      user?.removeEventListener("abort", onAbort);
      controller.abort();
    };
    let p: Promise<UnaryResponse | StreamResponse>;
    if (call.shielded === undefined) {
      const next = applyInterceptors(
        (req: { signal: AbortSignal; header: Headers; message: unknown }) =>
          ep.unary(att, plan, { signal: req.signal, timeoutMs, header: req.header, input: req.message }) as unknown as Promise<UnaryResponse>,
        o.interceptors,
      );
      p = (next as unknown as (r: object) => Promise<UnaryResponse>)({ ...common, stream: false, method, message: toMessage(method.input, call.input as never) });
      p.then(done, done);
    } else {
      const next = applyInterceptors(
        (req: { signal: AbortSignal; header: Headers; message: AsyncIterable<unknown> }) =>
          ep.stream(att, plan, { signal: req.signal, timeoutMs, header: req.header, input: req.message }, () => {
            done();
            onFinal?.();
          }) as unknown as Promise<StreamResponse>,
        o.interceptors,
      );
      p = (next as unknown as (r: object) => Promise<StreamResponse>)({ ...common, stream: true, method, message: call.input });
      p.then(undefined, done);
    }
    return p;
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

  /** Retried elsewhere only when provably not sent, within attempts and deadline (streams: before any message was pulled). */
  #mayRetry(call: Call, att: Attempt, attempt: number): boolean {
    const o = this.#o;
    return att.notSent && call.signal?.aborted !== true && !o.isClosed() && attempt < o.maxAttempts && o.clock.now() < call.deadline &&
      (call.shielded === undefined || !call.shielded.pulled());
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

/** `next` wrapped by `interceptors`, the first one outermost (as connect applies them). */
export function applyInterceptors<T>(next: T, interceptors: readonly Interceptor[]): T {
  let fn = next as unknown as Parameters<Interceptor>[0];
  for (let i = interceptors.length - 1; i >= 0; i--) fn = interceptors[i]!(fn);
  return fn as unknown as T;
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
