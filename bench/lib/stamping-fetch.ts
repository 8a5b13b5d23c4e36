/**
 * A fetch that stamps the arrival of every watch chunk (`performance.now()`),
 * the clock start of the propagation and EndpointSlice latency benchmarks.
 *
 * @module
 */

/** `globalThis.fetch` with a pass-through on watch bodies; `lastArrival()` is when the latest watch chunk arrived. */
export function stampingFetch(): { fetch: (req: Request) => Promise<Response>; lastArrival: () => number } {
  let arrival = 0;
  const fetch = async (req: Request): Promise<Response> => {
    const res = await globalThis.fetch(req);
    if (!new URL(req.url).searchParams.has("watch") || res.body === null) return res;
    const body = res.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctl) {
        arrival = performance.now();
        ctl.enqueue(chunk);
      },
    }));
    return new Response(body, { status: res.status, headers: res.headers });
  };
  return { fetch, lastArrival: () => arrival };
}
