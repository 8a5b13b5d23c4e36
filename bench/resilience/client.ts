/**
 * Resilience-bench client: starts its own 5 grpc-go Greeter servers (some
 * misbehaving, bench/resilience/servers.ts), runs a closed loop of
 * `--calls` unary `helloworld.Greeter/SayHello` calls at `--concurrency`
 * through one client, and reports failed calls, latency percentiles and the
 * share of SayHello calls each server slot answered.
 *
 * `--scenario=a`: 3 servers at 5 ms, one at 50 ms, one failing 20 % of
 * calls with Unavailable. `--scenario=b`: 3 at 5 ms, one at 50 ms, one
 * flapping its health every second; every `--roll-ms` one slot (in turn) is
 * replaced by a fresh server that is 5× slower for its first 2 s.
 *
 * `--mode`:
 * - `kk`: kratos-kube `createDiscoveryTransport` at its defaults with
 *   SayHello named in `retry.methods` (idempotent), over a manual discovery
 *   whose list follows the rolling update (`set()`);
 * - `kk-plain`: the same with `outlierDetection: false, retry: false`;
 * - `kk-p2c`: `kk` with the p2c balancer (Kratos's EWMA: it sees latency);
 * - `grpcjs-od`: @grpc/grpc-js `outlier_detection` over `round_robin`;
 * - `grpcjs-od-retry`: the same plus a gRPC `retryPolicy` for SayHello;
 * - `grpcjs`: grpc-js `round_robin`.
 * grpc-js gets a static `ipv4:` list in scenario A and, in scenario B, a
 * resolver registered here whose list follows the rolling update.
 * The library is imported from `KK_LIB` when set (the tsup build), else src/.
 *
 * @module
 */
import process from "node:process";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { Greeter, HelloReplySchema, HelloRequestSchema } from "../../proto/gen/helloworld_pb.ts";
import { arg, numArg, report } from "../lib/proc.ts";
import { Fleet } from "./servers.ts";

type Lib = typeof import("../../src/connect/index.ts");
const lib = (await import(process.env["KK_LIB"] ?? "../../src/connect/index.ts")) as Lib;

const mode = arg("mode", "kk");
const scenario = arg("scenario", "a");
const bin = arg("bin", "");
const total = numArg("calls", 6000);
const concurrency = numArg("concurrency", 16);
const rollMs = numArg("roll-ms", 1000);
const timeoutMs = 10_000;

const FAST = ["-delay", "5ms"];
const SLOW = ["-delay", "50ms"];
const SLOTS: readonly (readonly string[])[] =
  scenario === "a"
    ? [FAST, FAST, FAST, SLOW, [...FAST, "-fail-percent", "20"]]
    : [FAST, FAST, FAST, SLOW, [...FAST, "-flap", "1s"]];
const COLD = ["-cold", "2s", "-cold-factor", "5"];

/** A client: one call, a way to tell it the new server list, close. */
interface Client {
  call(): Promise<unknown>;
  publish(addresses: string[]): void;
  close(): Promise<void>;
}

// grpc-js: a resolver whose list the rolling update sets (scheme `kkbench:`).
let jsAddresses: string[] = [];
const jsListeners = new Set<() => void>();
class BenchResolver {
  private readonly push: () => void;
  constructor(_target: unknown, listener: grpc.experimental.ResolverListener) {
    this.push = () =>
      void listener(
        {
          ok: true,
          value: jsAddresses.map((a) => {
            const i = a.lastIndexOf(":");
            return { addresses: [{ host: a.slice(0, i), port: Number(a.slice(i + 1)) }] };
          }),
        },
        {},
        null,
        "",
      );
    jsListeners.add(this.push);
  }
  updateResolution(): void {
    setImmediate(this.push);
  }
  destroy(): void {
    jsListeners.delete(this.push);
  }
  static getDefaultAuthority(): string {
    return "greeter";
  }
}

function grpcJs(addresses: string[]): Client {
  const rr = [{ round_robin: {} }];
  const od = [
    {
      outlier_detection: {
        interval: { seconds: 1, nanos: 0 },
        base_ejection_time: { seconds: 30, nanos: 0 },
        max_ejection_time: { seconds: 300, nanos: 0 },
        max_ejection_percent: 10,
        success_rate_ejection: {},
        child_policy: rr,
      },
    },
  ];
  const config: Record<string, unknown> = { loadBalancingConfig: mode === "grpcjs" ? rr : od };
  if (mode === "grpcjs-od-retry") {
    config["methodConfig"] = [
      {
        name: [{ service: "helloworld.Greeter", method: "SayHello" }],
        retryPolicy: { maxAttempts: 3, initialBackoff: "0.01s", maxBackoff: "1s", backoffMultiplier: 2, retryableStatusCodes: ["UNAVAILABLE"] },
      },
    ];
  }
  jsAddresses = addresses;
  let target = `ipv4:${addresses.join(",")}`;
  if (scenario === "b") {
    grpc.experimental.registerResolver("kkbench", BenchResolver as unknown as Parameters<typeof grpc.experimental.registerResolver>[1]);
    target = "kkbench:greeter";
  }
  const client = new grpc.Client(target, grpc.credentials.createInsecure(), { "grpc.service_config": JSON.stringify(config) });
  const req = create(HelloRequestSchema, { name: "world" });
  const ser = (m: typeof req): Buffer => Buffer.from(toBinary(HelloRequestSchema, m));
  const de = (b: Buffer): unknown => fromBinary(HelloReplySchema, b);
  return {
    call: () =>
      new Promise((resolve, reject) => {
        client.makeUnaryRequest("/helloworld.Greeter/SayHello", ser, de, req, { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res)));
      }),
    publish: (a) => {
      jsAddresses = a;
      for (const push of jsListeners) push();
    },
    close: async () => client.close(),
  };
}

async function kratosKube(addresses: string[]): Promise<Client> {
  const instances = (a: string[]): Parameters<typeof discovery.set>[1] =>
    a.map((addr, slot) => ({ id: `greeter-${slot}-${addr}`, name: "greeter", version: "", metadata: {}, endpoints: [`grpc://${addr}`] }));
  const discovery = lib.createManualDiscovery();
  discovery.set("greeter", instances(addresses));
  const t = lib.createDiscoveryTransport({
    discovery,
    target: "discovery:///greeter",
    ...(mode === "kk-plain" ? { outlierDetection: false, retry: false } : { retry: { methods: ["helloworld.Greeter/SayHello"] } }),
    ...(mode === "kk-p2c" ? { balancer: "p2c" as const } : {}),
  });
  await t.ready({ count: addresses.length });
  const client = createClient(Greeter, t);
  return {
    call: () => client.sayHello({ name: "world" }, { timeoutMs }),
    publish: (a) => {
      discovery.set("greeter", instances(a));
    },
    close: () => t.close(),
  };
}

if (bin === "") throw new Error("--bin=<greeter-bench binary> is required");
const fleet = await Fleet.start(bin, SLOTS);
const client = mode.startsWith("kk") ? await kratosKube(fleet.addresses) : grpcJs(fleet.addresses);
if (!mode.startsWith("kk")) await client.call().catch(() => undefined); // connects round_robin's subchannels (kratos-kube's ready() did)

const latencies = new Float64Array(total);
let started = 0;
let done = 0;
let failed = 0;
const errors = new Map<string, number>();
let rolling = scenario === "b";
let replacements = 0;
const roll = async (): Promise<void> => {
  let slot = 0;
  while (rolling) {
    await new Promise((r) => setTimeout(r, rollMs));
    if (!rolling) break;
    await fleet.replace(bin, slot, [...SLOTS[slot]!, ...COLD], (a) => client.publish(a));
    replacements++;
    slot = (slot + 1) % SLOTS.length;
  }
};
const rollDone = roll();
const t0 = performance.now();
const worker = async (): Promise<void> => {
  while (started < total) {
    const i = started++;
    const s = performance.now();
    try {
      await client.call();
    } catch (e) {
      failed++;
      const k = e instanceof Error ? e.message.slice(0, 120) : String(e);
      errors.set(k, (errors.get(k) ?? 0) + 1);
    }
    latencies[i] = performance.now() - s;
    done++;
  }
};
await Promise.all(Array.from({ length: concurrency }, worker));
const wallMs = performance.now() - t0;
rolling = false;
await rollDone;
await client.close();
const served = await fleet.stop();
for (const [k, n] of errors) process.stderr.write(`# ${mode} ${scenario}: ${n} × ${k}\n`);

const sorted = Array.from(latencies).sort((a, b) => a - b);
const pct = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
const attempts = served.reduce((a, b) => a + b, 0);
const out: Record<string, number> = { calls: done, failed, p50: pct(50), p99: pct(99), p999: pct(99.9), wallMs, attempts, replacements };
served.forEach((n, i) => (out[`share${i}`] = attempts > 0 ? n / attempts : Number.NaN));
report(out);
process.exit(0);
