/**
 * Security of what goes on the wire (issue 8, item 5): bearer tokens are
 * refused over plain http to anything but loopback (no request is sent — an
 * injected fetch records), including hostnames crafted to look like
 * loopback and tokens that only appear later (exec plugins); a wrong CA
 * fails with a clear TLS error on every runtime; the deploy/ RBAC Role is
 * least privilege — namespaced, no wildcard, and every verb it grants is
 * needed (with any one removed, registration or discovery is refused by the
 * fake API server's RBAC); `npm audit --omit=dev` has no high or critical
 * finding (skipped, saying so, when the audit endpoint cannot be reached).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { createKubeClient, KubeConfig, KubeConnectionError } from "../../src/kube/index.ts";
import { KubernetesRegistry, RegistryError } from "../../src/index.ts";
import { FakeKubeApiServer, generateTlsMaterial, makePod } from "../../src/testing/index.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const unix = globalThis.process?.platform !== "win32";

describe("bearer tokens and plain http", () => {
  let dir = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "kratos-kube-http-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const remote = [
    "http://10.0.0.1:8080",
    "http://kube.example.com",
    "http://127.0.0.1.nip.io:8080",
    "http://localhost.example.com",
    "http://[::ffff:a00:1]:8080",
    "http://0.0.0.0:8080",
  ];

  it("fromOptions refuses a token for every non-loopback http server, naming the host", () => {
    for (const server of remote) {
      assert.throws(() => KubeConfig.fromOptions({ server, token: "t0ken" }), (e: unknown) => {
        assert.match(String(e), /refusing to send a bearer token over plain http/, server);
        assert.ok(!String(e).includes("t0ken"));
        return true;
      }, server);
    }
  });

  it("a loopback-looking userinfo in a remote http URL is refused too", () => {
    for (const server of ["http://127.0.0.1@evil.example.com", "http://localhost:x@10.0.0.1"]) {
      assert.throws(() => KubeConfig.fromOptions({ server, token: "t0ken" }), /must not contain credentials|refusing to send a bearer token/, server);
    }
  });

  it("a kubeconfig with a token or an exec plugin and a remote http server sends nothing", async () => {
    const cmd = join(dir, "plugin.sh");
    writeFileSync(cmd, `#!/bin/sh\nprintf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-exec"}}'\n`);
    chmodSync(cmd, 0o755);
    const users = unix ? ["{token: t0ken}", `{exec: {apiVersion: client.authentication.k8s.io/v1, command: "${cmd}", interactiveMode: Never}}`] : ["{token: t0ken}"];
    for (const server of remote) {
      for (const user of users) {
        const text = `apiVersion: v1\nclusters: [{name: c, cluster: {server: "${server}"}}]\nusers: [{name: u, user: ${user}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`;
        const sent: Request[] = [];
        const outcome = await KubeConfig.fromKubeconfig(text).then(
          async (config) => {
            const client = createKubeClient({ config, fetch: (req) => (sent.push(req), Promise.resolve(new Response("{}"))) });
            try {
              return await client.listPods({ namespace: "default" }).then(() => "sent", (e: unknown) => e);
            } finally {
              await client.close();
            }
          },
          (e: unknown) => e,
        );
        assert.match(String(outcome), /refusing to send a bearer token over plain http/, `${server} ${user}`);
        assert.equal(sent.length, 0, `${server} ${user}: a request was sent`);
      }
    }
  });

  it("loopback over plain http is allowed (the fake API server, kubectl proxy)", async () => {
    for (const server of ["http://127.0.0.1:8001", "http://localhost:8001", "http://[::1]:8001", "http://127.8.9.10:8001"]) {
      const sent: Request[] = [];
      const client = createKubeClient({
        config: KubeConfig.fromOptions({ server, token: "t0ken" }),
        fetch: (req) => (sent.push(req), Promise.resolve(new Response(JSON.stringify({ kind: "PodList", apiVersion: "v1", metadata: { resourceVersion: "1" }, items: [] }), { headers: { "content-type": "application/json" } }))),
      });
      await client.listPods({ namespace: "default" });
      await client.close();
      assert.equal(sent[0]?.headers.get("authorization"), "Bearer t0ken", server);
    }
  });
});

describe("TLS verification", () => {
  const fake = new FakeKubeApiServer({ tokens: { good: { user: "alice" } } });
  let url = "";
  let caPem = "";
  before(async () => {
    const l = await fake.listen({ tls: true });
    url = l.url;
    caPem = l.caPem ?? "";
  });
  after(() => fake.close());

  it("a wrong CA fails with a clear TLS error, the right one works", async () => {
    const wrong = (await generateTlsMaterial()).caPem;
    const bad = createKubeClient({ config: KubeConfig.fromOptions({ server: url, caPem: wrong, token: "good" }) });
    await assert.rejects(bad.listPods({ namespace: "default" }), (e: unknown) => {
      assert.ok(e instanceof KubeConnectionError, String(e));
      assert.match(e.message, /TLS verification of the Kubernetes API server https:\/\/127\.0\.0\.1:\d+ failed \(check the certificate authority/);
      return true;
    });
    await bad.close();
    const fakeRequests = fake.requests.length;
    const system = createKubeClient({ config: KubeConfig.fromOptions({ server: url, token: "good" }) });
    await assert.rejects(system.listPods({ namespace: "default" }), /TLS verification/);
    await system.close();
    assert.equal(fake.requests.length, fakeRequests, "a request got through an unverified connection");
    const good = createKubeClient({ config: KubeConfig.fromOptions({ server: url, caPem, token: "good" }) });
    assert.deepEqual((await good.listPods({ namespace: "default" })).items, []);
    await good.close();
  });
});

describe("deploy/ RBAC is least privilege", () => {
  type Obj = Record<string, any>;
  const docs: Obj[] = readdirSync(join(root, "deploy"), { recursive: true })
    .map(String)
    .filter((f) => /\.ya?ml$/.test(f))
    .flatMap((f) => parseAllDocuments(readFileSync(join(root, "deploy", f), "utf8")).map((d) => d.toJS() as Obj))
    .filter((o) => o !== null && typeof o === "object");
  const roles = docs.filter((o) => o.kind === "Role");

  it("namespaced Roles (discovery: list/watch pods or endpointslices; registration: patch pods), no ClusterRole, no wildcard, no escalation verbs", () => {
    assert.deepEqual(docs.filter((o) => /^Cluster/.test(String(o.kind))).map((o) => o.kind), []);
    assert.deepEqual(roles.map((r) => [r.metadata?.name, (r.rules as Obj[]).flatMap((x) => x.verbs as string[]).sort().join(",")]).sort(), [
      ["kratos-kube-discovery", "list,watch"],
      ["kratos-kube-endpointslices", "list,watch"],
      ["kratos-kube-registrar", "patch"],
    ]);
    const slices = roles.find((r) => r.metadata?.name === "kratos-kube-endpointslices")!;
    assert.deepEqual(slices.rules, [{ apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list", "watch"] }]);
    const rules = roles.filter((r) => r !== slices).flatMap((r) => r.rules as Obj[]);
    for (const r of rules) {
      for (const field of ["apiGroups", "resources", "verbs", "resourceNames"]) {
        for (const v of (r[field] as string[] | undefined) ?? []) assert.ok(!v.includes("*"), `${field} has ${v}`);
      }
      assert.deepEqual(r.apiGroups, [""]);
      assert.deepEqual(r.resources, ["pods"]);
      for (const v of r.verbs as string[]) assert.ok(["get", "list", "watch", "patch"].includes(v), `verb ${v}`);
      assert.equal(r.nonResourceURLs, undefined);
    }
    for (const rb of docs.filter((o) => o.kind === "RoleBinding")) assert.equal(rb.roleRef?.kind, "Role");
  });

  it("every granted verb is needed: without any one, registration or discovery is refused", async () => {
    // A workload that registers and discovers Kratos Pods (micro-forge) holds both pod Roles.
    const podRoles = roles.filter((role) => (role.rules as Obj[]).every((r) => (r.resources as string[]).includes("pods")));
    const granted = [...new Set(podRoles.flatMap((role) => (role.rules as Obj[]).flatMap((r) => r.verbs as string[])))];
    const attempt = async (verbs: string[]): Promise<string | undefined> => {
      const fake = new FakeKubeApiServer({ tokens: { sa: { user: "system:serviceaccount:shop:kratos-kube", verbs, namespaces: ["shop"] } } });
      fake.createPod(makePod({ name: "me", namespace: "shop" }));
      let onForbidden: (code: string) => void = () => {};
      const forbidden = new Promise<string>((r) => (onForbidden = r));
      const registry = new KubernetesRegistry({
        config: KubeConfig.fromOptions({ server: "http://127.0.0.1:6443", token: "sa", namespace: "shop" }),
        fetch: fake.fetch,
        podName: "me",
        podNamespace: "shop",
        syncTimeoutMs: 5000,
        onError: (e) => {
          if (e instanceof RegistryError && e.code === "FORBIDDEN") onForbidden(e.code);
        },
      });
      try {
        const me = { id: "me", name: "rbac.service", version: "v1", metadata: {}, endpoints: ["grpc://10.0.0.1:9000"] };
        await registry.register(me);
        const watcher = await registry.watch("rbac.service");
        try {
          const first = await Promise.race([watcher.next(), forbidden]);
          if (typeof first === "string") return first;
          assert.deepEqual(first.map((i) => i.version), ["v1"]);
          // Discovery must follow changes, not only the first LIST: a forbidden watch shows here.
          fake.updatePod("shop", "me", (p) => void (p.metadata.labels!["kratos-service-version"] = "v2"));
          const next = await Promise.race([watcher.next(), forbidden]);
          if (typeof next === "string") return next;
          assert.deepEqual(next.map((i) => i.version), ["v2"]);
        } finally {
          await watcher.stop();
        }
        await registry.deregister(me);
        return undefined;
      } catch (e) {
        return e instanceof RegistryError ? e.code : String(e);
      } finally {
        await registry.close();
        await fake.close();
      }
    };
    assert.equal(await attempt(granted), undefined, "the Role's verbs are not enough");
    const unused: string[] = [];
    for (const v of granted) {
      const outcome = await attempt(granted.filter((g) => g !== v));
      if (outcome === undefined) unused.push(v);
      else assert.equal(outcome, "FORBIDDEN", `without ${v}`);
    }
    assert.deepEqual(unused, [], "verbs the Roles grant that kratos-kube never uses");
  });
});

/** Runs `npm audit --omit=dev --json`; undefined when the audit endpoint cannot be reached. */
async function audit(): Promise<{ high: number; critical: number } | string> {
  const out = await new Promise<string>((resolve) => {
    execFile("npm", ["audit", "--omit=dev", "--json"], { cwd: root, timeout: 60_000, maxBuffer: 16 << 20 }, (_err, stdout) => resolve(String(stdout)));
  });
  try {
    const doc = JSON.parse(out) as { metadata?: { vulnerabilities?: { high?: number; critical?: number } }; message?: string };
    const v = doc.metadata?.vulnerabilities;
    if (v === undefined) return `npm audit could not reach the registry's audit endpoint (${String(doc.message ?? "no report").slice(0, 120)})`;
    return { high: v.high ?? 0, critical: v.critical ?? 0 };
  } catch {
    return `npm audit gave no JSON report (offline or npm missing): ${out.slice(0, 120)}`;
  }
}

const auditResult = globalThis.process?.env?.["KRATOS_KUBE_SKIP_AUDIT"] === "1" ? "KRATOS_KUBE_SKIP_AUDIT=1" : await audit();

describe("dependencies", () => {
  it("npm audit --omit=dev: no high or critical finding", { skip: typeof auditResult === "string" ? auditResult : false }, () => {
    assert.ok(typeof auditResult !== "string");
    assert.deepEqual(auditResult, { high: 0, critical: 0 });
  });
});
