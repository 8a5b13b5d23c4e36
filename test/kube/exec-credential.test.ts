import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Clock } from "../../src/kube/clock.ts";
import { createKubeClient, KubeApiError, KubeConfig, KubeConfigError } from "../../src/kube/index.ts";

/** A clock moved by hand. */
function manualClock(): Clock & { advance(ms: number): void } {
  let t = 0;
  return { now: () => t, setTimeout: () => ({ cancel() {} }), advance: (ms) => void (t += ms) };
}

const unix = globalThis.process?.platform !== "win32";

describe("exec credential plugins", { skip: unix ? false : "the test plugins are POSIX shell scripts" }, () => {
  let root: string;
  let count: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), "kratos-kube-exec-"));
    count = join(root, "count");
    // Prints an ExecCredential for the apiVersion in $API, token "exec-<n>" where n counts runs,
    // valid for $TTL seconds; records KUBERNETES_EXEC_INFO and its arguments.
    const plugin = `#!/bin/sh
echo run >> "${count}"
n=$(wc -l < "${count}" | tr -d ' ')
printf '%s' "$KUBERNETES_EXEC_INFO" > "${join(root, "info.json")}"
printf '%s' "$*" > "${join(root, "args.txt")}"
if [ -n "$FAIL" ]; then echo "token expired, run aws sso login" >&2; exit 3; fi
exp=""
if [ -n "$TTL" ]; then exp=$(date -u -d "@$(( $(date +%s) + TTL ))" +%Y-%m-%dT%H:%M:%SZ); fi
printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"exec-%s"%s}}' "$API" "$n" "\${exp:+,\\"expirationTimestamp\\":\\"$exp\\"}"
`;
    writeFileSync(join(root, "plugin.sh"), plugin);
    chmodSync(join(root, "plugin.sh"), 0o755);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  const kubeconfig = (exec: string): string => `apiVersion: v1
clusters:
- name: c
  cluster: {server: 'https://kube.test:6443'}
users:
- name: eks
  user:
    exec:
${exec.replace(/^/gm, "      ")}
contexts:
- name: x
  context: {cluster: c, user: eks}
current-context: x
`;

  const write = (name: string, text: string): string => {
    const p = join(root, name);
    writeFileSync(p, text);
    return p;
  };

  const runs = (): number => {
    try {
      return readFileSync(count, "utf8").split("\n").filter(Boolean).length;
    } catch {
      return 0;
    }
  };

  it("runs the plugin, caches the token until expirationTimestamp, and renews it", async () => {
    rmSync(count, { force: true });
    const file = write(
      "ttl.yaml",
      kubeconfig(`apiVersion: client.authentication.k8s.io/v1
command: ./plugin.sh
args: [eks, get-token]
env: [{name: API, value: client.authentication.k8s.io/v1}, {name: TTL, value: "900"}]
interactiveMode: Never
provideClusterInfo: true`),
    );
    const config = await KubeConfig.fromKubeconfig(file);
    assert.equal(config.auth, "exec");
    const clock = manualClock();
    const auth: string[] = [];
    const fetch = async (req: Request): Promise<Response> => {
      auth.push(req.headers.get("authorization") ?? "");
      return new Response(JSON.stringify({ kind: "PodList", metadata: {}, items: [] }));
    };
    const client = createKubeClient({ config, fetch, clock });
    await client.listPods({});
    await client.listPods({});
    clock.advance(60_000);
    await client.listPods({});
    assert.deepEqual(auth, ["Bearer exec-1", "Bearer exec-1", "Bearer exec-1"]);
    assert.equal(runs(), 1);
    clock.advance(900_000);
    await client.listPods({});
    assert.equal(auth.at(-1), "Bearer exec-2");
    assert.equal(readFileSync(join(root, "args.txt"), "utf8"), "eks get-token");
    const info = JSON.parse(readFileSync(join(root, "info.json"), "utf8"));
    assert.equal(info.kind, "ExecCredential");
    assert.equal(info.apiVersion, "client.authentication.k8s.io/v1");
    assert.equal(info.spec.interactive, false);
    assert.equal(info.spec.cluster.server, "https://kube.test:6443");
  });

  it("speaks v1beta1, keeps a token without expiry until a 401, then re-runs and retries once", async () => {
    rmSync(count, { force: true });
    const file = write(
      "beta.yaml",
      kubeconfig(`apiVersion: client.authentication.k8s.io/v1beta1
command: ${join(root, "plugin.sh")}
env: [{name: API, value: client.authentication.k8s.io/v1beta1}]`),
    );
    const config = await KubeConfig.fromKubeconfig(file);
    const seen: string[] = [];
    const fetch = async (req: Request): Promise<Response> => {
      const a = req.headers.get("authorization") ?? "";
      seen.push(a);
      if (a === "Bearer exec-1") return new Response("Unauthorized", { status: 401 });
      return new Response(JSON.stringify({ kind: "PodList", metadata: {}, items: [] }));
    };
    const client = createKubeClient({ config, fetch, clock: manualClock() });
    await client.listPods({});
    assert.deepEqual(seen, ["Bearer exec-1", "Bearer exec-2"]);
    await client.listPods({});
    assert.equal(runs(), 2);
  });

  it("reports a missing command with its install hint", async () => {
    const file = write(
      "missing.yaml",
      kubeconfig(`apiVersion: client.authentication.k8s.io/v1
command: kratos-kube-no-such-plugin
installHint: Install it with 'brew install no-such-plugin'.`),
    );
    const client = createKubeClient({ config: await KubeConfig.fromKubeconfig(file), fetch: () => Promise.reject(new Error("unreachable")) });
    await assert.rejects(client.listPods({}), (e: unknown) => {
      assert.ok(e instanceof KubeConfigError, String(e));
      assert.match(e.message, /exec credential plugin "kratos-kube-no-such-plugin" of user "eks" was not found/);
      assert.match(e.message, /brew install no-such-plugin/);
      return true;
    });
  });

  it("reports a failing plugin with its stderr, and wrong answers", async () => {
    const failing = write(
      "fail.yaml",
      kubeconfig(`apiVersion: client.authentication.k8s.io/v1
command: ${join(root, "plugin.sh")}
env: [{name: FAIL, value: "1"}]`),
    );
    const client = createKubeClient({ config: await KubeConfig.fromKubeconfig(failing), fetch: () => Promise.reject(new Error("unreachable")) });
    await assert.rejects(client.listPods({}), /exited with code 3: token expired, run aws sso login/);

    const mismatch = write(
      "mismatch.yaml",
      kubeconfig(`apiVersion: client.authentication.k8s.io/v1
command: ${join(root, "plugin.sh")}
env: [{name: API, value: client.authentication.k8s.io/v1beta1}]`),
    );
    const c2 = createKubeClient({ config: await KubeConfig.fromKubeconfig(mismatch), fetch: () => Promise.reject(new Error("unreachable")) });
    await assert.rejects(c2.listPods({}), /answered with apiVersion "client.authentication.k8s.io\/v1beta1", but client.authentication.k8s.io\/v1 was asked for/);

    const old = write("old.yaml", kubeconfig(`apiVersion: client.authentication.k8s.io/v1alpha1\ncommand: x`));
    const c3 = createKubeClient({ config: await KubeConfig.fromKubeconfig(old), fetch: () => Promise.reject(new Error("unreachable")) });
    await assert.rejects(c3.listPods({}), /apiVersion "client.authentication.k8s.io\/v1alpha1" is not supported/);
  });

  it("a 401 after a renewed token is still an error, not a loop", async () => {
    const file = write(
      "always401.yaml",
      kubeconfig(`apiVersion: client.authentication.k8s.io/v1
command: ${join(root, "plugin.sh")}
env: [{name: API, value: client.authentication.k8s.io/v1}]`),
    );
    let n = 0;
    const fetch = async (): Promise<Response> => {
      n++;
      return new Response("Unauthorized", { status: 401 });
    };
    const client = createKubeClient({ config: await KubeConfig.fromKubeconfig(file), fetch, clock: manualClock() });
    await assert.rejects(client.listPods({}), (e: unknown) => e instanceof KubeApiError && e.isUnauthorized());
    assert.equal(n, 2);
  });

  it("uses a client certificate an exec plugin returns (real TLS, certificate required)", async () => {
    const fixture = (name: string): string => readFileSync(new URL(`../fixtures/kube/${name}`, import.meta.url), "utf8");
    writeFileSync(join(root, "client.pem"), fixture("client.pem"));
    writeFileSync(join(root, "client-key.pem"), fixture("client-key.pem"));
    writeFileSync(
      join(root, "cert-plugin.sh"),
      `#!/bin/sh
cert=$(awk '{printf "%s\\\\n", $0}' "${join(root, "client.pem")}")
key=$(awk '{printf "%s\\\\n", $0}' "${join(root, "client-key.pem")}")
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"clientCertificateData":"%s","clientKeyData":"%s"}}' "$cert" "$key"
`,
    );
    chmodSync(join(root, "cert-plugin.sh"), 0o755);
    const server = createServer(
      { cert: fixture("server.pem"), key: fixture("server-key.pem"), ca: fixture("ca.pem"), requestCert: true, rejectUnauthorized: true },
      (_req, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ kind: "PodList", apiVersion: "v1", metadata: { resourceVersion: "9" }, items: [] }));
      },
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const file = write(
        "cert.yaml",
        `apiVersion: v1
clusters:
- name: c
  cluster: {server: 'https://127.0.0.1:${port}', certificate-authority-data: ${btoa(fixture("ca.pem"))}}
users:
- name: teleport
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1, command: ${join(root, "cert-plugin.sh")}, interactiveMode: Never}
contexts:
- name: x
  context: {cluster: c, user: teleport}
current-context: x
`,
      );
      await using client = createKubeClient({ config: await KubeConfig.fromKubeconfig(file) });
      const list = await client.listPods({ namespace: "default" });
      assert.equal(list.metadata.resourceVersion, "9");
    } finally {
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
