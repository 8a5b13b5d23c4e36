/**
 * A Kratos-like greeter replica for reliability tests: helloworld.Greeter and
 * grpc.health.v1 over h2c (connect-node) on 127.0.0.1, port 0. Shutdown
 * follows a real pod's: `beginDrain()` (SIGTERM after the preStop hook)
 * turns health NOT_SERVING and answers NEW calls `UNAVAILABLE` ("shutting
 * down") while the calls already running finish; `stop()` then closes the
 * listener and every session (GOAWAY). Counts what it served and refused so
 * tests assert on counts, never on time.
 */
import * as http2 from "node:http2";
import type * as net from "node:net";
import { create } from "@bufbuild/protobuf";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { Greeter } from "../../../proto/gen/helloworld_pb.ts";
import { Health, HealthCheckResponse_ServingStatus, HealthCheckResponseSchema } from "../../../proto/gen/health_pb.ts";

export interface Replica {
  readonly name: string;
  readonly port: number;
  readonly address: string;
  /** Calls answered OK. */
  readonly served: number;
  /** Calls refused with UNAVAILABLE while draining. */
  readonly refused: number;
  /** Greeter calls currently executing. */
  readonly inFlight: number;
  readonly draining: boolean;
  /** Starts the drain: health NOT_SERVING, new calls refused, running calls finish. */
  beginDrain(): void;
  /** Resolves when no call is executing. */
  idle(): Promise<void>;
  /** Resolves once `n` calls were refused (or at once). */
  refusedAtLeast(n: number): Promise<void>;
  /** Closes the listener and every session gracefully (GOAWAY), after running calls end. */
  stop(): Promise<void>;
  /** Destroys every socket at once (a crash). */
  kill(): void;
}

/**
 * Starts a replica whose SayHello waits `workMs` on a real timer (simulated work; no test waits on it).
 * `host`/`port` default to 127.0.0.1 and an ephemeral port; when `port` is taken, an ephemeral one is used.
 */
export async function startReplica(name: string, o: { workMs?: number; host?: string; port?: number } = {}): Promise<Replica> {
  const workMs = o.workMs ?? 2;
  let served = 0;
  let refused = 0;
  let inFlight = 0;
  let draining = false;
  let idleWaiters: (() => void)[] = [];
  let refusedWaiters: { n: number; resolve: () => void }[] = [];
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const routes = (router: ConnectRouter): void => {
    router.service(Greeter, {
      async sayHello(req, ctx) {
        if (draining) {
          refused++;
          refusedWaiters = refusedWaiters.filter((w) => (refused >= w.n ? (w.resolve(), false) : true));
          throw new ConnectError(`${name} is shutting down`, Code.Unavailable);
        }
        inFlight++;
        try {
          if (workMs > 0) {
            await new Promise<void>((resolve) => {
              const t = setTimeout(() => {
                timers.delete(t);
                resolve();
              }, workMs);
              timers.add(t);
              ctx.signal.addEventListener("abort", () => {
                clearTimeout(t);
                timers.delete(t);
                resolve();
              }, { once: true });
            });
          }
          served++;
          return { message: `Hello ${req.name} from ${name}` };
        } finally {
          inFlight--;
          if (inFlight === 0) {
            const ws = idleWaiters;
            idleWaiters = [];
            for (const w of ws) w();
          }
        }
      },
    });
    router.service(Health, {
      check() {
        const status = draining ? HealthCheckResponse_ServingStatus.NOT_SERVING : HealthCheckResponse_ServingStatus.SERVING;
        return create(HealthCheckResponseSchema, { status });
      },
    });
  };
  const server = http2.createServer(connectNodeAdapter({ routes, grpc: true, connect: false, grpcWeb: false }));
  const sessions = new Set<http2.ServerHttp2Session>();
  const sockets = new Set<net.Socket>();
  server.on("session", (s: http2.ServerHttp2Session) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
    s.on("error", () => {});
  });
  server.on("connection", (s: net.Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => {});
  });
  const host = o.host ?? "127.0.0.1";
  const listen = (p: number): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(p, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  await listen(o.port ?? 0).catch(() => listen(0));
  const port = (server.address() as net.AddressInfo).port;
  let closed: Promise<void> | undefined;
  const closeServer = (): Promise<void> => (closed ??= new Promise((resolve) => server.close(() => resolve())));
  const idle = (): Promise<void> => (inFlight === 0 ? Promise.resolve() : new Promise((resolve) => idleWaiters.push(resolve)));
  return {
    name,
    port,
    address: `${host}:${port}`,
    get served() {
      return served;
    },
    get refused() {
      return refused;
    },
    get inFlight() {
      return inFlight;
    },
    get draining() {
      return draining;
    },
    beginDrain() {
      draining = true;
    },
    idle,
    refusedAtLeast(n) {
      if (refused >= n) return Promise.resolve();
      return new Promise((resolve) => refusedWaiters.push({ n, resolve }));
    },
    async stop() {
      draining = true;
      await idle();
      const done = closeServer();
      for (const s of sessions) s.close();
      await done;
    },
    kill() {
      draining = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of sockets) s.destroy();
      for (const s of sessions) s.destroy();
      void closeServer();
    },
  };
}
