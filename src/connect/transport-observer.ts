/**
 * What the balancing transport reports besides `onEvent`/`onError`: the
 * OpenTelemetry instruments (when `telemetry` is given) and log records
 * (when `logger` is given). Both absent: every method returns at once.
 *
 * @module
 */
import type { DescMethod } from "@bufbuild/protobuf";
import { checkLogger, emit, errorText, type Logger } from "./logger.ts";
import { TransportTelemetry } from "./telemetry/instruments.ts";
import type { TelemetryOptions } from "./telemetry/otel-api.ts";
import type { WireProtocol } from "./protocol/wire-protocol.ts";
import type { Clock } from "../runtime/clock.ts";

/** What {@link TransportObserver} needs. */
export interface TransportObserverOptions {
  readonly telemetry: TelemetryOptions | undefined;
  readonly logger: Logger | undefined;
  readonly service: string;
  readonly protocol: WireProtocol;
  readonly clock: Clock;
  /** The endpoints' states now. */
  readonly states: () => readonly { readonly state: string; readonly ejected?: string | undefined }[];
}

/** See the module doc. */
export class TransportObserver {
  /** The call-level telemetry, undefined without the `telemetry` option. */
  readonly telemetry: TransportTelemetry | undefined;
  readonly #logger: Logger | undefined;
  readonly #service: string;
  /** Endpoints whose health watch said NOT_SERVING, to log their return. */
  readonly #notServing = new Set<string>();

  /** @param o see {@link TransportObserverOptions} */
  constructor(o: TransportObserverOptions) {
    checkLogger(o.logger, "createDiscoveryTransport");
    this.telemetry = o.telemetry === undefined ? undefined : new TransportTelemetry({ options: o.telemetry, service: o.service, protocol: o.protocol, clock: o.clock, states: o.states });
    this.#logger = o.logger;
    this.#service = o.service;
  }

  /** An endpoint entered `state` (`backoff` = ejected, with why). */
  endpoint(address: string, state: string, error: unknown): void {
    this.telemetry?.endpointState(address, state, error);
    if (this.#logger === undefined) return;
    const fields = { service: this.#service, address, state, error: error === undefined ? undefined : errorText(error) };
    if (state === "not-serving") this.#notServing.add(address);
    else if (this.#notServing.delete(address) && state === "ready") return emit(this.#logger, "info", "endpoint reports SERVING again, taking calls", fields);
    if (state === "backoff") emit(this.#logger, "warn", "endpoint ejected", fields);
    else if (state === "not-serving") emit(this.#logger, "info", "endpoint reports NOT_SERVING, no new calls (its calls run on)", fields);
    else if (state === "draining") emit(this.#logger, "info", "endpoint left discovery, draining its calls", fields);
    else emit(this.#logger, "debug", `endpoint ${state}`, fields);
  }

  /** Outlier detection ejected `address` for `reason`, or returned it (`undefined`). */
  ejection(address: string, reason: string | undefined): void {
    if (reason !== undefined) this.telemetry?.ejected(address, reason);
    const fields = { service: this.#service, address, reason };
    if (reason !== undefined) emit(this.#logger, "warn", "endpoint ejected by outlier detection", fields);
    else emit(this.#logger, "info", "endpoint returned from ejection", fields);
  }

  /** The retry budget refused a retry (the failure was returned) or a hedge (none was sent). */
  budgetExhausted(method: DescMethod, kind: "retry" | "hedge"): void {
    if (this.telemetry === undefined && this.#logger === undefined) return;
    const name = `${method.parent.typeName}/${method.name}`;
    this.telemetry?.budgetExhausted(name, kind);
    emit(this.#logger, "debug", `${kind} skipped: retry budget exhausted`, { service: this.#service, method: name });
  }

  /** Zone-aware picking moved to the local zone (`local`) or spilled over to every zone. */
  zone(c: { readonly local: boolean; readonly healthyLocal: number; readonly totalLocal: number }): void {
    const fields = { service: this.#service, healthyLocal: c.healthyLocal, totalLocal: c.totalLocal };
    if (c.local) emit(this.#logger, "info", "zone-aware picking: back to the local zone", fields);
    else emit(this.#logger, "info", "zone-aware picking: too few healthy endpoints in the local zone, spilling over to every zone", fields);
  }

  /** Discovery failed (the watch is restarted). */
  discoveryError(error: Error, during: "watch" | "next"): void {
    emit(this.#logger, "warn", "discovery failed, retrying", { service: this.#service, during, error: errorText(error) });
  }

  /** Stops the observed instruments. */
  close(): void {
    this.telemetry?.close();
  }
}
