/**
 * A greeter App in its own process, for the SIGKILL test in
 * test/reliability/app-rolling-update.test.ts. It registers its Pod in the
 * fake API server at argv[2] (over HTTP) through `KubernetesRegistry`. The
 * parent plays the kubelet: when the App is about to register, the child
 * prints `{"listening": "<endpoint>"}` and waits for a line on stdin (the
 * parent has created the Pod with that port); it prints
 * `{"endpoint": …}` once running. SayHello takes argv[6] ms of work.
 *
 *   app-child.ts <api-server-url> <pod-name> <namespace> <service> <workMs>
 */
import { createApp, grpcServer } from "../../../src/app/index.ts";
import { KubeConfig } from "../../../src/kube/config.ts";
import { KubernetesRegistry } from "../../../src/index.ts";
import { Greeter } from "../../../proto/gen/helloworld_pb.ts";

const [url, name, ns, service, work] = process.argv.slice(2) as [string, string, string, string, string];
const workMs = Number(work);
const registry = new KubernetesRegistry({ config: KubeConfig.fromOptions({ server: url, namespace: ns }), namespace: ns, podName: name, podNamespace: ns });
const app = createApp({
  name: service,
  env: { POD_NAME: name },
  servers: [
    grpcServer({
      host: "127.0.0.1",
      port: 0,
      routes: (r) =>
        r.service(Greeter, {
          async sayHello(req) {
            await new Promise((resolve) => setTimeout(resolve, workMs));
            return { message: `Hello ${req.name} from ${name}` };
          },
        }),
    }),
  ],
  registrar: {
    async register(instance, o) {
      process.stdout.write(`${JSON.stringify({ listening: instance.endpoints[0] })}\n`);
      await new Promise<void>((resolve) => process.stdin.once("data", () => resolve()));
      process.stdin.pause();
      await registry.register(instance, o);
    },
    deregister: (instance, o) => registry.deregister(instance, o),
  },
  afterStop: () => registry.close(),
  logger: false,
  onStateChange: (s) => {
    if (s.kind === "running") process.stdout.write(`${JSON.stringify({ endpoint: app.endpoints[0] })}\n`);
  },
});
await app.run();
