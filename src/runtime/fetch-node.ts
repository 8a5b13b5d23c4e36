/**
 * Node: undici 7's own `fetch` with an `Agent` carrying the CA and client
 * certificate. Never `globalThis.fetch` with undici's dispatcher: mixing the
 * bundled undici with the npm one fails ("invalid onRequestStart method",
 * nodejs/undici#5500). undici is loaded by dynamic import, so other runtimes
 * never load it.
 *
 * @module
 */
import type { RuntimeFetch, RuntimeTlsOptions } from "./fetch-types.ts";

type Undici = typeof import("undici");
type Agent = InstanceType<Undici["Agent"]>;

/** A fetch over undici 7 for Node. */
export function createNodeFetch(tls: RuntimeTlsOptions): RuntimeFetch {
  let state: Promise<{ undici: Undici; agent: Agent }> | undefined;
  let closed = false;
  const open = (): Promise<{ undici: Undici; agent: Agent }> =>
    (state ??= import("undici").then((undici) => {
      const connect: Record<string, unknown> = {};
      if (tls.caPem !== undefined) connect["ca"] = tls.caPem;
      if (tls.certPem !== undefined) connect["cert"] = tls.certPem;
      if (tls.keyPem !== undefined) connect["key"] = tls.keyPem;
      if (tls.insecureSkipTlsVerify === true) connect["rejectUnauthorized"] = false;
      if (tls.serverName !== undefined) connect["servername"] = tls.serverName;
      // keepAliveTimeout: idle pooled sockets close after 4 s (undici's default),
      // so a finished client does not hold the process open for long.
      const agent = new undici.Agent({ connect, bodyTimeout: 0 });
      return { undici, agent };
    }));

  const fetch = async (req: Request): Promise<Response> => {
    if (closed) throw new Error("the HTTP client is closed");
    const { undici, agent } = await open();
    const hasBody = req.method !== "GET" && req.method !== "HEAD" && req.body !== null;
    const body = hasBody ? new Uint8Array(await req.arrayBuffer()) : undefined;
    const init: Record<string, unknown> = {
      method: req.method,
      headers: [...req.headers],
      signal: req.signal,
      dispatcher: agent,
      redirect: "manual",
    };
    if (body !== undefined) init["body"] = body;
    const res = await undici.fetch(req.url, init as Parameters<Undici["fetch"]>[1]);
    return res as unknown as Response;
  };

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    if (state === undefined) return;
    const { agent } = await state;
    // destroy, not close: close() would wait for open watch streams to end.
    await agent.destroy();
  };
  return { fetch, close, [Symbol.asyncDispose]: close };
}
