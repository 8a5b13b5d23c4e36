/**
 * The sayhello.service example server for deploy/sayhello.yaml.
 *
 * A kratos-kube App: serves helloworld.Greeter (and grpc.health.v1, for the
 * readiness probe) over h2c on GRPC_PORT (default 9000, the go-kratos default
 * gRPC port), registers its own Pod with KubernetesRegistry (POD_NAME /
 * POD_NAMESPACE from the downward API), and on SIGTERM stops in order:
 * NOT_SERVING, deregister, serve what still arrives for the shutdown delay,
 * wait for the calls in flight, GOAWAY, close.
 *
 * Uses only the public package API (`kratos-kube`, `kratos-kube/app`).
 */
import { KubernetesRegistry } from "kratos-kube";
import { createApp, grpcServer } from "kratos-kube/app";
import { Greeter } from "../../proto/gen/helloworld_pb.ts";

const port = Number(process.env.GRPC_PORT ?? "9000");

// In a Pod, the registry finds the in-cluster service account; the Pod it
// patches defaults to POD_NAMESPACE / POD_NAME.
await using registry = new KubernetesRegistry({ onError: (e) => console.error(`registry: ${e.message}`) });
const app = createApp({
  name: "sayhello.service",
  version: process.env.VERSION ?? "v1.0.0",
  metadata: { weight: "100" },
  registrar: registry,
  servers: [
    grpcServer({
      port,
      routes: (router) => router.service(Greeter, { sayHello: (req) => ({ message: `Hello ${req.name} from ${app.id}` }) }),
    }),
  ],
  // The Pod's preStop sleep (5 s) runs before SIGTERM; it and the whole stop
  // must fit in terminationGracePeriodSeconds (30 s).
  stopTimeoutMs: 20_000,
});
await app.run(); // until SIGTERM
