/**
 * The part of `@opentelemetry/api` kratos-kube uses, as structural types:
 * kratos-kube never imports `@opentelemetry/api` (an optional peer
 * dependency); the application passes the module, and with it the providers
 * and the propagator it configured. Without the `telemetry` option nothing
 * of OpenTelemetry is loaded or called.
 *
 * @module
 */

/** Attribute values as OpenTelemetry takes them. */
export type OtelAttributes = Record<string, string | number | boolean>;

/** A counter or up-down counter. */
export interface OtelCounter {
  add(value: number, attributes?: OtelAttributes): void;
}

/** A histogram. */
export interface OtelHistogram {
  record(value: number, attributes?: OtelAttributes): void;
}

/** What an observable instrument's callback reports to. */
export interface OtelObservableResult {
  observe(value: number, attributes?: OtelAttributes): void;
}

/** An observable gauge or up-down counter. */
export interface OtelObservable {
  addCallback(callback: (result: OtelObservableResult) => void): void;
  removeCallback(callback: (result: OtelObservableResult) => void): void;
}

/** Options of a new instrument. */
export interface OtelInstrumentOptions {
  description?: string;
  unit?: string;
  advice?: { explicitBucketBoundaries?: number[] };
}

/** A `Meter`. */
export interface OtelMeter {
  createCounter(name: string, options?: OtelInstrumentOptions): OtelCounter;
  createHistogram(name: string, options?: OtelInstrumentOptions): OtelHistogram;
  createObservableGauge(name: string, options?: OtelInstrumentOptions): OtelObservable;
}

/** A `MeterProvider`. */
export interface OtelMeterProvider {
  getMeter(name: string, version?: string): OtelMeter;
}

/** A span's identity. */
export interface OtelSpanContext {
  traceId: string;
  spanId: string;
  traceFlags: number;
}

/** A `Span`. */
export interface OtelSpan {
  setAttribute(key: string, value: string | number | boolean): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  addEvent?(name: string, attributes?: OtelAttributes): unknown;
  end(): void;
  spanContext(): OtelSpanContext;
}

/** A `Tracer`. */
export interface OtelTracer {
  startSpan(name: string, options?: { kind?: number; attributes?: OtelAttributes }, context?: unknown): OtelSpan;
}

/** A `TracerProvider`. */
export interface OtelTracerProvider {
  getTracer(name: string, version?: string): OtelTracer;
}

/** A `TextMapPropagator` (kratos-kube only injects). */
export interface OtelPropagator {
  inject(context: unknown, carrier: unknown, setter: { set(carrier: unknown, key: string, value: string): void }): void;
}

/** The `@opentelemetry/api` module (`import * as otel from "@opentelemetry/api"`), or an object with the same members. */
export interface OtelApi {
  readonly trace: {
    getTracerProvider(): OtelTracerProvider;
    setSpan(context: unknown, span: OtelSpan): unknown;
  };
  readonly metrics: { getMeterProvider(): OtelMeterProvider };
  readonly context: {
    active(): unknown;
    with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(context: unknown, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F>;
  };
  readonly propagation: {
    inject(context: unknown, carrier: unknown, setter?: { set(carrier: unknown, key: string, value: string): void }): void;
  };
}

/**
 * The `telemetry` option: OpenTelemetry metrics and traces, following the
 * OpenTelemetry semantic conventions for RPC v1.45.0.
 *
 * @example
 * ```ts
 * import * as otel from "@opentelemetry/api";
 * createDiscoveryTransport({ discovery, target, telemetry: { api: otel } });
 * ```
 */
export interface TelemetryOptions {
  /** The `@opentelemetry/api` module the application uses (its global providers, context and propagator). */
  readonly api: OtelApi;
  /** Metrics go here instead of the global meter provider. */
  readonly meterProvider?: OtelMeterProvider;
  /** Spans go here instead of the global tracer provider. */
  readonly tracerProvider?: OtelTracerProvider;
  /** Injects the trace context into each attempt's headers instead of the global propagator (W3C `traceparent` when the SDK set it up). */
  readonly propagator?: OtelPropagator;
}

/** OpenTelemetry's `SpanKind` and `SpanStatusCode` values (stable in the API since 1.0). */
export const SPAN_KIND_INTERNAL = 0;
/** `SpanKind.CLIENT`. */
export const SPAN_KIND_CLIENT = 2;
/** `SpanStatusCode.ERROR`. */
export const SPAN_STATUS_ERROR = 2;

/** The instrumentation scope name of kratos-kube's meters and tracers. */
export const SCOPE = "kratos-kube";

/** Throws a TypeError naming what is wrong when `o` is not usable telemetry options. */
export function checkTelemetryOptions(o: TelemetryOptions): void {
  const api = (o as { api?: Partial<OtelApi> } | undefined)?.api;
  const missing = ["trace", "metrics", "context", "propagation"].filter((k) => typeof (api as Record<string, unknown> | undefined)?.[k] !== "object");
  if (missing.length > 0) {
    throw new TypeError(`telemetry.api must be the @opentelemetry/api module (import * as otel from "@opentelemetry/api"); missing: ${missing.join(", ")}`);
  }
}
