/**
 * Bench 7 client: one run over one fleet, in its own process on the runtime
 * under test. Starts the fake API server (bench/lib/slice-server-process.ts)
 * with the fleet and a warm-up copy of it, then: heap per cached endpoint
 * after sync, and flip → `watch()` yield latencies in two phases: `cold`, the
 * `--cold` flips after `--warm-flips` ones (right after sync, while the JIT
 * still compiles the flip path), and `lat`, the `--iter` flips once
 * `--settle` flips in all have run (a service that has been running for a
 * while). Prints `RESULT {heapPerEndpoint, cold, lat}`.
 *
 * Arguments: `--services`, `--endpoints`, `--encoding` (`json`|`protobuf`),
 * `--iter`, `--warm-flips`, `--cold` and `--settle`. The library is dist/
 * when `KK_DIST` is set (full runs), else src/.
 *
 * @module
 */
import process from "node:process";
import { startLineProcess } from "../lib/child.ts";
import { loadLibrary } from "../lib/library.ts";
import { arg, forceGc, heapUsed, numArg, report } from "../lib/proc.ts";
import { stampingFetch } from "../lib/stamping-fetch.ts";

const { root: { KubernetesDiscovery }, kube: { KubeConfig } } = await loadLibrary(process.env["KK_DIST"]);

const NS = "bench";
const WARM_NS = "bench-warm";
const services = numArg("services", 100);
const endpoints = numArg("endpoints", 100);
const encoding = arg("encoding", "json") as "json" | "protobuf";
const ITER = numArg("iter", 400);
const WARM = numArg("warm-flips", 20);
const COLD = numArg("cold", 400);
/** Flips before the steady-state ones, warm-up and cold ones included. */
const SETTLE = Math.max(WARM + COLD, numArg("settle", 3000));
if (!forceGc()) throw new Error("no forced GC: run with --expose-gc (Node, Deno) or on Bun");

const server = startLineProcess("bench/lib/slice-server-process.ts", [`--services=${services}`, `--endpoints=${endpoints}`, "--warm=1"]);
const url = String((await server.next())["url"]);
// Stamps the arrival of each watch chunk (the clock start of a flip).
const { fetch, lastArrival } = stampingFetch();
const discoveryOf = () => new KubernetesDiscovery({ config: KubeConfig.fromOptions({ server: url, namespace: NS }), fetch, namespace: NS, encoding });
const targets = (ns: string) => Array.from({ length: services }, (_, s) => `kubernetes:///svc-${s}.${ns}:grpc`);

// Warm-up: twice, a discovery watches a copy of the fleet in another
// namespace (other Pod names and addresses, so no string it leaves behind is
// one the measured fleet reuses) and closes. The heap baseline then holds the
// loaded code (HTTP stack, the library) and the JIT code of the sync path
// (the second round lets it finish tiering up); what remains is the client's
// own data.
for (let round = 0; round < 2; round++) {
  const warm = discoveryOf();
  const ws = await Promise.all(targets(WARM_NS).map((t) => warm.watch(t)));
  for (const w of ws) await w.next();
  await warm.close();
}
const heap0 = heapUsed();
const discovery = discoveryOf();
const latest: unknown[][] = [];
const waiting = new Map<number, () => void>();
const lat: number[] = [];
const watchers = await Promise.all(targets(NS).map((t) => discovery.watch(t)));
for (const [s, w] of watchers.entries()) {
  latest[s] = await w.next();
  if (latest[s]!.length !== endpoints) throw new Error(`svc-${s}: ${latest[s]!.length} instances, expected ${endpoints}`);
}
const heapPerEndpoint = (heapUsed() - heap0) / (services * endpoints);
for (const [s, w] of watchers.entries()) {
  void (async () => {
    try {
      for (;;) {
        latest[s] = await w.next();
        const done = waiting.get(s);
        if (done) {
          waiting.delete(s);
          lat.push(performance.now() - lastArrival());
          done();
        }
      }
    } catch {
      // stopped
    }
  })();
}
let cold: number[] = [];
for (let i = 0; i < SETTLE + ITER; i++) {
  const s = ((i >> 1) * 7) % services;
  const index = ((i >> 1) * 37) % endpoints;
  const yielded = new Promise<void>((r) => waiting.set(s, r));
  server.send({ cmd: "flip", service: s, index, ready: i % 2 === 1 });
  await Promise.all([yielded, server.next()]);
  if (i + 1 === WARM) lat.length = 0;
  else if (i + 1 === WARM + COLD) cold = lat.splice(0);
  else if (i + 1 === SETTLE) lat.length = 0;
}
await Promise.all(watchers.map((w) => w.stop()));
await discovery.close();
server.send({ cmd: "quit" });
await server.close();
report({ heapPerEndpoint, cold, lat });
process.exit(0);
