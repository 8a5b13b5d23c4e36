import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Clock } from "../../src/kube/clock.ts";
import { createKubeClient, KubeApiError, KubeConfig, KubeConfigError, TOKEN_FILE_REFRESH_MS } from "../../src/kube/index.ts";
import { createTokenSource } from "../../src/kube/token-source.ts";
import type { Host } from "../../src/runtime/host.ts";
import { host as realHost } from "../../src/runtime/host.ts";

function manualClock(): Clock & { advance(ms: number): void } {
  let t = 1_000;
  return { now: () => t, setTimeout: () => ({ cancel() {} }), advance: (ms) => void (t += ms) };
}

const unauthorized = (): Response =>
  new Response(
    JSON.stringify({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "Unauthorized", reason: "Unauthorized", code: 401 }),
    { status: 401, headers: { "content-type": "application/json" } },
  );
const ok = (): Response => new Response(JSON.stringify({ kind: "PodList", metadata: {}, items: [] }));

describe("token file source", () => {
  let root: string;
  let file: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), "kratos-kube-token-"));
    file = join(root, "token");
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it("re-reads the file only after 50 s (client-go: 1 min minus 10 s leeway)", async () => {
    assert.equal(TOKEN_FILE_REFRESH_MS, 50_000);
    writeFileSync(file, "one\n");
    const clock = manualClock();
    const seen: string[] = [];
    const client = createKubeClient({
      config: KubeConfig.fromOptions({ server: "https://k", tokenFile: file }),
      clock,
      fetch: async (req) => {
        seen.push(req.headers.get("authorization") ?? "");
        return ok();
      },
    });
    await client.listPods({});
    writeFileSync(file, "two\n");
    clock.advance(49_999);
    await client.listPods({});
    clock.advance(1);
    await client.listPods({});
    assert.deepEqual(seen, ["Bearer one", "Bearer one", "Bearer two"]);
  });

  it("after a 401, re-reads at once and retries the request once", async () => {
    writeFileSync(file, "old");
    const clock = manualClock();
    const seen: string[] = [];
    let accepted = "old";
    const client = createKubeClient({
      config: KubeConfig.fromOptions({ server: "https://k", tokenFile: file }),
      clock,
      fetch: async (req) => {
        const a = req.headers.get("authorization") ?? "";
        seen.push(a);
        return a === `Bearer ${accepted}` ? ok() : unauthorized();
      },
    });
    await client.listPods({});
    writeFileSync(file, "new"); // the kubelet rotated the token
    accepted = "new"; // and the apiserver stopped accepting the old one
    await client.listPods({});
    assert.deepEqual(seen, ["Bearer old", "Bearer old", "Bearer new"]);
    accepted = "newer"; // a 401 the file cannot fix: one retry, then the error
    await assert.rejects(client.listPods({}), (e: unknown) => e instanceof KubeApiError && e.isUnauthorized());
    assert.equal(seen.length, 5);
  });

  it("keeps the last good token when a re-read fails", async () => {
    writeFileSync(file, "good");
    const clock = manualClock();
    const source = createTokenSource({ type: "file", path: file }, { clock, host: realHost });
    assert.equal(await source.token(), "good");
    rmSync(file);
    clock.advance(TOKEN_FILE_REFRESH_MS);
    assert.equal(await source.token(), "good");
    source.invalidate();
    assert.equal(await source.token(), "good");
    writeFileSync(file, "   \n");
    source.invalidate();
    assert.equal(await source.token(), "good", "an empty file is a failed read");
  });

  it("fails with a clear error when the file was never readable", async () => {
    const missing = join(root, "never");
    const client = createKubeClient({
      config: KubeConfig.fromOptions({ server: "https://k", tokenFile: missing }),
      fetch: async () => ok(),
    });
    await assert.rejects(client.listPods({}), (e: unknown) => e instanceof KubeConfigError && e.message.includes(missing));
  });

  it("reads the file once for concurrent requests", async () => {
    let reads = 0;
    const host: Host = {
      ...realHost,
      readFile: async () => {
        reads++;
        return "shared";
      },
    };
    const source = createTokenSource({ type: "file", path: "/x" }, { clock: manualClock(), host });
    const tokens = await Promise.all([source.token(), source.token(), source.token()]);
    assert.deepEqual(tokens, ["shared", "shared", "shared"]);
    assert.equal(reads, 1);
  });

  it("starts from the token read at load time (in-cluster)", async () => {
    let reads = 0;
    const host: Host = { ...realHost, readFile: async () => (reads++, "fresh") };
    const clock = manualClock();
    const source = createTokenSource({ type: "file", path: "/x", initial: "boot" }, { clock, host });
    assert.equal(await source.token(), "boot");
    assert.equal(reads, 0);
    clock.advance(TOKEN_FILE_REFRESH_MS);
    assert.equal(await source.token(), "fresh");
  });
});
