/**
 * What wraps a logical call, whatever its attempts: the user's interceptors
 * (once per call, as connect's own transports run them) and the call's
 * telemetry (span and duration). Without interceptors and telemetry a call
 * goes straight to the attempt loop.
 *
 * The interceptors see the request before an endpoint is picked: its `url`
 * names the service (`http://<service>/<package.Service>/<Method>`), its
 * header block holds the call's deadline header. What they set (headers,
 * signal, message, context values) is what every attempt sends; each
 * attempt's deadline header is recomputed from the time left. Per-attempt
 * interceptors (`attemptInterceptors`) run inside the loop, with the picked
 * endpoint's URL.
 *
 * @module
 */
import { createContextValues, type ContextValues, type Interceptor, type StreamResponse, type UnaryResponse } from "@connectrpc/connect";
import type { DescMethod } from "@bufbuild/protobuf";
import { applyInterceptors, type AttemptLoop } from "./attempt-loop.ts";
import type { CallConfig } from "./call/call-config.ts";
import { toMessage } from "./protocol/codec.ts";
import { settleTraced } from "./telemetry/call-trace.ts";
import type { TransportTelemetry } from "./telemetry/instruments.ts";

/** Runs one logical call (the transport's `unary` and `stream`). */
export type CallRunner = (
  method: DescMethod,
  signal: AbortSignal | undefined,
  timeoutMs: number | undefined,
  header: HeadersInit | undefined,
  input: unknown,
  contextValues: ContextValues | undefined,
) => Promise<UnaryResponse | StreamResponse>;

/** What {@link createCallRunner} needs. */
export interface CallScopeOptions {
  readonly loop: AttemptLoop;
  readonly config: CallConfig;
  readonly service: string;
  readonly secure: boolean;
  readonly defaultTimeoutMs: number | undefined;
  /** Run once per logical call, the first one outermost. */
  readonly interceptors: readonly Interceptor[];
  readonly telemetry: TransportTelemetry | undefined;
}

/** The call runner for these options (the attempt loop itself when there is nothing to wrap). */
export function createCallRunner(o: CallScopeOptions): CallRunner {
  const { loop, interceptors, telemetry } = o;
  if (interceptors.length === 0 && telemetry === undefined) {
    return (method, signal, timeoutMs, header, input, contextValues) => loop.run(method, signal, timeoutMs, header, input, contextValues, undefined);
  }
  return (method, signal, timeoutMs, header, input, contextValues) => {
    const trace = telemetry?.startCall(method);
    const exec = (): Promise<UnaryResponse | StreamResponse> =>
      interceptors.length === 0
        ? loop.run(method, signal, timeoutMs, header, input, contextValues, trace)
        : intercepted(o, method, signal, timeoutMs, header, input, contextValues, (req) =>
            loop.run(method, req.signal, timeoutMs, req.header, req.message, req.contextValues, trace),
          );
    if (trace === undefined) return exec();
    let p: Promise<UnaryResponse | StreamResponse>;
    try {
      p = trace.run(exec);
    } catch (e) {
      p = Promise.reject(e);
    }
    return settleTraced(trace, p, method.methodKind !== "unary");
  };
}

/** The request object the interceptors see. */
interface CallRequest {
  readonly signal: AbortSignal;
  readonly header: Headers;
  readonly message: unknown;
  readonly contextValues: ContextValues;
}

/** A call through the user's interceptors, with connect's request object. */
function intercepted(
  o: CallScopeOptions,
  method: DescMethod,
  signal: AbortSignal | undefined,
  timeoutMs: number | undefined,
  init: HeadersInit | undefined,
  input: unknown,
  contextValues: ContextValues | undefined,
  next: (req: CallRequest) => Promise<UnaryResponse | StreamResponse>,
): Promise<UnaryResponse | StreamResponse> {
  const plan = o.config.plan(method);
  const t = timeoutMs ?? o.defaultTimeoutMs;
  const header = new Headers();
  const block = o.config.headers(plan, t !== undefined && t > 0 ? t : undefined, init);
  for (const k of Object.keys(block)) {
    if (k.charCodeAt(0) === 58) continue;
    const v = block[k]!;
    if (Array.isArray(v)) for (const x of v) header.append(k, x);
    else header.set(k, v);
  }
  const streaming = method.methodKind !== "unary";
  const req = {
    stream: streaming,
    service: method.parent,
    method,
    requestMethod: "POST",
    url: `${o.secure ? "https" : "http"}://${o.service}${plan.path}`,
    signal: signal ?? new AbortController().signal,
    header,
    contextValues: contextValues ?? createContextValues(),
    message: streaming ? input : toMessage(method.input, input as never),
  };
  const run = applyInterceptors(next, o.interceptors);
  return run(req);
}
