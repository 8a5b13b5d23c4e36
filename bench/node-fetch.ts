/**
 * Node's HTTP seam for the Kubernetes client, two candidates side by side
 * (a lower-layer row, the question of whether the `undici` dependency pays
 * for itself): undici 7's `fetch` with an `Agent` (today's default on Node)
 * and the `node:https` fetch of `src/runtime/fetch-node-http.ts` (what Deno
 * uses for `insecure-skip-tls-verify`). Both read the same LIST of Pods from
 * a real kube-apiserver (a separate process, so the client's CPU is its own)
 * over TLS, interleaved in one process, alternating order each round.
 *
 *   node --import tsx bench/node-fetch.ts [--pods 2000] [--rounds 12] [--lists 3]
 *
 * Needs the built control plane (`node --import tsx scripts/k8s/build.ts`).
 * Prints client CPU and wall time per LIST (body read as bytes, and with
 * JSON.parse), medians over rounds, and the ratio node:https / undici.
 */
import { parseArgs } from "node:util";
import { startControlPlane } from "../scripts/k8s/control-plane.ts";
import { createNodeFetch } from "../src/runtime/fetch-node.ts";
import { createNodeHttpFetch } from "../src/runtime/fetch-node-http.ts";
import type { RuntimeFetch } from "../src/runtime/fetch.ts";
import { makePod } from "../src/testing/index.ts";

const { values } = parseArgs({
  options: { pods: { type: "string", default: "2000" }, rounds: { type: "string", default: "12" }, lists: { type: "string", default: "3" } },
});
const PODS = Number(values.pods);
const ROUNDS = Number(values.rounds);
const LISTS = Number(values.lists);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const cp = await startControlPlane();
try {
  const ns = "bench";
  await cp.request({ method: "POST", path: "/api/v1/namespaces", body: { metadata: { name: ns } } });
  for (let i = 0; i < PODS; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, PODS - i) }, (_, k) => {
        const p = makePod({ name: `p-${i + k}`, namespace: ns, app: `svc-${(i + k) % 10}` });
        const { uid: _u, resourceVersion: _r, creationTimestamp: _c, managedFields: _m, ownerReferences: _o, generateName: _g, ...metadata } = p.metadata as Record<string, unknown>;
        return cp.request({ method: "POST", path: `/api/v1/namespaces/${ns}/pods`, body: { apiVersion: "v1", kind: "Pod", metadata, spec: p.spec } });
      }),
    );
  }
  const tls = { caPem: cp.caPem };
  const url = `${cp.url}/api/v1/namespaces/${ns}/pods?resourceVersion=0`;
  const headers = { authorization: `Bearer ${cp.adminToken}`, accept: "application/json" };
  const variants: { name: string; fetch: RuntimeFetch }[] = [
    { name: "undici fetch + Agent", fetch: createNodeFetch(tls) },
    { name: "node:https fetch", fetch: createNodeHttpFetch(tls) },
  ];
  let bytes = 0;
  const once = async (f: RuntimeFetch, parse: boolean): Promise<void> => {
    const res = await f.fetch(new Request(url, { headers }));
    if (parse) {
      const doc = JSON.parse(await res.text()) as { items: unknown[] };
      if (doc.items.length !== PODS) throw new Error(`listed ${doc.items.length} pods`);
      return;
    }
    let n = 0;
    for await (const chunk of res.body!) n += chunk.byteLength;
    bytes = n;
  };
  // Warm-up: connections, JIT.
  for (const v of variants) for (let i = 0; i < 2; i++) await once(v.fetch, true);
  const rows = new Map<string, { cpuBytes: number[]; cpuParse: number[]; wallBytes: number[] }>();
  for (const v of variants) rows.set(v.name, { cpuBytes: [], cpuParse: [], wallBytes: [] });
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) {
      const row = rows.get(v.name)!;
      for (const parse of [false, true]) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        for (let i = 0; i < LISTS; i++) await once(v.fetch, parse);
        const cpu = process.cpuUsage(c0);
        const perList = (cpu.user + cpu.system) / 1000 / LISTS;
        if (parse) row.cpuParse.push(perList);
        else {
          row.cpuBytes.push(perList);
          row.wallBytes.push((performance.now() - t0) / LISTS);
        }
      }
    }
  }
  console.log(`\nLIST of ${PODS} pods (${(bytes / 1e6).toFixed(1)} MB of JSON) from kube-apiserver ${cp.version} over TLS, Node ${process.versions.node}; medians of ${ROUNDS} rounds × ${LISTS} LISTs`);
  console.log("| seam | client CPU per LIST, bytes only (ms) | wall per LIST (ms) | client CPU per LIST with JSON.parse (ms) |");
  console.log("| --- | ---: | ---: | ---: |");
  for (const [name, row] of rows) {
    console.log(`| ${name} | ${median(row.cpuBytes).toFixed(1)} | ${median(row.wallBytes).toFixed(1)} | ${median(row.cpuParse).toFixed(1)} |`);
  }
  const [a, b] = [...rows.values()];
  const ratios = a!.cpuBytes.map((x, i) => b!.cpuBytes[i]! / x);
  console.log(`node:https / undici, client CPU per LIST (bytes only): median of per-round ratios ${median(ratios).toFixed(2)}×`);
  for (const v of variants) await v.fetch.close();
} finally {
  await cp.close();
}
