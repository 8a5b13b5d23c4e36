/**
 * Serves a web-standard handler over `node:http` / `node:https` on loopback.
 * Works when the process is Node, Bun or Deno (all three implement these
 * modules). Response headers are flushed before the first body byte, as the
 * apiserver's watch handler does; a body stream that errors resets the
 * socket; `close()` destroys every open connection.
 *
 * @module
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Socket } from "node:net";

/** A running server. */
export interface Listening {
  /** `http://127.0.0.1:PORT` or `https://…`. */
  readonly url: string;
  readonly port: number;
  /** Stops accepting, destroys open connections, resolves when closed. */
  close(): Promise<void>;
}

/** Options of {@link serve}. */
export interface ServeOptions {
  /** Default 0 (a free port). */
  port?: number;
  /** Default `127.0.0.1`. */
  host?: string;
  /** Serve HTTPS with this certificate and key (PEM). */
  tls?: { certPem: string; keyPem: string };
}

async function toRequest(req: IncomingMessage, base: string, signal: AbortSignal): Promise<Request> {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  const method = req.method ?? "GET";
  let body: Uint8Array<ArrayBuffer> | undefined;
  if (method !== "GET" && method !== "HEAD") {
    const chunks: Uint8Array[] = [];
    for await (const c of req) chunks.push(c as Uint8Array);
    let n = 0;
    for (const c of chunks) n += c.length;
    body = new Uint8Array(new ArrayBuffer(n));
    let off = 0;
    for (const c of chunks) {
      body.set(c, off);
      off += c.length;
    }
  }
  const init: RequestInit = { method, headers, signal };
  if (body !== undefined) init.body = body;
  return new Request(new URL(req.url ?? "/", base), init);
}

async function pump(res: Response, out: ServerResponse): Promise<void> {
  const headers: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    headers[k] = v;
  });
  out.writeHead(res.status, headers);
  out.flushHeaders();
  if (res.body === null) {
    out.end();
    return;
  }
  const reader = res.body.getReader();
  out.on("close", () => {
    reader.cancel().catch(() => {});
  });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (out.destroyed) break;
      out.write(value);
    }
    out.end();
  } catch {
    // The body failed (e.g. an injected watch drop): reset the connection.
    out.destroy();
  }
}

/** Serves `handler` on loopback until `close()`. */
export function serve(handler: (req: Request) => Promise<Response>, o: ServeOptions = {}): Promise<Listening> {
  const host = o.host ?? "127.0.0.1";
  const sockets = new Set<Socket>();
  const aborts = new Set<AbortController>();
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const ac = new AbortController();
    aborts.add(ac);
    res.on("close", () => {
      aborts.delete(ac);
      ac.abort();
    });
    const scheme = o.tls ? "https" : "http";
    void (async () => {
      try {
        const request = await toRequest(req, `${scheme}://${req.headers.host ?? host}`, ac.signal);
        const response = await handler(request);
        await pump(response, res);
      } catch (e) {
        if (!res.headersSent) {
          res.writeHead(500, { "content-type": "text/plain" });
          res.end(`internal error: ${(e as Error).message}`);
        } else res.destroy();
      }
    })();
  };
  const server: Server = o.tls
    ? (createHttpsServer({ cert: o.tls.certPem, key: o.tls.keyPem }, onRequest) as unknown as Server)
    : createHttpServer(onRequest);
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("secureConnection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port ?? 0, host, () => {
      server.off("error", reject);
      const addr = server.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : (o.port ?? 0);
      const h = host.includes(":") ? `[${host}]` : host;
      let closing: Promise<void> | undefined;
      resolve({
        url: `${o.tls ? "https" : "http"}://${h}:${port}`,
        port,
        close: () =>
          (closing ??= new Promise<void>((done) => {
            for (const ac of aborts) ac.abort();
            server.close(() => done());
            for (const s of sockets) s.destroy();
            (server as { closeAllConnections?: () => void }).closeAllConnections?.();
          })),
      });
    });
  });
}
