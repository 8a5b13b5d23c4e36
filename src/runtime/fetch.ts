/**
 * The per-runtime HTTP seam: {@link createRuntimeFetch} returns a
 * {@link FetchLike}-shaped function configured with the cluster's CA and client
 * certificate, built the way each runtime supports it (measured in
 * `spec/runtimes.md`): undici 7's own `fetch` with an `Agent` on Node, the
 * `tls` option of `fetch` on Bun, and `Deno.createHttpClient` on Deno.
 *
 * @module
 */
import { detectRuntime } from "./detect.ts";
import { createBunFetch } from "./fetch-bun.ts";
import { createDenoFetch } from "./fetch-deno.ts";
import { createNodeFetch } from "./fetch-node.ts";

/** TLS material for the connection to the API server (PEM text, never paths). */
export interface RuntimeTlsOptions {
  /** PEM bundle of trusted CAs; the runtime's default roots when absent. */
  caPem?: string | undefined;
  /** Client certificate chain (PEM), with {@link keyPem}. */
  certPem?: string | undefined;
  /** Client private key (PEM). */
  keyPem?: string | undefined;
  /** Skip server certificate verification (kubeconfig `insecure-skip-tls-verify`). */
  insecureSkipTlsVerify?: boolean | undefined;
  /** Server name for SNI and verification (kubeconfig `tls-server-name`). */
  serverName?: string | undefined;
}

/** A fetch function with a lifecycle: `close()` releases its connections. */
export interface RuntimeFetch extends AsyncDisposable {
  /** Sends `req`; aborting `req.signal` aborts the connection. */
  readonly fetch: (req: Request) => Promise<Response>;
  /** Closes pooled connections (and open streams). Idempotent. */
  close(): Promise<void>;
}

/** True when `tls` asks for anything beyond the runtime's defaults. */
export function hasTlsOptions(tls: RuntimeTlsOptions): boolean {
  return (
    tls.caPem !== undefined ||
    tls.certPem !== undefined ||
    tls.keyPem !== undefined ||
    tls.insecureSkipTlsVerify === true ||
    tls.serverName !== undefined
  );
}

/** Builds the fetch of the current runtime for `tls`. */
export function createRuntimeFetch(tls: RuntimeTlsOptions = {}): RuntimeFetch {
  switch (detectRuntime()) {
    case "bun":
      return createBunFetch(tls);
    case "deno":
      return createDenoFetch(tls);
    case "node":
      return createNodeFetch(tls);
    default:
      return createGlobalFetch(tls);
  }
}

/** `globalThis.fetch`, for unknown runtimes; refuses TLS options it cannot honour. */
function createGlobalFetch(tls: RuntimeTlsOptions): RuntimeFetch {
  const fetch = (req: Request): Promise<Response> => {
    if (hasTlsOptions(tls)) {
      return Promise.reject(new Error("this runtime's fetch cannot take a custom CA or client certificate"));
    }
    return globalThis.fetch(req);
  };
  const close = (): Promise<void> => Promise.resolve();
  return { fetch, close, [Symbol.asyncDispose]: close };
}
