import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configInternals } from "../../src/kube/config.ts";
import { inClusterServer } from "../../src/kube/in-cluster.ts";
import { KubeConfig, KubeConfigError } from "../../src/kube/index.ts";

const JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6c2hvcDphcGkifQ.c2ln";
const env = { KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" };

describe("KubeConfig.inCluster", () => {
  let root: string;
  let sa: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), "kratos-kube-sa-"));
    sa = join(root, "full");
    mkdirSync(sa);
    writeFileSync(join(sa, "token"), `${JWT}\n`);
    writeFileSync(join(sa, "ca.crt"), "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n");
    writeFileSync(join(sa, "namespace"), "shop\n");
    mkdirSync(join(root, "bare"));
    writeFileSync(join(root, "bare", "token"), "opaque-token");
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it("reads the server, token, CA and namespace", async () => {
    const c = await KubeConfig.inCluster({ serviceAccountDir: sa, env });
    assert.equal(c.server, "https://10.96.0.1");
    assert.equal(c.namespace, "shop");
    assert.equal(c.user, "system:serviceaccount:shop:api");
    assert.equal(c.auth, "token-file");
    const i = configInternals(c);
    assert.deepEqual(i.auth, { type: "file", path: join(sa, "token"), initial: JWT });
    assert.match(i.tls.caPem ?? "", /BEGIN CERTIFICATE/);
    assert.equal(i.source, "in-cluster");
  });

  it("keeps a non-default port and puts IPv6 addresses in brackets", async () => {
    assert.equal(inClusterServer("fd00::1", "443"), "https://[fd00::1]:443");
    assert.equal(inClusterServer("10.0.0.1", "6443"), "https://10.0.0.1:6443");
    const c = await KubeConfig.inCluster({
      serviceAccountDir: sa,
      env: { KUBERNETES_SERVICE_HOST: "fd00:10:96::1", KUBERNETES_SERVICE_PORT: "6443" },
    });
    assert.equal(c.server, "https://[fd00:10:96::1]:6443");
  });

  it("lets POD_NAMESPACE override the namespace file", async () => {
    const c = await KubeConfig.inCluster({ serviceAccountDir: sa, env: { ...env, POD_NAMESPACE: "payments" } });
    assert.equal(c.namespace, "payments");
  });

  it("falls back to namespace default and no custom CA when those files are missing", async () => {
    const c = await KubeConfig.inCluster({ serviceAccountDir: join(root, "bare"), env });
    assert.equal(c.namespace, "default");
    assert.equal(c.user, undefined);
    assert.equal(configInternals(c).tls.caPem, undefined);
  });

  it("needs both environment variables non-empty", async () => {
    for (const e of [{}, { KUBERNETES_SERVICE_HOST: "10.0.0.1" }, { KUBERNETES_SERVICE_HOST: "10.0.0.1", KUBERNETES_SERVICE_PORT: "" }]) {
      await assert.rejects(KubeConfig.inCluster({ serviceAccountDir: sa, env: e }), (err: unknown) =>
        err instanceof KubeConfigError && /KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT/.test(err.message),
      );
    }
  });

  it("fails clearly when the token cannot be read", async () => {
    const dir = join(root, "missing");
    await assert.rejects(KubeConfig.inCluster({ serviceAccountDir: dir, env }), (err: unknown) => {
      assert.ok(err instanceof KubeConfigError);
      assert.ok(err.message.includes(join(dir, "token")), err.message);
      return true;
    });
  });
});

describe("KubeConfig.load", () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), "kratos-kube-load-"));
    writeFileSync(join(root, "token"), "tok");
    writeFileSync(
      join(root, "config"),
      "apiVersion: v1\nclusters:\n- name: c\n  cluster: {server: 'https://kube.test:6443'}\ncontexts:\n- name: x\n  context: {cluster: c, namespace: dev}\ncurrent-context: x\n",
    );
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it("prefers in-cluster when its environment is present", async () => {
    const c = await KubeConfig.load({ serviceAccountDir: root, env: { ...env, KUBECONFIG: join(root, "config") } });
    assert.equal(c.source, "in-cluster");
  });

  it("uses the kubeconfig otherwise", async () => {
    const c = await KubeConfig.load({ env: { KUBECONFIG: join(root, "config") } });
    assert.equal(c.server, "https://kube.test:6443");
    assert.equal(c.namespace, "dev");
  });

  it("lists everything it tried in one error", async () => {
    await assert.rejects(
      KubeConfig.load({ serviceAccountDir: join(root, "nowhere"), env: { ...env, HOME: join(root, "nohome") } }),
      (err: unknown) => {
        assert.ok(err instanceof KubeConfigError);
        assert.match(err.message, /no Kubernetes configuration found; tried:/);
        assert.match(err.message, /in-cluster: .*token/);
        assert.match(err.message, /kubeconfig: cannot read kubeconfig .*nohome.*config: no such file/);
        return true;
      },
    );
  });
});
