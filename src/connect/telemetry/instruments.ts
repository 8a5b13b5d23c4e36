/**
 * The balancing transport's OpenTelemetry instruments and the object the
 * transport holds: call traces, endpoint ejections and an observable count
 * of endpoints per state.
 *
 * Names: `rpc.client.call.duration` as the OpenTelemetry semantic
 * conventions for RPC v1.45.0 define it (seconds; `rpc.system.name`,
 * `rpc.method`, `rpc.response.status_code`, `error.type`, `server.address`
 * = the service of the target); kratos-kube's own under `kratos_kube.*`.
 *
 * @module
 */
import type { DescMethod } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import type { WireProtocol } from "../protocol/wire-protocol.ts";
import type { Clock } from "../../runtime/clock.ts";
import { CallTrace, splitAddress, statusName, type CallTraceContext } from "./call-trace.ts";
import { checkTelemetryOptions, SCOPE, type OtelAttributes, type OtelCounter, type OtelHistogram, type OtelObservable, type OtelObservableResult, type TelemetryOptions } from "./otel-api.ts";

/** The semantic conventions version the names follow. */
export const SEMCONV_VERSION = "1.45.0";

/** Bucket boundaries (s) the RPC conventions advise for durations. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/** The instruments of one transport. */
export interface TransportInstruments {
  /** `rpc.client.call.duration` (s): one per logical call, whatever its attempts. */
  readonly callDuration: OtelHistogram;
  /** `kratos_kube.client.attempt.duration` (s): one per attempt, with the endpoint. */
  readonly attemptDuration: OtelHistogram;
  /** `kratos_kube.client.picks`: endpoints picked, per endpoint. */
  readonly picks: OtelCounter;
  /** `kratos_kube.client.retries`: attempts after a call's first (hedged calls' are hedges). */
  readonly retries: OtelCounter;
  /** `kratos_kube.client.hedges`: hedged attempts after a hedged call's first. */
  readonly hedges: OtelCounter;
  /** `kratos_kube.client.endpoint.ejections`: endpoints put in backoff, with the reason. */
  readonly ejections: OtelCounter;
  /** `kratos_kube.client.retry_budget.exhausted`: retries and hedges the retry budget refused. */
  readonly budgetExhausted: OtelCounter;
  /** `kratos_kube.client.endpoints`: endpoints per state (observed). */
  readonly endpoints: OtelObservable;
}

/** What the transport tells {@link TransportTelemetry}. */
export interface TransportTelemetryOptions {
  readonly options: TelemetryOptions;
  readonly service: string;
  readonly protocol: WireProtocol;
  readonly clock: Clock;
  /** The endpoints' states now (for the observed gauge). */
  readonly states: () => readonly { readonly state: string; readonly ejected?: string | undefined }[];
}

/** The transport's telemetry (created only when the `telemetry` option is given). */
export class TransportTelemetry {
  readonly #c: CallTraceContext;
  readonly #observe: (r: OtelObservableResult) => void;
  readonly #names = new WeakMap<DescMethod, string>();

  /** @param o see {@link TransportTelemetryOptions} */
  constructor(o: TransportTelemetryOptions) {
    checkTelemetryOptions(o.options);
    const api = o.options.api;
    const meter = (o.options.meterProvider ?? api.metrics.getMeterProvider()).getMeter(SCOPE);
    const tracer = (o.options.tracerProvider ?? api.trace.getTracerProvider()).getTracer(SCOPE);
    const seconds = { unit: "s", advice: { explicitBucketBoundaries: DURATION_BUCKETS } };
    const instruments: TransportInstruments = {
      callDuration: meter.createHistogram("rpc.client.call.duration", { description: "Duration of outgoing RPCs (all attempts of a call).", ...seconds }),
      attemptDuration: meter.createHistogram("kratos_kube.client.attempt.duration", { description: "Duration of each attempt of a call on one endpoint.", ...seconds }),
      picks: meter.createCounter("kratos_kube.client.picks", { description: "Endpoints picked for an attempt.", unit: "{pick}" }),
      retries: meter.createCounter("kratos_kube.client.retries", { description: "Attempts after the first of a call that is not hedged.", unit: "{attempt}" }),
      hedges: meter.createCounter("kratos_kube.client.hedges", { description: "Attempts after the first of a hedged call.", unit: "{attempt}" }),
      ejections: meter.createCounter("kratos_kube.client.endpoint.ejections", { description: "Endpoints ejected (put in backoff).", unit: "{ejection}" }),
      budgetExhausted: meter.createCounter("kratos_kube.client.retry_budget.exhausted", { description: "Retries and hedges the retry budget refused.", unit: "{attempt}" }),
      endpoints: meter.createObservableGauge("kratos_kube.client.endpoints", { description: "Endpoints of the transport per state.", unit: "{endpoint}" }),
    };
    this.#c = {
      api,
      tracer,
      propagator: o.options.propagator ?? (api.propagation as CallTraceContext["propagator"]),
      instruments,
      clock: o.clock,
      system: o.protocol === "connect" ? "connectrpc" : "grpc",
      service: o.service,
    };
    this.#observe = (r) => {
      const counts = new Map<string, number>();
      for (const e of o.states()) {
        const key = e.ejected === undefined ? e.state : `${e.state}\u0000${e.ejected}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      for (const [key, n] of counts) {
        const [state, ejected] = key.split("\u0000");
        const attrs: OtelAttributes = { "kratos_kube.service": o.service, "kratos_kube.endpoint.state": state! };
        if (ejected !== undefined) attrs["kratos_kube.ejection.reason"] = ejected;
        r.observe(n, attrs);
      }
    };
    instruments.endpoints.addCallback(this.#observe);
  }

  /** Starts a call's trace (span, duration). */
  startCall(method: DescMethod): CallTrace {
    let name = this.#names.get(method);
    if (name === undefined) this.#names.set(method, (name = `${method.parent.typeName}/${method.name}`));
    return new CallTrace(this.#c, name);
  }

  /** An endpoint changed state; `backoff` counts as an ejection (the reason: what failed). */
  endpointState(address: string, state: string, error: unknown): void {
    if (state === "backoff") this.ejected(address, reasonOf(error));
  }

  /** An ejection of `address` for `reason` (a connect or probe failure, or outlier detection's reason). */
  ejected(address: string, reason: string): void {
    const [host, port] = splitAddress(address);
    const attrs: OtelAttributes = { "kratos_kube.service": this.#c.service, "server.address": host, "server.port": port, "kratos_kube.ejection.reason": reason };
    this.#c.instruments.ejections.add(1, attrs);
  }

  /** The retry budget refused a retry or a hedge of `method` (`package.Service/Method`). */
  budgetExhausted(method: string, kind: "retry" | "hedge"): void {
    this.#c.instruments.budgetExhausted.add(1, { "kratos_kube.service": this.#c.service, "rpc.method": method, "kratos_kube.retry.kind": kind });
  }

  /** Stops observing the endpoints. */
  close(): void {
    this.#c.instruments.endpoints.removeCallback(this.#observe);
  }
}

/** A low-cardinality reason: a system error code (`ECONNREFUSED`), else the error's name, else `_OTHER`. */
export function reasonOf(error: unknown): string {
  if (typeof error !== "object" || error === null) return "_OTHER";
  if (error instanceof ConnectError) return statusName(error.code, "grpc");
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && /^[A-Z0-9_]{2,40}$/.test(code)) return code;
  const cause = (error as { cause?: unknown }).cause;
  if (cause !== undefined && cause !== error) {
    const inner = reasonOf(cause);
    if (inner !== "_OTHER") return inner;
  }
  const name = (error as { name?: unknown }).name;
  return typeof name === "string" && name !== "Error" ? name : "_OTHER";
}
