/**
 * `kratos-kube/app`: the Kratos App lifecycle for TypeScript services. One
 * `createApp(...).run()` starts the servers, registers the instance (any
 * `Registrar`, e.g. `KubernetesRegistry`), serves `grpc.health.v1`, and on
 * SIGTERM/SIGINT, `stop()` or an aborted signal stops in the order that loses
 * no call in a rolling update:
 *
 * 1. health NOT_SERVING (Check answers it, Watch streams are told at once);
 * 2. `beforeStop` hooks, then deregister;
 * 3. keep serving the calls that still arrive for `shutdownDelayMs` (default 5 s)
 *    while clients' watches drop the instance;
 * 4. wait for the calls in flight (the whole stop bounded by `stopTimeoutMs`, 25 s);
 * 5. GOAWAY, close every connection, `afterStop` hooks; `run()` resolves.
 *
 * Errors: `createApp` and the server factories throw an {@link AppError}
 * `INVALID_OPTIONS` naming the option. A failing start step (hook, listen,
 * register) ends the start: what was started is stopped again and `run()`
 * rejects with that step's `AppError`. A failing stop step is reported
 * (`onError`, the logger) and never skips the later steps.
 *
 * Runtimes: Node ≥ 20.18.1, Bun and Deno (their `node:http2` servers). A
 * pending `run()` keeps the process alive; after it settles no timer,
 * listener or socket is left.
 *
 * @example
 * ```ts
 * import { KubernetesRegistry } from "kratos-kube";
 * import { createApp, grpcServer } from "kratos-kube/app";
 * import { Greeter } from "./gen/helloworld_pb.ts";
 *
 * await using registry = new KubernetesRegistry();
 * const app = createApp({
 *   name: "sayhello.service",
 *   version: "v1.2.0",
 *   registrar: registry,
 *   servers: [grpcServer({ port: 9000, routes: (r) => r.service(Greeter, { sayHello: (req) => ({ message: `Hello ${req.name}` }) }) })],
 * });
 * await app.run(); // until SIGTERM; then the graceful stop
 * ```
 *
 * @module
 */

// ── end-user API ──────────────────────────────────────────────────────────
export { createApp } from "./app.ts";
export type { App, CreateAppOptions } from "./app.ts";
export { grpcServer, connectServer } from "./connect-server.ts";
export type { ConnectServerOptions } from "./connect-server.ts";
export { AppError } from "./errors.ts";
export type { AppErrorCode } from "./errors.ts";
export { DEFAULT_REGISTRAR_TIMEOUT_MS, DEFAULT_SHUTDOWN_DELAY_MS, DEFAULT_STOP_TIMEOUT_MS, DEFAULT_SIGNALS } from "./options.ts";
export type { AppHook, AppLogEntry, AppLogger, AppOptions, ShutdownSignal } from "./options.ts";

// ── advanced: the pure lifecycle, custom servers, health ──────────────────
export { transition, currentStep, stopStepApplies, START_STEPS, STOP_STEPS } from "./lifecycle.ts";
export type { LifecycleEvent, LifecycleState, Progress, StartStep, StepRecord, StopCause, StopStep } from "./lifecycle.ts";
export type { AppServerContext, AppServerSpec, RunningServer } from "./server.ts";
export { HealthState, ServingStatus } from "./health.ts";
export { registerHealthService } from "./health-service.ts";
export { serverEndpoint, pickHostAddress, isGlobalUnicast, isUnspecifiedHost } from "./endpoint.ts";
export type { InterfaceAddress } from "./endpoint.ts";
