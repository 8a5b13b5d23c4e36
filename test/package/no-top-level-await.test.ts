/**
 * No top-level await anywhere in what is published: a module with one (or
 * importing one) cannot be loaded by Node's require(esm)
 * (ERR_REQUIRE_ASYNC_MODULE). Checks every file of the built dist/ (npm) and
 * of src/ (JSR) with the TypeScript parser; tarball.test.ts then require()s
 * each subpath of the installed package.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import ts from "typescript";
import { distFiles, ensureBuilt, repoRoot } from "./support/package-build.ts";

/** Line numbers of top-level `await`, `for await` and `await using` in `text`. */
function topLevelAwaits(file: string, text: string): number[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith(".ts") ? ts.ScriptKind.TS : ts.ScriptKind.JS);
  const lines: number[] = [];
  const at = (n: ts.Node): number => source.getLineAndCharacterOfPosition(n.getStart(source)).line + 1;
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) || ts.isClassStaticBlockDeclaration(node)) return;
    if (ts.isAwaitExpression(node)) lines.push(at(node));
    else if (ts.isForOfStatement(node) && node.awaitModifier !== undefined) lines.push(at(node));
    else if (ts.isVariableDeclarationList(node) && (node.flags & ts.NodeFlags.AwaitUsing) === ts.NodeFlags.AwaitUsing) lines.push(at(node));
    ts.forEachChild(node, visit);
  };
  visit(source);
  return lines;
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

describe("no top-level await (require(esm) must be able to load the package)", () => {
  it("finds top-level await, for await and await using, and not what is inside functions", () => {
    assert.deepEqual(topLevelAwaits("a.js", "const a = 1;\nawait a;\n"), [2]);
    assert.deepEqual(topLevelAwaits("a.js", "if (x) {\n  for await (const y of z) {}\n}\n"), [2]);
    assert.deepEqual(topLevelAwaits("a.ts", "await using r = open();\n"), [1]);
    assert.deepEqual(topLevelAwaits("a.js", "const v = x ? await f() : 0;\n"), [1]);
    assert.deepEqual(topLevelAwaits("a.js", "async function f() { await g(); }\nconst h = async () => { for await (const x of y) {} };\nclass C { async m() { await 1; } }\n"), []);
  });

  it("in no file of the built dist/", () => {
    ensureBuilt();
    const files = distFiles().filter((f) => f.endsWith(".js"));
    assert.ok(files.length > 5, `dist/ has ${files.length} .js files`);
    const found = files.flatMap((f) => topLevelAwaits(f, readFileSync(join(repoRoot, "dist", f), "utf8")).map((l) => `dist/${f}:${l}`));
    assert.deepEqual(found, []);
  });

  it("in no file of src/ (what JSR publishes)", () => {
    const files = sourceFiles(join(repoRoot, "src"));
    const found = files.flatMap((f) => topLevelAwaits(f, readFileSync(f, "utf8")).map((l) => `${f.slice(repoRoot.length)}:${l}`));
    assert.deepEqual(found, []);
  });
});
