/**
 * One call's telemetry: the call span (`{rpc.method}`, kind CLIENT) and the
 * `rpc.client.call.duration` measurement, one child span per attempt
 * (`Attempt.{rpc.method}`, with the endpoint) and its measurements, and the
 * attempt's trace context injected into its request headers (W3C
 * `traceparent` with the SDK's default propagator).
 *
 * @module
 */
import { Code, ConnectError, type StreamResponse } from "@connectrpc/connect";
import type { Clock } from "../../runtime/clock.ts";
import { SPAN_KIND_CLIENT, SPAN_KIND_INTERNAL, SPAN_STATUS_ERROR, type OtelApi, type OtelAttributes, type OtelPropagator, type OtelSpan, type OtelTracer } from "./otel-api.ts";
import type { TransportInstruments } from "./instruments.ts";

/** One attempt's telemetry. */
export interface AttemptTrace {
  /** The attempt's request headers: the call's plus the trace context. */
  readonly header: Headers;
  /** Ends the attempt (`error` undefined: it succeeded). Idempotent. */
  end(error?: unknown): void;
}

/** What a call needs to find its telemetry. */
export interface CallTraceContext {
  readonly api: OtelApi;
  readonly tracer: OtelTracer;
  readonly propagator: OtelPropagator;
  readonly instruments: TransportInstruments;
  readonly clock: Clock;
  /** `rpc.system.name`: `grpc` (gRPC, gRPC-web) or `connectrpc`. */
  readonly system: string;
  /** The service from the target (the call's `server.address`). */
  readonly service: string;
}

const headerSetter = { set: (c: unknown, k: string, v: string): void => (c as Headers).set(k, v) };

/** See the module doc. */
export class CallTrace {
  readonly #c: CallTraceContext;
  readonly #span: OtelSpan;
  readonly #ctx: unknown;
  readonly #base: OtelAttributes;
  readonly #start: number;
  #attempt: AttemptTraceImpl | undefined;
  #ended = false;

  /** Starts the call span under the active context. */
  constructor(c: CallTraceContext, rpcMethod: string) {
    this.#c = c;
    this.#base = { "rpc.system.name": c.system, "rpc.method": rpcMethod, "server.address": c.service };
    const parent = c.api.context.active();
    this.#span = c.tracer.startSpan(rpcMethod, { kind: SPAN_KIND_CLIENT, attributes: this.#base }, parent);
    this.#ctx = c.api.trace.setSpan(parent, this.#span);
    this.#start = c.clock.now();
  }

  /** Runs `fn` with the call span active (the user's interceptors see it). */
  run<T>(fn: () => T): T {
    return this.#c.api.context.with(this.#ctx, fn);
  }

  /**
   * Starts attempt `n` on `address` (`host:port`), with `header` plus the
   * trace context; an attempt after the first counts as a retry, or as a
   * hedge in a hedged call.
   */
  attempt(address: string, n: number, header: HeadersInit | undefined, kind: "retry" | "hedge" = "retry"): AttemptTrace {
    const c = this.#c;
    const [host, port] = splitAddress(address);
    const endpoint: OtelAttributes = { "kratos_kube.service": c.service, "server.address": host, "server.port": port };
    c.instruments.picks.add(1, endpoint);
    if (n > 1) (kind === "hedge" ? c.instruments.hedges : c.instruments.retries).add(1, { "kratos_kube.service": c.service, "rpc.method": this.#base["rpc.method"]! });
    const attrs: OtelAttributes = { ...this.#base, "server.address": host, "server.port": port };
    const span = c.tracer.startSpan(`Attempt.${String(this.#base["rpc.method"])}`, { kind: SPAN_KIND_INTERNAL, attributes: { ...attrs, "kratos_kube.attempt": n, ...(n > 1 ? { "kratos_kube.attempt.kind": kind } : {}) } }, this.#ctx);
    const h = new Headers(header);
    c.propagator.inject(c.api.trace.setSpan(this.#ctx, span), h, headerSetter);
    const a = new AttemptTraceImpl(c, span, h, attrs, c.clock.now());
    this.#attempt = a;
    return a;
  }

  /** Ends the call (and its last attempt, if still open): span status and `rpc.client.call.duration`. Idempotent. */
  end(error: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#attempt?.end(error);
    finish(this.#c, this.#span, this.#base, error, (attrs, s) => this.#c.instruments.callDuration.record(s, attrs), this.#start);
  }
}

class AttemptTraceImpl implements AttemptTrace {
  readonly header: Headers;
  readonly #c: CallTraceContext;
  readonly #span: OtelSpan;
  readonly #attrs: OtelAttributes;
  readonly #start: number;
  #ended = false;

  constructor(c: CallTraceContext, span: OtelSpan, header: Headers, attrs: OtelAttributes, start: number) {
    this.#c = c;
    this.#span = span;
    this.header = header;
    this.#attrs = attrs;
    this.#start = start;
  }

  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    finish(this.#c, this.#span, this.#attrs, error, (attrs, s) => this.#c.instruments.attemptDuration.record(s, attrs), this.#start);
  }
}

/** Status attributes, span status, the measurement and the span's end. */
function finish(c: CallTraceContext, span: OtelSpan, base: OtelAttributes, error: unknown, record: (a: OtelAttributes, seconds: number) => void, start: number): void {
  const attrs: OtelAttributes = { ...base };
  if (error === undefined) {
    if (c.system !== "connectrpc") attrs["rpc.response.status_code"] = "OK";
  } else {
    const code = ConnectError.from(error).code;
    const name = statusName(code, c.system);
    attrs["rpc.response.status_code"] = name;
    attrs["error.type"] = name;
    span.setAttribute("rpc.response.status_code", name);
    span.setAttribute("error.type", name);
    span.setStatus({ code: SPAN_STATUS_ERROR, message: ConnectError.from(error).rawMessage });
  }
  if (error === undefined && attrs["rpc.response.status_code"] !== undefined) span.setAttribute("rpc.response.status_code", attrs["rpc.response.status_code"]);
  record(attrs, Math.max(0, c.clock.now() - start) / 1000);
  span.end();
}

/** A status code as the conventions name it: `UNAVAILABLE` for gRPC, `unavailable` for Connect. */
export function statusName(code: Code, system: string): string {
  const pascal = Code[code] ?? "Unknown";
  const snake = pascal.replace(/([a-z])([A-Z])/g, "$1_$2");
  return system === "connectrpc" ? snake.toLowerCase() : snake.toUpperCase();
}

/** `host:port` (IPv6 in brackets) → [host, port]. */
export function splitAddress(address: string): [string, number] {
  const i = address.lastIndexOf(":");
  const host = address.slice(0, i);
  return [host.startsWith("[") ? host.slice(1, -1) : host, Number(address.slice(i + 1))];
}

/**
 * The response of a traced call: the call ends when a unary call settles or
 * a stream's messages end (an early `break` ends it as `Canceled`).
 */
export function settleTraced<T>(trace: CallTrace, p: Promise<T>, streaming: boolean): Promise<T> {
  if (!streaming) {
    return p.then(
      (r) => {
        trace.end(undefined);
        return r;
      },
      (e: unknown) => {
        trace.end(e);
        throw e;
      },
    );
  }
  return p.then(
    (r) => {
      const res = r as unknown as StreamResponse;
      return {
        stream: true,
        service: res.service,
        method: res.method,
        get header() {
          return res.header;
        },
        get trailer() {
          return res.trailer;
        },
        message: tracedMessages(res.message, trace),
      } as unknown as T;
    },
    (e: unknown) => {
      trace.end(e);
      throw e;
    },
  );
}

async function* tracedMessages<M>(messages: AsyncIterable<M>, trace: CallTrace): AsyncGenerator<M> {
  try {
    for await (const m of messages) yield m;
    trace.end(undefined);
  } catch (e) {
    trace.end(e);
    throw e;
  } finally {
    trace.end(new ConnectError("the caller stopped reading the stream", Code.Canceled));
  }
}
