/**
 * An OpenTelemetry SDK for tests: a meter provider read on demand (no
 * periodic export), a tracer provider with an in-memory exporter, the W3C
 * trace-context propagator, and helpers that find data points by name.
 */
import * as otel from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { MeterProvider, MetricReader, type DataPoint, type MetricData } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import type { TelemetryOptions } from "../../../src/connect/telemetry/otel-api.ts";

class OnDemandReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

/** A data point with its value as the SDK gives it (a number or a histogram). */
export type Point = DataPoint<unknown>;

/** The test SDK. */
export interface TestOtel {
  /** The `telemetry` option for a transport or registry. */
  readonly options: TelemetryOptions;
  /** Every metric collected now, by name. */
  metrics(): Promise<Map<string, MetricData>>;
  /** The data points of `name` (empty when not recorded). */
  points(name: string): Promise<Point[]>;
  /** Ended spans. */
  spans(): ReadableSpan[];
  close(): Promise<void>;
}

/** Creates a test SDK (nothing global is registered). */
export function createTestOtel(): TestOtel {
  const reader = new OnDemandReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const metrics = async (): Promise<Map<string, MetricData>> => {
    const { resourceMetrics } = await reader.collect();
    const out = new Map<string, MetricData>();
    for (const sm of resourceMetrics.scopeMetrics) for (const m of sm.metrics) out.set(m.descriptor.name, m);
    return out;
  };
  return {
    options: { api: otel, meterProvider, tracerProvider, propagator: new W3CTraceContextPropagator() },
    metrics,
    points: async (name) => ((await metrics()).get(name)?.dataPoints ?? []) as Point[],
    spans: () => exporter.getFinishedSpans(),
    close: async () => {
      await meterProvider.shutdown();
      await tracerProvider.shutdown();
    },
  };
}

/** The sum of a counter's points whose attributes include `match`. */
export function sumOf(points: Point[], match: Record<string, unknown> = {}): number {
  let n = 0;
  for (const p of points) if (matches(p, match)) n += p.value as number;
  return n;
}

/** The count of a histogram's points whose attributes include `match`. */
export function countOf(points: Point[], match: Record<string, unknown> = {}): number {
  let n = 0;
  for (const p of points) if (matches(p, match)) n += (p.value as { count: number }).count;
  return n;
}

function matches(p: Point, match: Record<string, unknown>): boolean {
  return Object.entries(match).every(([k, v]) => p.attributes[k] === v);
}
