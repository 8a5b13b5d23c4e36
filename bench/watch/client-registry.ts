/**
 * Watch-bench client: what users run. `new KubernetesRegistry(...)` and one
 * `watch(service)` per service (`--apps` services `svc-0`…), each consumer
 * holding the latest yielded set, over the fake API server's Kratos-shaped
 * pods (`--kratos=1`). `--url`, `--pods`, `--events`, `--apps`, `--encoding`.
 *
 * A watcher yields only sets that changed, so events are not counted one by
 * one: the event phase runs from the first sync to the moment every service
 * yielded its end marker (the server's one visible change per service after
 * the replayed events; see `lib/fake-server-process.ts`). It includes opening
 * the watch request, a few milliseconds against seconds of events.
 *
 * The registry gets a client created (and warmed) before the heap baseline
 * through its `client` option; everything else is the user's path.
 *
 * @module
 */
import process from "node:process";
import { arg, numArg } from "../lib/proc.ts";
import { startMeter } from "./measure.ts";
import type { ServiceInstance } from "../../src/index.ts";
import { loadLibrary } from "../lib/library.ts";
// The library as npm users run it (dist/, set by full runs through KK_DIST), else src/.
const { root: { KubernetesRegistry }, kube: { createKubeClient, KubeConfig } } = await loadLibrary(process.env["KK_DIST"]);

const url = arg("url", "");
const pods = numArg("pods", 10_000);
const events = numArg("events", 0);
const apps = Math.min(numArg("apps", 1), pods);
// `--encoding=protobuf` reads Kubernetes protobuf (the fake serves it for Pods).
const encoding = arg("encoding", "json") as "json" | "protobuf";
const client = createKubeClient({ config: KubeConfig.fromOptions({ server: url, namespace: "bench" }), encoding });
// Warm the HTTP stack (loads undici on Node) before the heap baseline.
await (await client.request("GET", "/version")).text();
const meter = startMeter(events);
const registry = new KubernetesRegistry({
  client,
  namespace: "bench",
  onError: (e) => process.stderr.write(`kratos-kube registry error: ${e.message}\n`),
});

/** The latest set of each service, as a consumer holds it. */
const latest: (readonly ServiceInstance[])[] = new Array(apps).fill([]);
let marked = 0;
let synced = 0;
let onSynced!: () => void;
const allSynced = new Promise<void>((r) => (onSynced = r));
const hasMarker = (set: readonly ServiceInstance[]): boolean => set.some((i) => i.metadata["bench-sentinel"] === "1");

const watchers = await Promise.all(Array.from({ length: apps }, (_, i) => registry.watch(`svc-${i}`)));
const loops = watchers.map(async (w, i) => {
  let first = true;
  let seen = false;
  for await (const set of w) {
    latest[i] = set;
    if (first) {
      first = false;
      if (++synced === apps) onSynced();
    }
    if (!seen && events > 0 && hasMarker(set)) {
      seen = true;
      if (++marked === apps) meter.eventsDone();
    }
  }
});
await allSynced;
meter.synced();
meter.eventsStart();
let size = 0;
for (const set of latest) size += set.length;
if (size !== pods) throw new Error(`watchers hold ${size} instances, expected ${pods}`);
await meter.done;
size = 0;
for (const set of latest) size += set.length;
meter.finish(pods, { size });
await registry.close();
await Promise.all(loops);
await client.close();
process.exit(0);
