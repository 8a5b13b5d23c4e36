/**
 * An HTTP/2 server on `node:http2` (h2c, or TLS with ALPN `h2`) for the App's
 * servers, on Node, Bun and Deno. It keeps what a graceful stop needs: the
 * open streams (calls in flight), the sessions and the raw sockets, so the
 * App can wait for running calls, send GOAWAY, close, and leave no socket
 * behind.
 *
 * `node:http2` is imported lazily: importing `kratos-kube/app` touches
 * nothing until a server listens.
 *
 * @module
 */

type Http2 = typeof import("node:http2");
type Http2Server = import("node:http2").Http2Server;
type Http2Session = import("node:http2").ServerHttp2Session;
type Socket = import("node:net").Socket;

/** The request handler: connect-node's `connectNodeAdapter(...)` fits. */
export type Http2Handler = (req: import("node:http2").Http2ServerRequest, res: import("node:http2").Http2ServerResponse) => void;

/** Options of {@link listenHttp2}. */
export interface Http2ListenOptions {
  /** Address to bind, e.g. `127.0.0.1`; default every interface (`::`, or `0.0.0.0` without IPv6). */
  readonly host?: string | undefined;
  /** Port; 0 picks a free one. */
  readonly port: number;
  readonly handler: Http2Handler;
  /** PEM certificate and key: TLS with ALPN `h2` (else h2c). */
  readonly tls?: { readonly cert: string; readonly key: string } | undefined;
  /** Extra `node:http2` server options (settings, limits). */
  readonly http2Options?: Readonly<Record<string, unknown>> | undefined;
}

/** A listening server. */
export interface Http2Listener {
  /** The real port (a free one when 0 was asked). */
  readonly port: number;
  /** HTTP/2 streams (requests) whose response has not closed. */
  readonly openStreams: number;
  /** Open HTTP/2 sessions (connections). */
  readonly sessions: number;
  /** Calls `fn` whenever a stream closes and none is left open. Returns the unsubscribe function. */
  onIdle(fn: () => void): () => void;
  /**
   * Stops accepting connections and sends GOAWAY on every session: running
   * streams finish, new streams are refused, each session closes once its
   * streams ended. Sessions that connect afterwards are closed at once.
   */
  goaway(): void;
  /** Destroys every session and socket now (streams still open are reset) and stops listening. */
  destroy(): void;
  /** Resolves once the listener and every session are closed. */
  closed(): Promise<void>;
}

let loaded: Promise<Http2> | undefined;
const http2 = (): Promise<Http2> => (loaded ??= import("node:http2") as Promise<Http2>);

/** An error for a port that is taken or an address that cannot be bound, naming both. */
function listenError(e: unknown, host: string | undefined, port: number): Error {
  const code = typeof e === "object" && e !== null ? (e as { code?: unknown }).code : undefined;
  const what = code === "EADDRINUSE" ? "the port is already in use" : code === "EADDRNOTAVAIL" ? "the address is not on this host" : code === "EACCES" ? "permission denied" : e instanceof Error ? e.message : String(e);
  const where = host === undefined ? `port ${port}` : `${host.includes(":") ? `[${host}]` : host}:${port}`;
  return new Error(`cannot listen on ${where}: ${what}`, { cause: e });
}

/** Starts an HTTP/2 server and resolves once it listens. */
export async function listenHttp2(o: Http2ListenOptions): Promise<Http2Listener> {
  const h2 = await http2();
  let openStreams = 0;
  let closing = false;
  const idleListeners = new Set<() => void>();
  /** Each open session and a promise of its 'close' event. */
  const sessions = new Map<Http2Session, Promise<void>>();
  const sockets = new Set<Socket>();
  const handler: Http2Handler = (req, res) => {
    openStreams++;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      openStreams--;
      if (openStreams === 0) for (const fn of [...idleListeners]) fn();
    };
    // 'close' comes when the stream ended (answered, reset or its session died).
    res.once("close", finish);
    o.handler(req, res);
  };
  const options = { ...(o.http2Options ?? {}) };
  const server: Http2Server = o.tls
    ? (h2.createSecureServer({ ...options, cert: o.tls.cert, key: o.tls.key, allowHTTP1: false }, handler) as unknown as Http2Server)
    : h2.createServer(options, handler);
  server.on("session", (s: Http2Session) => {
    sessions.set(
      s,
      new Promise<void>((resolve) =>
        s.once("close", () => {
          sessions.delete(s);
          resolve();
        }),
      ),
    );
    s.on("error", () => {}); // a peer that went away; its streams close with it
    if (closing) s.close();
  });
  const onSocket = (socket: Socket): void => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
  };
  server.on(o.tls ? "secureConnection" : "connection", onSocket);
  if (o.tls) server.on("connection", onSocket);
  await new Promise<void>((resolve, reject) => {
    const onError = (e: unknown): void => reject(listenError(e, o.host, o.port));
    server.once("error", onError);
    const listening = (): void => {
      server.off("error", onError);
      resolve();
    };
    if (o.host === undefined) server.listen(o.port, listening);
    else server.listen(o.port, o.host, listening);
  });
  server.on("error", () => {});
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : o.port;
  let listenerClosed: Promise<void> | undefined;
  const closeListener = (): Promise<void> =>
    (listenerClosed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
    }));
  return {
    port,
    get openStreams() {
      return openStreams;
    },
    get sessions() {
      return sessions.size;
    },
    onIdle(fn) {
      idleListeners.add(fn);
      return () => void idleListeners.delete(fn);
    },
    goaway() {
      closing = true;
      void closeListener();
      for (const s of sessions.keys()) if (!s.closed && !s.destroyed) s.close();
    },
    destroy() {
      closing = true;
      void closeListener();
      for (const s of sessions.keys()) s.destroy();
      for (const socket of sockets) socket.destroy();
    },
    async closed() {
      closing = true;
      await closeListener();
      // Sessions that connected while the listener was closing.
      while (sessions.size > 0) await Promise.all(sessions.values());
    },
  };
}
