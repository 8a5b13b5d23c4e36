/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time by
 * package (kratos-kube, connect, connect-node, protobuf, Node internals, GC)
 * and the top functions by self time. Idle time is left out.
 *
 * @module
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Which package a frame belongs to. */
export function category(url: string, fn: string): string {
  if (fn === "(garbage collector)") return "GC";
  if (fn === "(program)") return "V8 (program)";
  if (url.includes("/src/connect/")) return "kratos-kube (src/connect)";
  if (/\/dist\/[^/]*\.js$/.test(url) && !url.includes("node_modules")) return "kratos-kube (dist)";
  if (url.includes("/src/")) return "kratos-kube (other)";
  if (url.includes("@connectrpc/connect-node")) return "@connectrpc/connect-node";
  if (url.includes("@connectrpc/connect")) return "@connectrpc/connect";
  if (url.includes("@bufbuild/protobuf")) return "@bufbuild/protobuf";
  if (url.includes("/bench/")) return "bench harness";
  if (/^node:internal\/(modules|bootstrap|deps\/cjs-module-lexer)/.test(url) || url.includes("/tsx/")) return "module loading (startup)";
  if (/^node:(internal\/)?http2/.test(url)) return "node:http2";
  if (/^node:(internal\/)?(streams?|stream_base)/.test(url)) return "Node streams";
  if (/^node:(internal\/)?timers/.test(url)) return "Node timers";
  if (url.startsWith("node:")) return "other Node internals";
  if (url === "") return "native code (builtins, C++)";
  if (url.includes("node_modules")) return url.replace(/.*node_modules\/((?:@[^/]+\/)?[^/]+).*/, "$1");
  return "other";
}

/** Self-time shares by category and the top `top` functions. */
export function summarizeProfile(file: string, top = 12): { total: number; byCategory: [string, number][]; topFunctions: [string, string, number][] } {
  const p = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  const cats = new Map<string, number>();
  const fns = new Map<string, { cat: string; t: number }>();
  let total = 0;
  for (const [id, t] of self) {
    const n = byId.get(id);
    if (n === undefined || n.callFrame.functionName === "(idle)") continue;
    total += t;
    const cat = category(n.callFrame.url, n.callFrame.functionName);
    cats.set(cat, (cats.get(cat) ?? 0) + t);
    const file = n.callFrame.url.replace(/^.*\/(node_modules\/(?:@[^/]+\/)?[^/]+|src|bench)\//, "$1/");
    const key = `${n.callFrame.functionName || "(anonymous)"} ${file}:${n.callFrame.lineNumber + 1}`;
    const f = fns.get(key) ?? { cat, t: 0 };
    f.t += t;
    fns.set(key, f);
  }
  return {
    total,
    byCategory: [...cats].sort((a, b) => b[1] - a[1]),
    topFunctions: [...fns].sort((a, b) => b[1].t - a[1].t).slice(0, top).map(([k, v]) => [k, v.cat, v.t]),
  };
}
