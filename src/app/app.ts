/**
 * The App: the driver of the pure lifecycle (`lifecycle.ts`). It runs the
 * step the state names, feeds the outcome back, and owns the I/O: servers,
 * the registrar, signals, timers (on the injected clock).
 *
 * @module
 */
import { sleep, systemClock, type Clock } from "../kube/clock.ts";
import type { ServiceInstance } from "../registry/kratos-codec.ts";
import { host } from "../runtime/host.ts";
import { networkAddresses } from "../runtime/network.ts";
import { keepAlive, onSignals } from "../runtime/process-lifetime.ts";
import { AppError, messageOf, type AppErrorCode } from "./errors.ts";
import { HealthState } from "./health.ts";
import { runHooks, type HookStep } from "./hooks.ts";
import { describeCause, transition, type LifecycleEvent, type LifecycleState, type StartStep, type StopStep } from "./lifecycle.ts";
import { consoleLogger, defaultInstanceId, resolveOptions, type AppLogEntry, type AppLogger, type AppOptions, type ResolvedOptions } from "./options.ts";
import { withDeadline } from "./deadline.ts";
import { ServerGroup } from "./server-group.ts";

/** A Kratos-style application: servers, registration, health, graceful stop. */
export interface App extends AsyncDisposable {
  /** The instance id registered. */
  readonly id: string;
  readonly name: string;
  readonly version: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** The registered endpoints; empty until the servers listen. */
  readonly endpoints: readonly string[];
  /** The instance given to the registrar, once the servers listen. */
  readonly instance: ServiceInstance | undefined;
  /** `true` while `grpc.health.v1` reports SERVING. */
  readonly serving: boolean;
  /** Advanced: the lifecycle state, with the record of every step. */
  readonly state: LifecycleState;
  /**
   * Starts the servers, registers, reports SERVING, and waits for a stop
   * (signal, `stop()`, `signal` aborted); resolves once stopped. Rejects with
   * the start's error (after cleaning up) when the start failed, and with
   * `ALREADY_RUNNING`/`STOPPED` when called twice or after a stop. An
   * already aborted `signal` resolves at once, starting nothing.
   */
  run(options?: { readonly signal?: AbortSignal | undefined }): Promise<void>;
  /** Stops (the whole stop sequence) and resolves once stopped; never rejects. Before `run()`, the App just becomes stopped. */
  stop(): Promise<void>;
  /** Same as {@link stop}: `await using app = createApp(...)`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options of {@link createApp}. */
export type CreateAppOptions = AppOptions<App>;

class KratosApp implements App {
  readonly id: string;
  readonly name: string;
  readonly version: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly #o: ResolvedOptions<App>;
  readonly #clock: Clock;
  readonly #log: AppLogger;
  readonly #onError: ((error: AppError) => void) | undefined;
  readonly #onStateChange: ((state: LifecycleState) => void) | undefined;
  readonly #health = new HealthState();
  readonly #force = new AbortController();
  #state: LifecycleState = { kind: "idle" };
  readonly #servers: ServerGroup;
  #instance: ServiceInstance | undefined;
  #stopDeadline = 0;
  #wake: (() => void) | undefined;
  readonly #done: Promise<void>;
  #resolveDone!: () => void;

  constructor(options: CreateAppOptions) {
    this.#o = resolveOptions(options);
    this.name = this.#o.name;
    this.version = this.#o.version;
    this.metadata = this.#o.metadata;
    this.id = options.id ?? defaultInstanceId(options.env ?? host.env());
    this.#clock = options.clock ?? systemClock;
    this.#servers = new ServerGroup(this.#clock);
    const logger = options.logger ?? consoleLogger(this.#o.name);
    this.#log = logger === false ? () => {} : logger;
    this.#onError = options.onError;
    this.#onStateChange = options.onStateChange;
    this.#done = new Promise((resolve) => (this.#resolveDone = resolve));
  }

  get endpoints(): readonly string[] {
    return this.#instance?.endpoints ?? [];
  }
  get instance(): ServiceInstance | undefined {
    return this.#instance;
  }
  get serving(): boolean {
    return this.#health.serving;
  }
  get state(): LifecycleState {
    return this.#state;
  }

  async run(options?: { readonly signal?: AbortSignal | undefined }): Promise<void> {
    const kind = this.#state.kind;
    if (kind === "stopped") throw new AppError("STOPPED", `${this.name}: run() after the App stopped; create a new App`);
    if (kind !== "idle") throw new AppError("ALREADY_RUNNING", `${this.name}: run() was already called`);
    const signal = options?.signal;
    if (signal?.aborted) {
      this.#dispatch({ type: "stop", cause: { by: "abort", reason: signal.reason } });
      return;
    }
    const release = keepAlive();
    const offSignals = onSignals(this.#o.signals, (s) => {
      if (this.#stopRequested()) {
        this.#log({ level: "warn", message: `${s} again: stopping now (no more waiting for calls)` });
        this.#dispatch({ type: "force" });
      } else {
        this.#dispatch({ type: "stop", cause: { by: "signal", signal: s } });
      }
    });
    const onAbort = (): void => this.#dispatch({ type: "stop", cause: { by: "abort", reason: signal?.reason } });
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      this.#dispatch({ type: "run" });
      for (;;) {
        const s = this.#current();
        if (s.kind === "stopped") break;
        if (s.kind === "running") {
          await new Promise<void>((resolve) => (this.#wake = resolve));
          continue;
        }
        if (s.kind !== "starting" && s.kind !== "stopping") break;
        let error: AppError | undefined;
        try {
          await this.#exec(s.step);
        } catch (e) {
          error = e instanceof AppError ? e : new AppError(s.kind === "starting" ? "HOOK_FAILED" : "CLOSE_FAILED", `${s.step}: ${messageOf(e)}`, { step: s.step, cause: e });
          this.#report(error);
        }
        this.#dispatch(error === undefined ? { type: "stepDone" } : { type: "stepFailed", error });
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
      offSignals();
      release();
    }
    const end = this.#current();
    if (end.kind === "stopped" && end.startError !== undefined) throw end.startError;
  }

  stop(): Promise<void> {
    this.#dispatch({ type: "stop", cause: { by: "stop" } });
    return this.#done;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  /** The state, read afresh (TypeScript would keep a narrowing of `#state` across awaits). */
  #current(): LifecycleState {
    return this.#state;
  }

  #stopRequested(): boolean {
    const s = this.#state;
    return s.kind === "stopping" || s.kind === "stopped" || (s.kind === "starting" && s.stopRequested !== undefined);
  }

  #dispatch(event: LifecycleEvent): void {
    const before = this.#state;
    const after = transition(before, event);
    if (event.type === "force") this.#force.abort();
    if (after === before) return;
    this.#state = after;
    if (after.kind === "stopping" && before.kind !== "stopping") {
      this.#stopDeadline = this.#clock.now() + this.#o.stopTimeoutMs;
      this.#log({ level: "info", message: `stopping (${describeCause(after.cause)})` });
    }
    if (after.kind === "stopped") {
      if (before.kind !== "idle") this.#log({ level: "info", message: "stopped" });
      this.#resolveDone();
    }
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
    this.#onStateChange?.(after);
  }

  #report(error: AppError): void {
    this.#log({ level: "error", message: error.message, step: error.step, error });
    try {
      this.#onError?.(error);
    } catch {
      // a throwing hook must not break the lifecycle
    }
  }

  #remaining(): number {
    return Math.max(0, this.#stopDeadline - this.#clock.now());
  }

  async #exec(step: StartStep | StopStep): Promise<void> {
    switch (step) {
      case "beforeStart":
      case "afterStart":
      case "beforeStop":
      case "afterStop":
        return this.#hooks(step);
      case "listen":
        return this.#listen();
      case "register":
        return this.#register();
      case "notServing":
        this.#health.set(false);
        return;
      case "deregister":
        return this.#registrar("deregister");
      case "delay":
        return this.#delay();
      case "drain":
        return this.#drain();
      case "goaway":
        return this.#servers.goaway();
      case "close":
        return this.#servers.close(this.#remaining());
    }
  }

  #hooks(step: HookStep): Promise<void> {
    return runHooks(step, this.#o.hooks[step], this);
  }

  async #listen(): Promise<void> {
    const addresses = await networkAddresses();
    for (const spec of this.#o.servers) {
      try {
        this.#servers.add(await spec.listen({ health: this.#health, addresses }));
      } catch (e) {
        throw e instanceof AppError ? e : new AppError("LISTEN_FAILED", `${spec.label}: ${messageOf(e)}`, { step: "listen", cause: e });
      }
    }
    const endpoints = [...(this.#o.endpoints ?? this.#servers.endpoints)];
    this.#instance = { id: this.id, name: this.name, version: this.version, metadata: { ...this.metadata }, endpoints };
    this.#log({ level: "info", message: `listening: ${endpoints.join(", ") || "(no server)"}` });
  }

  async #register(): Promise<void> {
    if (this.#o.registrar !== undefined) {
      await this.#registrar("register");
      this.#log({ level: "info", message: `registered ${this.name} ${this.version} as ${this.id}` });
    }
    this.#health.set(true);
  }

  /** register/deregister, bounded by `registrarTimeoutMs` on the clock. */
  async #registrar(op: "register" | "deregister"): Promise<void> {
    const registrar = this.#o.registrar;
    const instance = this.#instance;
    if (registrar === undefined || instance === undefined) return;
    const code: AppErrorCode = op === "register" ? "REGISTER_FAILED" : "DEREGISTER_FAILED";
    const ms = this.#o.registrarTimeoutMs;
    const timeout = (): AppError => new AppError(code, `${op} ${this.name} as ${this.id} did not finish within ${ms} ms (registrarTimeoutMs)`, { step: op });
    try {
      await withDeadline(this.#clock, ms, (signal) => registrar[op](instance, { signal }), timeout);
    } catch (e) {
      if (e instanceof AppError && e.code === code) throw e;
      throw new AppError(code, `${op} ${this.name} as ${this.id} failed: ${messageOf(e)}`, { step: op, cause: e });
    }
  }

  async #delay(): Promise<void> {
    const ms = Math.min(this.#o.shutdownDelayMs, this.#remaining());
    if (ms <= 0 || this.#force.signal.aborted) return;
    this.#log({ level: "info", message: `serving calls that still arrive for ${ms} ms while clients drop this instance` });
    await sleep(this.#clock, ms, this.#force.signal).catch(() => {});
  }

  async #drain(): Promise<void> {
    this.#health.endWatches();
    const force = this.#force.signal;
    if (this.#servers.inflight > 0 && !force.aborted) {
      const budget = this.#remaining();
      this.#log({ level: "info", message: `waiting for ${this.#servers.inflight} open call(s) (up to ${Math.round(budget)} ms)` });
      await this.#servers.waitIdle(budget, force);
    }
    const left = this.#servers.inflight;
    if (left > 0) {
      const why = force.aborted ? "the stop was forced" : `stopTimeoutMs (${this.#o.stopTimeoutMs} ms) ran out`;
      throw new AppError("STOP_TIMEOUT", `${left} call(s) still running when ${why}; they are cancelled`, { step: "drain" });
    }
  }
}

/**
 * Creates an App. Throws `INVALID_OPTIONS` naming the option when one cannot
 * be used. Nothing happens until `run()`.
 *
 * @example
 * ```ts
 * import { KubernetesRegistry } from "kratos-kube";
 * import { createApp, grpcServer } from "kratos-kube/app";
 * await using registry = new KubernetesRegistry();
 * const app = createApp({
 *   name: "sayhello.service",
 *   version: "v1.2.0",
 *   registrar: registry,
 *   servers: [grpcServer({ port: 9000, routes: (router) => router.service(Greeter, impl) })],
 * });
 * await app.run(); // until SIGTERM, then the graceful stop
 * ```
 */
export function createApp(options: CreateAppOptions): App {
  return new KratosApp(options);
}

export type { AppLogEntry };
