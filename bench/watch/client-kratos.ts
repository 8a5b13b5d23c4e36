/**
 * Watch-bench client: kratos-kube's list-and-watch (`createPodCache` over
 * `createKubeClient`). `--url`, `--pods`, `--events`, `--streaming=1`,
 * `--page-size`, `--encoding`.
 *
 * @module
 */
import process from "node:process";
import { arg, numArg } from "../lib/proc.ts";
import { startMeter } from "./measure.ts";
import { loadLibrary } from "../lib/library.ts";
// The library as npm users run it (dist/, set by full runs through KK_DIST), else src/.
const { root: { createPodCache }, kube: { createKubeClient, KubeConfig } } = await loadLibrary(process.env["KK_DIST"]);

const url = arg("url", "");
const pods = numArg("pods", 10_000);
const events = numArg("events", 0);
// `--encoding=protobuf` reads Kubernetes protobuf (the fake serves it for Pods).
const encoding = arg("encoding", "json") as "json" | "protobuf";
const client = createKubeClient({ config: KubeConfig.fromOptions({ server: url, namespace: "bench" }), encoding });
// Warm the HTTP stack (loads undici on Node) before the heap baseline.
await (await client.request("GET", "/version")).text();
const meter = startMeter(events);
const cache = createPodCache({
  api: client,
  namespaces: ["bench"],
  streamingList: arg("streaming", "0") === "1",
  pageSize: numArg("page-size", 500),
  onError: (e) => process.stderr.write(`kratos-kube cache error: ${e.message}\n`),
});
cache.subscribe((changes) => {
  for (const c of changes) if (c.type === "modified") meter.event();
});
cache.start();
await cache.ready();
meter.synced();
if (cache.size !== pods) throw new Error(`synced ${cache.size} pods, expected ${pods}`);
await meter.done;
meter.finish(pods, { size: cache.size });
await cache.close();
await client.close();
process.exit(0);
