/**
 * Bun: the runtime's `fetch` with its `tls` option (`ca`, `cert`, `key`,
 * `rejectUnauthorized`, `serverName`). Bun pools connections itself; there is
 * nothing to close beyond refusing new requests.
 *
 * @module
 */
import type { BunFetchTls } from "./ambient.d.ts";
import type { RuntimeFetch, RuntimeTlsOptions } from "./fetch-types.ts";
import { hasTlsOptions } from "./fetch-types.ts";

/** A fetch for Bun. */
export function createBunFetch(tls: RuntimeTlsOptions): RuntimeFetch {
  const option: BunFetchTls = {};
  if (tls.caPem !== undefined) option.ca = tls.caPem;
  if (tls.certPem !== undefined) option.cert = tls.certPem;
  if (tls.keyPem !== undefined) option.key = tls.keyPem;
  if (tls.insecureSkipTlsVerify === true) option.rejectUnauthorized = false;
  if (tls.serverName !== undefined) option.serverName = tls.serverName;
  const useTls = hasTlsOptions(tls);
  let closed = false;
  const fetch = (req: Request): Promise<Response> => {
    if (closed) return Promise.reject(new Error("the HTTP client is closed"));
    if (!useTls) return globalThis.fetch(req);
    return globalThis.fetch(req, { tls: option } as RequestInit);
  };
  const close = (): Promise<void> => {
    closed = true;
    return Promise.resolve();
  };
  return { fetch, close, [Symbol.asyncDispose]: close };
}
