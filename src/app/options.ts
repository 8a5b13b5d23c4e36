/**
 * The App's options, their defaults, and their validation (a clear
 * `INVALID_OPTIONS` {@link AppError} naming the option, thrown by `createApp`).
 *
 * @module
 */
import type { Clock } from "../kube/clock.ts";
import type { Registrar } from "../registry/registrar.ts";
import type { ShutdownSignal } from "../runtime/process-lifetime.ts";
import { AppError } from "./errors.ts";
import type { LifecycleState, StartStep, StopStep } from "./lifecycle.ts";
import type { AppServerSpec } from "./server.ts";

export type { ShutdownSignal };

/**
 * How long a registration or deregistration may take: 10 s, Go Kratos's
 * default `registrarTimeout` (go-kratos/kratos `app.go`).
 */
export const DEFAULT_REGISTRAR_TIMEOUT_MS = 10_000;

/**
 * How long a stopping App keeps serving calls that still arrive after it
 * deregistered, while clients' watches drop it: 5 s (Istio's default
 * `terminationDrainDuration`; kube-apiserver's `--shutdown-delay-duration`
 * is the same idea).
 */
export const DEFAULT_SHUTDOWN_DELAY_MS = 5_000;

/**
 * The bound on the whole stop, from the stop signal to the forced close:
 * 25 s, inside Kubernetes's default `terminationGracePeriodSeconds` (30 s).
 */
export const DEFAULT_STOP_TIMEOUT_MS = 25_000;

/** The signals an App stops on by default. */
export const DEFAULT_SIGNALS: readonly ShutdownSignal[] = ["SIGTERM", "SIGINT"];

const SIGNALS: readonly ShutdownSignal[] = ["SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP"];

/** A lifecycle hook; it gets the App (its id, endpoints, state). */
export type AppHook<A> = (app: A) => void | Promise<void>;

/** One line of the App's log. */
export interface AppLogEntry {
  readonly level: "info" | "warn" | "error";
  readonly message: string;
  /** The lifecycle step it is about, if any. */
  readonly step?: StartStep | StopStep | undefined;
  /** The error, for `error` entries. */
  readonly error?: AppError | undefined;
}

/** Where the App's log goes. */
export type AppLogger = (entry: AppLogEntry) => void;

/** Options of `createApp`. */
export interface AppOptions<A> {
  /** The service name clients discover it by, e.g. `sayhello.service`. */
  readonly name: string;
  /** The version registered (`kratos-service-version`); default `""`. */
  readonly version?: string | undefined;
  /** Metadata registered with the instance (Kratos `weight`, region, …). */
  readonly metadata?: Readonly<Record<string, string>> | undefined;
  /** The instance id; default env `POD_NAME`, else `HOSTNAME` (as the registry's own Pod), else a random UUID (as Go Kratos). */
  readonly id?: string | undefined;
  /** The servers it runs; the registered endpoints come from them. */
  readonly servers?: readonly AppServerSpec[] | undefined;
  /** Registered endpoints instead of the servers' own (Go Kratos `kratos.Endpoint`). */
  readonly endpoints?: readonly string[] | undefined;
  /** Registers the instance on `run()` and deregisters it on stop; none: nothing is registered (static labels). */
  readonly registrar?: Registrar | undefined;
  /** Bound on `register` and `deregister`; default {@link DEFAULT_REGISTRAR_TIMEOUT_MS}. */
  readonly registrarTimeoutMs?: number | undefined;
  /** How long calls that still arrive after the deregistration are served before the drain; default {@link DEFAULT_SHUTDOWN_DELAY_MS}. */
  readonly shutdownDelayMs?: number | undefined;
  /** Bound on the whole stop (delay and drain included); default {@link DEFAULT_STOP_TIMEOUT_MS}. */
  readonly stopTimeoutMs?: number | undefined;
  /** Signals that stop the App (a second one skips the remaining waits); `false`: none. Default SIGTERM and SIGINT. */
  readonly signals?: readonly ShutdownSignal[] | false | undefined;
  /** Run before the servers listen; a failure ends the start. */
  readonly beforeStart?: AppHook<A> | readonly AppHook<A>[] | undefined;
  /** Run once registered; a failure ends the start. */
  readonly afterStart?: AppHook<A> | readonly AppHook<A>[] | undefined;
  /** Run when a running App begins to stop, right after health turned NOT_SERVING. */
  readonly beforeStop?: AppHook<A> | readonly AppHook<A>[] | undefined;
  /** Run after the servers closed, when `beforeStart` had completed. */
  readonly afterStop?: AppHook<A> | readonly AppHook<A>[] | undefined;
  /** Every step's error (also logged). A failing stop step never skips the later ones. */
  readonly onError?: ((error: AppError) => void) | undefined;
  /** The log; default `console` (info to `console.log`, warn and error to `console.error`); `false`: none. */
  readonly logger?: AppLogger | false | undefined;
  /** Advanced: every state change. */
  readonly onStateChange?: ((state: LifecycleState) => void) | undefined;
  /** Advanced: the clock of every wait (tests drive it by hand). */
  readonly clock?: Clock | undefined;
  /** Advanced: the environment read for `POD_NAME` and `HOSTNAME`; default the process's. */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
}

/** The options after defaults, as the App uses them. */
export interface ResolvedOptions<A> {
  readonly name: string;
  readonly version: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly servers: readonly AppServerSpec[];
  readonly endpoints: readonly string[] | undefined;
  readonly registrar: Registrar | undefined;
  readonly registrarTimeoutMs: number;
  readonly shutdownDelayMs: number;
  readonly stopTimeoutMs: number;
  readonly signals: readonly ShutdownSignal[];
  readonly hooks: Readonly<Record<"beforeStart" | "afterStart" | "beforeStop" | "afterStop", readonly AppHook<A>[]>>;
}

const invalid = (message: string): AppError => new AppError("INVALID_OPTIONS", `createApp: ${message}`);

function duration(v: unknown, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) throw invalid(`${name} must be a finite number of milliseconds >= 0, not ${JSON.stringify(v)}`);
  return v;
}

function hooks<A>(v: unknown, name: string): readonly AppHook<A>[] {
  if (v === undefined) return [];
  const list = Array.isArray(v) ? v : [v];
  for (const h of list) if (typeof h !== "function") throw invalid(`${name} must be a function or a list of functions`);
  return list as AppHook<A>[];
}

/** Checks `o` and fills in the defaults; throws `INVALID_OPTIONS` naming the first bad option. */
export function resolveOptions<A>(o: AppOptions<A>): ResolvedOptions<A> {
  if (typeof o !== "object" || o === null) throw invalid("options must be an object");
  if (typeof o.name !== "string" || o.name === "") throw invalid(`name must be a non-empty string (the service name clients discover), not ${JSON.stringify(o.name)}`);
  if (o.version !== undefined && typeof o.version !== "string") throw invalid("version must be a string");
  const metadata = o.metadata ?? {};
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) throw invalid("metadata must be an object of strings");
  for (const [k, v] of Object.entries(metadata)) if (typeof v !== "string") throw invalid(`metadata.${k} must be a string, not ${typeof v}`);
  if (o.id !== undefined && (typeof o.id !== "string" || o.id === "")) throw invalid("id must be a non-empty string");
  const servers = o.servers ?? [];
  if (!Array.isArray(servers)) throw invalid("servers must be a list (grpcServer(...), connectServer(...))");
  servers.forEach((s: unknown, i) => {
    if (typeof s !== "object" || s === null || typeof (s as AppServerSpec).listen !== "function") throw invalid(`servers[${i}] is not a server (use grpcServer(...) or connectServer(...))`);
  });
  if (o.endpoints !== undefined && (!Array.isArray(o.endpoints) || o.endpoints.some((e) => typeof e !== "string" || !/^[a-z][a-z0-9+.-]*:\/\/./i.test(e)))) {
    throw invalid("endpoints must be a list of URLs such as grpc://10.0.0.7:9000");
  }
  const r = o.registrar;
  if (r !== undefined && (typeof r !== "object" || r === null || typeof r.register !== "function" || typeof r.deregister !== "function")) {
    throw invalid("registrar must have register() and deregister() (a KubernetesRegistry, or any Registrar)");
  }
  let signals: readonly ShutdownSignal[] = DEFAULT_SIGNALS;
  if (o.signals === false) signals = [];
  else if (o.signals !== undefined) {
    if (!Array.isArray(o.signals)) throw invalid("signals must be a list of signal names or false");
    for (const s of o.signals) if (!SIGNALS.includes(s)) throw invalid(`signals: ${JSON.stringify(s)} is not one of ${SIGNALS.join(", ")}`);
    signals = o.signals;
  }
  if (o.logger !== undefined && o.logger !== false && typeof o.logger !== "function") throw invalid("logger must be a function or false");
  if (o.onError !== undefined && typeof o.onError !== "function") throw invalid("onError must be a function");
  return {
    name: o.name,
    version: o.version ?? "",
    metadata: { ...metadata },
    servers,
    endpoints: o.endpoints,
    registrar: r,
    registrarTimeoutMs: duration(o.registrarTimeoutMs, "registrarTimeoutMs", DEFAULT_REGISTRAR_TIMEOUT_MS),
    shutdownDelayMs: duration(o.shutdownDelayMs, "shutdownDelayMs", DEFAULT_SHUTDOWN_DELAY_MS),
    stopTimeoutMs: duration(o.stopTimeoutMs, "stopTimeoutMs", DEFAULT_STOP_TIMEOUT_MS),
    signals,
    hooks: {
      beforeStart: hooks<A>(o.beforeStart, "beforeStart"),
      afterStart: hooks<A>(o.afterStart, "afterStart"),
      beforeStop: hooks<A>(o.beforeStop, "beforeStop"),
      afterStop: hooks<A>(o.afterStop, "afterStop"),
    },
  };
}

/** The default instance id: `POD_NAME`, else `HOSTNAME`, else a random UUID. */
export function defaultInstanceId(env: Readonly<Record<string, string | undefined>>): string {
  const pod = env["POD_NAME"];
  if (pod !== undefined && pod !== "") return pod;
  const host = env["HOSTNAME"];
  if (host !== undefined && host !== "") return host;
  return crypto.randomUUID();
}

/** The default logger: `console`, prefixed with the service name. */
export function consoleLogger(name: string): AppLogger {
  return (e) => {
    const line = `[${name}] ${e.message}`;
    if (e.level === "info") console.log(line);
    else console.error(line);
  };
}
