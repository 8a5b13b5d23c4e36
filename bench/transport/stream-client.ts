/**
 * Transport-bench streaming client: one server stream of `--messages=N`
 * small messages (`kratoskube.echo.v1.Echo/Repeat` on the greeter servers),
 * per mode of `--mode` (`discovery-rr`: kratos-kube's transport, `direct`:
 * connect-node, `grpcjs`: @grpc/grpc-js), `--rounds` times, interleaved.
 * Reports messages per CPU-second and per wall-second of each mode
 * (`msgs-cpu@mode`, `msgs-wall@mode`), pooled over the rounds.
 *
 * @module
 */
import process from "node:process";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Echo, EchoRequestSchema, EchoResponseSchema } from "../../proto/gen/echo_pb.ts";
import { arg, cpuMicros, numArg, report } from "../lib/proc.ts";

type Lib = typeof import("../../src/connect/index.ts");
const lib = (await import(process.env["KK_LIB"] ?? "../../src/connect/index.ts")) as Lib;
const modes = arg("mode", "discovery-rr,direct,grpcjs").split(",");
const addr = arg("addrs", "").split(",")[0]!;
const messages = numArg("messages", 100_000);
const rounds = numArg("rounds", 3);

/** Reads one whole stream; resolves with the number of messages. */
type Run = () => Promise<number>;

async function setup(mode: string): Promise<{ run: Run; close(): Promise<void> }> {
  const req = { text: "m", count: messages };
  if (mode === "grpcjs") {
    const client = new grpc.Client(`ipv4:${addr}`, grpc.credentials.createInsecure());
    const msg = create(EchoRequestSchema, req);
    const run: Run = () =>
      new Promise((resolve, reject) => {
        let n = 0;
        const call = client.makeServerStreamRequest(
          "/kratoskube.echo.v1.Echo/Repeat",
          (m: typeof msg) => Buffer.from(toBinary(EchoRequestSchema, m)),
          (b: Buffer) => fromBinary(EchoResponseSchema, b),
          msg,
        );
        call.on("data", () => n++);
        call.on("error", reject);
        call.on("end", () => resolve(n));
      });
    return { run, close: async () => client.close() };
  }
  const transport = mode === "direct"
    ? createGrpcTransport({ baseUrl: `http://${addr}` })
    : lib.createDiscoveryTransport({
        discovery: lib.createManualDiscovery({ echo: [{ id: "e", name: "echo", version: "", metadata: {}, endpoints: [`grpc://${addr}`] }] }),
        target: "discovery:///echo",
      });
  if (mode !== "direct" && mode !== "discovery-rr") throw new Error(`unknown --mode ${mode}`);
  const client = createClient(Echo, transport);
  const run: Run = async () => {
    let n = 0;
    for await (const _ of client.repeat(req)) n++;
    return n;
  };
  return { run, close: async () => void (await (transport as { close?: () => Promise<void> }).close?.()) };
}

const set = [];
for (const m of modes) set.push({ name: m, ...(await setup(m)) });
const tot = set.map(() => ({ msgs: 0, cpu: 0, wall: 0 }));
for (const s of set) await s.run(); // warm-up
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? set.map((_, i) => i) : set.map((_, i) => set.length - 1 - i);
  for (const i of order) {
    const c0 = cpuMicros();
    const t0 = performance.now();
    const n = await set[i]!.run();
    tot[i]!.cpu += cpuMicros() - c0;
    tot[i]!.wall += performance.now() - t0;
    tot[i]!.msgs += n;
    if (n !== messages) throw new Error(`${set[i]!.name}: ${n} of ${messages} messages`);
  }
}
const out: Record<string, number> = {};
set.forEach((s, i) => {
  out[`msgs-cpu@${s.name}`] = tot[i]!.msgs / (tot[i]!.cpu / 1e6);
  out[`msgs-wall@${s.name}`] = tot[i]!.msgs / (tot[i]!.wall / 1000);
});
for (const s of set) await s.close();
report(out);
process.exit(0);
