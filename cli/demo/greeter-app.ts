/**
 * One demo "sayhello" pod's program: a kratos-kube App (`kratos-kube/app`) serving
 * helloworld.Greeter (and, through the App, grpc.health.v1) over h2c on
 * 127.0.0.1, port 0. The App registers, reports SERVING, and on `stop()` (the
 * demo's SIGTERM) turns NOT_SERVING, deregisters, keeps serving for its
 * shutdown delay, drains, sends GOAWAY and closes. `kill()` plays a crash:
 * every socket destroyed at once, no stop sequence.
 *
 * @module
 */
import type { ConnectRouter } from "@connectrpc/connect";
import { createApp, grpcServer, type App, type AppServerSpec, type RunningServer } from "../../src/app/index.ts";
import type { Registrar } from "../../src/index.ts";
import { Greeter } from "../../proto/gen/helloworld_pb.ts";
import { simulatedWork } from "./greeter-server.ts";

/** A running greeter. */
export interface GreeterApp {
  readonly name: string;
  readonly port: number;
  /** `grpc://127.0.0.1:<port>`, the endpoint its App registered. */
  readonly endpoint: string;
  /** Calls answered successfully. */
  readonly served: number;
  /** SayHello calls currently executing. */
  readonly inFlight: number;
  /** Health status: false once the stop began. */
  readonly serving: boolean;
  readonly app: App;
  /** The graceful stop (SIGTERM): the App's whole stop sequence; resolves once stopped. */
  stop(): Promise<void>;
  /** Abrupt stop, like a crashed process: every socket is destroyed now. Returns the calls that were in flight. */
  kill(): number;
}

/** Options of {@link startGreeterApp}. */
export interface GreeterAppOptions {
  /** The pod name: the App's instance id, returned in every reply so the client knows who answered. */
  readonly name: string;
  readonly version: string;
  /** How long SayHello takes, in ms (simulated work). */
  readonly workMs: number;
  /** Registers the pod (the demo's wraps a `KubernetesRegistry`). */
  readonly registrar: Registrar;
  /** The App's shutdown delay: serving what still arrives while clients drop the pod. */
  readonly shutdownDelayMs: number;
  /** The App's warnings and errors. */
  readonly log: (line: string) => void;
  /** Called when the stopping App begins its drain (waiting for the calls in flight). */
  readonly onDrain?: (() => void) | undefined;
}

/** Starts a greeter's App on 127.0.0.1, port 0; resolves once it runs (registered, SERVING). */
export async function startGreeterApp(o: GreeterAppOptions): Promise<GreeterApp> {
  let served = 0;
  let inFlight = 0;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const routes = (router: ConnectRouter): void => {
    router.service(Greeter, {
      async sayHello(req, ctx) {
        inFlight++;
        try {
          await simulatedWork(o.workMs, ctx.signal, timers);
          served++;
          return { message: `Hello ${req.name} from ${o.name}` };
        } finally {
          inFlight--;
        }
      },
    });
  };
  // The App's server, kept at hand so kill() can destroy its sockets like a crash would.
  const spec = grpcServer({ host: "127.0.0.1", port: 0, routes });
  let listening: RunningServer | undefined;
  const server: AppServerSpec = { label: spec.label, listen: async (ctx) => (listening = await spec.listen(ctx)) };
  let running!: () => void;
  const isRunning = new Promise<void>((resolve) => (running = resolve));
  const app = createApp({
    name: "sayhello.service",
    version: o.version,
    id: o.name,
    registrar: o.registrar,
    servers: [server],
    shutdownDelayMs: o.shutdownDelayMs,
    signals: false, // the demo's process handles Ctrl-C itself
    logger: (e) => {
      if (e.level !== "info") o.log(`${o.name}: ${e.message}`);
    },
    onStateChange: (s) => {
      if (s.kind === "running") running();
      if (s.kind === "stopping" && s.step === "drain") o.onDrain?.();
    },
  });
  const run = app.run();
  await Promise.race([isRunning, run]);
  const endpoint = app.endpoints[0]!;
  return {
    name: o.name,
    port: Number(new URL(endpoint).port),
    endpoint,
    app,
    get served() {
      return served;
    },
    get inFlight() {
      return inFlight;
    },
    get serving() {
      return app.serving;
    },
    async stop() {
      await app.stop();
      await run.catch(() => {});
    },
    kill() {
      const lost = inFlight;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      // Like a crashed process: the sockets just close, no GOAWAY is sent.
      listening?.destroy();
      return lost;
    },
  };
}
