/**
 * Runs one real control plane for a whole test run: starts etcd +
 * kube-apiserver, writes what the test processes need (URL, CA, tokens) to a
 * JSON file, prints `READY <file> <version>` and keeps them running until its
 * stdin closes (scripts/test-all.mjs holds it), then tears everything down.
 *
 *   node --import tsx scripts/k8s/serve.ts
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startControlPlane } from "./control-plane.ts";

const started = Date.now();
const cp = await startControlPlane();
const file = join(cp.dir, "shared.json");
writeFileSync(
  file,
  JSON.stringify({ url: cp.url, caPem: cp.caPem, adminToken: cp.adminToken, users: cp.users, version: cp.version, dir: cp.dir }),
  { mode: 0o600 },
);
process.stdout.write(`READY ${file} ${cp.version} ${Date.now() - started}\n`);
let closing = false;
const stop = (): void => {
  if (closing) return;
  closing = true;
  void cp.close().then(() => process.exit(0));
};
process.stdin.resume();
process.stdin.on("end", stop);
for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(sig, stop);
// Orphaned (the test run died without closing our stdin): stop too.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) stop();
}, 1000);
