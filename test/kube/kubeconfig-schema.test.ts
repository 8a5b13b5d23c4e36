import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { KubeConfig, KubeConfigError } from "../../src/kube/index.ts";
import { parseExecCredential } from "../../src/kube/kubeconfig-schema.ts";

const SECRET = "s3cr3t-t0ken-value";

/** Asserts `p` rejects with a KubeConfigError matching every pattern and never quoting the secret. */
async function rejectsNaming(p: Promise<unknown>, ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof KubeConfigError, String(e));
    for (const re of patterns) assert.match(e.message, re);
    const all = JSON.stringify({ m: e.message, s: e.stack, c: String(e.cause) });
    assert.ok(!all.includes(SECRET), e.message);
    return true;
  });
}

const withUser = (user: string): string => `clusters:
- name: c
  cluster: {server: 'https://kube.test'}
users:
- name: u
  user: ${user}
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
`;

describe("kubeconfig schema errors", () => {
  it("names the document, the entry and the field path of a non-string server", async () => {
    await rejectsNaming(
      KubeConfig.fromKubeconfig("clusters:\n- name: c\n  cluster: {server: 6443}\ncontexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n"),
      /^kubeconfig text: cluster "c": clusters\[0\]\.cluster\.server must be a string \(got a number\)$/,
    );
  });

  it("names exec.args when it is not a list", async () => {
    await rejectsNaming(
      KubeConfig.fromKubeconfig(withUser("{exec: {apiVersion: client.authentication.k8s.io/v1, command: aws, args: eks get-token}}")),
      /user "u": users\[0\]\.user\.exec\.args must be a list \(got a string\)/,
    );
  });

  it("names the exec.env entry and field that is wrong", async () => {
    await rejectsNaming(
      KubeConfig.fromKubeconfig(withUser(`{exec: {command: aws, env: [{name: A, value: a}, {name: B, value: [${SECRET}]}]}}`)),
      /users\[0\]\.user\.exec\.env\[1\]\.value must be a string \(got a list\)/,
    );
  });

  it("never quotes a secret held in a malformed field", async () => {
    await rejectsNaming(
      KubeConfig.fromKubeconfig(withUser(`{token: {value: ${SECRET}}}`)),
      /users\[0\]\.user\.token must be a string \(got a mapping\)/,
    );
    await rejectsNaming(
      KubeConfig.fromKubeconfig(withUser(`{client-key-data: [${SECRET}]}`)),
      /users\[0\]\.user\.client-key-data must be a string \(got a list\)/,
    );
  });

  it("names the list that is not a list, and still skips malformed entries", async () => {
    await rejectsNaming(KubeConfig.fromKubeconfig("clusters: {a: 1}\ncurrent-context: x\n"), /kubeconfig text: clusters must be a list \(got a mapping\)/);
    const c = await KubeConfig.fromKubeconfig(`clusters:
- {name: '', cluster: {server: 7}}
- name: c
  cluster: {server: 'https://ok.example'}
contexts:
- name: x
  context: {cluster: c}
current-context: x
`);
    assert.equal(c.server, "https://ok.example");
  });
});

describe("ExecCredential schema", () => {
  const name = 'exec credential plugin "aws"';
  const v1 = "client.authentication.k8s.io/v1";

  it("accepts v1 and v1beta1 status fields", () => {
    const status = parseExecCredential(
      { apiVersion: v1, kind: "ExecCredential", status: { token: "t", expirationTimestamp: "2030-01-01T00:00:00Z" } },
      name,
      v1,
    );
    assert.deepEqual(status, { token: "t", expirationTimestamp: "2030-01-01T00:00:00Z" });
    const beta = "client.authentication.k8s.io/v1beta1";
    const cert = parseExecCredential(
      { apiVersion: beta, kind: "ExecCredential", status: { clientCertificateData: "C", clientKeyData: "K", token: "" } },
      name,
      beta,
    );
    assert.deepEqual(cert, { clientCertificateData: "C", clientKeyData: "K", token: undefined });
  });

  it("names a missing status", () => {
    assert.throws(
      () => parseExecCredential({ apiVersion: v1, kind: "ExecCredential" }, name, v1),
      (e: unknown) => e instanceof KubeConfigError && /^exec credential plugin "aws": status is missing$/.test(e.message),
    );
  });

  it("names a non-string status field without quoting it", () => {
    assert.throws(
      () => parseExecCredential({ apiVersion: v1, kind: "ExecCredential", status: { token: [SECRET] } }, name, v1),
      (e: unknown) => {
        assert.ok(e instanceof KubeConfigError);
        assert.match(e.message, /status\.token must be a string \(got a list\)/);
        assert.ok(!`${e.message}${e.stack}`.includes(SECRET));
        return true;
      },
    );
  });

  it("rejects what is not an ExecCredential, or of another apiVersion", () => {
    assert.throws(() => parseExecCredential([1], name, v1), /printed JSON that is not an ExecCredential/);
    assert.throws(() => parseExecCredential({ kind: "Secret", status: {} }, name, v1), /not an ExecCredential/);
    assert.throws(
      () => parseExecCredential({ apiVersion: "x/v2", kind: "ExecCredential", status: {} }, name, v1),
      /answered with apiVersion "x\/v2", but client\.authentication\.k8s\.io\/v1 was asked for/,
    );
  });
});
