/**
 * The one HTTP seam of kratos-kube: a function with the shape of `fetch`.
 *
 * Runtime-specific implementations (undici on Node, Bun's `tls` option, Deno's
 * `createHttpClient`) live in `src/runtime/`; the fake API server's handler has
 * the same shape, so tests can inject it with no sockets.
 *
 * @module
 */

/** A `fetch`-shaped function. */
export type FetchLike = (input: Request) => Promise<Response>;
