// instances, doctor and watch against an in-process fake API server served
// over loopback, through a kubeconfig file, as an operator would run them.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeKubeApiServer, makePod } from "../../src/testing/index.ts";
import { captureIo } from "../../cli/io.ts";
import { run as instances } from "../../cli/instances.ts";
import { run as doctor } from "../../cli/doctor.ts";
import { run as watch } from "../../cli/watch.ts";
import { run as runFakeApiserver } from "../../cli/fake-apiserver.ts";
import { startGreeter, type GreeterServer } from "../../cli/demo/greeter-server.ts";

const dir = mkdtempSync(join(tmpdir(), "kratos-kube-cli-"));
const APP = "sayhello.service";

function writeKubeconfig(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe("kratos-kube instances / doctor / watch", () => {
  const fake = new FakeKubeApiServer();
  let greeter: GreeterServer;
  let kubeconfig = "";

  before(async () => {
    await fake.listen();
    greeter = await startGreeter({ name: "sayhello-a", workMs: 0 });
    fake.createPod(makePod({ name: "sayhello-a", app: APP, ip: "127.0.0.1", ports: [{ name: "grpc", containerPort: greeter.port }], protocols: `{"${greeter.port}":"grpc"}` }));
    fake.createPod(makePod({ name: "sayhello-b", app: APP, ip: "10.244.0.9", ports: [{ name: "grpc", containerPort: 9000 }], ready: false }));
    fake.createPod(makePod({ name: "other-x", app: "other.service" }));
    kubeconfig = writeKubeconfig("ok.yaml", fake.kubeconfig());
  });
  after(async () => {
    await greeter.drain();
    await fake.close();
  });

  it("instances prints every pod of the service with why it is excluded", async () => {
    const io = captureIo();
    assert.equal(await instances([APP, "--kubeconfig", kubeconfig], io), 0, io.err());
    const out = io.out();
    assert.match(out, /^POD\s+IP\s+ENDPOINTS\s+VERSION\s+READY\s+EXCLUDED$/m);
    assert.match(out, new RegExp(`^sayhello-a\\s+127\\.0\\.0\\.1\\s+grpc://127\\.0\\.0\\.1:${greeter.port}\\s+v1\\.0\\.0\\s+True$`, "m"));
    assert.match(out, /^sayhello-b\s+10\.244\.0\.9\s+grpc:\/\/10\.244\.0\.9:9000\s+v1\.0\.0\s+False\s+not Ready/m);
    assert.ok(!out.includes("other-x"));
    assert.match(out, /1 of 2 pods of sayhello\.service is routable/);
  });

  it("instances -o json gives the same rows as data", async () => {
    const io = captureIo();
    assert.equal(await instances([APP, "--kubeconfig", kubeconfig, "-o", "json"], io), 0);
    const doc = JSON.parse(io.out()) as { instances: { pod: string; included: boolean; excluded?: string }[] };
    assert.deepEqual(doc.instances.map((r) => [r.pod, r.included]), [["sayhello-a", true], ["sayhello-b", false]]);
  });

  it("usage errors are one line with the fix and exit 2; --help exits 0", async () => {
    const io = captureIo();
    assert.equal(await instances(["--kubeconfig", kubeconfig], io), 2);
    assert.match(io.err(), /^kratos-kube instances: missing <service>: run `kratos-kube instances <service>`.*\n$/);
    const help = captureIo();
    assert.equal(await doctor(["--help"], help), 0);
    assert.match(help.out(), /usage: kratos-kube doctor <service>/);
  });

  it("doctor passes every check on a healthy service (only routable endpoints are probed)", async () => {
    const io = captureIo();
    const code = await doctor([APP, "--kubeconfig", kubeconfig], io);
    const out = io.out();
    for (const name of ["config", "rbac list", "rbac watch", "rbac patch", "namespace", "labels", "watch", "annotations", "ready", "terminating", "protocols", "reachable"]) {
      assert.match(out, new RegExp(`^PASS  ${name}\\b`, "m"), `${name} in\n${out}`);
    }
    assert.match(out, /sayhello-b: not Ready/);
    assert.match(out, /All \d+ checks passed/);
    assert.equal(code, 0, out);
  });

  it("doctor on a missing config fails in one check that names the file and the fix", async () => {
    const io = captureIo();
    assert.equal(await doctor([APP, "--kubeconfig", join(dir, "missing.yaml")], io), 1);
    assert.match(io.out(), /^FAIL  config\s+.*missing\.yaml.*fix: pass --kubeconfig FILE/m);
    assert.match(io.out(), /^SKIP  rbac/m);
  });

  it("doctor explains a wrong namespace and where the pods are", async () => {
    const elsewhere = writeKubeconfig("shop.yaml", fake.kubeconfig({ namespace: "shop" }));
    const io = captureIo();
    assert.equal(await doctor([APP, "--kubeconfig", elsewhere], io), 1);
    const out = io.out();
    assert.match(out, /^FAIL  namespace\s+no pod labelled kratos-service-app=sayhello\.service in shop, the namespace discovery watches; found 2 in default/m);
    assert.match(out, /fix: Kratos discovers only in its own namespace by default.*--namespace default/);
    const io2 = captureIo();
    assert.equal(await instances([APP, "--kubeconfig", elsewhere], io2), 0);
    assert.match(io2.out(), /No pods labelled kratos-service-app=sayhello\.service in namespace shop\. Run `kratos-kube doctor sayhello\.service --kubeconfig \S+shop\.yaml` to find out why/);
  });

  it("doctor explains a pod without a grpc protocol and an unreachable endpoint", async () => {
    fake.createPod(makePod({ name: "api-1", namespace: "tools", app: "api.service", ip: "127.0.0.1", ports: [{ name: "api", containerPort: 9 }] }));
    const io = captureIo();
    assert.equal(await doctor(["api.service", "--kubeconfig", kubeconfig, "-n", "tools", "--timeout", "500"], io), 1);
    const out = io.out();
    assert.match(out, /^FAIL  protocols\s+api-1: no grpc endpoint \(api:\/\/127\.0\.0\.1:9; no kratos-service-protocols annotation\)/m);
    assert.match(out, /fix: the gRPC transport dials only grpc:\/\/ endpoints: .*kratos-service-protocols: '\{"9":"grpc"\}'/);
    fake.updatePod("tools", "api-1", (p) => {
      p.metadata.annotations = { ...p.metadata.annotations, "kratos-service-protocols": '{"9":"grpc"}' };
    });
    const io2 = captureIo();
    assert.equal(await doctor(["api.service", "--kubeconfig", kubeconfig, "-n", "tools", "--timeout", "500", "-o", "json"], io2), 1);
    const doc = JSON.parse(io2.out()) as { ok: boolean; checks: { name: string; verdict: string; detail: string; fix?: string }[] };
    assert.equal(doc.ok, false);
    const all = captureIo();
    assert.equal(await instances(["api.service", "--kubeconfig", kubeconfig, "-A"], all), 0, all.err());
    assert.match(all.out(), /^api-1\s+127\.0\.0\.1\s+grpc:\/\/127\.0\.0\.1:9\s/m, "-A finds pods outside the context's namespace");
    const reach = doc.checks.find((c) => c.name === "reachable");
    assert.equal(reach?.verdict, "FAIL");
    assert.match(reach?.detail ?? "", /grpc:\/\/127\.0\.0\.1:9: (connection refused|no TCP answer)/);
    assert.match(reach?.fix ?? "", /bind 0\.0\.0\.0|not reachable from here/);
  });

  it("instances suggests doctor with the same --kubeconfig, --context and -n", async () => {
    const io = captureIo();
    assert.equal(await instances([APP, "--kubeconfig", kubeconfig, "--context", "fake", "-n", "shop"], io), 0, io.err());
    assert.match(io.out(), new RegExp(`Run \`kratos-kube doctor sayhello\\.service --kubeconfig ${kubeconfig.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} --context fake -n shop\` to find out why`));
  });

  it("instances and doctor agree with the transport: a pod whose only port is not grpc is not routable", async () => {
    fake.createPod(makePod({ name: "web-1", app: "web.service", ip: "127.0.0.1", ports: [{ name: "http", containerPort: 8080 }] }));
    const io = captureIo();
    assert.equal(await instances(["web.service", "--kubeconfig", kubeconfig], io), 0, io.err());
    assert.match(io.out(), /^web-1\s+127\.0\.0\.1\s+http:\/\/127\.0\.0\.1:8080\s+v1\.0\.0\s+True\s+no grpc:\/\/ endpoint/m);
    assert.match(io.out(), /0 of 1 pod of web\.service is routable over grpc:\/\/\nRun `kratos-kube doctor web\.service --kubeconfig /);
    const connect = captureIo();
    assert.equal(await instances(["web.service", "--kubeconfig", kubeconfig, "--protocol", "connect"], connect), 0);
    assert.match(connect.out(), /1 of 1 pod of web\.service is routable over http:\/\//);
  });

  it("a pod with invalid metadata JSON gets the annotation's fix, not readiness advice", async () => {
    fake.createPod(makePod({ name: "meta-1", app: "meta.service", ip: "127.0.0.1", ports: [{ name: "grpc", containerPort: greeter.port }], metadata: "{not json" }));
    const io = captureIo();
    assert.equal(await doctor(["meta.service", "--kubeconfig", kubeconfig], io), 1);
    const out = io.out();
    assert.match(out, /^FAIL  annotations\s+discovery skips meta-1 \(annotation kratos-service-metadata: invalid JSON/m);
    assert.match(out, /fix: annotation kratos-service-metadata must be a JSON object of strings/);
    assert.doesNotMatch(out, /readiness/);
  });

  it("doctor warns about a Ready pod that is terminating and still passes", async () => {
    fake.createPod(makePod({ name: "drain-a", app: "drain.service", ip: "127.0.0.1", ports: [{ name: "grpc", containerPort: greeter.port }], protocols: `{"${greeter.port}":"grpc"}` }));
    fake.createPod(makePod({ name: "drain-b", app: "drain.service", ip: "127.0.0.1", ports: [{ name: "grpc", containerPort: greeter.port }], protocols: `{"${greeter.port}":"grpc"}` }));
    fake.startGracefulDeletion("default", "drain-b", 300);
    const io = captureIo();
    assert.equal(await doctor(["drain.service", "--kubeconfig", kubeconfig], io), 0, io.out());
    assert.match(io.out(), /^WARN  terminating\s+Ready but terminating: drain-b: deletion requested, \d+ s of grace left/m);
    assert.match(io.out(), /All \d+ checks passed \(1 warning above\)/);
  });

  it("a server without a scheme is dialed as client-go would; https:// on the plain-HTTP port is named as such", async () => {
    const port = new URL(fake.url ?? "").port;
    const bare = writeKubeconfig("bare.yaml", fake.kubeconfig().replace(/server: http:\/\/127\.0\.0\.1:\d+/, `server: 127.0.0.1:${port}`));
    assert.match(readFileSync(bare, "utf8"), new RegExp(`server: 127\\.0\\.0\\.1:${port}\\n`));
    const io = captureIo();
    assert.equal(await instances([APP, "--kubeconfig", bare], io), 0, io.err());
    assert.match(io.out(), /1 of 2 pods of sayhello\.service is routable/);
    const tls = writeKubeconfig("https-on-http.yaml", fake.kubeconfig().replace(/server: http:/, "server: https:"));
    const doc = captureIo();
    assert.equal(await doctor([APP, "--kubeconfig", tls], doc), 1);
    assert.match(doc.out(), /^FAIL  config\s+.*is https:\/\/, but the server there does not speak TLS.*\(fix: the server URL says https:\/\/, but that port answers without TLS/m);
    assert.doesNotMatch(doc.out(), /certificate-authority/);
  });

  it("a wrong --context or an unreachable API server is one line with the fix", async () => {
    const io = captureIo();
    assert.equal(await instances([APP, "--kubeconfig", kubeconfig, "--context", "nope"], io), 1);
    assert.match(io.err(), /^kratos-kube instances: .*nope.*\(fix: pass --kubeconfig FILE and --context NAME/);
    assert.equal(io.err().trim().split("\n").length, 1);
    const closed = new FakeKubeApiServer();
    await closed.listen();
    const dead = writeKubeconfig("dead.yaml", closed.kubeconfig());
    await closed.close();
    const io2 = captureIo();
    assert.equal(await doctor([APP, "--kubeconfig", dead], io2), 1);
    assert.match(io2.out(), /^FAIL  config\s+.*\(fix: is the API server at .* running and reachable from here/m);
  });

  it("watch -o json prints one JSON object per line: the synced set, then changes", async () => {
    const stop = new AbortController();
    const io = captureIo({ signal: stop.signal });
    const done = watch([APP, "--kubeconfig", kubeconfig, "-o", "json"], io);
    await io.waitForOut(/"type":"synced"/);
    fake.updatePod("default", "sayhello-b", (p) => {
      p.metadata.labels = { ...p.metadata.labels, "kratos-service-version": "v2" };
    });
    await io.waitForOut(/"type":"modified"/);
    stop.abort();
    assert.equal(await done, 0);
    const lines = io.out().trim().split("\n").map((l) => JSON.parse(l) as { type: string; instances?: unknown[]; instance?: { pod: string; version: string } });
    assert.equal(lines[0]?.type, "synced");
    assert.equal(lines[0]?.instances?.length, 2);
    const modified = lines.find((l) => l.type === "modified");
    assert.deepEqual([modified?.instance?.pod, modified?.instance?.version], ["sayhello-b", "v2"]);
  });

  it("watch prints the table, then each change, until interrupted", async () => {
    const stop = new AbortController();
    const io = captureIo({ signal: stop.signal });
    const done = watch([APP, "--kubeconfig", kubeconfig], io);
    await io.waitForOut(/1 of 2 pods of sayhello\.service is routable/);
    fake.setReady("default", "sayhello-b", true);
    await io.waitForOut(/MODIFIED default\/sayhello-b Ready false → true \(routable\)/);
    fake.setReady("default", "sayhello-b", false);
    await io.waitForOut(/MODIFIED default\/sayhello-b Ready true → false \(excluded: not Ready/);
    stop.abort();
    assert.equal(await done, 0);
    assert.ok(!io.out().includes("\x1b["), "no ANSI escapes when stdout is not a terminal");
  });
});

describe("kratos-kube doctor with restricted credentials", () => {
  const fake = new FakeKubeApiServer({
    tokens: {
      "no-watch-token": { user: "system:serviceaccount:default:sayhello", verbs: ["list", "patch"] },
      "no-list-token": { user: "system:serviceaccount:default:nolist", verbs: ["create"] },
    },
  });
  let kubeconfig = "";
  before(async () => {
    await fake.listen();
    fake.createPod(makePod({ name: "sayhello-a", app: APP, ip: "127.0.0.1", ports: [{ name: "grpc", containerPort: 9 }] }));
    kubeconfig = writeKubeconfig("no-watch.yaml", fake.kubeconfig({ token: "no-watch-token" }));
  });
  after(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // The identity shown is the one the API server sees (SelfSubjectReview),
  // not the kubeconfig's user entry ("fake").
  it("names the missing verb, the identity, what breaks, and the Role to apply", async () => {
    const io = captureIo();
    assert.equal(await doctor([APP, "--kubeconfig", kubeconfig, "--timeout", "300"], io), 1);
    const out = io.out();
    assert.match(out, /^PASS  config\s+.*auth token/m);
    assert.match(out, /^PASS  rbac list/m);
    assert.match(out, /^FAIL  rbac watch\s+cannot watch pods in namespace default as system:serviceaccount:default:sayhello: discovery watches pods to see changes/m);
    assert.match(out, /fix: grant watch on pods in default with one Role and RoleBinding:\nkubectl apply -f - <<'EOF'\n/);
    assert.match(out, /^subjects:\n {2}- kind: ServiceAccount\n {4}name: "sayhello"\n {4}namespace: "default"\nEOF$/m);
    assert.ok(!/ as fake\b/.test(out), "not the kubeconfig's user name");
    assert.doesNotMatch(out, /deploy\/|kubectl apply -k/, "no paths of the kratos-kube repository");
    assert.ok(!out.includes("no-watch-token"), "the token never appears in the output");
  });

  it("one Role for all missing verbs; patch only warns (a client needs list and watch)", async () => {
    const path = writeKubeconfig("no-list.yaml", fake.kubeconfig({ token: "no-list-token" }));
    const io = captureIo();
    assert.equal(await doctor([APP, "--kubeconfig", path, "--timeout", "300"], io), 1);
    const out = io.out();
    assert.match(out, /^FAIL  rbac list\s+cannot list pods in namespace default as system:serviceaccount:default:nolist: discovery lists pods/m);
    assert.match(out, /^WARN  rbac patch\s+cannot patch pods in namespace default as system:serviceaccount:default:nolist: register\(\) patches its own pod's kratos labels and annotations \(only a server that calls register\(\) needs it/m);
    assert.equal(out.match(/kubectl apply -f - <<'EOF'/g)?.length, 1, "one manifest for every missing verb");
    assert.match(out, /^ {4}verbs: \[list, watch, patch\]$/m);
    assert.match(out, /fix: the Role printed under rbac list grants it too/);
    assert.match(out, /^SKIP  namespace/m);
  });

  it("instances under a 403 names the identity from the message and prints the Role for what it needs", async () => {
    const path = writeKubeconfig("no-list-2.yaml", fake.kubeconfig({ token: "no-list-token" }));
    const io = captureIo();
    assert.equal(await instances([APP, "--kubeconfig", path], io), 1);
    const err = io.err();
    assert.match(err, /^kratos-kube instances: forbidden to list pods in default as system:serviceaccount:default:nolist: .*\(fix: grant list on pods in default with this Role and RoleBinding\)\nkubectl apply -f - <<'EOF'\n/);
    assert.match(err, /^ {4}verbs: \[list\]$/m);
  });
});

describe("against `kratos-kube fake-apiserver` (TLS and a token)", () => {
  it("instances and doctor pass with the kubeconfig it writes (the README's command)", async () => {
    const home = mkdtempSync(join(tmpdir(), "kratos-kube-fake-cmd-"));
    const path = join(home, "fake.kubeconfig");
    const stop = new AbortController();
    const server = captureIo({ signal: stop.signal });
    // The README's flags (but a free port).
    const serving = runFakeApiserver(["--port", "0", "--tls", "--token", "s3cret-token", "--kubeconfig", path, "--pods", "5", "--app", "sayhello.service"], server);
    try {
      await server.waitForOut(/^kubeconfig: /m);
      const io = captureIo();
      assert.equal(await instances(["sayhello.service", "--kubeconfig", path], io), 0, io.err());
      assert.match(io.out(), /5 of 5 pods of sayhello\.service are routable/);
      const doc = captureIo();
      assert.equal(await doctor(["sayhello.service", "--kubeconfig", path, "--timeout", "2000", "-o", "json"], doc), 0, doc.out());
      const report = JSON.parse(doc.out()) as { ok: boolean; checks: { name: string; verdict: string; detail: string }[] };
      const verdicts = Object.fromEntries(report.checks.map((c) => [c.name, c.verdict]));
      assert.deepEqual(verdicts, { config: "PASS", "rbac list": "PASS", "rbac watch": "PASS", "rbac patch": "PASS", namespace: "PASS", labels: "PASS", watch: "PASS", annotations: "PASS", ready: "PASS", terminating: "PASS", protocols: "PASS", reachable: "PASS" });
      assert.equal(report.ok, true, "the pods are served by real Greeters on loopback");
      assert.match(report.checks[0]?.detail ?? "", /https:\/\/127\.0\.0\.1:\d+/);
      assert.ok(!doc.out().includes("s3cret-token") && !io.out().includes("s3cret-token"));
    } finally {
      stop.abort();
      assert.equal(await serving, 0);
      rmSync(home, { recursive: true, force: true });
    }
  });
});
