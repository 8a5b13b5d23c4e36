import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configInternals } from "../../src/kube/config.ts";
import { KubeConfig, KubeConfigError } from "../../src/kube/index.ts";

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/kube/${name}`, import.meta.url), "utf8");
const b64 = (s: string): string => btoa(s);

describe("KubeConfig.fromKubeconfig", () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), "kratos-kube-kc-"));
    mkdirSync(join(root, "certs"));
    writeFileSync(join(root, "certs", "ca.pem"), fixture("ca.pem"));
    writeFileSync(join(root, "certs", "client.pem"), fixture("client.pem"));
    writeFileSync(join(root, "certs", "client-key.pem"), fixture("client-key.pem"));
    writeFileSync(join(root, "certs", "token"), "file-token\n");
    writeFileSync(
      join(root, "a.yaml"),
      `apiVersion: v1
kind: Config
current-context: prod
clusters:
- name: prod
  cluster:
    server: https://prod.example:6443
    certificate-authority: certs/ca.pem
    tls-server-name: kubernetes.test
- name: shared
  cluster:
    server: https://from-a.example
contexts:
- name: prod
  context: {cluster: prod, user: cert-user, namespace: payments}
- name: files
  context: {cluster: prod, user: file-user}
users:
- name: cert-user
  user:
    client-certificate: certs/client.pem
    client-key: certs/client-key.pem
- name: file-user
  user:
    tokenFile: certs/token
`,
    );
    writeFileSync(
      join(root, "b.yaml"),
      `apiVersion: v1
current-context: dev
clusters:
- name: shared
  cluster:
    server: https://from-b.example
- name: dev
  cluster:
    server: https://dev.example
    insecure-skip-tls-verify: true
contexts:
- name: dev
  context: {cluster: dev, user: tok}
- name: both
  context: {cluster: shared, user: tok}
- name: prod
  context: {cluster: dev, user: tok}
users:
- name: tok
  user: {token: b-token}
`,
    );
    writeFileSync(join(root, "nocontext.yaml"), "apiVersion: v1\nclusters: []\n");
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it("reads inline data: CA, client certificate, token and the context's namespace", async () => {
    const text = `apiVersion: v1
clusters:
- name: c
  cluster:
    server: https://kube.test:6443
    certificate-authority-data: ${b64(fixture("ca.pem"))}
users:
- name: u
  user:
    token: inline-token
    client-certificate-data: ${b64(fixture("client.pem"))}
    client-key-data: ${b64(fixture("client-key.pem"))}
contexts:
- name: x
  context: {cluster: c, user: u, namespace: shop}
current-context: x
`;
    const c = await KubeConfig.fromKubeconfig(text);
    assert.equal(c.server, "https://kube.test:6443");
    assert.equal(c.namespace, "shop");
    assert.equal(c.user, "u");
    const i = configInternals(c);
    assert.equal(i.tls.caPem, fixture("ca.pem"));
    assert.equal(i.tls.certPem, fixture("client.pem"));
    assert.equal(i.tls.keyPem, fixture("client-key.pem"));
    assert.deepEqual(i.auth, { type: "token", token: "inline-token" });
    assert.ok(!String(c).includes("inline-token"));
  });

  it("resolves file paths against the kubeconfig's directory", async () => {
    const c = await KubeConfig.fromKubeconfig(join(root, "a.yaml"));
    assert.equal(c.server, "https://prod.example:6443");
    assert.equal(c.namespace, "payments");
    const i = configInternals(c);
    assert.equal(i.tls.caPem, fixture("ca.pem"));
    assert.equal(i.tls.keyPem, fixture("client-key.pem"));
    assert.equal(i.tls.serverName, "kubernetes.test");
    assert.equal(c.auth, "client-certificate");
    const f = await KubeConfig.fromKubeconfig(join(root, "a.yaml"), { context: "files" });
    assert.deepEqual(configInternals(f).auth, { type: "file", path: join(root, "certs", "token"), initial: undefined });
    assert.equal(f.namespace, "default");
  });

  it("merges KUBECONFIG files as kubectl does: the first definition wins, missing files are skipped", async () => {
    const env = { KUBECONFIG: [join(root, "missing.yaml"), join(root, "a.yaml"), join(root, "b.yaml")].join(":") };
    const c = await KubeConfig.fromKubeconfig(undefined, { env });
    assert.equal(c.server, "https://prod.example:6443", "current-context from the first file that sets it");
    const both = await KubeConfig.fromKubeconfig(undefined, { env, context: "both" });
    assert.equal(both.server, "https://from-a.example", "cluster 'shared' from the first file");
    assert.deepEqual(configInternals(both).auth, { type: "token", token: "b-token" });
    const dev = await KubeConfig.fromKubeconfig(undefined, { env, context: "dev" });
    assert.equal(configInternals(dev).tls.insecureSkipTlsVerify, true);
    const reversed = await KubeConfig.fromKubeconfig(undefined, {
      env: { KUBECONFIG: `${join(root, "b.yaml")}:${join(root, "a.yaml")}` },
    });
    assert.equal(reversed.server, "https://dev.example");
  });

  it("reads ~/.kube/config when KUBECONFIG is unset", async () => {
    const home = join(root, "home");
    mkdirSync(join(home, ".kube"), { recursive: true });
    writeFileSync(join(home, ".kube", "config"), readFileSync(join(root, "b.yaml")));
    const c = await KubeConfig.fromKubeconfig(undefined, { env: { HOME: home } });
    assert.equal(c.server, "https://dev.example");
    assert.match(c.source, /\.kube\/config context "dev"/);
  });

  it("never quotes the offending line of invalid YAML (it may hold a token)", async () => {
    const text = "apiVersion: v1\nusers:\n- name: u\n  user: {token: s3cr3t-t0ken, : [\n";
    await assert.rejects(KubeConfig.fromKubeconfig(text), (e: unknown) => {
      assert.ok(e instanceof KubeConfigError);
      assert.match(e.message, /invalid YAML/);
      assert.ok(!JSON.stringify({ m: e.message, s: e.stack, c: String(e.cause) }).includes("s3cr3t"), e.message);
      return true;
    });
  });

  it("skips malformed entries instead of failing the whole file", async () => {
    const c = await KubeConfig.fromKubeconfig(`clusters:
- cluster: {server: 'https://nameless'}
- name: c
  cluster: {server: 'https://ok.example'}
users:
- 42
- name: u
  user: {token: t}
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
`);
    assert.equal(c.server, "https://ok.example");
    assert.equal(c.auth, "token");
  });

  it("a server without a scheme gets https with a CA, client certificate or insecure flag, else http (client-go rest.DefaultServerURL)", async () => {
    const kc = (cluster: string, user = "{}"): string =>
      `clusters:\n- name: c\n  cluster: ${cluster}\nusers:\n- name: u\n  user: ${user}\ncontexts:\n- name: a\n  context: {cluster: c, user: u}\ncurrent-context: a\n`;
    const ca = `certificate-authority-data: ${b64(fixture("ca.pem"))}`;
    const cert = `{client-certificate-data: ${b64(fixture("client.pem"))}, client-key-data: ${b64(fixture("client-key.pem"))}}`;
    const cases: Array<[string, string | undefined, string]> = [
      [`{server: '127.0.0.1:16443', ${ca}}`, undefined, "https://127.0.0.1:16443"],
      ["{server: 'localhost:6443'}", cert, "https://localhost:6443"],
      ["{server: 'kube.example:6443', insecure-skip-tls-verify: true}", undefined, "https://kube.example:6443"],
      ["{server: '127.0.0.1:8080'}", undefined, "http://127.0.0.1:8080"],
      ["{server: '[::1]:8080'}", undefined, "http://[::1]:8080"],
      [`{server: 'http://127.0.0.1:8080', ${ca}}`, undefined, "http://127.0.0.1:8080"],
    ];
    for (const [cluster, user, want] of cases) {
      const c = await KubeConfig.fromKubeconfig(kc(cluster, user));
      assert.equal(c.server, want, cluster);
    }
    await assert.rejects(KubeConfig.fromKubeconfig(kc("{server: 'kube.example/prefix'}")), (e: unknown) => {
      assert.ok(e instanceof KubeConfigError);
      assert.match(e.message, /server "kube\.example\/prefix" must be a URL or a host:port pair/);
      return true;
    });
  });

  it("names what is missing", async () => {
    const cases: Array<[() => Promise<unknown>, RegExp]> = [
      [() => KubeConfig.fromKubeconfig(join(root, "a.yaml"), { context: "nope" }), /context "nope" not found \(known: prod, files\)/],
      [() => KubeConfig.fromKubeconfig(join(root, "nocontext.yaml")), /no current-context is set/],
      [() => KubeConfig.fromKubeconfig(join(root, "absent.yaml")), /cannot read kubeconfig .*absent\.yaml: no such file/],
      [() => KubeConfig.fromKubeconfig(undefined, { env: { KUBECONFIG: join(root, "x:") } }), /none of the KUBECONFIG files exists/],
      [() => KubeConfig.fromKubeconfig("clusters: [oops\n"), /invalid YAML/],
      [
        () => KubeConfig.fromKubeconfig("contexts:\n- name: a\n  context: {cluster: gone}\ncurrent-context: a\n"),
        /cluster "gone", which is not defined/,
      ],
      [
        () => KubeConfig.fromKubeconfig(
          `clusters:\n- name: c\n  cluster: {server: 'https://a', insecure-skip-tls-verify: true, certificate-authority-data: ${b64("x")}}\ncontexts:\n- name: a\n  context: {cluster: c}\ncurrent-context: a\n`,
        ),
        /both a certificate authority and insecure-skip-tls-verify/,
      ],
      [
        () => KubeConfig.fromKubeconfig(
          "clusters:\n- name: c\n  cluster: {server: 'https://a'}\nusers:\n- name: u\n  user: {auth-provider: {name: gcp}}\ncontexts:\n- name: a\n  context: {cluster: c, user: u}\ncurrent-context: a\n",
        ),
        /user "u" uses "auth-provider", which kratos-kube does not support/,
      ],
      [
        () => KubeConfig.fromKubeconfig(
          "clusters:\n- name: c\n  cluster: {server: 'http://kube.example'}\nusers:\n- name: u\n  user: {token: abc}\ncontexts:\n- name: a\n  context: {cluster: c, user: u}\ncurrent-context: a\n",
        ),
        /refusing to send a bearer token over plain http/,
      ],
    ];
    for (const [p, re] of cases) {
      await assert.rejects(p(), (e: unknown) => {
        assert.ok(e instanceof KubeConfigError, String(e));
        assert.match(e.message, re);
        return true;
      });
    }
  });
});
