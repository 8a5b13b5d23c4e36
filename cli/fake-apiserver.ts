/**
 * `kratos-kube fake-apiserver`: serves the in-memory Kubernetes API server
 * (`kratos-kube/testing`) on loopback until Ctrl-C or SIGTERM, and writes a
 * kubeconfig for it that kubectl and `KubeConfig.fromKubeconfig()` both
 * accept.
 *
 * kubectl never sends a bearer token over plain `http://` (shared spec
 * `kubectl.md`), so `--token` implies `--tls`.
 *
 * @module
 */
import { rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeKubeApiServer, makePod } from "../src/testing/index.ts";
import { helpText, numberOption, parseCommandArgs, stringOption, UsageError } from "./args.ts";
import type { CommandSpec } from "./args.ts";
import { defaultIo } from "./io.ts";
import type { CliIo } from "./io.ts";

const spec: CommandSpec = {
  name: "fake-apiserver",
  positionals: [],
  summary: "Serve an in-memory Kubernetes API server (pods, watch, discovery) on loopback until Ctrl-C.",
  options: {
    port: { type: "string", value: "N", help: "port to listen on (0 picks a free one)", default: "0" },
    host: { type: "string", value: "H", help: "address to listen on", default: "127.0.0.1" },
    tls: { type: "boolean", help: "serve https with a fresh CA (written into the kubeconfig)" },
    token: { type: "string", value: "T", help: "require this bearer token (implies --tls: kubectl sends no token over http)" },
    kubeconfig: { type: "string", value: "PATH", help: "write the kubeconfig here (default: a temporary file, removed on exit)" },
    namespace: { type: "string", short: "n", value: "NS", help: "the kubeconfig's namespace, and where --pods go", default: "default" },
    pods: { type: "string", value: "N", help: "create N ready pods (IPs 10.244.x.y, grpc port 9000)", default: "0" },
    app: { type: "string", value: "NAME", help: "the kratos-service-app of the --pods", default: "demo" },
  },
  details: [
    "examples:",
    "  kratos-kube fake-apiserver --port 6443 --kubeconfig /tmp/fake.kubeconfig --pods 3 --app shop",
    "  kubectl --kubeconfig /tmp/fake.kubeconfig get pods",
    "",
    "Prints `url: URL` and `kubeconfig: PATH` (one line each) once it serves. Exit code 0 after",
    "Ctrl-C or SIGTERM, 2 on a usage error, 1 when it cannot listen.",
  ].join("\n"),
};

/** The IP of the i-th generated pod: 10.244.0.2, 10.244.0.3, … 10.244.0.251, 10.244.1.2, … */
function podIp(i: number): string {
  return `10.244.${Math.floor(i / 250) % 256}.${(i % 250) + 2}`;
}

/**
 * A ReplicaSet-like pod name, `<app>-<hash>-<5 chars>`: the suffix is the
 * index scrambled by a bijection on [0, 27^5), so names are unique and stable.
 */
function podName(app: string, i: number): string {
  const alphabet = "bcdfghjklmnpqrstvwxz2456789"; // apimachinery util/rand's alphabet
  const space = alphabet.length ** 5;
  let n = (i * 7919 + 104729) % space; // 7919 is coprime with 27^5
  let suffix = "";
  for (let k = 0; k < 5; k++) {
    suffix += alphabet[n % alphabet.length];
    n = Math.floor(n / alphabet.length);
  }
  return `${app}-7c9d8f6b5-${suffix}`;
}

function fail(io: CliIo, message: string, code: number): number {
  io.stderr.write(`kratos-kube fake-apiserver: ${message}\n`);
  return code;
}

/**
 * Runs the command. Resolves with the exit code once `io.signal` aborts and
 * the server has closed (0), or at once on a usage error (2) or when it
 * cannot listen or write the kubeconfig (1).
 */
export async function run(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  let port: number;
  let podCount: number;
  let args;
  try {
    args = parseCommandArgs(spec, argv);
    if (args.help) {
      io.stdout.write(helpText(spec));
      return 0;
    }
    port = numberOption(args, "port", 0, { min: 0, max: 65535 }, spec.name);
    podCount = numberOption(args, "pods", 0, { min: 0, max: 100_000 }, spec.name);
    if (!Number.isInteger(port)) throw new UsageError(`--port must be a whole number, not "${String(port)}"`);
    if (!Number.isInteger(podCount)) throw new UsageError(`--pods must be a whole number, not "${String(podCount)}"`);
  } catch (error) {
    if (error instanceof UsageError) return fail(io, error.message, 2);
    throw error;
  }
  const host = stringOption(args, "host") ?? "127.0.0.1";
  const token = stringOption(args, "token");
  const namespace = stringOption(args, "namespace") ?? "default";
  const app = stringOption(args, "app") ?? "demo";
  if (token !== undefined && !/^[\x21-\x7e]+$/.test(token)) {
    return fail(io, "--token must be printable ASCII without spaces (it goes into an Authorization header)", 2);
  }
  const tls = args.values["tls"] === true || token !== undefined;
  if (token !== undefined && args.values["tls"] !== true) {
    io.stderr.write("kratos-kube fake-apiserver: --token implies --tls (kubectl never sends a token over plain http)\n");
  }

  const server = new FakeKubeApiServer(token === undefined ? {} : { tokens: { [token]: { user: "kratos-kube-admin" } } });
  let kubeconfigPath = stringOption(args, "kubeconfig");
  const temporary = kubeconfigPath === undefined;
  try {
    const started = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
    for (let i = 0; i < podCount; i++) {
      const pod = makePod({ name: podName(app, i), namespace, app, ip: podIp(i), ports: [{ name: "grpc", containerPort: 9000, protocol: "TCP" }], ready: true });
      pod.metadata.creationTimestamp = started; // kubectl's AGE column: born now, not at makePod's fixed date
      if (pod.status) pod.status.startTime = started;
      server.createPod(pod);
    }
    const { url } = await server.listen({ port, host, tls });
    kubeconfigPath ??= join(tmpdir(), `kratos-kube-fake-apiserver-${new URL(url).port}.kubeconfig`);
    const text = server.kubeconfig({ namespace, ...(token !== undefined ? { token } : {}) });
    await writeFile(kubeconfigPath, text, { mode: 0o600 });
    io.stdout.write(`url: ${url}\n`);
    io.stdout.write(`kubeconfig: ${kubeconfigPath}\n`);
  } catch (error) {
    await server.close();
    return fail(io, error instanceof Error ? error.message : String(error), 1);
  }

  await new Promise<void>((resolve) => {
    if (io.signal.aborted) resolve();
    else io.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await server.close();
  if (temporary) await rm(kubeconfigPath, { force: true });
  io.stderr.write("kratos-kube fake-apiserver: stopped\n");
  return 0;
}
