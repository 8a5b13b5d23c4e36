/**
 * Connect-RPC servers on `node:http2` for the App: `grpcServer` (the gRPC
 * protocol, endpoint `grpc://`, what Go Kratos clients and the balancing
 * transport call by default) and `connectServer` (the Connect and gRPC-Web
 * protocols, endpoint `http://`, for the transport's `protocol: "connect"`).
 * Both serve `grpc.health.v1` from the App's status next to the routes.
 *
 * @module
 */
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter, type ConnectNodeAdapterOptions } from "@connectrpc/connect-node";
import { listenHttp2 } from "../runtime/http2-server.ts";
import { serverEndpoint } from "./endpoint.ts";
import { AppError, messageOf } from "./errors.ts";
import { registerHealthService } from "./health-service.ts";
import type { AppServerContext, AppServerSpec, RunningServer } from "./server.ts";

/** Options of {@link grpcServer} and {@link connectServer}. */
export interface ConnectServerOptions {
  /**
   * The port. Give the one the Pod's container declares: Kubernetes discovery
   * builds endpoints from the Pod IP and its declared container ports. 0 picks
   * a free port (tests).
   */
  readonly port: number;
  /** The address to bind; default every interface (`::`, or `0.0.0.0` without IPv6). */
  readonly host?: string | undefined;
  /** The services, as for connect-node's `connectNodeAdapter`. */
  readonly routes: (router: ConnectRouter) => void;
  /** PEM certificate and key: TLS with ALPN `h2`, and the endpoint scheme gets an `s` (`grpcs://`, `https://`). */
  readonly tls?: { readonly cert: string; readonly key: string } | undefined;
  /** Advanced: more `connectNodeAdapter` options (interceptors, limits, protocols, compression). */
  readonly adapter?: Omit<ConnectNodeAdapterOptions, "routes"> | undefined;
  /** Advanced: `node:http2` server options (settings, limits). */
  readonly http2Options?: Readonly<Record<string, unknown>> | undefined;
}

function validPort(port: unknown, what: string): number {
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new AppError("INVALID_OPTIONS", `${what}: port must be an integer from 0 to 65535, not ${JSON.stringify(port)}`);
  }
  return port;
}

function spec(kind: "grpc" | "connect", o: ConnectServerOptions): AppServerSpec {
  const what = kind === "grpc" ? "grpcServer" : "connectServer";
  if (typeof o !== "object" || o === null) throw new AppError("INVALID_OPTIONS", `${what}: options must be an object`);
  const port = validPort(o.port, what);
  if (typeof o.routes !== "function") throw new AppError("INVALID_OPTIONS", `${what}: routes must be a function (router) => void`);
  if (o.host !== undefined && (typeof o.host !== "string" || o.host === "")) throw new AppError("INVALID_OPTIONS", `${what}: host must be a non-empty string`);
  if (o.tls !== undefined && (typeof o.tls?.cert !== "string" || typeof o.tls?.key !== "string")) {
    throw new AppError("INVALID_OPTIONS", `${what}: tls needs cert and key as PEM strings`);
  }
  const scheme = kind === "grpc" ? "grpc" : "http";
  const protocols = kind === "grpc" ? { grpc: true, connect: false, grpcWeb: false } : { grpc: false, connect: true, grpcWeb: true };
  return {
    label: `${scheme}${o.tls ? "s" : ""} ${o.host ?? ""}:${port}`,
    async listen(ctx: AppServerContext): Promise<RunningServer> {
      const routes = (router: ConnectRouter): void => {
        o.routes(router);
        const services = new Set(router.handlers.map((h) => h.service.typeName));
        registerHealthService(router, ctx.health, services);
      };
      const handler = connectNodeAdapter({ ...protocols, ...o.adapter, routes });
      let listener;
      try {
        listener = await listenHttp2({ host: o.host, port, handler, tls: o.tls, http2Options: o.http2Options });
      } catch (e) {
        throw new AppError("LISTEN_FAILED", `${what}: ${messageOf(e)}`, { step: "listen", cause: e });
      }
      const endpoint = serverEndpoint({ scheme, secure: o.tls !== undefined, host: o.host, port: listener.port, addresses: ctx.addresses });
      return {
        endpoint,
        get inflight() {
          return listener.openStreams;
        },
        onIdle: (fn) => listener.onIdle(fn),
        goaway: () => listener.goaway(),
        destroy: () => listener.destroy(),
        closed: () => listener.closed(),
      };
    },
  };
}

/**
 * A gRPC server (connect-node, the gRPC protocol only, as a Go Kratos gRPC
 * server) registered as `grpc://<ip>:<port>` (`grpcs://` with `tls`).
 */
export function grpcServer(options: ConnectServerOptions): AppServerSpec {
  return spec("grpc", options);
}

/**
 * A Connect server (the Connect and gRPC-Web protocols) registered as
 * `http://<ip>:<port>` (`https://` with `tls`), for clients using the
 * balancing transport with `protocol: "connect"` or `"grpc-web"`. Note: Go
 * Kratos's HTTP clients speak REST, not the Connect protocol.
 */
export function connectServer(options: ConnectServerOptions): AppServerSpec {
  return spec("connect", options);
}
