/**
 * The micro-forge example client for deploy/micro-forge.yaml.
 *
 * Discovers sayhello.service by watching Pods (KubernetesRegistry) and calls
 * SayHello RATE times a second through createDiscoveryTransport (BALANCER:
 * round_robin, p2c, wrr or random), logging a count per answering pod every
 * 10 s. A kratos-kube App itself: it serves grpc.health.v1 on GRPC_PORT for
 * its readiness probe, registers its own Pod as micro-forge.service, calls
 * from `afterStart` and stops calling in `beforeStop` (SIGTERM).
 *
 * Uses only the public package API (`kratos-kube`, `kratos-kube/app`,
 * `kratos-kube/connect`) plus connect.
 */
import { createClient } from "@connectrpc/connect";
import { KubernetesRegistry } from "kratos-kube";
import { createApp, grpcServer } from "kratos-kube/app";
import { createDiscoveryTransport } from "kratos-kube/connect";
import { Greeter } from "../../proto/gen/helloworld_pb.ts";

const port = Number(process.env.GRPC_PORT ?? "9000");
const target = process.env.TARGET ?? "discovery:///sayhello.service";
const balancer = (process.env.BALANCER ?? "round_robin") as "round_robin" | "p2c" | "wrr" | "random";
const rate = Math.max(1, Number(process.env.RATE ?? "10"));

await using registry = new KubernetesRegistry({ onError: (e) => console.error(`registry: ${e.message}`) });
await using transport = createDiscoveryTransport({ discovery: registry, target, balancer });
const client = createClient(Greeter, transport);
const counts = new Map<string, number>();
let failed = 0;
const calls = new AbortController();
let tick: ReturnType<typeof setInterval> | undefined;
let report: ReturnType<typeof setInterval> | undefined;

const app = createApp({
  name: "micro-forge.service",
  version: process.env.VERSION ?? "v1.0.0",
  registrar: registry,
  // Nothing but the health service: micro-forge is a client.
  servers: [grpcServer({ port, routes: () => {} })],
  afterStart: async () => {
    await registry.start(); // fail early on missing RBAC
    tick = setInterval(() => {
      client
        .sayHello({ name: app.id }, { timeoutMs: 2000, signal: calls.signal })
        .then((r) => {
          const from = r.message.split(" from ")[1] ?? "?";
          counts.set(from, (counts.get(from) ?? 0) + 1);
        })
        .catch((e: unknown) => {
          if (!calls.signal.aborted) {
            failed++;
            console.error(`call failed: ${e instanceof Error ? e.message : String(e)}`);
          }
        });
    }, 1000 / rate);
    report = setInterval(() => console.log(`micro-forge: ${JSON.stringify(Object.fromEntries(counts))} failed=${failed}`), 10_000);
  },
  beforeStop: () => {
    clearInterval(tick);
    clearInterval(report);
    calls.abort();
  },
  // Nobody calls micro-forge: no need to keep serving after it deregistered.
  shutdownDelayMs: 0,
});
await app.run(); // until SIGTERM
