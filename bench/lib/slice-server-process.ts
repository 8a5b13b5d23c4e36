/**
 * A fake API server process holding a fleet as EndpointSlices, and
 * optionally as the Kratos Pods behind them, for bench/slices.ts. Speaks JSON
 * lines on stdin/stdout (see bench/lib/child.ts).
 *
 * Arguments: `--services=S` Services in namespace `bench`, `--endpoints=E`
 * endpoints each, in slices of at most 100 (as the endpointslice controller
 * cuts them; 10.x.y.z addresses, three zones, a Pod targetRef, a node name);
 * `--pods=1` also creates the Pods behind them, labelled as Kratos services
 * (`kratos-service-app=svc-N`), so both sources watch the same fleet.
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
const NS = "bench";
const PER_SLICE = 100;
const ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];

const server = new FakeKubeApiServer({ historyLimit: 10_000, rechunk: false });

/** A distinct 10.a.b.c address per endpoint of the fleet. */
const addressOf = (svc: number, i: number): string => {
  const n = svc * endpoints + i;
  return `10.${1 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
};
const podOf = (svc: number, i: number): string => `svc-${svc}-${i.toString(36).padStart(4, "0")}`;
const sliceOf = (svc: number, s: number): string => `svc-${svc}-${s.toString(36).padStart(5, "0")}`;

function endpointOf(svc: number, i: number, ready: boolean) {
  return { ip: addressOf(svc, i), ready, pod: podOf(svc, i), nodeName: `node-${i % 20}`, zone: ZONES[i % 3]! };
}

for (let svc = 0; svc < services; svc++) {
  for (let s = 0; s * PER_SLICE < endpoints; s++) {
    const eps = [];
    for (let i = s * PER_SLICE; i < Math.min(endpoints, (s + 1) * PER_SLICE); i++) eps.push(endpointOf(svc, i, true));
    server.endpointSlices.create(makeEndpointSlice({ name: sliceOf(svc, s), namespace: NS, service: `svc-${svc}`, endpoints: eps, ports: [{ name: "grpc", port: 9000, appProtocol: "grpc" }] }));
  }
  if (withPods) {
    for (let i = 0; i < endpoints; i++) {
      server.createPod(makePod({ name: podOf(svc, i), namespace: NS, app: `svc-${svc}`, ip: addressOf(svc, i), protocols: '{"9000":"grpc"}' }));
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
