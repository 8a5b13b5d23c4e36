#!/usr/bin/env node
// Package checks before publishing: publint and @arethetypeswrong/cli on the
// npm tarball, and JSR's own `deno publish --dry-run` (no slow types).
import { spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const steps = [
  ["publint", [bin("publint"), "--strict"]],
  ["attw", [bin("attw"), "--pack", ".", "--profile", "esm-only", "--format", "table-flipped"]],
  ["jsr", [bin("deno"), "publish", "--dry-run", "--allow-dirty"]],
];
let failed = 0;
for (const [name, [cmd, ...args]] of steps) {
  console.log(`\n# ${name}: ${[cmd.split("/").pop(), ...args].join(" ")}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit", env: { ...process.env, NO_COLOR: "1" } });
  if (r.status !== 0) {
    console.error(`# ${name} failed (exit ${r.status})`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
