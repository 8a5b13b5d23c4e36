/**
 * Transport-bench client: unary `helloworld.Greeter/SayHello` calls over 3
 * servers at each concurrency in `--concurrency=1,32,128`. `--mode` is one
 * mode or a comma-separated list of them:
 * - `floor`: a hand-rolled unary gRPC call over `node:http2` (floor.ts),
 *   round robin over one session per server: the baseline of the ratios;
 * - `discovery-rr` / `discovery-p2c`: kratos-kube's `createDiscoveryTransport`
 *   (round_robin / p2c) over a manual discovery of the 3 addresses;
 * - `direct`: 3 connect-node gRPC transports, calls alternated by hand (the
 *   cost of kratos-kube's former connect-node call path);
 * - `grpcjs`: one @grpc/grpc-js client, `round_robin` over static `ipv4:` addresses.
 *
 * With one mode: one measured window per level after a warm-up. With several,
 * they are interleaved in this one process: after a warm-up of each, every
 * round runs each mode for `--slice-ms` (all calls of a slice end before the
 * next starts), `--rounds` times, so drift of the machine (other tenants,
 * frequency) hits every mode alike. The library is imported from `KK_LIB`
 * when set (the bench points it at the tsup build in dist/, what npm users
 * run), else from src/.
 *
 * Reports, per level and mode, calls/s and client CPU µs per call; with
 * several modes also the median over rounds of each mode's ratio to the
 * first (`ratio-rps@…`, `ratio-cpu@…`). With `--alloc` (one mode, Node only):
 * also the bytes allocated on the JS heap per call in the window
 * (`alloc@…`, from `v8.GCProfiler`: the heap used before each GC minus after
 * the previous one, plus the growth since the last GC).
 *
 * @module
 */
import process from "node:process";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { createClient, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Greeter, HelloReplySchema, HelloRequestSchema } from "../../proto/gen/helloworld_pb.ts";
import { arg, cpuMicros, numArg, report } from "../lib/proc.ts";
import { createFloorClient } from "./floor.ts";

type Lib = typeof import("../../src/connect/index.ts");
const lib = (await import(process.env["KK_LIB"] ?? "../../src/connect/index.ts")) as Lib;
const modes = arg("mode", "discovery-rr").split(",");
const addrs = arg("addrs", "").split(",");
const levels = arg("concurrency", "1,32,128").split(",").map(Number);
const windowMs = numArg("window-ms", 1000);
const warmMs = numArg("warm-ms", 300);
const sliceMs = numArg("slice-ms", 250);
const rounds = numArg("rounds", 12);
const alloc = process.argv.includes("--alloc");

type Call = () => Promise<unknown>;
interface Mode {
  readonly name: string;
  readonly call: Call;
  close(): Promise<void>;
}

async function setup(mode: string): Promise<Mode> {
  if (mode === "grpcjs") {
    const client = new grpc.Client(`ipv4:${addrs.join(",")}`, grpc.credentials.createInsecure(), {
      "grpc.service_config": JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
    });
    const req = create(HelloRequestSchema, { name: "world" });
    const ser = (m: typeof req): Buffer => Buffer.from(toBinary(HelloRequestSchema, m));
    const de = (b: Buffer): unknown => fromBinary(HelloReplySchema, b);
    const call = (): Promise<unknown> =>
      new Promise((resolve, reject) => {
        client.makeUnaryRequest("/helloworld.Greeter/SayHello", ser, de, req, (err, res) => (err ? reject(err) : resolve(res)));
      });
    return { name: mode, call, close: async () => client.close() };
  }
  if (mode === "floor") {
    const f = createFloorClient(addrs);
    return { name: mode, call: f.call, close: f.close };
  }
  if (mode === "direct") {
    const transports: Transport[] = addrs.map((a) => createGrpcTransport({ baseUrl: `http://${a}` }));
    const clients = transports.map((t) => createClient(Greeter, t));
    let i = 0;
    return { name: mode, call: () => clients[i++ % clients.length]!.sayHello({ name: "world" }), close: async () => {} };
  }
  if (mode !== "discovery-rr" && mode !== "discovery-p2c") throw new Error(`unknown --mode ${mode}`);
  const discovery = lib.createManualDiscovery({
    greeter: addrs.map((a, i) => ({ id: `g-${i}`, name: "greeter", version: "", metadata: {}, endpoints: [`grpc://${a}`] })),
  });
  const t = lib.createDiscoveryTransport({ discovery, target: "discovery:///greeter", balancer: mode === "discovery-p2c" ? "p2c" : "round_robin" });
  await t.ready({ count: addrs.length });
  const client = createClient(Greeter, t);
  return { name: mode, call: () => client.sayHello({ name: "world" }), close: () => t.close() };
}

/** Runs `concurrency` workers of `m` for `ms`, counting the calls and CPU of the last `ms - skipMs`. */
async function run(m: Mode, concurrency: number, ms: number, skipMs: number): Promise<{ calls: number; cpu: number; wall: number; bytes: number }> {
  let stop = false;
  let counting = false;
  let calls = 0;
  let errors = 0;
  const worker = async (): Promise<void> => {
    while (!stop) {
      try {
        await m.call();
        if (counting) calls++;
      } catch {
        errors++;
      }
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  if (skipMs > 0) await new Promise((r) => setTimeout(r, skipMs));
  const heap = alloc ? await allocationMeter() : undefined;
  counting = true;
  const t0 = performance.now();
  const c0 = cpuMicros();
  await new Promise((r) => setTimeout(r, ms));
  const c1 = cpuMicros();
  const t1 = performance.now();
  const bytes = heap?.() ?? Number.NaN;
  counting = false;
  const n = calls;
  stop = true;
  await Promise.all(workers);
  if (errors > 0) process.stderr.write(`${m.name}: ${errors} failed calls at concurrency ${concurrency}\n`);
  return { calls: n, cpu: c1 - c0, wall: t1 - t0, bytes };
}

/** Starts counting JS heap allocation (Node's `v8.GCProfiler`); the returned function stops and gives the bytes. */
async function allocationMeter(): Promise<() => number> {
  const v8 = await import("node:v8");
  const used = (): number => v8.getHeapStatistics().used_heap_size;
  const start = used();
  const profiler = new v8.GCProfiler();
  profiler.start();
  return () => {
    const end = used();
    const gcs = profiler.stop()?.statistics ?? [];
    let bytes = 0;
    let prev = start;
    for (const g of gcs) {
      bytes += Math.max(0, g.beforeGC.heapStatistics.usedHeapSize - prev);
      prev = g.afterGC.heapStatistics.usedHeapSize;
    }
    return bytes + Math.max(0, end - prev);
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

const set: Mode[] = [];
for (const m of modes) set.push(await setup(m));
const out: Record<string, number> = {};
for (const c of levels) {
  if (set.length === 1) {
    const r = await run(set[0]!, c, windowMs, warmMs);
    out[`rps@${c}`] = r.calls / (r.wall / 1000);
    out[`cpu@${c}`] = r.cpu / r.calls;
    if (alloc) out[`alloc@${c}`] = r.bytes / r.calls;
    continue;
  }
  for (const m of set) await run(m, c, warmMs, 0);
  const tot = set.map(() => ({ calls: 0, cpu: 0, wall: 0 }));
  const ratios = set.map(() => ({ rps: [] as number[], cpu: [] as number[] }));
  for (let round = 0; round < rounds; round++) {
    // Alternate the order each round so neither mode always follows the other.
    const order = round % 2 === 0 ? set.map((_, i) => i) : set.map((_, i) => set.length - 1 - i);
    const r: { calls: number; cpu: number; wall: number }[] = [];
    for (const i of order) r[i] = await run(set[i]!, c, sliceMs, 0);
    for (let i = 0; i < set.length; i++) {
      tot[i]!.calls += r[i]!.calls;
      tot[i]!.cpu += r[i]!.cpu;
      tot[i]!.wall += r[i]!.wall;
      ratios[i]!.rps.push(r[i]!.calls / r[i]!.wall / (r[0]!.calls / r[0]!.wall));
      ratios[i]!.cpu.push(r[i]!.cpu / r[i]!.calls / (r[0]!.cpu / r[0]!.calls));
    }
  }
  set.forEach((m, i) => {
    out[`rps@${c}@${m.name}`] = tot[i]!.calls / (tot[i]!.wall / 1000);
    out[`cpu@${c}@${m.name}`] = tot[i]!.cpu / tot[i]!.calls;
    out[`ratio-rps@${c}@${m.name}`] = median(ratios[i]!.rps);
    out[`ratio-cpu@${c}@${m.name}`] = median(ratios[i]!.cpu);
  });
}
for (const m of set) await m.close();
report(out);
process.exit(0);
