/**
 * A fake API server process holding a fleet as EndpointSlices, and
 * optionally as the Kratos Pods behind them, for bench/slices.ts. Speaks JSON
 * lines on stdin/stdout (see bench/lib/child.ts).
 *
 * Arguments: `--services=S` Services in namespace `bench`, `--endpoints=E`
 * endpoints each, in slices of at most 100 (as the endpointslice controller
 * cuts them; addresses from a 10.244.0.0/14 Pod network, three zones, a Pod
 * targetRef named as a Deployment's Pods are, `svc-N-<pod-template-hash>-<5
 * characters>`, a node name); `--pods=1` also creates the Pods behind them,
 * labelled as Kratos services (`kratos-service-app=svc-N`), so both sources
 * watch the same fleet. `--warm=1` adds a second fleet of the same shape in
 * namespace `bench-warm`, with other Pod names and addresses, for a client
 * to warm up on without sharing a string with the fleet it measures.
 *
 * Commands: `{cmd:"flip", service, index, ready}` flips one endpoint's
 * readiness, in its slice and (with `--pods=1`) in its Pod's Ready condition,
 * as the endpointslice controller follows the kubelet; answers `{}`.
 * `{cmd:"traffic"}` answers the requests and response bytes so far, by
 * resource (`pods`, `endpointslices`) and kind (`list`, `watch`).
 *
 * @module
 */
import process from "node:process";
import { createInterface } from "node:readline";
import { FakeKubeApiServer, makeEndpointSlice, makePod, serve, setPodReady } from "../../src/testing/index.ts";
import { numArg } from "./proc.ts";

const services = numArg("services", 100);
const endpoints = numArg("endpoints", 100);
const withPods = numArg("pods", 0) === 1;
const warm = numArg("warm", 0) === 1;
const NS = "bench";
const WARM_NS = "bench-warm";
const PER_SLICE = 100;
const ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];

const server = new FakeKubeApiServer({ historyLimit: 20_000, rechunk: false });

/** A distinct address per endpoint of the fleet, in 10.244.0.0/14 (`fleet` 1, the warm-up one, from 10.246.0.0). */
const addressOf = (svc: number, i: number, fleet = 0): string => {
  const n = svc * endpoints + i;
  return `10.${244 + 2 * fleet + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
};
/** The characters of a Pod name's random suffix (apimachinery's `rand.String`). */
const ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789";
const suffix = (n: number, length: number): string => {
  let out = "";
  for (let k = 0; k < length; k++, n = Math.floor(n / ALPHANUMS.length)) out += ALPHANUMS[n % ALPHANUMS.length];
  return out;
};
/** `svc-N-<pod-template-hash>-<suffix>`, as a Deployment names its Pods. */
const podOf = (svc: number, i: number, fleet = 0): string => `svc-${svc}-${suffix(svc * 7919 + 104_729 * (fleet + 1), 10)}-${suffix(i + 1_000_003 * fleet, 5)}`;
const sliceOf = (svc: number, s: number): string => `svc-${svc}-${suffix(s * 31 + svc, 5)}`;

function endpointOf(svc: number, i: number, ready: boolean, fleet = 0) {
  return { ip: addressOf(svc, i, fleet), ready, pod: podOf(svc, i, fleet), nodeName: `node-${i % 20}`, zone: ZONES[i % 3]! };
}

for (const [fleet, ns] of (warm ? [NS, WARM_NS] : [NS]).entries()) {
  for (let svc = 0; svc < services; svc++) {
    for (let s = 0; s * PER_SLICE < endpoints; s++) {
      const eps = [];
      for (let i = s * PER_SLICE; i < Math.min(endpoints, (s + 1) * PER_SLICE); i++) eps.push(endpointOf(svc, i, true, fleet));
      server.endpointSlices.create(makeEndpointSlice({ name: sliceOf(svc, s), namespace: ns, service: `svc-${svc}`, endpoints: eps, ports: [{ name: "grpc", port: 9000, appProtocol: "grpc" }] }));
    }
    if (withPods) {
      for (let i = 0; i < endpoints; i++) {
        server.createPod(makePod({ name: podOf(svc, i, fleet), namespace: ns, app: `svc-${svc}`, ip: addressOf(svc, i, fleet), protocols: '{"9000":"grpc"}' }));
      }
    }
  }
}

const traffic: Record<string, { requests: number; bytes: number }> = {};
function count(key: string, bytes: number, request: boolean): void {
  const t = (traffic[key] ??= { requests: 0, bytes: 0 });
  if (request) t.requests++;
  t.bytes += bytes;
}

const listening = await serve(async (req) => {
  const url = new URL(req.url);
  const resource = /endpointslices/.test(url.pathname) ? "endpointslices" : /\/pods/.test(url.pathname) ? "pods" : "other";
  const key = `${resource} ${url.searchParams.get("watch") === "true" ? "watch" : "list"}`;
  const res = await server.fetch(req);
  count(key, 0, true);
  if (res.body === null) return res;
  // Counts the body bytes as they leave (watch streams included).
  const body = res.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, ctl) {
      count(key, chunk.byteLength, false);
      ctl.enqueue(chunk);
    },
  }));
  return new Response(body, { status: res.status, headers: res.headers });
});
process.stdout.write(`${JSON.stringify({ url: listening.url })}\n`);

function flip(svc: number, i: number, ready: boolean): void {
  const s = Math.floor(i / PER_SLICE);
  server.endpointSlices.update(NS, sliceOf(svc, s), (slice) => {
    const ep = slice.endpoints!.find((e) => e.addresses[0] === addressOf(svc, i))!;
    ep.conditions = { ready, serving: ready, terminating: false };
  });
  if (withPods) server.updatePod(NS, podOf(svc, i), (p) => setPodReady(p, ready));
}

const rl = createInterface({ input: process.stdin });
rl.on("line", (line) => {
  const m = JSON.parse(line) as { cmd: string; service?: number; index?: number; ready?: boolean };
  if (m.cmd === "flip") {
    flip(m.service!, m.index!, m.ready!);
    process.stdout.write("{}\n");
  } else if (m.cmd === "traffic") {
    process.stdout.write(`${JSON.stringify(traffic)}\n`);
  } else if (m.cmd === "quit") {
    rl.close();
    void listening.close().then(() => process.exit(0));
  }
});
