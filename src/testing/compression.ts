/**
 * Response compression as the apiserver does it (apiserver
 * `endpoints/handlers/responsewriters/writers.go`): a non-watch response is
 * gzipped when the client sent `Accept-Encoding: gzip` and the body is larger
 * than 128 KiB (`defaultGzipThresholdBytes`). Watch streams are never compressed.
 *
 * @module
 */

/** Bodies above this many bytes are gzipped (apiserver `defaultGzipThresholdBytes`). */
export const GZIP_THRESHOLD_BYTES: number = 128 * 1024;

function acceptsGzip(req: Request): boolean {
  const h = req.headers.get("accept-encoding") ?? "";
  return h
    .split(",")
    .map((s) => s.trim().split(";")[0]!.toLowerCase())
    .includes("gzip");
}

/** Returns `res`, gzipped when the rules above say so. */
export async function maybeGzip(req: Request, res: Response, watch: boolean): Promise<Response> {
  if (watch || res.body === null || !acceptsGzip(req) || res.headers.has("content-encoding")) return res;
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (bytes.length <= GZIP_THRESHOLD_BYTES) return new Response(bytes, { status: res.status, headers: res.headers });
  const gz = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  const headers = new Headers(res.headers);
  headers.set("content-encoding", "gzip");
  headers.delete("content-length");
  return new Response(gz, { status: res.status, headers });
}
