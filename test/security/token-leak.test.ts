/**
 * The bearer token never appears in an error, a log line or a printed object
 * (issue 8, item 5). A known secret token goes through a representative set
 * of failing operations — 401s, 403s, plain http to a remote host, TLS
 * failures, exec plugin failures, bad kubeconfigs and token files, registry
 * hooks, the CLI's output — and every text they produce (message, stack,
 * cause chain, `util.inspect`, `JSON.stringify`, `String()`) is searched for
 * the token and for a 12-character piece of it.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { createKubeClient, KubeConfig } from "../../src/kube/index.ts";
import { KubernetesRegistry } from "../../src/index.ts";
import { FakeKubeApiServer, generateTlsMaterial, makePod } from "../../src/testing/index.ts";
import { captureIo } from "../../cli/io.ts";
import { run as instances } from "../../cli/instances.ts";
import { run as doctor } from "../../cli/doctor.ts";

const PIECE = Array.from({ length: 24 }, (_, i) => "abcdefghjkmnpqrstuvwxyz23456789"[(i * 7 + 3) % 31]).join("");
/** Looks like a service-account JWT, so any code that "helpfully" decodes or shortens tokens is exercised too. */
const SECRET = `eyJhbGciOiJSUzI1NiJ9.${PIECE}.sig${PIECE.slice(0, 8)}`;
const needles = [SECRET, PIECE.slice(0, 12), PIECE.slice(12)];

const unix = globalThis.process?.platform !== "win32";
const texts: { what: string; text: string }[] = [];

/** Every printable form of `value` (and of an error's cause chain). */
function record(what: string, value: unknown): void {
  const forms: string[] = [];
  const add = (f: () => unknown): void => {
    try {
      forms.push(String(f()));
    } catch (e) {
      forms.push(`(throws ${e instanceof Error ? e.message : String(e)})`);
    }
  };
  add(() => inspect(value, { depth: 8, showHidden: true, getters: true }));
  add(() => JSON.stringify(value));
  add(() => String(value));
  let e: unknown = value;
  for (let i = 0; i < 6 && e instanceof Error; i++) {
    const err = e;
    add(() => err.message);
    add(() => err.stack);
    add(() => JSON.stringify(err, Object.getOwnPropertyNames(err)));
    e = (err as { cause?: unknown }).cause;
  }
  texts.push({ what, text: forms.join("\n") });
}

/** Awaits `p`, which must fail, and records the failure. */
async function failure(what: string, p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    record(what, e);
    return e;
  }
  assert.fail(`${what}: expected a failure`);
}

/** Starts a test's collection. */
function fresh(): void {
  texts.length = 0;
}

function assertNoLeak(): void {
  assert.ok(texts.length > 0);
  for (const { what, text } of texts) {
    for (const n of needles) assert.ok(!text.includes(n), `${what} leaks the token:\n${text.slice(Math.max(0, text.indexOf(n) - 300), text.indexOf(n) + 100)}`);
  }
}

describe("the token never appears in errors, logs or printed objects", () => {
  let dir = "";
  const fake = new FakeKubeApiServer({ tokens: { "some-other-token": { user: "admin" } } });
  const limited = new FakeKubeApiServer({ tokens: { [SECRET]: { user: "system:serviceaccount:shop:limited", verbs: ["get"], namespaces: ["shop"] } } });
  let httpsUrl = "";
  let limitedUrl = "";
  let limitedCa = "";

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "kratos-kube-leak-"));
    httpsUrl = (await fake.listen({ tls: true })).url;
    const l = await limited.listen({ tls: true });
    limitedUrl = l.url;
    limitedCa = l.caPem ?? "";
    limited.createPod(makePod({ name: "p-1", namespace: "shop", app: "sayhello.service" }));
  });
  after(async () => {
    await fake.close();
    await limited.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const file = (name: string, text: string, mode?: number): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    if (mode !== undefined) chmodSync(p, mode);
    return p;
  };

  it("configs and clients print without their token", async () => {
    fresh();
    const config = KubeConfig.fromOptions({ server: "https://10.0.0.1:6443", token: SECRET, namespace: "shop" });
    record("config", config);
    record("config (template)", `${config}`);
    const fromText = await KubeConfig.fromKubeconfig(`apiVersion: v1
clusters: [{name: c, cluster: {server: "https://10.0.0.1:6443"}}]
users: [{name: u, user: {token: "${SECRET}"}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: shop}}]
current-context: x
`);
    record("kubeconfig config", fromText);
    const client = createKubeClient({ config, fetch: () => Promise.reject(new Error("unused")) });
    record("client", client);
    await client.close();
    const registry = new KubernetesRegistry({ config, fetch: () => Promise.reject(new Error("unused")) });
    record("registry", registry);
    await registry.close();
    assertNoLeak();
  });

  it("401, 403 and plain-http refusals carry no token", async () => {
    fresh();
    const caPem = fake.caPem ?? "";
    const rejected = createKubeClient({ config: KubeConfig.fromOptions({ server: httpsUrl, caPem, token: SECRET }) });
    const e401 = await failure("401 list", rejected.listPods({ namespace: "shop" }));
    assert.match(String(e401), /401|Unauthorized/i);
    await failure("401 watch", rejected.watchPods({ namespace: "shop" }));
    await failure("401 patch", rejected.patchPod("shop", "p", { metadata: {} }, { type: "merge" }));
    await failure("401 request", rejected.request("GET", "/api/v1/namespaces/shop/pods", { query: { token: "x" } }));
    await rejected.close();
    const forbidden = createKubeClient({ config: KubeConfig.fromOptions({ server: limitedUrl, caPem: limitedCa, token: SECRET }) });
    const e403 = await failure("403 list", forbidden.listPods({ namespace: "shop" }));
    assert.match(String(e403), /forbidden/i);
    await failure("403 other namespace", forbidden.getPod("other", "p-1"));
    await forbidden.close();
    await failure("plain http options", Promise.resolve().then(() => KubeConfig.fromOptions({ server: "http://10.0.0.1:8080", token: SECRET })));
    assertNoLeak();
  });

  it("TLS failures carry no token", async () => {
    fresh();
    const wrongCa = (await generateTlsMaterial()).caPem;
    const client = createKubeClient({ config: KubeConfig.fromOptions({ server: httpsUrl, caPem: wrongCa, token: SECRET }) });
    await failure("wrong CA", client.listPods({ namespace: "shop" }));
    await client.close();
    const named = createKubeClient({ config: KubeConfig.fromOptions({ server: httpsUrl, caPem: fake.caPem ?? "", tlsServerName: "wrong.example", token: SECRET }) });
    await failure("wrong server name", named.listPods({ namespace: "shop" }));
    await named.close();
    assertNoLeak();
  });

  it("bad kubeconfigs and token files carry no token", async () => {
    fresh();
    const bad = [
      // YAML syntax error on the token's line (parsers quote the offending line).
      `users:\n- name: u\n  user:\n    token: ${SECRET}: [\n`,
      `users:\n- name: u\n  user: {token: "${SECRET}"\n`,
      // Valid YAML, invalid config.
      `apiVersion: v1\nusers: [{name: u, user: {token: "${SECRET}"}}]\ncontexts: [{name: x, context: {cluster: missing, user: u}}]\ncurrent-context: x\n`,
      `apiVersion: v1\nclusters: [{name: c, cluster: {server: "http://10.0.0.1"}}]\nusers: [{name: u, user: {token: "${SECRET}"}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: nope\n`,
      `apiVersion: v1\nclusters: [{name: c, cluster: {server: "${SECRET}"}}]\nusers: [{name: u, user: {token: {nested: "${SECRET}"}}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`,
      `apiVersion: v1\nclusters: [{name: c, cluster: {server: "https://10.0.0.1", certificate-authority-data: "${SECRET}"}}]\nusers: [{name: u, user: {token: "${SECRET}", client-key-data: "${SECRET}"}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`,
    ];
    assert.match(String(await failure("yaml error", KubeConfig.fromKubeconfig(bad[0]!))), /invalid YAML: .*line 4, column/);
    for (const [i, text] of bad.entries()) {
      await failure(`kubeconfig text ${i}`, KubeConfig.fromKubeconfig(text).then((c) => createKubeClient({ config: c, fetch: () => Promise.reject(new Error("offline")) }).listPods({})));
      await failure(`kubeconfig file ${i}`, KubeConfig.fromKubeconfig(file(`bad-${i}.yaml`, text)).then((c) => createKubeClient({ config: c, fetch: () => Promise.reject(new Error("offline")) }).listPods({})));
    }
    // A token file the server rejects, and a token file with a stray second line.
    const tokenFile = file("token", `${SECRET}\n`);
    const c1 = createKubeClient({ config: KubeConfig.fromOptions({ server: httpsUrl, caPem: fake.caPem ?? "", tokenFile }) });
    await failure("token file 401", c1.listPods({ namespace: "shop" }));
    await c1.close();
    const odd = file("token-odd", `${SECRET}\nsecond line ${SECRET}\n`);
    const c2 = createKubeClient({ config: KubeConfig.fromOptions({ server: "https://10.0.0.1:8443", tokenFile: odd }), fetch: () => Promise.resolve(new Response("{}", { status: 401 })) });
    assert.match(String(await failure("token file with a line break", c2.listPods({ namespace: "shop" }))), /bearer token contains a line break/);
    await c2.close();
    // In-cluster with the token present but no API host.
    const sa = mkdtempSync(join(dir, "sa-"));
    writeFileSync(join(sa, "token"), SECRET);
    writeFileSync(join(sa, "namespace"), "shop");
    await failure("in-cluster without host", KubeConfig.inCluster({ serviceAccountDir: sa, env: {} }));
    await failure("in-cluster bad host", KubeConfig.inCluster({ serviceAccountDir: sa, env: { KUBERNETES_SERVICE_HOST: `bad host ${SECRET}`, KUBERNETES_SERVICE_PORT: "x" } }).then((c) => createKubeClient({ config: c, fetch: () => Promise.reject(new Error("offline")) }).listPods({})));
    // Only the token's own content is secret here: a server URL that embeds it is a user's mistake we cannot hide, so drop those texts.
    for (let i = texts.length - 1; i >= 0; i--) if (/kubeconfig (text|file) 4|in-cluster bad host/.test(texts[i]!.what)) texts.splice(i, 1);
    assertNoLeak();
  });

  it("exec plugin failures carry no token", { skip: unix ? false : "the test plugins are POSIX shell scripts" }, async () => {
    fresh();
    const plugins = {
      // Prints a credential cut off in the middle of the token.
      truncated: `#!/bin/sh\nprintf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"${SECRET}'\n`,
      // Prints a credential of the wrong apiVersion, token included.
      wrongVersion: `#!/bin/sh\nprintf '{"apiVersion":"client.authentication.k8s.io/v9","kind":"ExecCredential","status":{"token":"${SECRET}"}}'\n`,
      // Prints a token where an object was expected.
      notObject: `#!/bin/sh\nprintf '"${SECRET}"'\n`,
      // Succeeds with a token the server rejects (401, then a re-run).
      rejected: `#!/bin/sh\nprintf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"${SECRET}"}}'\n`,
      // Fails, echoing its arguments (which do not contain the token).
      exits: `#!/bin/sh\necho "login required for $1" >&2\nexit 3\n`,
    };
    for (const [name, script] of Object.entries(plugins)) {
      const cmd = file(`${name}.sh`, script, 0o755);
      const server = name === "rejected" ? httpsUrl : "https://10.0.0.1:6443";
      const ca = name === "rejected" ? `, certificate-authority-data: "${btoa(fake.caPem ?? "")}"` : "";
      const text = `apiVersion: v1
clusters: [{name: c, cluster: {server: "${server}"${ca}}}]
users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: "${cmd}", args: [eks], interactiveMode: Never}}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`;
      const config = await KubeConfig.fromKubeconfig(text);
      record(`exec ${name} config`, config);
      const client = name === "rejected" ? createKubeClient({ config }) : createKubeClient({ config, fetch: () => Promise.reject(new Error("offline")) });
      await failure(`exec ${name}`, client.listPods({ namespace: "shop" }));
      await client.close();
    }
    assertNoLeak();
  });

  it("registry hooks and CLI output carry no token", async () => {
    fresh();
    const errors: Error[] = [];
    const registry = new KubernetesRegistry({
      config: KubeConfig.fromOptions({ server: limitedUrl, caPem: limitedCa, token: SECRET, namespace: "shop" }),
      onError: (e) => errors.push(e),
      syncTimeoutMs: 5000,
    });
    await failure("registry start (403)", registry.start());
    await failure("registry register (403)", registry.register({ id: "p-1", name: "sayhello.service", version: "v1", metadata: {}, endpoints: ["grpc://10.0.0.1:9000"] }));
    record("registry", registry);
    await registry.close();
    for (const e of errors) record("registry onError", e);
    const kubeconfig = file("cli.yaml", limited.kubeconfig({ token: SECRET, namespace: "shop" }));
    for (const [name, run] of [["instances", instances], ["doctor", doctor]] as const) {
      const io = captureIo({ env: {} });
      await run(["sayhello.service", "--kubeconfig", kubeconfig], io);
      texts.push({ what: `cli ${name}`, text: `${io.out()}\n${io.err()}` });
      assert.ok(io.out().length + io.err().length > 0);
    }
    const rejected = file("cli-401.yaml", fake.kubeconfig({ token: SECRET }));
    const io = captureIo({ env: {} });
    assert.notEqual(await instances(["sayhello.service", "--kubeconfig", rejected], io), 0);
    texts.push({ what: "cli instances 401", text: `${io.out()}\n${io.err()}` });
    assertNoLeak();
  });
});
