/**
 * Test helpers for the App: a greeter whose calls can be held until the test
 * releases them, a registrar that records (and can fail or hang), a client on
 * loopback, and a waiter on the App's state changes. Nothing waits on time:
 * tests wait on state changes and call outcomes, and drive the App's clock.
 */
import { createClient, type ConnectRouter, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Greeter } from "../../../proto/gen/helloworld_pb.ts";
import { Health } from "../../../proto/gen/health_pb.ts";
import type { LifecycleState } from "../../../src/app/index.ts";
import type { Registrar, ServiceInstance } from "../../../src/index.ts";
import { within, WAIT_LIMIT_MS } from "../../connect/support/load.ts";

/** A greeter: `sayHello({ name: "hold" })` waits until `release()`. */
export interface HeldGreeter {
  readonly routes: (router: ConnectRouter) => void;
  /** Calls currently held. */
  readonly held: number;
  /** Resolves once `n` calls are held. */
  waitHeld(n: number): Promise<void>;
  /** Lets every held call answer. */
  release(): void;
  /** Calls answered, by name. */
  readonly answered: string[];
  /** Held calls whose stream the server saw cancelled. */
  readonly cancelled: number;
  /** Resolves once `n` held calls were cancelled. */
  waitCancelled(n: number): Promise<void>;
}

export function heldGreeter(): HeldGreeter {
  let held: (() => void)[] = [];
  let heldWaiters: { n: number; resolve: () => void }[] = [];
  const answered: string[] = [];
  let cancelled = 0;
  let cancelWaiters: { n: number; resolve: () => void }[] = [];
  return {
    routes: (router) =>
      router.service(Greeter, {
        async sayHello(req, ctx) {
          if (req.name.startsWith("hold")) {
            await new Promise<void>((resolve, reject) => {
              held.push(resolve);
              heldWaiters = heldWaiters.filter((w) => (held.length >= w.n ? (w.resolve(), false) : true));
              ctx.signal.addEventListener(
                "abort",
                () => {
                  cancelled++;
                  cancelWaiters = cancelWaiters.filter((w) => (cancelled >= w.n ? (w.resolve(), false) : true));
                  reject(ctx.signal.reason);
                },
                { once: true },
              );
            });
          }
          answered.push(req.name);
          return { message: `Hello ${req.name}` };
        },
      }),
    get held() {
      return held.length;
    },
    waitHeld(n) {
      if (held.length >= n) return Promise.resolve();
      return within(new Promise<void>((resolve) => heldWaiters.push({ n, resolve })), WAIT_LIMIT_MS, () => `${n} held call(s)`);
    },
    release() {
      const h = held;
      held = [];
      for (const r of h) r();
    },
    answered,
    get cancelled() {
      return cancelled;
    },
    waitCancelled(n) {
      if (cancelled >= n) return Promise.resolve();
      return within(new Promise<void>((resolve) => cancelWaiters.push({ n, resolve })), WAIT_LIMIT_MS, () => `${n} cancelled call(s)`);
    },
  };
}

/** A registrar that logs to `log` (with the App's serving status at the time), and can fail or hang. */
export function recordingRegistrar(
  log: string[],
  o: { serving?: () => boolean; failRegister?: Error; failDeregister?: Error; hangRegister?: boolean } = {},
): Registrar & { readonly registered: ServiceInstance[]; lastSignal: AbortSignal | undefined } {
  const registered: ServiceInstance[] = [];
  const r = {
    registered,
    lastSignal: undefined as AbortSignal | undefined,
    async register(instance: ServiceInstance, opts?: { signal?: AbortSignal | undefined }) {
      r.lastSignal = opts?.signal;
      log.push(`register serving=${o.serving?.() ?? "?"}`);
      if (o.hangRegister) await new Promise<never>(() => {});
      if (o.failRegister) throw o.failRegister;
      registered.push(instance);
    },
    async deregister(instance: ServiceInstance) {
      log.push(`deregister serving=${o.serving?.() ?? "?"}`);
      if (o.failDeregister) throw o.failDeregister;
      const i = registered.findIndex((x) => x.id === instance.id);
      if (i >= 0) registered.splice(i, 1);
    },
  };
  return r;
}

/** Waits on the App's state changes (feed `notify` from `onStateChange`). */
export function stateWaiter(): { notify(s: LifecycleState): void; until(pred: (s: LifecycleState) => boolean, what: string): Promise<void>; readonly seen: LifecycleState[] } {
  let current: LifecycleState = { kind: "idle" };
  const seen: LifecycleState[] = [];
  let list: { pred: (s: LifecycleState) => boolean; resolve: () => void }[] = [];
  return {
    seen,
    notify(s) {
      current = s;
      seen.push(s);
      list = list.filter((w) => (w.pred(s) ? (w.resolve(), false) : true));
    },
    until(pred, what) {
      if (pred(current)) return Promise.resolve();
      return within(new Promise<void>((resolve) => list.push({ pred, resolve })), WAIT_LIMIT_MS, () => `${what} (state ${JSON.stringify(current.kind)})`);
    },
  };
}

/** `true` when `s` is stopping in `step`. */
export const inStep = (step: string) => (s: LifecycleState): boolean => (s.kind === "stopping" || s.kind === "starting") && s.step === step;

/** A gRPC client of the greeter and health services at `endpoint` (grpc://host:port). */
export function clientOf(endpoint: string): { greeter: Client<typeof Greeter>; health: Client<typeof Health> } {
  const transport = createGrpcTransport({ baseUrl: endpoint.replace(/^grpc:/, "http:") });
  return { greeter: createClient(Greeter, transport), health: createClient(Health, transport) };
}

/** The names of the steps recorded in a state, failures marked with `!`. */
export function stepNames(s: LifecycleState): string[] {
  if (s.kind !== "stopped" && s.kind !== "stopping" && s.kind !== "starting" && s.kind !== "running") return [];
  return s.steps.map((r) => (r.ok ? r.step : `${r.step}!`));
}
