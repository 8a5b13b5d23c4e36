/**
 * `@opentelemetry/api` is an optional peer dependency: nothing published
 * imports or requires it (the application passes the module in the
 * `telemetry` option), so an app without it loads and runs kratos-kube
 * (tarball.test.ts runs the README examples in such an app).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import ts from "typescript";
import { distFiles, ensureBuilt, repoRoot } from "./support/package-build.ts";

/** True when `text` imports, re-exports, dynamically imports or requires an `@opentelemetry/*` package (comments and strings aside). */
function loadsOtel(text: string): boolean {
  return ts.preProcessFile(text, true, true).importedFiles.some((f) => f.fileName.startsWith("@opentelemetry/"));
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (e.name.endsWith(".ts")) out.push(p);
  }
  return out;
}

describe("@opentelemetry/api stays optional", () => {
  it("is an optional peer dependency, absent from dependencies", () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as Record<string, Record<string, unknown> | undefined>;
    assert.equal(typeof pkg.peerDependencies?.["@opentelemetry/api"], "string");
    assert.deepEqual(pkg.peerDependenciesMeta?.["@opentelemetry/api"], { optional: true });
    assert.equal(pkg.dependencies?.["@opentelemetry/api"], undefined);
  });

  it("no file of src/ loads an @opentelemetry package (type-only imports included)", () => {
    const bad = sourceFiles(join(repoRoot, "src")).filter((f) => loadsOtel(readFileSync(f, "utf8")));
    assert.deepEqual(bad, []);
    for (const load of ['import * as otel from "@opentelemetry/api";', 'import type { Span } from "@opentelemetry/api";', 'const o = await import("@opentelemetry/api");', 'const o = require("@opentelemetry/api");']) {
      assert.ok(loadsOtel(load), `found: ${load}`);
    }
    assert.ok(!loadsOtel('/** import * as otel from "@opentelemetry/api" */ const s = "@opentelemetry/api";'));
  });

  it("no file of the built dist/ loads an @opentelemetry package", () => {
    ensureBuilt();
    const dist = join(repoRoot, "dist");
    const bad = distFiles(dist).filter((f) => /\.(?:js|d\.ts)$/.test(f) && loadsOtel(readFileSync(join(dist, f), "utf8")));
    assert.deepEqual(bad, []);
  });
});
