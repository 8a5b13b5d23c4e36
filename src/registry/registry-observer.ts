/**
 * The registry's observability: each informer's loop (relists, watch
 * reconnects, events and how late they arrive, cache size) as OpenTelemetry
 * instruments when `telemetry` is given and as log records when `logger` is
 * given, plus skipped pods and loop errors in the log. Neither given: no
 * observer at all.
 *
 * Instruments (kratos-kube's own, attributes `kratos_kube.k8s.resource` and
 * `k8s.namespace.name` when the informer watches one namespace):
 * `kratos_kube.k8s.watch.reconnects`, `kratos_kube.k8s.relists`,
 * `kratos_kube.k8s.watch.events` (with `kratos_kube.k8s.event.type`),
 * `kratos_kube.k8s.watch.event.lag` (s: receipt time minus the object's
 * newest managedFields time, whole seconds) and the observed
 * `kratos_kube.k8s.cache.objects`.
 *
 * @module
 */
import { checkLogger, emit, errorText, type Logger } from "../connect/logger.ts";
import { checkTelemetryOptions, SCOPE, type OtelAttributes, type OtelCounter, type OtelHistogram, type OtelObservable, type OtelObservableResult, type TelemetryOptions } from "../connect/telemetry/otel-api.ts";
import type { InformerObserver } from "../kube/informer-observer.ts";
import type { ObjectRecord, ResourceDescriptor } from "../kube/resource.ts";

/** What the registry observes with. */
export interface RegistryObserverOptions {
  readonly telemetry?: TelemetryOptions | undefined;
  readonly logger?: Logger | undefined;
  /** Wall-clock epoch ms for event lag (default `Date.now`). */
  readonly wallClock?: (() => number) | undefined;
}

/** An informer's context as the pool gives it. */
export interface ObservedInformer {
  readonly resource: ResourceDescriptor<ObjectRecord>;
  readonly namespace: string | undefined;
}

interface Instruments {
  readonly reconnects: OtelCounter;
  readonly relists: OtelCounter;
  readonly events: OtelCounter;
  readonly lag: OtelHistogram;
  readonly objects: OtelObservable;
}

const LAG_BUCKETS = [0.5, 1, 2, 5, 10, 30, 60, 120, 300];

/** See the module doc. */
export class RegistryObserver {
  readonly #logger: Logger | undefined;
  readonly #now: () => number;
  readonly #i: Instruments | undefined;
  readonly #sizes = new Map<string, { attrs: OtelAttributes; size: number }>();
  readonly #observe = (r: OtelObservableResult): void => {
    for (const { attrs, size } of this.#sizes.values()) r.observe(size, attrs);
  };
  #next = 0;

  /** @param o see {@link RegistryObserverOptions} */
  constructor(o: RegistryObserverOptions) {
    checkLogger(o.logger, "KubernetesRegistry");
    this.#logger = o.logger;
    this.#now = o.wallClock ?? Date.now;
    if (o.telemetry === undefined) return;
    checkTelemetryOptions(o.telemetry);
    const meter = (o.telemetry.meterProvider ?? o.telemetry.api.metrics.getMeterProvider()).getMeter(SCOPE);
    this.#i = {
      reconnects: meter.createCounter("kratos_kube.k8s.watch.reconnects", { description: "Watches resumed from the last resourceVersion without a relist.", unit: "{reconnect}" }),
      relists: meter.createCounter("kratos_kube.k8s.relists", { description: "LISTs that replaced an informer's cache.", unit: "{relist}" }),
      events: meter.createCounter("kratos_kube.k8s.watch.events", { description: "Watch events applied to an informer's cache.", unit: "{event}" }),
      lag: meter.createHistogram("kratos_kube.k8s.watch.event.lag", { description: "Receipt time minus the object's last write (managedFields, whole seconds).", unit: "s", advice: { explicitBucketBoundaries: LAG_BUCKETS } }),
      objects: meter.createObservableGauge("kratos_kube.k8s.cache.objects", { description: "Objects in an informer's cache.", unit: "{object}" }),
    };
    this.#i.objects.addCallback(this.#observe);
  }

  /** The observer of one informer (the pool's `observer` option). */
  informer(ctx: ObservedInformer): InformerObserver {
    const key = String(this.#next++);
    const attrs: OtelAttributes = { "kratos_kube.k8s.resource": ctx.resource.resource };
    if (ctx.namespace !== undefined) attrs["k8s.namespace.name"] = ctx.namespace;
    const fields = { resource: ctx.resource.resource, namespace: ctx.namespace ?? "*" };
    const i = this.#i;
    return {
      relisted: (size) => {
        i?.relists.add(1, attrs);
        if (i !== undefined) this.#sizes.set(key, { attrs, size });
        emit(this.#logger, "info", "relisted", { ...fields, objects: size });
      },
      watchStarted: (resumed) => {
        if (resumed) i?.reconnects.add(1, attrs);
        emit(this.#logger, resumed ? "info" : "debug", resumed ? "watch reconnected" : "watch started", fields);
      },
      event: (type, writtenAt, size) => {
        if (i === undefined) return;
        this.#sizes.set(key, { attrs, size });
        i.events.add(1, { ...attrs, "kratos_kube.k8s.event.type": type });
        if (writtenAt !== undefined && type !== "DELETED") i.lag.record(Math.max(0, this.#now() - writtenAt) / 1000, attrs);
      },
      closed: () => {
        this.#sizes.delete(key);
        emit(this.#logger, "debug", "informer stopped", fields);
      },
    };
  }

  /** A pod skipped, and why (info: the "what was skipped" records). */
  skippedPod(pod: { namespace: string; name: string }, reason: string): void {
    emit(this.#logger, "info", "pod skipped", { namespace: pod.namespace, pod: pod.name, reason });
  }

  /** A loop error, retried. */
  loopError(error: Error): void {
    emit(this.#logger, "warn", "watch failed, retrying", { error: errorText(error) });
  }

  /** Stops the observed gauge. */
  close(): void {
    this.#i?.objects.removeCallback(this.#observe);
    this.#sizes.clear();
  }
}
