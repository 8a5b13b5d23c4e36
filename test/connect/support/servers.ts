/**
 * In-process test servers for the balancing transport: connect-node's
 * handler on a node:http2 h2c server (127.0.0.1, port 0) serving Echo,
 * helloworld.Greeter and grpc.health.v1, plus a closed port and a silent
 * TCP peer. Handlers can hold calls until released, so tests synchronise on
 * events instead of sleeping.
 */
import * as http2 from "node:http2";
import * as net from "node:net";
import { create } from "@bufbuild/protobuf";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { Echo, EchoResponseSchema } from "../../../proto/gen/echo_pb.ts";
import { Greeter } from "../../../proto/gen/helloworld_pb.ts";
import { Health, HealthCheckResponse_ServingStatus, HealthCheckResponseSchema } from "../../../proto/gen/health_pb.ts";

export interface TestServer {
  readonly address: string;
  readonly port: number;
  /** Calls answered or started, per method name. */
  readonly calls: { total: number };
  /** Echo streams refused (refuseEcho). */
  readonly refused: { count: number };
  /** Held calls the client cancelled (RST_STREAM) before they were released. */
  readonly cancelled: { count: number };
  /** Calls held (text "hold") and not released yet. */
  readonly held: number;
  /** Resolves once `n` calls are held. */
  waitHeld(n: number): Promise<void>;
  /** Releases every held call. */
  release(): void;
  /** Releases the oldest held call. */
  releaseOne(): void;
  /** grpc.health.v1 status (a change is pushed to open Watch streams). */
  serving: boolean;
  /** grpc.health.v1 Watch streams started, and open now. */
  readonly watches: { started: number; open: number };
  /** Stop accepting, send GOAWAY, let open calls finish, then close. */
  gracefulStop(): Promise<void>;
  /** Destroy every connection at once (like a killed process). */
  kill(): Promise<void>;
  /** Destroy every HTTP/2 session (GOAWAY, then close) but keep listening. */
  dropSessions(): void;
  close(): Promise<void>;
}

export interface TestServerOptions {
  /** Serve grpc.health.v1 (default true). */
  health?: boolean;
  /** Serve grpc.health.v1 Watch (default true; false: Check only, Watch is Unimplemented). */
  healthWatch?: boolean;
  /** Watch streams end after their first message (as an App that drains does). */
  watchEnds?: boolean;
  /** Listen on this port (default 0). */
  port?: number;
  /** Delay every Echo.Say answer by this many ms (a slow endpoint). */
  slowMs?: number;
  /** Every Echo.Say answer waits for this promise (a slow endpoint whose slowness the test controls). */
  gate?: () => Promise<void>;
  /**
   * Reset every Echo call before its headers (health still answers):
   * `true` with RST_STREAM(REFUSED_STREAM), a number with that error code
   * (0 = NO_ERROR, as graceful proxies do).
   */
  refuseEcho?: boolean | number;
  /** Serve TLS (h2) with this certificate instead of h2c. */
  tls?: { certPem: string; keyPem: string };
  /** Called whenever calls, held or refused change. */
  onStats?: () => void;
  /** Every grpc.health.v1 Check waits for this promise (a probe the test holds). */
  healthGate?: () => Promise<void>;
  /** Sees every request's path and headers (health probes included) before it is served. */
  onRequest?: (path: string, headers: http2.IncomingHttpHeaders) => void;
}

/** Starts a test server in this process (node:http2 server; works on Node, Bun and Deno). */
export function startServer(o: TestServerOptions = {}): Promise<TestServer> {
  return startLocalServer(o);
}

/** Starts a test server in this process. */
export async function startLocalServer(o: TestServerOptions = {}): Promise<TestServer> {
  const stats = o.onStats ?? ((): void => {});
  const calls = {
    _total: 0,
    get total() {
      return this._total;
    },
    set total(v: number) {
      this._total = v;
      stats();
    },
  };
  let heldResolvers: (() => void)[] = [];
  let heldWaiters: { n: number; resolve: () => void }[] = [];
  const holdCall = (signal: AbortSignal): Promise<void> =>
    new Promise<void>((resolve) => {
      heldResolvers.push(resolve);
      stats();
      signal.addEventListener("abort", () => {
        cancelled.count++;
        stats();
        resolve();
      }, { once: true });
      heldWaiters = heldWaiters.filter((w) => {
        if (heldResolvers.length >= w.n) {
          w.resolve();
          return false;
        }
        return true;
      });
    });
  const cancelled = { count: 0 };
  let address = "";
  const state = { serving: true };
  const watches = { started: 0, open: 0 };
  let healthWaiters: (() => void)[] = [];
  const healthChanged = (): void => {
    const ws = healthWaiters;
    healthWaiters = [];
    for (const w of ws) w();
  };
  const statusNow = (): HealthCheckResponse_ServingStatus => (state.serving ? HealthCheckResponse_ServingStatus.SERVING : HealthCheckResponse_ServingStatus.NOT_SERVING);
  const routes = (router: ConnectRouter): void => {
    router.service(Echo, {
      async say(req, ctx) {
        calls.total++;
        if (req.text === "hold") await holdCall(ctx.signal);
        if (o.gate !== undefined) await o.gate();
        const delay = req.delayMs > 0 ? req.delayMs : (o.slowMs ?? 0);
        if (delay > 0) await new Promise((r) => setTimeout(r, delay));
        if (req.text === "fail") throw new ConnectError("asked to fail", Code.FailedPrecondition);
        return { text: req.text, server: address };
      },
      async *repeat(req, ctx) {
        calls.total++;
        for (let i = 0; i < req.count; i++) {
          if (req.text === "hold" && i === 1) await holdCall(ctx.signal);
          yield create(EchoResponseSchema, { text: `${req.text}-${i}`, server: address });
        }
      },
      async collect(reqs) {
        calls.total++;
        const parts: string[] = [];
        for await (const r of reqs) parts.push(r.text);
        return { text: parts.join(","), server: address };
      },
      async *chat(reqs) {
        calls.total++;
        for await (const r of reqs) yield { text: r.text.toUpperCase(), server: address };
      },
    });
    router.service(Greeter, {
      sayHello(req) {
        calls.total++;
        return { message: `Hello ${req.name}` };
      },
    });
    if (o.health !== false) {
      router.service(Health, {
        async check() {
          if (o.healthGate !== undefined) await o.healthGate();
          return create(HealthCheckResponseSchema, {
            status: state.serving ? HealthCheckResponse_ServingStatus.SERVING : HealthCheckResponse_ServingStatus.NOT_SERVING,
          });
        },
        ...(o.healthWatch === false ? {} : {
          async *watch(_req: unknown, ctx: { signal: AbortSignal }) {
            watches.started++;
            watches.open++;
            stats();
            const abort = (): void => healthChanged();
            ctx.signal.addEventListener("abort", abort, { once: true });
            try {
              let last: HealthCheckResponse_ServingStatus | undefined;
              while (!ctx.signal.aborted) {
                const now = statusNow();
                if (now !== last) yield create(HealthCheckResponseSchema, { status: (last = now) });
                if (o.watchEnds === true) return;
                if (statusNow() === last) await new Promise<void>((r) => healthWaiters.push(r));
              }
            } finally {
              ctx.signal.removeEventListener("abort", abort);
              watches.open--;
              stats();
            }
          },
        }),
      });
    }
  };
  const handler = connectNodeAdapter({ routes });
  const refused = { count: 0 };
  const onRequest = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): void => {
    o.onRequest?.(req.url, req.headers);
    if (o.refuseEcho !== undefined && o.refuseEcho !== false && req.url.startsWith("/kratoskube.echo.v1.Echo/")) {
      refused.count++;
      stats();
      req.stream.close(o.refuseEcho === true ? http2.constants.NGHTTP2_REFUSED_STREAM : o.refuseEcho);
      return;
    }
    handler(req, res);
  };
  const server = o.tls === undefined
    ? http2.createServer(onRequest)
    : http2.createSecureServer({ cert: o.tls.certPem, key: o.tls.keyPem }, onRequest);
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on(o.tls === undefined ? "connection" : "secureConnection", (s: net.Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("session", (s) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
    s.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(o.port ?? 0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  address = `127.0.0.1:${port}`;
  let closed = false;
  const closeServer = (): Promise<void> =>
    new Promise((resolve) => {
      if (closed) return resolve();
      closed = true;
      server.close(() => resolve());
    });
  const release = (): void => {
    const rs = heldResolvers;
    heldResolvers = [];
    stats();
    for (const r of rs) r();
  };
  const releaseOne = (): void => {
    const r = heldResolvers.shift();
    stats();
    r?.();
  };
  return {
    address,
    port,
    calls,
    refused,
    cancelled,
    releaseOne,
    get held() {
      return heldResolvers.length;
    },
    waitHeld(n) {
      if (heldResolvers.length >= n) return Promise.resolve();
      return new Promise((resolve) => heldWaiters.push({ n, resolve }));
    },
    release,
    get serving() {
      return state.serving;
    },
    set serving(v: boolean) {
      state.serving = v;
      healthChanged();
    },
    watches,
    async gracefulStop() {
      state.serving = false;
      healthChanged();
      const done = closeServer();
      for (const s of sessions) s.close();
      await done;
    },
    async kill() {
      const done = closeServer();
      healthChanged();
      for (const s of sockets) s.destroy();
      for (const s of sessions) s.destroy();
      release();
      await done;
    },
    dropSessions() {
      for (const s of sessions) s.destroy();
    },
    async close() {
      release();
      const done = closeServer();
      for (const s of sessions) s.close();
      for (const s of sockets) s.destroy();
      await done;
    },
  };
}

/** A port nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** A peer that accepts TCP connections and never sends a byte. */
export async function silentPeer(): Promise<{ address: string; connections: number; waitConnections(n: number): Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  let waiters: { n: number; resolve: () => void }[] = [];
  const srv = net.createServer((s) => {
    connections++;
    waiters = waiters.filter((w) => (connections >= w.n ? (w.resolve(), false) : true));
    sockets.add(s);
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const port = (srv.address() as net.AddressInfo).port;
  return {
    address: `127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    /** Resolves once `n` connections were accepted (the client may time out before this process runs the accept). */
    waitConnections: (n: number) => (connections >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve }))),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        srv.close(() => resolve());
      }),
  };
}

/** A Kratos instance serving gRPC at `address`. */
export function instance(address: string, o: { id?: string; version?: string; metadata?: Record<string, string> } = {}): {
  id: string;
  name: string;
  version: string;
  metadata: Record<string, string>;
  endpoints: string[];
} {
  return {
    id: o.id ?? address,
    name: "echo.service",
    version: o.version ?? "v1",
    metadata: o.metadata ?? {},
    endpoints: [`http://${address}`, `grpc://${address}`],
  };
}
