/**
 * A fetch that stamps the arrival of every watch chunk (`performance.now()`),
 * the clock start of the propagation and EndpointSlice latency benchmarks.
 *
 * It wraps the fetch a user's client runs (the library's own runtime fetch by
 * default) and adds no stream: the watch body's `getReader()` is wrapped on
 * that stream object, so each chunk is stamped as the client's reader gets
 * it, and the benchmark allocates nothing per chunk that users would not.
 *
 * @module
 */
import { createRuntimeFetch } from "../../src/runtime/fetch.ts";

/** `inner` with a stamp on every watch chunk; `lastArrival()` is when the latest one reached the client's reader. */
export function stampingFetch(inner: (req: Request) => Promise<Response> = createRuntimeFetch().fetch): { fetch: (req: Request) => Promise<Response>; lastArrival: () => number } {
  let arrival = 0;
  const stamp = <T>(r: T): T => {
    arrival = performance.now();
    return r;
  };
  const fetch = async (req: Request): Promise<Response> => {
    const res = await inner(req);
    const body = res.body;
    if (!new URL(req.url).searchParams.has("watch") || body === null) return res;
    const getReader = body.getReader.bind(body);
    Object.defineProperty(body, "getReader", {
      value: (...args: unknown[]) => {
        const reader = (getReader as (...a: unknown[]) => ReadableStreamDefaultReader<Uint8Array>)(...args);
        const read = reader.read.bind(reader);
        Object.defineProperty(reader, "read", { value: () => read().then(stamp) });
        return reader;
      },
    });
    return res;
  };
  return { fetch, lastArrival: () => arrival };
}
