/**
 * A fetch over `node:https` / `node:http`, for what Deno's
 * `createHttpClient` cannot do: skipping verification
 * (`insecure-skip-tls-verify`) and verifying against another name
 * (`tls-server-name`). Deno's `node:https` supports both, and reports a dropped
 * connection as a stream error, which undici running on Deno did not
 * (measured: a watch hung after the server's socket was destroyed).
 *
 * @module
 */
import type { RuntimeFetch, RuntimeTlsOptions } from "./fetch-types.ts";

type Https = typeof import("node:https");
type Http = typeof import("node:http");
type Stream = typeof import("node:stream");

interface Modules {
  https: Https;
  http: Http;
  stream: Stream;
  agent: InstanceType<Https["Agent"]>;
  plainAgent: InstanceType<Http["Agent"]>;
}

/** A fetch over node:https with keep-alive agents; `close()` destroys them. */
export function createNodeHttpFetch(tls: RuntimeTlsOptions): RuntimeFetch {
  let mods: Promise<Modules> | undefined;
  let closed = false;
  const load = (): Promise<Modules> =>
    (mods ??= Promise.all([import("node:https"), import("node:http"), import("node:stream")]).then(([https, http, stream]): Modules => {
      const options: Record<string, unknown> = { keepAlive: true };
      if (tls.caPem !== undefined) options["ca"] = tls.caPem;
      if (tls.certPem !== undefined) options["cert"] = tls.certPem;
      if (tls.keyPem !== undefined) options["key"] = tls.keyPem;
      if (tls.insecureSkipTlsVerify === true) options["rejectUnauthorized"] = false;
      if (tls.serverName !== undefined) options["servername"] = tls.serverName;
      return {
        https: https as Https,
        http: http as Http,
        stream: stream as unknown as Stream,
        agent: new https.Agent(options),
        plainAgent: new http.Agent({ keepAlive: true }),
      };
    }));

  const fetch = async (req: Request): Promise<Response> => {
    if (closed) throw new Error("the HTTP client is closed");
    const m = await load();
    const signal = req.signal;
    signal.throwIfAborted();
    const url = new URL(req.url);
    const hasBody = req.method !== "GET" && req.method !== "HEAD" && req.body !== null;
    const body = hasBody ? new Uint8Array(await req.arrayBuffer()) : undefined;
    const headers: Record<string, string> = {};
    req.headers.forEach((v, k) => (headers[k] = v));
    if (body !== undefined) headers["content-length"] = String(body.byteLength);
    const secure = url.protocol === "https:";
    return new Promise<Response>((resolve, reject) => {
      const options = { method: req.method, headers, agent: secure ? m.agent : m.plainAgent };
      const r = (secure ? m.https : m.http).request(url, options, (res) => {
        const status = res.statusCode ?? 0;
        const out = new Headers();
        const raw = res.rawHeaders;
        for (let i = 0; i + 1 < raw.length; i += 2) out.append(raw[i]!, raw[i + 1]!);
        const nullBody = status === 204 || status === 205 || status === 304 || req.method === "HEAD";
        if (nullBody) res.resume();
        const stream = nullBody ? null : (m.stream.Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>);
        resolve(new Response(stream, { status, statusText: res.statusMessage ?? "", headers: out }));
        const onAbort = (): void => {
          res.destroy(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
        };
        signal.addEventListener("abort", onAbort, { once: true });
        res.on("close", () => signal.removeEventListener("abort", onAbort));
      });
      const onAbort = (): void => {
        r.destroy();
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      r.on("response", () => signal.removeEventListener("abort", onAbort));
      r.on("error", (err) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      });
      r.end(body);
    });
  };

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    if (mods === undefined) return;
    const m = await mods;
    m.agent.destroy();
    m.plainAgent.destroy();
  };
  return { fetch, close, [Symbol.asyncDispose]: close };
}
