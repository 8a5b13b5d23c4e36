/**
 * Watch-bench baselines over the same LIST and watch lines, each keeping the
 * parsed objects in a Map by name (the least a cache can do):
 * - `--mode=bare`: `fetch`, split lines by hand, `JSON.parse` each;
 * - `--mode=decoder`: `fetch` and kratos-kube's web-stream `createWatchDecoder`;
 * - `--mode=ndjson`: `node:http` and the `ndjson` package's `parse()` transform.
 *
 * @module
 */
import http from "node:http";
import process from "node:process";
import ndjson from "ndjson";
import { createWatchDecoder } from "../../src/kube/watch-decoder.ts";
import type { Pod, PodList } from "../../src/kube/wire.ts";
import { arg, numArg } from "../lib/proc.ts";
import { startMeter } from "./measure.ts";

const url = arg("url", "");
const pods = numArg("pods", 10_000);
const events = numArg("events", 0);
const mode = arg("mode", "bare");
const base = `${url}/api/v1/namespaces/bench/pods?labelSelector=kratos-service-app`;
// Warm the HTTP stack before the heap baseline.
await (await fetch(`${url}/version`)).text();
const meter = startMeter(events);
const store = new Map<string, Pod>();

const listRes = await fetch(base);
const list = JSON.parse(await listRes.text()) as PodList;
for (const p of list.items) store.set(p.metadata.name ?? "", p);
meter.synced();
if (store.size !== pods) throw new Error(`listed ${store.size} pods, expected ${pods}`);
const watchUrl = `${base}&watch=true&allowWatchBookmarks=true&timeoutSeconds=290&resourceVersion=${list.metadata.resourceVersion ?? ""}`;

const apply = (ev: { type: string; object: Pod }): void => {
  if (ev.type === "MODIFIED") {
    store.set(ev.object.metadata.name ?? "", ev.object);
    meter.event();
  }
};
const ac = new AbortController();

if (mode === "ndjson") {
  http.get(watchUrl, { signal: ac.signal }, (res) => {
    res.pipe(ndjson.parse()).on("data", apply).on("error", () => {});
  }).on("error", () => {});
} else {
  const res = await fetch(watchUrl, { signal: ac.signal });
  const reader = res.body!.getReader();
  void (async () => {
    try {
      if (mode === "decoder") {
        const dec = createWatchDecoder();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          for (const ev of dec.push(value)) if (!(ev instanceof Error) && ev.type === "MODIFIED") apply(ev);
        }
      } else {
        const text = new TextDecoder();
        let buf = "";
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          buf += text.decode(value, { stream: true });
          let start = 0;
          let nl: number;
          while ((nl = buf.indexOf("\n", start)) >= 0) {
            apply(JSON.parse(buf.slice(start, nl)) as { type: string; object: Pod });
            start = nl + 1;
          }
          buf = buf.slice(start);
        }
      }
    } catch {
      // aborted at the end
    }
  })();
}
await meter.done;
meter.finish(pods, { size: store.size });
ac.abort();
process.exit(0);
