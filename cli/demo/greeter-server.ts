/**
 * One demo "sayhello" server: helloworld.Greeter and grpc.health.v1.Health
 * over h2c (connect-node, gRPC protocol) on 127.0.0.1, port 0. It counts calls
 * and calls in flight, can drain gracefully (NOT_SERVING, GOAWAY, wait for
 * in-flight calls) or be killed abruptly (every socket destroyed at once).
 *
 * @module
 */
import { createServer, type Http2Server, type Http2Session } from "node:http2";
import type { Socket } from "node:net";
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Greeter } from "../../proto/gen/helloworld_pb.ts";
import { Health } from "../../proto/gen/health_pb.ts";

/** grpc.health.v1 ServingStatus values (grpc/grpc-proto health.proto). */
const SERVING = 1;
const NOT_SERVING = 2;

/** A running greeter. */
export interface GreeterServer {
  readonly name: string;
  readonly port: number;
  /** Calls answered successfully. */
  readonly served: number;
  /** SayHello calls currently executing. */
  readonly inFlight: number;
  /** Health status: false after `drain()` started. */
  readonly serving: boolean;
  /**
   * Graceful stop: health turns NOT_SERVING, in-flight calls finish, then
   * the listener and every HTTP/2 session close (GOAWAY).
   */
  drain(): Promise<void>;
  /** Abrupt stop, like a crashed process: every socket is destroyed now. Returns the calls that were in flight. */
  kill(): number;
}

/** Options of {@link startGreeter}. */
export interface GreeterOptions {
  /** The pod name, returned in every reply so the client knows who answered. */
  readonly name: string;
  /** How long SayHello takes, in ms (simulated work). */
  readonly workMs: number;
}

/**
 * The demo's simulated work: waits `ms` (the timer kept in `timers`, so a
 * kill can clear it), or rejects with the call's abort reason.
 */
export function simulatedWork(ms: number, signal: AbortSignal, timers: Set<ReturnType<typeof setTimeout>>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => {
      timers.delete(t);
      resolve();
    }, ms);
    timers.add(t);
    signal.addEventListener("abort", () => {
      clearTimeout(t);
      timers.delete(t);
      reject(signal.reason);
    }, { once: true });
  });
}
/** Starts a greeter on 127.0.0.1, port 0. */
export async function startGreeter(o: GreeterOptions): Promise<GreeterServer> {
  let served = 0;
  let inFlight = 0;
  let serving = true;
  let killed = false;
  const waiters = new Set<() => void>();
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
          if (inFlight === 0) {
            for (const w of waiters) w();
            waiters.clear();
          }
        }
      },
    });
    router.service(Health, {
      check() {
        return { status: serving ? SERVING : NOT_SERVING };
      },
      async *watch(_req, ctx) {
        yield { status: serving ? SERVING : NOT_SERVING };
        await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
      },
    });
  };
  const server: Http2Server = createServer(connectNodeAdapter({ routes, grpc: true, connect: false, grpcWeb: false }));
  const sessions = new Set<Http2Session>();
  const sockets = new Set<Socket>();
  server.on("session", (s: Http2Session) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
    s.on("error", () => {});
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  const closeListener = (): Promise<void> => new Promise((resolve) => server.close(() => resolve()));
  return {
    name: o.name,
    port,
    get served() {
      return served;
    },
    get inFlight() {
      return inFlight;
    },
    get serving() {
      return serving;
    },
    async drain() {
      if (killed) return;
      serving = false;
      // Wait for in-flight calls before closing anything: Deno's node:http2
      // resets open streams on server.close() and session.close() instead of
      // letting them finish. Clients stopped picking this pod at the
      // deletionTimestamp event, before drain() is called.
      while (inFlight > 0) await new Promise<void>((resolve) => waiters.add(resolve));
      const closed = closeListener();
      for (const s of sessions) s.close();
      await closed;
    },
    kill() {
      const lost = inFlight;
      killed = true;
      serving = false;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      // Like a crashed process: the sockets just close, no GOAWAY is sent.
      for (const socket of sockets) socket.destroy();
      for (const s of sessions) s.destroy();
      server.close();
      return lost;
    },
  };
}
