/**
 * API-server-load client: @kubernetes/client-node's informer (a `ListWatch`
 * over `listNamespacedPod`, as `makeInformer` builds it) with its two time
 * constants divided by `--scale`: the watch's 30 s inactivity timeout
 * (`Watch.requestTimeoutMs`) and the reconnect delay (`delayFn`). Runs until
 * its stdin closes. Needs Node ≥ 22.
 *
 * @module
 */
import process from "node:process";
import { setTimeout as delay } from "node:timers/promises";
import * as k8s from "@kubernetes/client-node";
import { arg, numArg } from "../lib/proc.ts";

// Keep the process alive until stdin closes.
process.stdin.resume();
const scale = numArg("scale", 1);
const kc = new k8s.KubeConfig();
kc.loadFromOptions({
  clusters: [{ name: "bench", server: arg("url", ""), skipTLSVerify: true }],
  users: [{ name: "bench" }],
  contexts: [{ name: "bench", cluster: "bench", user: "bench", namespace: "bench" }],
  currentContext: "bench",
});
const api = kc.makeApiClient(k8s.CoreV1Api);
const watch = new k8s.Watch(kc);
// `requestTimeoutMs` is private in the typings but a plain field at run time (client-node watch.js).
const timeouts = watch as unknown as { requestTimeoutMs: number };
timeouts.requestTimeoutMs = timeouts.requestTimeoutMs / scale;
const selector = "kratos-service-app";
const informer = new k8s.ListWatch(
  "/api/v1/namespaces/bench/pods",
  watch,
  () => api.listNamespacedPod({ namespace: "bench", labelSelector: selector }),
  false,
  selector,
  undefined,
  { delayFn: (ms: number) => delay(ms / scale) },
);
informer.on("error", (e: unknown) => process.stderr.write(`informer: ${String(e)}\n`));
await informer.start();
process.stdout.write(`${JSON.stringify({ synced: informer.list().length })}\n`);
process.stdin.on("end", () => {
  void informer.stop().then(() => process.exit(0));
});
