/**
 * The process exits after the client is closed, on every runtime: pooled
 * connections, aborted watches and open watches leave nothing behind. A child
 * process of the same runtime talks to a TLS server in this process.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:https";
import type { Server } from "node:https";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/kube/${name}`, import.meta.url), "utf8");
const child = fileURLToPath(new URL("../fixtures/kube/exit-child.ts", import.meta.url));

/** The command that runs a .ts file on the current runtime. */
function runner(): string[] {
  const exe = globalThis.process.execPath;
  if ("Deno" in globalThis) return [exe, "run", "-A", "--no-check", child];
  if ("Bun" in globalThis) return [exe, child];
  const [major = 0, minor = 0] = globalThis.process.versions.node.split(".").map(Number);
  const strips = major > 22 || (major === 22 && minor >= 18);
  return strips ? [exe, child] : [exe, "--import", "tsx", child];
}

describe("process exit after close()", () => {
  let server: Server;
  let url = "";
  before(async () => {
    server = createServer({ cert: fixture("server.pem"), key: fixture("server-key.pem") }, (req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      if (req.url?.includes("watch=true")) {
        res.write('{"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"1"}}}\n');
        return; // stays open until the client goes away
      }
      res.end(JSON.stringify({ kind: "PodList", apiVersion: "v1", metadata: { resourceVersion: "1" }, items: [] }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("a child that lists, watches, aborts and closes exits by itself", async () => {
    const [cmd, ...args] = runner();
    const proc = spawn(cmd!, [...args, url, encodeURIComponent(fixture("ca.pem"))], {
      cwd: fileURLToPath(new URL("../../", import.meta.url)),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    proc.stdout.on("data", (d: Uint8Array) => (out += new TextDecoder().decode(d)));
    proc.stderr.on("data", (d: Uint8Array) => (out += new TextDecoder().decode(d)));
    // A guard, not a synchronisation: a child that hangs is killed and fails the test.
    const guard = setTimeout(() => proc.kill("SIGKILL"), 30_000);
    const code = await new Promise<number | null>((resolve) => proc.on("close", (c) => resolve(c)));
    clearTimeout(guard);
    assert.equal(code, 0, out);
    assert.match(out, /done/);
  });
});
