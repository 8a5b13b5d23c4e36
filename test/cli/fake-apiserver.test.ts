import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { parse as parseYaml } from "yaml";
import { probeEndpoint } from "../../cli/probe.ts";
import { packageVersion } from "../../cli/version.ts";
import { run } from "../../cli/fake-apiserver.ts";
import { captureIo } from "../../cli/io.ts";
import type { CliIo } from "../../cli/io.ts";
import { KRATOS_LABEL_APP } from "../../src/registry/kratos-pods.ts";
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

const dir = mkdtempSync(join(tmpdir(), "kratos-kube-fake-cmd-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("kratos-kube --version", () => {
  it("reads the version from the package's package.json", async () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    assert.equal(await packageVersion(new URL("../../cli/version.ts", import.meta.url)), pkg.version);
    assert.equal(await packageVersion(new URL("file:///nonexistent/dir/x.js")), "unknown");
  });
});

describe("kratos-kube fake-apiserver", () => {
  it("--help prints the options and exits 0", async () => {
    const io = captureIo();
    assert.equal(await run(["--help"], io), 0);
    for (const o of ["--port", "--host", "--tls", "--token", "--grant", "--kubeconfig", "--context", "--namespace", "--pods", "--pod-ips", "--app", "--output"]) assert.ok(io.out().includes(o), o);
  });

  it("rejects bad options with one line and exit code 2", async () => {
    for (const [argv, re] of [
      [["--port", "99999"], /--port must be a number from 0 to 65535/],
      [["--port", "1.5"], /--port must be a whole number/],
      [["--pods", "-1"], /--pods must be a number/],
      [["--bogus"], /Unknown option '--bogus'/],
      [["--token", "has space"], /--token must be printable ASCII/],
      [["--grant", "no-user"], /--grant takes TOKEN=USER\[\/VERBS\[\/NAMESPACES\]\]/],
      [["--grant", "t=u/fly"], /--grant: unknown verb "fly"/],
      [["--grant", "t=u", "--grant", "t=v"], /each token may be given once/],
      [["--pod-ips", "vpc"], /--pod-ips must be one of loopback, cluster/],
    ] as const) {
      const io = captureIo();
      assert.equal(await run([...argv], io), 2, argv.join(" "));
      assert.match(io.err(), re);
      assert.equal(io.err().trim().split("\n").length, 1);
    }
  });

  it("--pods makes loopback pods, each served by a real Greeter with grpc.health.v1 on its own port", async () => {
    const s = await start(["--pods", "2", "--app", "cart"]);
    try {
      const url = /^url: (\S+)$/m.exec(s.out())?.[1] ?? "";
      const list = (await (await fetch(`${url}/api/v1/namespaces/default/pods`)).json()) as {
        items: { metadata: { annotations?: Record<string, string> }; spec: { containers: { ports: { containerPort: number }[] }[] }; status: { podIP: string } }[];
      };
      assert.equal(list.items.length, 2);
      const ports = list.items.map((p) => p.spec.containers[0]?.ports[0]?.containerPort ?? 0);
      assert.equal(new Set(ports).size, 2, "one port per pod");
      for (const [i, p] of list.items.entries()) {
        assert.equal(p.status.podIP, "127.0.0.1");
        assert.equal(p.metadata.annotations?.["kratos-service-protocols"], `{"${ports[i]}":"grpc"}`);
        const probe = await probeEndpoint(`grpc://127.0.0.1:${ports[i]}`, 2000);
        assert.equal(probe.ok, true, probe.detail);
        assert.match(probe.detail, /^SERVING/);
      }
    } finally {
      assert.equal(await s.stop(), 0);
    }
  });

  it("serves over http with a temporary kubeconfig that is removed on stop (--pod-ips cluster: 10.244.x.y)", async () => {
    const s = await start(["--pods", "3", "--app", "cart", "--namespace", "shop", "--pod-ips", "cluster"]);
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

  it("--tls without --token generates an admin token, so the kubeconfig user has credentials", async () => {
    const s = await start(["--tls", "--kubeconfig", join(dir, "tls.kubeconfig")]);
    try {
      const text = readFileSync(join(dir, "tls.kubeconfig"), "utf8");
      const doc = parseYaml(text) as { users: { user: { token?: string } }[] };
      assert.match(doc.users[0]?.user.token ?? "", /^fake-[0-9a-f-]{36}$/);
      assert.match(s.err(), /generated an admin token \(it is in the kubeconfig\)/);
      assert.ok(!s.err().includes(doc.users[0]?.user.token ?? "?"), "the token is not printed");
      await using client = createKubeClient({ config: await KubeConfig.fromKubeconfig(join(dir, "tls.kubeconfig")) });
      assert.equal((await client.listPods({ namespace: "default" })).items.length, 0);
      const url = /^url: (\S+)$/m.exec(s.out())?.[1] ?? "";
      await using anonymous = createKubeClient({ config: KubeConfig.fromOptions({ server: url, namespace: "default", insecureSkipTlsVerify: true }) });
      // As kube-apiserver with anonymous authentication on (its default): no credentials is system:anonymous, refused.
      await assert.rejects(anonymous.listPods({ namespace: "default" }), /403 Forbidden: .*User "system:anonymous" cannot list/);
    } finally {
      assert.equal(await s.stop(), 0);
    }
  });

  it("--grant adds tokens with their own verbs and namespaces, one kubeconfig context each; --context names the admin's", async () => {
    const path = join(dir, "grants.kubeconfig");
    const s = await start(["--token", "root", "--context", "admin", "--grant", "nowatch=system:serviceaccount:shop:app/get,list/shop", "--grant", "viewer=jane/list", "--kubeconfig", path]);
    try {
      const admin = await KubeConfig.fromKubeconfig(path);
      assert.equal(admin.user, "admin");
      const app = await KubeConfig.fromKubeconfig(path, { context: "app" });
      await using client = createKubeClient({ config: app });
      assert.deepEqual(await client.selfSubjectAccessReview({ verb: "list", resource: "pods", namespace: "shop" }), { allowed: true });
      assert.equal((await client.selfSubjectAccessReview({ verb: "watch", resource: "pods", namespace: "shop" })).allowed, false);
      assert.equal((await client.selfSubjectAccessReview({ verb: "list", resource: "pods", namespace: "other" })).allowed, false);
      const who = (await (await client.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", { body: { kind: "SelfSubjectReview", apiVersion: "authentication.k8s.io/v1" } })).json()) as { status: { userInfo: { username: string } } };
      assert.equal(who.status.userInfo.username, "system:serviceaccount:shop:app");
      await using jane = createKubeClient({ config: await KubeConfig.fromKubeconfig(path, { context: "jane" }) });
      assert.equal((await jane.selfSubjectAccessReview({ verb: "list", resource: "pods", namespace: "x" })).allowed, true);
      assert.match(s.err(), /--token implies --tls/);
    } finally {
      assert.equal(await s.stop(), 0);
    }
  });

  it("-o json prints one JSON object with the URL, kubeconfig, contexts and pods", async () => {
    const controller = new AbortController();
    const io = captureIo({ signal: controller.signal });
    const exit = run(["-o", "json", "--pods", "1", "--pod-ips", "cluster", "--app", "cart"], io);
    await io.waitForOut(/\n$/);
    const doc = JSON.parse(io.out()) as { url: string; kubeconfig: string; contexts: { name: string; user: string }[]; pods: { name: string; ip: string; port: number }[] };
    assert.match(doc.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(existsSync(doc.kubeconfig));
    assert.deepEqual(doc.contexts, [{ name: "fake", user: "kubernetes-admin" }]);
    assert.deepEqual(doc.pods.map((p) => [p.ip, p.port]), [["10.244.0.2", 9000]]);
    controller.abort();
    assert.equal(await exit, 0);
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
