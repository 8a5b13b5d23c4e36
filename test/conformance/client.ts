/**
 * The Connect conformance client (https://github.com/connectrpc/conformance,
 * docs/testing_clients.md): reads size-delimited `ClientCompatRequest`s
 * from stdin, runs each RPC against the reference server and writes a
 * size-delimited `ClientCompatResponse` to stdout, concurrently.
 *
 *   <runtime> test/conformance/client.ts --impl=kratos-kube   (the balancing transport, one endpoint)
 *   <runtime> test/conformance/client.ts --impl=connect-node  (connect-node's transports: the baseline)
 *
 * Runs on Node, Bun and Deno.
 *
 * @module
 */
import process from "node:process";
import { create, createRegistry, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { Transport } from "@connectrpc/connect";
import { compressionGzip, createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { createDiscoveryTransport, createManualDiscovery, type DiscoveryTransport } from "../../src/connect/index.ts";
import {
  ClientCompatRequestSchema,
  ClientCompatResponseSchema,
  ClientErrorResultSchema,
  type ClientCompatRequest,
} from "./gen/connectrpc/conformance/v1/client_compat_pb.ts";
import { Codec, Compression, Protocol } from "./gen/connectrpc/conformance/v1/config_pb.ts";
import { file_connectrpc_conformance_v1_service } from "./gen/connectrpc/conformance/v1/service_pb.ts";
import { invoke } from "./invoke.ts";

const impl = process.argv.find((a) => a.startsWith("--impl="))?.slice("--impl=".length) ?? "kratos-kube";
if (impl !== "kratos-kube" && impl !== "connect-node") throw new Error(`unknown --impl=${impl}`);
const decoder = new TextDecoder();
/** The request types, for `google.protobuf.Any` fields in JSON. */
const registry = createRegistry(file_connectrpc_conformance_v1_service);

/** A transport for one request, and how to dispose of it. */
interface Client {
  readonly transport: Transport;
  /** Resolves once the transport can take calls (connected), as an application waits at startup. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

function protocolOf(req: ClientCompatRequest): "grpc" | "grpc-web" | "connect" {
  if (req.protocol === Protocol.GRPC) return "grpc";
  if (req.protocol === Protocol.GRPC_WEB) return "grpc-web";
  if (req.protocol === Protocol.CONNECT) return "connect";
  throw new Error(`unsupported protocol ${req.protocol}`);
}

function clientFor(req: ClientCompatRequest): Client {
  if (req.compression !== Compression.IDENTITY && req.compression !== Compression.GZIP) {
    throw new Error(`unsupported compression ${req.compression}`);
  }
  if (req.codec !== Codec.PROTO && req.codec !== Codec.JSON) throw new Error(`unsupported codec ${req.codec}`);
  const protocol = protocolOf(req);
  const tls = req.serverTlsCert.byteLength > 0;
  const host = req.host.includes(":") ? `[${req.host}]` : req.host;
  const address = `${host}:${req.port}`;
  const ca = tls ? decoder.decode(req.serverTlsCert) : undefined;
  const cert = req.clientTlsCreds === undefined ? undefined : decoder.decode(req.clientTlsCreds.cert);
  const key = req.clientTlsCreds === undefined ? undefined : decoder.decode(req.clientTlsCreds.key);
  const binary = req.codec === Codec.PROTO;
  const gzip = req.compression === Compression.GZIP;
  const limit = req.messageReceiveLimit > 0 ? req.messageReceiveLimit : undefined;
  if (impl === "connect-node") {
    const base = {
      baseUrl: `${tls ? "https" : "http"}://${address}`,
      httpVersion: "2" as const,
      useBinaryFormat: binary,
      jsonOptions: { registry },
      ...(gzip ? { sendCompression: compressionGzip, compressMinBytes: 0 } : {}),
      acceptCompression: [compressionGzip],
      ...(limit !== undefined ? { readMaxBytes: limit } : {}),
      ...(tls ? { nodeOptions: { ca, ...(cert !== undefined ? { cert, key } : {}) } } : {}),
    };
    const transport = protocol === "grpc" ? createGrpcTransport(base) : protocol === "grpc-web" ? createGrpcWebTransport(base) : createConnectTransport(base);
    return { transport, ready: Promise.resolve(), close: async () => {} };
  }
  const scheme = protocol === "grpc" ? (tls ? "grpcs" : "grpc") : tls ? "https" : "http";
  const discovery = createManualDiscovery({
    conformance: [{ id: "reference-server", name: "conformance", version: "", metadata: {}, endpoints: [`${scheme}://${address}`] }],
  });
  const transport: DiscoveryTransport = createDiscoveryTransport({
    discovery,
    target: "discovery:///conformance",
    protocol,
    useBinaryFormat: binary,
    jsonOptions: { registry },
    ...(gzip ? { sendCompression: "gzip" as const, compressMinBytes: 0 } : {}),
    ...(limit !== undefined ? { readMaxBytes: limit } : {}),
    ...(tls ? { secure: { ca: ca!, ...(cert !== undefined ? { cert, key: key! } : {}) } } : {}),
    // One endpoint, no balancing: the reference server has no health service.
    healthCheck: false,
    maxAttempts: 1,
  });
  // A failed connect shows up in the call itself.
  return { transport, ready: transport.ready().catch(() => {}), close: () => transport.close() };
}

/**
 * One client per server and configuration, reused by every request that
 * shares them (as an application reuses its transport): a new TLS
 * connection per call would spend the deadline of timeout cases on
 * handshakes.
 */
const clients = new Map<string, Client>();

function cachedClient(req: ClientCompatRequest): Client {
  const key = [req.host, req.port, req.protocol, req.codec, req.compression, req.messageReceiveLimit, req.serverTlsCert.byteLength > 0, req.clientTlsCreds !== undefined].join("|");
  let c = clients.get(key);
  if (c === undefined) clients.set(key, (c = clientFor(req)));
  return c;
}

async function handle(bytes: Uint8Array): Promise<Uint8Array> {
  const req = fromBinary(ClientCompatRequestSchema, bytes);
  const res = create(ClientCompatResponseSchema, { testName: req.testName });
  try {
    const client = cachedClient(req);
    await client.ready;
    res.result = { case: "response", value: await invoke(client.transport, req) };
  } catch (e) {
    res.result = { case: "error", value: create(ClientErrorResultSchema, { message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }) };
  }
  return toBinary(ClientCompatResponseSchema, res);
}

/** Size-delimited messages from stdin (4-byte big-endian length, then the message). */
async function* requests(): AsyncGenerator<Uint8Array> {
  let buf = new Uint8Array(0);
  for await (const chunk of process.stdin as AsyncIterable<Uint8Array>) {
    const next = new Uint8Array(buf.byteLength + chunk.byteLength);
    next.set(buf);
    next.set(chunk, buf.byteLength);
    buf = next;
    while (buf.byteLength >= 4) {
      const size = new DataView(buf.buffer, buf.byteOffset, 4).getUint32(0);
      if (buf.byteLength < 4 + size) break;
      yield buf.slice(4, 4 + size);
      buf = buf.subarray(4 + size);
    }
  }
  if (buf.byteLength > 0) throw new Error("stdin ended inside a message");
}

function write(message: Uint8Array): void {
  const out = new Uint8Array(4 + message.byteLength);
  new DataView(out.buffer).setUint32(0, message.byteLength);
  out.set(message, 4);
  process.stdout.write(out);
}

process.on("SIGTERM", () => process.exit(0));
const running = new Set<Promise<void>>();
for await (const bytes of requests()) {
  const p: Promise<void> = handle(bytes).then(write, (e: unknown) => {
    process.stderr.write(`conformance client: ${String(e)}\n`);
  }).finally(() => running.delete(p));
  running.add(p);
}
await Promise.all(running);
await Promise.all([...clients.values()].map((c) => c.close()));
