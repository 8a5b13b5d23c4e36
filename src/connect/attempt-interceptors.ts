/**
 * One attempt through the per-attempt interceptors (`attemptInterceptors`):
 * connect's request object with the picked endpoint's URL, the attempt's
 * header block, and a per-attempt signal that follows the call's.
 *
 * @module
 */
import { createContextValues, type ContextValues, type Interceptor, type StreamResponse, type UnaryResponse } from "@connectrpc/connect";
import type { Attempt } from "./call/attempt.ts";
import type { CallConfig, MethodPlan } from "./call/call-config.ts";
import type { Endpoint } from "./channel/endpoint.ts";
import { toMessage } from "./protocol/codec.ts";

/** What an intercepted attempt needs from its transport. */
export interface AttemptInterceptorOptions {
  readonly config: CallConfig;
  readonly interceptors: readonly Interceptor[];
  readonly secure: boolean;
}

/** The call an intercepted attempt belongs to. */
export interface InterceptedCall {
  readonly plan: MethodPlan;
  readonly signal: AbortSignal | undefined;
  readonly header: HeadersInit | undefined;
  /** Unary: the request; streaming: the shielded request iterable. */
  readonly input: unknown;
  /** Set for streaming calls. */
  readonly shielded: unknown;
  readonly contextValues: ContextValues | undefined;
}

/** An attempt through the interceptors, with connect's request object and a per-attempt signal. */
export function interceptedAttempt(
  o: AttemptInterceptorOptions,
  call: InterceptedCall,
  ep: Endpoint,
  att: Attempt,
  timeoutMs: number | undefined,
  onFinal?: () => void,
): Promise<UnaryResponse | StreamResponse> {
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

/** `next` wrapped by `interceptors`, the first one outermost (as connect applies them). */
export function applyInterceptors<T>(next: T, interceptors: readonly Interceptor[]): T {
  let fn = next as unknown as Parameters<Interceptor>[0];
  for (let i = interceptors.length - 1; i >= 0; i--) fn = interceptors[i]!(fn);
  return fn as unknown as T;
}
