/**
 * A greeter replica built on the App (kratos-kube/app), registered through a
 * real `KubernetesRegistry` in the fake API server, for the reliability
 * tests. The test plays the kubelet: the Pod object appears (with the port
 * the App listens on, not yet Ready) when the App registers, and turns Ready
 * once the App runs, as a gRPC readiness probe on the App's health would.
 * Each replica's App runs on its own manual clock, so the test decides when
 * its shutdown delay ends (after the client dropped it), never a timer.
 */
import type { ConnectRouter } from "@connectrpc/connect";
import { createApp, grpcServer, type App, type LifecycleState } from "../../../src/app/index.ts";
import { KubeConfig } from "../../../src/kube/config.ts";
import { KubernetesRegistry } from "../../../src/index.ts";
import { createManualClock, makePod, type FakeKubeApiServer, type ManualClock } from "../../../src/testing/index.ts";
import { Greeter } from "../../../proto/gen/helloworld_pb.ts";

export interface AppReplica {
  readonly name: string;
  readonly app: App;
  readonly clock: ManualClock;
  /** `127.0.0.1:port`, as the transport names the endpoint. */
  readonly address: string;
  /** Calls answered OK. */
  readonly served: number;
  /** Calls answered after the stop began (health NOT_SERVING, deregistered, in the shutdown delay). */
  readonly servedWhileStopping: number;
  /** Settles when `run()` does. */
  readonly running: Promise<void>;
  /** Resolves once the App's state satisfies `pred`. */
  until(pred: (s: LifecycleState) => boolean): Promise<void>;
  /** Stops the App (SIGTERM) and ends its shutdown delay at once: for the end of a test, with no load left. */
  shutdown(): Promise<void>;
}

export const SHUTDOWN_DELAY_MS = 5_000;

/** Starts a replica and resolves once its App runs and its Pod is Ready. */
export async function startAppReplica(o: { name: string; fake: FakeKubeApiServer; namespace: string; service: string; version?: string; workMs?: number }): Promise<AppReplica> {
  const { name, fake, namespace: ns } = o;
  const workMs = o.workMs ?? 2;
  const clock = createManualClock();
  const config = KubeConfig.fromOptions({ server: "http://127.0.0.1:6443", namespace: ns });
  const registry = new KubernetesRegistry({ config, fetch: fake.fetch, namespace: ns, podName: name, podNamespace: ns });
  let served = 0;
  let servedWhileStopping = 0;
  let app: App | undefined;
  let waiters: { pred: (s: LifecycleState) => boolean; resolve: () => void }[] = [];
  const routes = (router: ConnectRouter): void => {
    router.service(Greeter, {
      async sayHello(req, ctx) {
        if (workMs > 0) {
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, workMs);
            ctx.signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
          });
        }
        served++;
        if (app?.state.kind === "stopping") servedWhileStopping++;
        return { message: `Hello ${req.name} from ${name}` };
      },
    });
  };
  app = createApp({
    name: o.service,
    version: o.version ?? "v1",
    env: { POD_NAME: name },
    servers: [grpcServer({ host: "127.0.0.1", port: 0, routes })],
    registrar: {
      async register(instance, opts) {
        const port = Number(new URL(instance.endpoints[0]!).port);
        fake.createPod(makePod({ name, namespace: ns, ip: "127.0.0.1", ports: [{ name: "grpc", containerPort: port }], ready: false }));
        await registry.register(instance, opts);
      },
      deregister: (instance, opts) => registry.deregister(instance, opts),
    },
    shutdownDelayMs: SHUTDOWN_DELAY_MS,
    signals: false,
    logger: false,
    clock,
    afterStop: () => registry.close(),
    onStateChange: (s) => {
      waiters = waiters.filter((w) => (w.pred(s) ? (w.resolve(), false) : true));
    },
  });
  const a = app;
  const until = (pred: (s: LifecycleState) => boolean): Promise<void> => (pred(a.state) ? Promise.resolve() : new Promise((resolve) => waiters.push({ pred, resolve })));
  const running = a.run();
  running.catch(() => {});
  await Promise.race([until((s) => s.kind === "running" || s.kind === "stopped"), running]);
  if (a.state.kind !== "running") await running; // the start failed: its error
  fake.setReady(ns, name, true);
  return {
    name,
    app: a,
    clock,
    address: a.endpoints[0]!.replace(/^grpc:\/\//, ""),
    get served() {
      return served;
    },
    get servedWhileStopping() {
      return servedWhileStopping;
    },
    running,
    until,
    async shutdown() {
      const stopped = a.stop();
      await until((s) => s.kind === "stopped" || (s.kind === "stopping" && s.step === "delay"));
      await clock.advance(SHUTDOWN_DELAY_MS);
      await stopped;
    },
  };
}
