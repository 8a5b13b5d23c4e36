/**
 * The micro-forge example client for deploy/micro-forge.yaml.
 *
 * Discovers sayhello.service by watching Pods (KubernetesRegistry) and calls
 * SayHello RATE times a second through createDiscoveryTransport (BALANCER:
 * round_robin, p2c, wrr or random), logging a count per answering pod every
 * 10 s. Serves grpc.health.v1 on GRPC_PORT for its readiness probe and
 * registers its own Pod as micro-forge.service.
 *
 * Uses only the public package API (`kratos-kube`, `kratos-kube/connect`)
 * plus connect.
 */
import { createServer } from "node:http2";
import { createClient, type ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { KubernetesRegistry } from "kratos-kube";
import { createDiscoveryTransport } from "kratos-kube/connect";
import { Greeter } from "../../proto/gen/helloworld_pb.ts";
import { Health, HealthCheckResponse_ServingStatus } from "../../proto/gen/health_pb.ts";

const port = Number(process.env.GRPC_PORT ?? "9000");
const target = process.env.TARGET ?? "discovery:///sayhello.service";
const balancer = (process.env.BALANCER ?? "round_robin") as "round_robin" | "p2c" | "wrr" | "random";
const rate = Math.max(1, Number(process.env.RATE ?? "10"));
const podName = process.env.POD_NAME ?? process.env.HOSTNAME ?? "micro-forge";
let serving = true;

const health = createServer(
  connectNodeAdapter({
    grpc: true,
    routes(router: ConnectRouter) {
      router.service(Health, {
        check: () => ({ status: serving ? HealthCheckResponse_ServingStatus.SERVING : HealthCheckResponse_ServingStatus.NOT_SERVING }),
        async *watch(_req, ctx) {
          yield { status: serving ? HealthCheckResponse_ServingStatus.SERVING : HealthCheckResponse_ServingStatus.NOT_SERVING };
          await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
        },
      });
    },
  }),
);
await new Promise<void>((resolve) => health.listen(port, "0.0.0.0", resolve));

const registry = new KubernetesRegistry({ onError: (e) => console.error(`registry: ${e.message}`) });
await registry.start();
// micro-forge is a Kratos service too: register it (its Deployment also sets the labels statically).
const self = { id: podName, name: "micro-forge.service", version: process.env.VERSION ?? "v1.0.0", metadata: {}, endpoints: [`grpc://0.0.0.0:${port}`] };
await registry.register(self);
const transport = createDiscoveryTransport({ discovery: registry, target, balancer });
const client = createClient(Greeter, transport);

const counts = new Map<string, number>();
let failed = 0;
const stop = new AbortController();
const tick = setInterval(() => {
  client
    .sayHello({ name: podName }, { timeoutMs: 2000, signal: stop.signal })
    .then((r) => {
      const from = r.message.split(" from ")[1] ?? "?";
      counts.set(from, (counts.get(from) ?? 0) + 1);
    })
    .catch((e: unknown) => {
      if (!stop.signal.aborted) {
        failed++;
        console.error(`call failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    });
}, 1000 / rate);
const report = setInterval(() => {
  console.log(`micro-forge: ${JSON.stringify(Object.fromEntries(counts))} failed=${failed}`);
}, 10_000);

process.once("SIGTERM", () => {
  void (async () => {
    serving = false;
    clearInterval(tick);
    clearInterval(report);
    stop.abort();
    await registry.deregister(self).catch((e: unknown) => console.error(`deregister: ${String(e)}`));
    await transport.close();
    await registry.close();
    await new Promise<void>((resolve) => health.close(() => resolve()));
    console.log("micro-forge: stopped");
  })();
});
