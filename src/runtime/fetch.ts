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
import { hasTlsOptions, type RuntimeFetch, type RuntimeTlsOptions } from "./fetch-types.ts";

export type { RuntimeFetch, RuntimeTlsOptions } from "./fetch-types.ts";
export { hasTlsOptions } from "./fetch-types.ts";

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
