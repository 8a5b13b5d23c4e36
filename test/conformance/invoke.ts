/**
 * Runs the RPC a `ClientCompatRequest` describes with connect's promise
 * client over a given transport, and records what happened as a
 * `ClientResponseResult`: headers, payloads, trailers, the error (its
 * metadata standing in for trailers, as docs/testing_clients.md asks), with
 * the request delays and cancellation timings of the request.
 *
 * @module
 */
import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { anyPack, anyUnpack, AnySchema, type Any } from "@bufbuild/protobuf/wkt";
import { ConnectError, createClient, type CallOptions, type Client, type Transport } from "@connectrpc/connect";
import { ClientResponseResultSchema, type ClientCompatRequest, type ClientResponseResult } from "./gen/connectrpc/conformance/v1/client_compat_pb.ts";
import { StreamType, type Code as ConformanceCode } from "./gen/connectrpc/conformance/v1/config_pb.ts";
import {
  BidiStreamRequestSchema,
  ClientStreamRequestSchema,
  ConformancePayloadSchema,
  ConformanceService,
  ErrorSchema,
  HeaderSchema,
  IdempotentUnaryRequestSchema,
  ServerStreamRequestSchema,
  UnaryRequestSchema,
  UnimplementedRequestSchema,
  type ConformancePayload,
  type Header,
} from "./gen/connectrpc/conformance/v1/service_pb.ts";

type Conformance = Client<typeof ConformanceService>;
const noPayload: ConformancePayload = create(ConformancePayloadSchema);

const sleep = (ms: number): Promise<void> => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

function unpack<T extends DescMessage>(any: Any | undefined, schema: T): MessageShape<T> {
  const m = any === undefined ? undefined : anyUnpack(any, schema);
  if (m === undefined) throw new Error(`request message is not a ${schema.typeName}`);
  return m;
}

function headersOf(req: ClientCompatRequest): Headers {
  const h = new Headers();
  for (const { name, value } of req.requestHeaders) for (const v of value) h.append(name, v);
  return h;
}

function toProto(h: Headers): Header[] {
  const out: Header[] = [];
  h.forEach((value, name) => out.push(create(HeaderSchema, { name, value: [value] })));
  return out;
}

/** When to cancel, per the request (`-1` = not this way). */
function cancelTiming(req: ClientCompatRequest): { beforeCloseSend: boolean; afterCloseSendMs: number; afterNumResponses: number } {
  const t = req.cancel?.cancelTiming;
  return {
    beforeCloseSend: t?.case === "beforeCloseSend",
    afterCloseSendMs: t?.case === "afterCloseSendMs" ? t.value : -1,
    afterNumResponses: t?.case === "afterNumResponses" ? t.value : -1,
  };
}

/** Records an RPC error; its metadata fills in headers (when none arrived) and trailers. */
function recordError(result: ClientResponseResult, e: unknown): void {
  const err = ConnectError.from(e);
  result.error = create(ErrorSchema, {
    code: err.code as unknown as ConformanceCode,
    message: err.rawMessage,
    details: err.details.map((d) =>
      "desc" in d ? anyPack(d.desc, create(d.desc, d.value)) : create(AnySchema, { typeUrl: `type.googleapis.com/${d.type}`, value: d.value }),
    ),
  });
  if (result.responseHeaders.length === 0) result.responseHeaders = toProto(err.metadata);
  result.responseTrailers = toProto(err.metadata);
}

function options(req: ClientCompatRequest, result: ClientResponseResult, signal: AbortSignal): CallOptions {
  return {
    headers: headersOf(req),
    signal,
    ...(req.timeoutMs !== undefined ? { timeoutMs: req.timeoutMs } : {}),
    onHeader: (h) => (result.responseHeaders = toProto(h)),
    onTrailer: (t) => (result.responseTrailers = toProto(t)),
  };
}

/** Runs the RPC of `req` over `transport`. */
export async function invoke(transport: Transport, req: ClientCompatRequest): Promise<ClientResponseResult> {
  const client = createClient(ConformanceService, transport);
  const result = create(ClientResponseResultSchema);
  const ac = new AbortController();
  const timing = cancelTiming(req);
  try {
    switch (req.method) {
      case "Unary":
      case "IdempotentUnary":
        await unary(client, req, result, ac, timing);
        break;
      case "ServerStream":
        await serverStream(client, req, result, ac, timing);
        break;
      case "ClientStream":
        await clientStream(client, req, result, ac, timing);
        break;
      case "BidiStream":
        await bidiStream(client, req, result, ac, timing);
        break;
      case "Unimplemented":
        await client.unimplemented(unpack(req.requestMessages[0], UnimplementedRequestSchema), options(req, result, ac.signal));
        break;
      default:
        throw new Error(`unknown method ${req.method}`);
    }
  } catch (e) {
    recordError(result, e);
  }
  return result;
}

type Timing = ReturnType<typeof cancelTiming>;

async function unary(client: Conformance, req: ClientCompatRequest, result: ClientResponseResult, ac: AbortController, timing: Timing): Promise<void> {
  await sleep(req.requestDelayMs);
  if (timing.afterCloseSendMs >= 0) void sleep(timing.afterCloseSendMs).then(() => ac.abort());
  const o = options(req, result, ac.signal);
  const res = req.method === "IdempotentUnary"
    ? await client.idempotentUnary(unpack(req.requestMessages[0], IdempotentUnaryRequestSchema), o)
    : await client.unary(unpack(req.requestMessages[0], UnaryRequestSchema), o);
  result.payloads.push(res.payload ?? noPayload);
}

async function serverStream(client: Conformance, req: ClientCompatRequest, result: ClientResponseResult, ac: AbortController, timing: Timing): Promise<void> {
  await sleep(req.requestDelayMs);
  const responses = client.serverStream(unpack(req.requestMessages[0], ServerStreamRequestSchema), options(req, result, ac.signal));
  if (timing.afterCloseSendMs >= 0) {
    await sleep(timing.afterCloseSendMs);
    ac.abort();
  }
  for await (const m of responses) {
    result.payloads.push(m.payload ?? noPayload);
    if (result.payloads.length === timing.afterNumResponses) ac.abort();
  }
}

async function clientStream(client: Conformance, req: ClientCompatRequest, result: ClientResponseResult, ac: AbortController, timing: Timing): Promise<void> {
  const messages = req.requestMessages.map((m) => unpack(m, ClientStreamRequestSchema));
  async function* send(): AsyncGenerator<(typeof messages)[number]> {
    for (const m of messages) {
      await sleep(req.requestDelayMs);
      yield m;
    }
    if (timing.beforeCloseSend) ac.abort();
    else if (timing.afterCloseSendMs >= 0) void sleep(timing.afterCloseSendMs).then(() => ac.abort());
  }
  const res = await client.clientStream(send(), options(req, result, ac.signal));
  result.payloads.push(res.payload ?? noPayload);
}

/** A request iterable written to by hand (for full-duplex bidi). */
function writable<T>(): { iterable: AsyncIterable<T>; write(v: T): void; close(): void } {
  const queue: T[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  return {
    iterable: {
      async *[Symbol.asyncIterator]() {
        for (;;) {
          if (queue.length > 0) yield queue.shift()!;
          else if (closed) return;
          else await new Promise<void>((r) => (wake = r));
        }
      },
    },
    write(v) {
      queue.push(v);
      wake?.();
    },
    close() {
      closed = true;
      wake?.();
    },
  };
}

async function bidiStream(client: Conformance, req: ClientCompatRequest, result: ClientResponseResult, ac: AbortController, timing: Timing): Promise<void> {
  const messages = req.requestMessages.map((m) => unpack(m, BidiStreamRequestSchema));
  const input = writable<(typeof messages)[number]>();
  const responses = client.bidiStream(input.iterable, options(req, result, ac.signal))[Symbol.asyncIterator]();
  const take = (m: { payload?: ConformancePayload | undefined }): void => {
    result.payloads.push(m.payload ?? noPayload);
    if (result.payloads.length === timing.afterNumResponses) ac.abort();
  };
  const fullDuplex = req.streamType === StreamType.FULL_DUPLEX_BIDI_STREAM;
  for (const m of messages) {
    await sleep(req.requestDelayMs);
    input.write(m);
    if (fullDuplex) {
      if (timing.afterNumResponses === 0) ac.abort();
      const next = await responses.next();
      if (next.done !== true) take(next.value);
    }
  }
  if (timing.beforeCloseSend) ac.abort();
  input.close();
  if (timing.afterCloseSendMs >= 0) void sleep(timing.afterCloseSendMs).then(() => ac.abort());
  if (timing.afterNumResponses === 0) ac.abort();
  for (;;) {
    const next = await responses.next();
    if (next.done === true) break;
    take(next.value);
  }
}
