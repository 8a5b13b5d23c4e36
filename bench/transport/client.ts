/**
 * Transport-bench client: unary `helloworld.Greeter/SayHello` calls over 3
 * servers at each concurrency in `--concurrency=1,32,128`, one measured
 * window per level after a warm-up. `--mode`:
 * - `discovery-rr` / `discovery-p2c`: kratos-kube's `createDiscoveryTransport`
 *   (round_robin / p2c) over a manual discovery of the 3 addresses;
 * - `direct`: 3 connect-node gRPC transports, calls alternated by hand;
 * - `grpcjs`: one @grpc/grpc-js client, `round_robin` over static `ipv4:` addresses.
 *
 * Reports, per level, calls/s and client CPU µs per call.
 *
 * @module
 */
import process from "node:process";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { createClient, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createDiscoveryTransport, createManualDiscovery } from "../../src/connect/index.ts";
import { Greeter, HelloReplySchema, HelloRequestSchema } from "../../proto/gen/helloworld_pb.ts";
import { arg, cpuMicros, numArg, report } from "../lib/proc.ts";

const mode = arg("mode", "discovery-rr");
const addrs = arg("addrs", "").split(",");
const levels = arg("concurrency", "1,32,128").split(",").map(Number);
const windowMs = numArg("window-ms", 1000);
const warmMs = numArg("warm-ms", 300);

type Call = () => Promise<unknown>;
let call: Call;
let close: () => Promise<void> = async () => {};

if (mode === "grpcjs") {
  const client = new grpc.Client(`ipv4:${addrs.join(",")}`, grpc.credentials.createInsecure(), {
    "grpc.service_config": JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
  });
  const req = create(HelloRequestSchema, { name: "world" });
  const ser = (m: typeof req): Buffer => Buffer.from(toBinary(HelloRequestSchema, m));
  const de = (b: Buffer): unknown => fromBinary(HelloReplySchema, b);
  call = () =>
    new Promise((resolve, reject) => {
      client.makeUnaryRequest("/helloworld.Greeter/SayHello", ser, de, req, (err, res) => (err ? reject(err) : resolve(res)));
    });
  close = async () => client.close();
} else if (mode === "direct") {
  const transports: Transport[] = addrs.map((a) => createGrpcTransport({ baseUrl: `http://${a}` }));
  const clients = transports.map((t) => createClient(Greeter, t));
  let i = 0;
  call = () => clients[i++ % clients.length]!.sayHello({ name: "world" });
} else {
  const discovery = createManualDiscovery({
    greeter: addrs.map((a, i) => ({ id: `g-${i}`, name: "greeter", version: "", metadata: {}, endpoints: [`grpc://${a}`] })),
  });
  const t = createDiscoveryTransport({ discovery, target: "discovery:///greeter", balancer: mode === "discovery-p2c" ? "p2c" : "round_robin" });
  await t.ready({ count: addrs.length });
  const client = createClient(Greeter, t);
  call = () => client.sayHello({ name: "world" });
  close = () => t.close();
}

async function level(concurrency: number): Promise<{ rps: number; cpuUsPerCall: number }> {
  let stop = false;
  let counting = false;
  let calls = 0;
  let errors = 0;
  const worker = async (): Promise<void> => {
    while (!stop) {
      try {
        await call();
        if (counting) calls++;
      } catch {
        errors++;
      }
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  await new Promise((r) => setTimeout(r, warmMs));
  counting = true;
  const t0 = performance.now();
  const c0 = cpuMicros();
  await new Promise((r) => setTimeout(r, windowMs));
  const c1 = cpuMicros();
  const t1 = performance.now();
  counting = false;
  const n = calls;
  stop = true;
  await Promise.all(workers);
  if (errors > 0) process.stderr.write(`${mode}: ${errors} failed calls at concurrency ${concurrency}\n`);
  return { rps: n / ((t1 - t0) / 1000), cpuUsPerCall: (c1 - c0) / n };
}

const out: Record<string, number> = {};
for (const c of levels) {
  const r = await level(c);
  out[`rps@${c}`] = r.rps;
  out[`cpu@${c}`] = r.cpuUsPerCall;
}
await close();
report(out);
process.exit(0);
