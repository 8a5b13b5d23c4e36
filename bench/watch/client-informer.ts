/**
 * Watch-bench client: @kubernetes/client-node's informer (`makeInformer`
 * over `listNamespacedPod`), the hand-written-glue alternative. Needs Node
 * ≥ 22 (it loads undici 8). `--url`, `--pods`, `--events`.
 *
 * @module
 */
import process from "node:process";
import * as k8s from "@kubernetes/client-node";
import { arg, numArg } from "../lib/proc.ts";
import { startMeter } from "./measure.ts";

const url = arg("url", "");
const pods = numArg("pods", 10_000);
const events = numArg("events", 0);
const kc = new k8s.KubeConfig();
kc.loadFromOptions({
  clusters: [{ name: "bench", server: url, skipTLSVerify: true }],
  users: [{ name: "bench" }],
  contexts: [{ name: "bench", cluster: "bench", user: "bench", namespace: "bench" }],
  currentContext: "bench",
});
const api = kc.makeApiClient(k8s.CoreV1Api);
const selector = "kratos-service-app";
// Warm the HTTP stack before the heap baseline.
await kc.makeApiClient(k8s.VersionApi).getCode().catch(() => undefined);
const meter = startMeter(events);
const informer = k8s.makeInformer(
  kc,
  "/api/v1/namespaces/bench/pods",
  () => api.listNamespacedPod({ namespace: "bench", labelSelector: selector }),
  selector,
);
informer.on("update", () => meter.event());
informer.on("error", (e: unknown) => process.stderr.write(`informer error: ${String(e)}\n`));
await informer.start();
meter.synced();
const size = informer.list().length;
if (size !== pods) throw new Error(`synced ${size} pods, expected ${pods}`);
await meter.done;
meter.finish(pods, { size });
await informer.stop();
process.exit(0);
