/**
 * The sayhello.service example server for deploy/sayhello.yaml.
 *
 * Serves helloworld.Greeter and grpc.health.v1.Health over h2c on GRPC_PORT
 * (default 9000, the go-kratos default gRPC port), registers its own Pod with
 * KubernetesRegistry (POD_NAME / POD_NAMESPACE from the downward API), and on
 * SIGTERM drains: NOT_SERVING, deregister, finish in-flight calls, close.
 *
 * Uses only the public package API (`kratos-kube`) plus connect-node.
 */
import { createServer, type Http2Session } from "node:http2";
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { KubernetesRegistry, type ServiceInstance } from "kratos-kube";
import { Greeter } from "../../proto/gen/helloworld_pb.ts";
import { Health, HealthCheckResponse_ServingStatus } from "../../proto/gen/health_pb.ts";

const port = Number(process.env.GRPC_PORT ?? "9000");
const podName = process.env.POD_NAME ?? process.env.HOSTNAME ?? "sayhello";
let serving = true;
let inFlight = 0;
let idle: (() => void) | undefined;

function routes(router: ConnectRouter): void {
  router.service(Greeter, {
    async sayHello(req) {
      inFlight++;
      try {
        return { message: `Hello ${req.name} from ${podName}` };
      } finally {
        if (--inFlight === 0) idle?.();
      }
    },
  });
  router.service(Health, {
    check: () => ({ status: serving ? HealthCheckResponse_ServingStatus.SERVING : HealthCheckResponse_ServingStatus.NOT_SERVING }),
    async *watch(_req, ctx) {
      yield { status: serving ? HealthCheckResponse_ServingStatus.SERVING : HealthCheckResponse_ServingStatus.NOT_SERVING };
      await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
    },
  });
}

const server = createServer(connectNodeAdapter({ routes, grpc: true }));
const sessions = new Set<Http2Session>();
server.on("session", (s) => {
  sessions.add(s);
  s.on("close", () => sessions.delete(s));
});
await new Promise<void>((resolve) => server.listen(port, "0.0.0.0", resolve));

// In a Pod, KubeConfig.load() finds the in-cluster service account; the
// watched namespace and the pod to patch default to POD_NAMESPACE / POD_NAME.
const registry = new KubernetesRegistry({ onError: (e) => console.error(`registry: ${e.message}`) });
const instance: ServiceInstance = {
  id: podName,
  name: "sayhello.service",
  version: process.env.VERSION ?? "v1.0.0",
  metadata: { weight: "100" },
  endpoints: [`grpc://0.0.0.0:${port}`],
};
await registry.register(instance);
console.log(`sayhello: serving on :${port} as ${podName}`);

process.once("SIGTERM", () => {
  void (async () => {
    // The kubelet ran preStop (sleep) first; clients already dropped this pod
    // at the deletionTimestamp event. Stop reporting SERVING, leave discovery,
    // let in-flight calls finish, then close.
    serving = false;
    await registry.deregister(instance).catch((e: unknown) => console.error(`deregister: ${String(e)}`));
    if (inFlight > 0) await new Promise<void>((resolve) => (idle = resolve));
    for (const s of sessions) s.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await registry.close();
    console.log("sayhello: drained, bye");
  })();
});
