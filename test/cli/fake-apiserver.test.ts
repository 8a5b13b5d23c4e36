import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { run } from "../../cli/fake-apiserver.ts";
import { captureIo } from "../../cli/io.ts";
import type { CliIo } from "../../cli/io.ts";
import { KRATOS_LABEL_APP } from "../../src/kube/pod-record.ts";
import { KubeConfig, createKubeClient } from "../../src/kube/index.ts";

/** Runs the command until it prints its kubeconfig line, then hands back the output and a stop function. */
async function start(argv: string[]): Promise<{ out: () => string; err: () => string; stop: () => Promise<number> }> {
  const controller = new AbortController();
  let out = "";
  let err = "";
  let announced: () => void = () => {};
  const serving = new Promise<void>((resolve) => (announced = resolve));
  const io: CliIo = {
    stdout: { write: (t: string) => ((out += t), out.includes("kubeconfig: ") && announced()) },
    stderr: { write: (t: string) => (err += t) },
    env: {},
    signal: controller.signal,
  };
  const exit = run(argv, io);
  const early = await Promise.race([serving.then(() => undefined), exit]);
  assert.equal(early, undefined, `fake-apiserver exited early: ${err}`);
  return {
    out: () => out,
    err: () => err,
    stop: async () => {
      controller.abort();
      return exit;
    },
  };
}

describe("kratos-kube fake-apiserver", () => {
  it("--help prints the options and exits 0", async () => {
    const io = captureIo();
    assert.equal(await run(["--help"], io), 0);
    for (const o of ["--port", "--host", "--tls", "--token", "--kubeconfig", "--namespace", "--pods", "--app"]) assert.ok(io.out().includes(o), o);
  });

  it("rejects bad options with one line and exit code 2", async () => {
    for (const [argv, re] of [
      [["--port", "99999"], /--port must be a number from 0 to 65535/],
      [["--port", "1.5"], /--port must be a whole number/],
      [["--pods", "-1"], /--pods must be a number/],
      [["--bogus"], /Unknown option '--bogus'/],
      [["--token", "has space"], /--token must be printable ASCII/],
    ] as const) {
      const io = captureIo();
      assert.equal(await run([...argv], io), 2, argv.join(" "));
      assert.match(io.err(), re);
      assert.equal(io.err().trim().split("\n").length, 1);
    }
  });

  it("serves over http with a temporary kubeconfig that is removed on stop", async () => {
    const s = await start(["--pods", "3", "--app", "cart", "--namespace", "shop"]);
    const url = /^url: (\S+)$/m.exec(s.out())?.[1] ?? "";
    const path = /^kubeconfig: (.+)$/m.exec(s.out())?.[1] ?? "";
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(existsSync(path));
    const list = (await (await fetch(`${url}/api/v1/namespaces/shop/pods`)).json()) as {
      items: { metadata: { name: string; labels?: Record<string, string> }; status?: { podIP?: string } }[];
    };
    assert.equal(list.items.length, 3);
    assert.equal(new Set(list.items.map((p) => p.metadata.name)).size, 3);
    for (const p of list.items) {
      assert.match(p.metadata.name, /^cart-[0-9a-z]+-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      assert.equal(p.metadata.labels?.[KRATOS_LABEL_APP], "cart");
      assert.match(p.status?.podIP ?? "", /^10\.244\.0\.\d+$/);
    }
    assert.equal(await s.stop(), 0);
    assert.equal(existsSync(path), false);
  });

  it("exits 1 with the reason when it cannot listen", async () => {
    const s = await start([]);
    const port = new URL(/^url: (\S+)$/m.exec(s.out())?.[1] ?? "").port;
    const io = captureIo();
    assert.equal(await run(["--port", port], io), 1);
    assert.match(io.err(), /kratos-kube fake-apiserver: .*(EADDRINUSE|in use)/i);
    assert.equal(await s.stop(), 0);
  });

  it("writes a TLS + token kubeconfig the library's KubeConfig and client accept", async () => {
    const s = await start(["--token", "lib-token", "--pods", "2", "--app", "cart"]);
    const path = /^kubeconfig: (.+)$/m.exec(s.out())?.[1] ?? "";
    try {
      const config = await KubeConfig.fromKubeconfig(path);
      assert.match(config.server, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(config.namespace, "default");
      assert.ok(!String(config).includes("lib-token"), "the token stays out of toString()");
      await using client = createKubeClient({ config });
      const list = await client.listPods({ namespace: "default" });
      assert.equal(list.items.length, 2);
      assert.deepEqual(await client.selfSubjectAccessReview({ verb: "patch", resource: "pods", namespace: "shop" }), { allowed: true });
    } finally {
      assert.equal(await s.stop(), 0);
    }
  });
});
