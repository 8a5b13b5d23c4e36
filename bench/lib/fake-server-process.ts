/**
 * The fake API server as a separate process, so a bench client's CPU and
 * memory are its own. Started by the orchestrators with {@link startFakeServer};
 * speaks JSON lines on stdin/stdout.
 *
 * Arguments: `--pods=N` realistic pods (≈5 KB of JSON each, `makePod`) spread
 * over `--apps=K` kratos services in namespace `bench`.
 *
 * `--events=M` MODIFIED events are generated at startup, after the pods. With
 * events, every first-page LIST is pinned to the resourceVersion before them
 * (`resourceVersion=R0&resourceVersionMatch=Exact`), so each client lists the
 * same pods and its watch from R0 replays the same M events from history as
 * fast as it reads: the client, not the generator, sets the pace, and one
 * server serves every client and run.
 *
 * `--scale=S` runs the server's clock S× faster than real time (watch
 * timeouts, bookmarks) for compressed-time runs; `--bookmark-ms` sets the
 * bookmark interval (default 60 s, the apiserver cacher's).
 *
 * `--in-service=K` makes pods p-0…p-(K-1) the service `bench.svc` with
 * loopback IPs (for the propagation benchmark).
 *
 * `--kratos=1` shapes the pods as real Kratos Pods: all five
 * `kratos-service-*` keys (a `kratos-service-metadata` annotation of 6
 * entries, one value per service and zone), and a second container (a log
 * shipper, no ports) beside the service's; with events, each service then
 * gets one more MODIFIED event after them (its first pod's metadata gains
 * `bench-sentinel`), which a `watch()` consumer sees and the others ignore.
 *
 * Commands: `{cmd:"ready", name, ready}` flips a pod's readiness;
 * `{cmd:"requests"}` → counts of the request log (also by client:
 * User-Agent `kratos-kube/…` or other);
 * `{cmd:"update", n}` → n MODIFIED events now; `{cmd:"cpu"}` → the
 * server process's CPU time so far (`cpuUs`); `{cmd:"quit"}`.
 *
 * @module
 */
import process from "node:process";
import { createInterface } from "node:readline";
import type { Pod } from "../../src/kube/wire.ts";
import { FakeKubeApiServer, makePod, serve, setPodReady } from "../../src/testing/index.ts";
import { arg, numArg } from "./proc.ts";
import { scaledClock } from "./scaled-clock.ts";

const pods = numArg("pods", 10_000);
const apps = numArg("apps", 10);
const events = numArg("events", 0);
const bookmarkMs = numArg("bookmark-ms", 60_000);
const ns = arg("namespace", "bench");
const scale = numArg("scale", 1);
const kratos = arg("kratos", "0") === "1";

const server = new FakeKubeApiServer({ historyLimit: Math.max(1000, pods + events + apps + 100), rechunk: false, bookmarkIntervalMs: bookmarkMs, ...(scale === 1 ? {} : { clock: scaledClock(scale) }) });
/** Requests by client (User-Agent `kratos-kube/…` or other) and kind. */
const byClient: Record<string, number> = {};
/** `--in-service=K`: pods p-0…p-(K-1) form service `bench.svc` with loopback IPs 127.x.y.z (closed port: dials fail fast). */
const inService = numArg("in-service", 0);
const names: string[] = [];
for (let i = 0; i < pods; i++) {
  if (i < inService) {
    const name = `p-${i}`;
    names.push(name);
    server.createPod(makePod({ name, namespace: ns, app: "bench.svc", ip: `127.${1 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, protocols: '{"9000":"grpc"}' }));
    continue;
  }
  const name = `svc-${i % apps}-${i.toString(36).padStart(5, "0")}`;
  names.push(name);
  if (kratos) server.createPod(kratosPod(name, i % apps, i));
  else server.createPod(makePod({ name, namespace: ns, app: `svc-${i % apps}`, protocols: '{"9000":"grpc"}' }));
}

/** The `kratos-service-metadata` of service `svc` in zone `zone` (keys sorted, as Go Kratos writes them). */
function kratosMetadata(svc: number, zone: number, extra = ""): string {
  return `{${extra}"cluster":"prod-eu-1","env":"production","region":"eu-west-1","team":"team-${svc % 7}","weight":"100","zone":"eu-west-1${"abc"[zone]}"}`;
}

/** A Pod as a Go Kratos (or kratos-kube) service in a Deployment has it, with a log-shipper sidecar. */
function kratosPod(name: string, svc: number, i: number): Pod {
  const pod = makePod({
    name,
    namespace: ns,
    app: `svc-${svc}`,
    version: "v1.4.2",
    protocols: '{"8000":"http","9000":"grpc"}',
    metadata: kratosMetadata(svc, i % 3),
    // One ReplicaSet per service, as a Deployment has it (makePod derives the hash from the pod name).
    labels: { "pod-template-hash": `${(svc * 7919).toString(36).padStart(5, "7")}d6b7`.slice(0, 10) },
  });
  pod.spec!.containers!.push({
    name: "log-shipper",
    image: "registry.example.com/fluent-bit:3.1.4",
    resources: { limits: { cpu: "100m", memory: "64Mi" }, requests: { cpu: "10m", memory: "32Mi" } },
    volumeMounts: [{ name: "kube-api-access-x7k2p", readOnly: true, mountPath: "/var/run/secrets/kubernetes.io/serviceaccount" }],
    terminationMessagePath: "/dev/termination-log",
    terminationMessagePolicy: "File",
    imagePullPolicy: "IfNotPresent",
  });
  return pod;
}

let gen = 0;
function update(n: number): void {
  for (let i = 0; i < n; i++) {
    const name = names[gen % names.length]!;
    const g = String(gen++);
    server.updatePod(ns, name, (p) => {
      p.metadata.annotations = { ...p.metadata.annotations, "bench.kratos-kube/generation": g };
    });
  }
}

const r0 = server.resourceVersion;
update(events);
if (kratos && events > 0) {
  // One visible change per service after the events: a watch() consumer's end marker.
  for (let svc = 0; svc < Math.min(apps, pods); svc++) {
    server.updatePod(ns, names[svc]!, (p) => {
      p.metadata.annotations = { ...p.metadata.annotations, "kratos-service-metadata": kratosMetadata(svc, svc % 3, '"bench-sentinel":"1",') };
    });
  }
}
const listening = await serve(async (req) => {
  {
    const q = new URL(req.url).searchParams;
    const who = (req.headers.get("user-agent") ?? "").startsWith("kratos-kube") ? "kratos-kube" : "other";
    const kind = q.get("watch") === "true" ? "watch" : /\/pods(\?|$)/.test(req.url) ? "list" : "other";
    byClient[`${who} ${kind}`] = (byClient[`${who} ${kind}`] ?? 0) + 1;
  }
  if (events > 0) {
    const url = new URL(req.url);
    const q = url.searchParams;
    if (q.get("watch") !== "true" && q.get("sendInitialEvents") !== "true" && !q.has("continue")) {
      q.set("resourceVersion", r0);
      q.set("resourceVersionMatch", "Exact");
      return server.fetch(new Request(url, req));
    }
  }
  return server.fetch(req);
});
process.stdout.write(`${JSON.stringify({ url: listening.url, resourceVersion: r0 })}\n`);

const rl = createInterface({ input: process.stdin });
rl.on("line", (line) => {
  const msg = JSON.parse(line) as { cmd: string; n?: number };
  if (msg.cmd === "requests") {
    const counts: Record<string, number> = {};
    for (const r of server.requests) {
      const k = `${r.method} ${r.watch ? "watch" : r.query["continue"] ? "list-page" : "list"}`;
      counts[k] = (counts[k] ?? 0) + 1;
    }
    process.stdout.write(`${JSON.stringify({ counts, byClient, total: server.requests.length })}\n`);
  } else if (msg.cmd === "update") {
    update(msg.n ?? 1);
    process.stdout.write(`${JSON.stringify({ resourceVersion: server.resourceVersion })}\n`);
  } else if (msg.cmd === "ready") {
    const m = msg as unknown as { name: string; ready: boolean };
    server.updatePod(ns, m.name, (p) => setPodReady(p, m.ready));
    process.stdout.write(`${JSON.stringify({ resourceVersion: server.resourceVersion })}\n`);
  } else if (msg.cmd === "cpu") {
    const u = process.cpuUsage();
    process.stdout.write(`${JSON.stringify({ cpuUs: u.user + u.system })}\n`);
  } else if (msg.cmd === "quit") rl.close();
});
rl.on("close", () => {
  void (async () => {
    await server.close();
    await listening.close();
    process.exit(0);
  })();
});
