/**
 * Deno: `fetch(req, { client })` with `Deno.createHttpClient({ caCerts, cert,
 * key })`, stable since Deno 2.0 (no `--unstable` flag). The client is closed
 * on `close()`.
 *
 * `createHttpClient` can neither skip verification nor override the server
 * name; for `insecure-skip-tls-verify` and `tls-server-name` this uses Deno's
 * `node:https` instead (`fetch-node-http.ts`). Not undici: on Deno it did not
 * notice a dropped watch connection (spec/runtimes.md; measured again here).
 *
 * @module
 */
import type { DenoHttpClient, RuntimeGlobals } from "./ambient.d.ts";
import type { RuntimeFetch, RuntimeTlsOptions } from "./fetch-types.ts";
import { hasTlsOptions } from "./fetch-types.ts";
import { createNodeHttpFetch } from "./fetch-node-http.ts";

/** A fetch for Deno. */
export function createDenoFetch(tls: RuntimeTlsOptions): RuntimeFetch {
  if (tls.insecureSkipTlsVerify === true || tls.serverName !== undefined) return createNodeHttpFetch(tls);
  let client: DenoHttpClient | undefined;
  let closed = false;
  const fetch = (req: Request): Promise<Response> => {
    if (closed) return Promise.reject(new Error("the HTTP client is closed"));
    if (!hasTlsOptions(tls)) return globalThis.fetch(req);
    if (client === undefined) {
      const options: { caCerts?: string[]; cert?: string; key?: string } = {};
      if (tls.caPem !== undefined) options.caCerts = [tls.caPem];
      if (tls.certPem !== undefined) options.cert = tls.certPem;
      if (tls.keyPem !== undefined) options.key = tls.keyPem;
      const deno = (globalThis as RuntimeGlobals).Deno;
      if (deno === undefined) return Promise.reject(new Error("Deno.createHttpClient is not available"));
      client = deno.createHttpClient(options);
    }
    return globalThis.fetch(req, { client } as RequestInit);
  };
  const close = (): Promise<void> => {
    if (!closed) {
      closed = true;
      client?.close();
      client = undefined;
    }
    return Promise.resolve();
  };
  return { fetch, close, [Symbol.asyncDispose]: close };
}
