/** Shared helpers of the fake apiserver tests. */
import type { FakeKubeApiServer } from "../../src/testing/index.ts";

/** A watch event as decoded by the tests. */
export interface Ev {
  type: string;
  object: {
    kind?: string;
    apiVersion?: string;
    metadata: { name?: string; resourceVersion?: string; annotations?: Record<string, string>; [k: string]: unknown };
    [k: string]: unknown;
  };
}

/** Reads a NDJSON watch body event by event (partial lines buffered). */
export class EventReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #buf = "";
  #queue: Ev[] = [];
  /** Every chunk's byte length, to check re-chunking. */
  readonly chunks: number[] = [];
  done = false;

  constructor(body: ReadableStream<Uint8Array> | null) {
    if (body === null) throw new Error("response has no body");
    this.#reader = body.getReader();
  }

  async #pull(): Promise<boolean> {
    const { done, value } = await this.#reader.read();
    if (done) {
      this.done = true;
      return false;
    }
    this.chunks.push(value.length);
    this.#buf += this.#decoder.decode(value, { stream: true });
    let i: number;
    while ((i = this.#buf.indexOf("\n")) >= 0) {
      const line = this.#buf.slice(0, i);
      this.#buf = this.#buf.slice(i + 1);
      if (line.trim() !== "") this.#queue.push(JSON.parse(line) as Ev);
    }
    return true;
  }

  /** The next `n` events; throws if the stream ends first. */
  async take(n: number): Promise<Ev[]> {
    while (this.#queue.length < n) {
      if (!(await this.#pull())) throw new Error(`stream ended after ${this.#queue.length} of ${n} events`);
    }
    return this.#queue.splice(0, n);
  }

  /** Every remaining event until the stream ends. */
  async rest(): Promise<Ev[]> {
    while (await this.#pull()) {
      // keep reading
    }
    if (this.#buf.trim() !== "") throw new Error(`trailing partial event: ${this.#buf}`);
    return this.#queue.splice(0);
  }

  /** Reads until the stream errors; resolves to the error. */
  async error(): Promise<unknown> {
    try {
      while (await this.#pull()) {
        // keep reading
      }
    } catch (e) {
      return e;
    }
    throw new Error("stream ended cleanly instead of failing");
  }

  /** Cancels the stream. */
  async cancel(): Promise<void> {
    await this.#reader.cancel();
  }
}

/** Sends a request to the handler. */
export function call(
  server: FakeKubeApiServer,
  method: string,
  path: string,
  o: { body?: unknown; contentType?: string; token?: string } = {},
): Promise<Response> {
  const headers: Record<string, string> = {};
  let body: string | undefined;
  if (o.body !== undefined) {
    body = typeof o.body === "string" ? o.body : JSON.stringify(o.body);
    headers["content-type"] = o.contentType ?? "application/json";
  }
  if (o.token !== undefined) headers["authorization"] = `Bearer ${o.token}`;
  const init: RequestInit = { method, headers };
  if (body !== undefined) init.body = body;
  return server.fetch(new Request(`http://fake.local${path}`, init));
}

/** GET and decode JSON. */
export async function getJson(server: FakeKubeApiServer, path: string, token?: string): Promise<{ status: number; body: any }> {
  const res = await call(server, "GET", path, token !== undefined ? { token } : {});
  return { status: res.status, body: await res.json() };
}

/** Opens a watch and returns a reader. */
export async function watch(server: FakeKubeApiServer, query: string, ns = "default"): Promise<{ res: Response; events: EventReader }> {
  const path = ns === "" ? `/api/v1/pods?watch=true&${query}` : `/api/v1/namespaces/${ns}/pods?watch=true&${query}`;
  const res = await call(server, "GET", path);
  return { res, events: new EventReader(res.body) };
}
