/**
 * The differential suite's one HTTP client, used the same way for the fake
 * (plain HTTP on loopback) and the real kube-apiserver (HTTPS with the CA it
 * generated): a buffered request, and a streaming one for watches that yields
 * the body line by line until the server ends it or the caller closes it.
 */
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";

/** Where requests go. */
export interface Endpoint {
  readonly url: string;
  /** The CA to trust for https. */
  readonly caPem?: string;
}

/** One request. `body` is JSON-encoded unless it is a string or bytes. */
export interface HttpRequest {
  method: string;
  path: string;
  body?: unknown;
  contentType?: string;
  accept?: string;
  token?: string;
}

/** A buffered answer. */
export interface HttpAnswer {
  status: number;
  contentType: string;
  text: string;
  /** The body as JSON, or undefined when it is not JSON. */
  json: unknown;
}

/** An open streaming answer. */
export interface HttpStream {
  status: number;
  contentType: string;
  /** The next line, or undefined once the server ended the body (or `close()` was called). */
  next(): Promise<string | undefined>;
  /** Whether the server ended the body (as opposed to `close()`). */
  readonly ended: boolean;
  close(): void;
}

function start(ep: Endpoint, r: HttpRequest): Promise<{ res: IncomingMessage; abort: () => void }> {
  const headers: Record<string, string> = { accept: r.accept ?? "application/json", "user-agent": "kratos-kube-differential" };
  if (r.token !== undefined) headers.authorization = `Bearer ${r.token}`;
  let payload: Buffer | undefined;
  if (r.body !== undefined) {
    payload = Buffer.from(typeof r.body === "string" || r.body instanceof Uint8Array ? r.body : JSON.stringify(r.body));
    headers["content-type"] = r.contentType ?? "application/json";
    // Node sends a DELETE body without framing unless told its length.
    headers["content-length"] = String(payload.length);
  }
  const https = ep.url.startsWith("https:");
  return new Promise((resolve, reject) => {
    const opts = { method: r.method, headers, agent: false as const, ...(https ? { ca: ep.caPem } : {}) };
    const req = (https ? httpsRequest : httpRequest)(ep.url + r.path, opts, (res) => resolve({ res, abort: () => req.destroy() }));
    req.on("error", reject);
    req.end(payload);
  });
}

/** Sends one request and reads the whole answer. */
export async function send(ep: Endpoint, r: HttpRequest): Promise<HttpAnswer> {
  const { res } = await start(ep, r);
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode ?? 0, contentType: String(res.headers["content-type"] ?? ""), text, json };
}

/** Opens a streaming request (a watch); read it with `next()`. */
export async function open(ep: Endpoint, r: HttpRequest): Promise<HttpStream> {
  const { res, abort } = await start(ep, r);
  const lines: string[] = [];
  let buf = "";
  let done = false;
  let ended = false;
  let wake: (() => void) | undefined;
  const poke = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  res.setEncoding("utf8");
  res.on("data", (d: string) => {
    buf += d;
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
    poke();
  });
  const finish = (byServer: boolean) => (): void => {
    if (done) return;
    if (buf.trim() !== "") lines.push(buf);
    buf = "";
    done = true;
    ended = byServer;
    poke();
  };
  res.on("end", finish(true));
  res.on("error", finish(false));
  res.on("close", finish(false));
  return {
    status: res.statusCode ?? 0,
    contentType: String(res.headers["content-type"] ?? ""),
    get ended() {
      return ended;
    },
    async next() {
      while (lines.length === 0 && !done) await new Promise<void>((r) => (wake = r));
      return lines.shift();
    },
    close() {
      finish(false)();
      abort();
    },
  };
}
