import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

const root = new URL("../../", import.meta.url);
const pkg = JSON.parse(readFileSync(new URL("package.json", root), "utf8")) as {
  version: string;
  exports: Record<string, string | { types: string; default: string; import?: string }>;
};
const jsr = JSON.parse(readFileSync(new URL("jsr.json", root), "utf8")) as {
  version: string;
  exports: Record<string, string>;
};

describe("package.json and jsr.json", () => {
  it("publish the same version", () => {
    assert.equal(jsr.version, pkg.version);
  });

  it("export the same subpaths, each pointing at the same module", () => {
    const npmSubpaths = Object.keys(pkg.exports).filter((k) => k !== "./package.json").sort();
    assert.deepEqual(Object.keys(jsr.exports).sort(), npmSubpaths);
    for (const sub of npmSubpaths) {
      const entry = pkg.exports[sub];
      assert.ok(entry && typeof entry === "object", `${sub} has types + default`);
      // `default`, not only `import`: Node's require(esm) resolves with the
      // require condition and needs `default` to find the module.
      assert.deepEqual(Object.keys(entry), ["types", "default"], `${sub}: conditions`);
      const built = entry.default.replace(/^\.\/dist\//, "").replace(/\.js$/, "");
      const source = jsr.exports[sub]!.replace(/^\.\/src\//, "").replace(/\.ts$/, "");
      assert.equal(built, source, `${sub}: dist/${built}.js is built from src/${source}.ts`);
      assert.equal(entry.types, entry.default.replace(/\.js$/, ".d.ts"));
    }
  });
});
