/**
 * A loopback TCP proxy in front of a server, to cut connections the way a
 * load balancer or a network blip does: `dropAll()` resets every open
 * connection (both sides), new connections keep working.
 */
import { createServer, connect, type Server, type Socket } from "node:net";

/** A running proxy. */
export interface TcpProxy extends AsyncDisposable {
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Destroys every open connection. */
  dropAll(): void;
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1 (a free port) to `targetHost:targetPort`. */
export async function startTcpProxy(targetPort: number, targetHost = "127.0.0.1"): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((client) => {
    accepted++;
    const upstream = connect(targetPort, targetHost);
    open.add(client);
    open.add(upstream);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  const port = typeof addr === "object" && addr !== null ? addr.port : 0;
  const dropAll = (): void => {
    for (const s of [...open]) s.destroy();
    open.clear();
  };
  const close = async (): Promise<void> => {
    dropAll();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    port,
    get accepted() {
      return accepted;
    },
    dropAll,
    close,
    [Symbol.asyncDispose]: close,
  };
}
