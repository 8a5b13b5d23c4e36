/**
 * The layering rules of ARCHITECTURE.md, checked on the import statements of
 * every source file.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const src = join(root, "src");

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (p.endsWith(".ts")) out.push(p);
  }
  return out;
}

interface Import {
  file: string;
  spec: string;
}

function imports(file: string): Import[] {
  const text = readFileSync(file, "utf8");
  const out: Import[] = [];
  const re = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) out.push({ file: relative(root, file), spec: (m[1] ?? m[2])! });
  return out;
}

const all = files(src).flatMap(imports);
const area = (file: string): string => file.split("/")[1] ?? "";
const target = (imp: Import): string | undefined => {
  if (!imp.spec.startsWith(".")) return undefined;
  const abs = join(root, imp.file, "..", imp.spec);
  return relative(src, abs).split("/")[0];
};

describe("architecture", () => {
  it("uses .ts import specifiers for relative imports", () => {
    const bad = all.filter((i) => i.spec.startsWith(".") && !i.spec.endsWith(".ts"));
    assert.deepEqual(bad, []);
  });

  it("imports nothing under src/ from src/testing/ except inside testing", () => {
    const bad = all.filter((i) => area(i.file) !== "testing" && target(i) === "testing");
    assert.deepEqual(bad, []);
  });

  it("mentions node:*, undici, Deno and Bun only in src/runtime/ (and the test server)", () => {
    const allowed = new Set(["runtime", "testing"]);
    const bad = all.filter((i) => !allowed.has(area(i.file)) && (i.spec.startsWith("node:") || i.spec === "undici"));
    assert.deepEqual(bad, []);
    for (const file of files(src)) {
      const rel = relative(root, file);
      if (allowed.has(area(rel))) continue;
      // Comments and string literals may name the runtimes ("Deno.customInspect").
      const text = readFileSync(file, "utf8")
        .replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "")
        .replace(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'/g, '""');
      assert.ok(!/\b(?:Deno|Bun)\s*\./.test(text), `${rel} mentions Deno or Bun`);
      assert.ok(!/\bprocess\s*\./.test(text), `${rel} mentions process`);
    }
  });

  it("keeps src/connect/ independent of the rest of the library (only the runtime adapters of src/runtime/)", () => {
    const allowed = new Set(["connect", "runtime"]);
    const bad = all.filter((i) => area(i.file) === "connect" && target(i) !== undefined && !allowed.has(target(i)!));
    assert.deepEqual(bad, []);
  });

  it("keeps the connect protocol core and the endpoint lifecycle pure (no runtime, no connections)", () => {
    const pure = (f: string): boolean => f.startsWith("src/connect/protocol/") || f === "src/connect/channel/lifecycle.ts";
    const bad = all.filter((i) => pure(i.file) && (target(i) === "runtime" || /\/(channel|call)\//.test(i.spec) || i.spec.startsWith("node:")));
    assert.deepEqual(bad, []);
  });

  it("keeps src/kube/ free of Kratos: no kratos-service vocabulary, no imports of the layers above it", () => {
    const upper = new Set(["registry", "connect", "app", "testing"]);
    const bad = all.filter((i) => area(i.file) === "kube" && upper.has(target(i) ?? ""));
    assert.deepEqual(bad, []);
    for (const file of files(join(src, "kube"))) {
      // The library's own name (kratos-kube, KRATOS_KUBE_VERSION) is allowed; Kratos's vocabulary is not.
      const text = readFileSync(file, "utf8").replace(/kratos-kube|KRATOS_KUBE/gi, "");
      const hit = /kratos/i.exec(text);
      assert.equal(hit, null, `${relative(root, file)} mentions Kratos: …${hit ? text.slice(Math.max(0, hit.index - 40), hit.index + 40) : ""}…`);
    }
  });

  it("has no import cycles in src/kube/, src/registry/ and src/runtime/ (type imports included)", () => {
    const graph = new Map<string, string[]>();
    for (const i of all) {
      if (!i.spec.startsWith(".")) continue;
      const to = relative(root, join(root, i.file, "..", i.spec));
      (graph.get(i.file) ?? graph.set(i.file, []).get(i.file)!).push(to);
    }
    const scope = (f: string): boolean => area(f) === "kube" || area(f) === "registry" || area(f) === "runtime";
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const visit = (f: string, path: string[]): void => {
      if (state.get(f) === "done") return;
      if (state.get(f) === "open") {
        cycles.push([...path.slice(path.indexOf(f)), f].join(" -> "));
        return;
      }
      state.set(f, "open");
      for (const to of graph.get(f) ?? []) if (scope(to)) visit(to, [...path, f]);
      state.set(f, "done");
    };
    for (const f of graph.keys()) if (scope(f)) visit(f, []);
    assert.deepEqual(cycles, []);
  });

  it("keeps the pure cores free of I/O (reflector state, pickers, codec, App lifecycle)", () => {
    const pure = [
      "src/kube/reflector/state.ts",
      "src/connect/picker.ts",
      "src/registry/kratos-codec.ts",
      "src/registry/target.ts",
      "src/registry/endpoint-set.ts",
      "src/app/lifecycle.ts",
      "src/app/health.ts",
      "src/app/endpoint.ts",
    ];
    const bad = all.filter(
      (i) => pure.includes(i.file) && (i.spec.startsWith("node:") || i.spec === "undici" || target(i) === "runtime"),
    );
    assert.deepEqual(bad, []);
  });
});
