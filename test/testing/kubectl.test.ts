// Drives the fake API server with the real kubectl (client-go v1.32), as
// shared spec kubectl.md describes: discovery, get/list/watch/paging, create
// with kubectl's default (strict) validation, label/annotate/patch, delete,
// and `auth can-i` over TLS with a restricted token. Also runs the
// `kratos-kube fake-apiserver` command in-process and points kubectl at the
// kubeconfig it writes.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeKubeApiServer, makePod } from "../../src/testing/index.ts";
import { run as runFakeApiserver } from "../../cli/fake-apiserver.ts";
import type { CliIo } from "../../cli/io.ts";

const KUBECTL = process.env["KUBECTL"] ?? "kubectl";
const kubectlMissing = ((): string | false => {
  const r = spawnSync(KUBECTL, ["version", "--client"], { encoding: "utf8" });
  return r.status === 0 ? false : `kubectl is not installed (tried "${KUBECTL}"; set KUBECTL to its path)`;
})();

/** How long one kubectl invocation may take before the test kills it. */
const KUBECTL_DEADLINE_MS = 30_000;

/** A scratch directory used as kubectl's HOME (its discovery cache) and for kubeconfigs; removed in `after`. */
function scratch(): { dir: string; env: Record<string, string>; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "kratos-kube-kubectl-"));
  return {
    dir,
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: dir, KUBECTL_COMMAND_HEADERS: "false" },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs kubectl asynchronously (the server shares this event loop) with a kill deadline. */
function kubectl(kubeconfig: string, args: string[], input?: string): Promise<Result> {
  const env = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: join(kubeconfig, ".."), KUBECTL_COMMAND_HEADERS: "false" };
  return new Promise((resolve, reject) => {
    const child = spawn(KUBECTL, ["--kubeconfig", kubeconfig, "--request-timeout=20s", ...args], { env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`kubectl ${args.join(" ")} did not finish within ${KUBECTL_DEADLINE_MS} ms; stderr: ${stderr}`));
    }, KUBECTL_DEADLINE_MS);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input ?? "");
  });
}

function ok(r: Result, what: string): string {
  assert.equal(r.code, 0, `${what} failed (exit ${String(r.code)}): ${r.stderr}`);
  return r.stdout;
}

/** Resolves with stdout so far once `predicate` holds, or rejects at the deadline. */
function waitForOutput(child: ChildProcess, predicate: (out: string) => boolean, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    const onData = (d: Buffer | string): void => {
      out += d.toString();
      if (predicate(out)) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        resolve(out);
      }
    };
    const timer = setTimeout(() => {
      child.stdout?.off("data", onData);
      reject(new Error(`expected output did not appear within ${ms} ms; got: ${JSON.stringify(out)}`));
    }, ms);
    child.stdout?.on("data", onData);
  });
}

function manifest(name: string, extraSpec: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: { app: "created" } },
    spec: { containers: [{ name: "main", image: "registry.example/app:1", ports: [{ name: "grpc", containerPort: 9000 }] }], ...extraSpec },
  });
}

describe("kubectl against the fake API server (http, anonymous)", { skip: kubectlMissing }, () => {
  const server = new FakeKubeApiServer();
  const tmp = scratch();
  const kubeconfig = join(tmp.dir, "http.kubeconfig");
  before(async () => {
    await server.listen();
    writeFileSync(kubeconfig, server.kubeconfig());
    server.createPod(makePod({ name: "alpha", namespace: "default", app: "shop", ip: "10.244.0.2" }));
    server.createPod(makePod({ name: "beta", namespace: "shop", app: "shop", ip: "10.244.0.3" }));
    for (let i = 0; i < 7; i++) server.createPod(makePod({ name: `page-${i}`, namespace: "paged", app: "paged", ip: `10.244.1.${i + 2}` }));
  });
  after(async () => {
    await server.close();
    tmp.remove();
  });

  it("get pods -A -o json lists the pods of every namespace", async () => {
    const list = JSON.parse(ok(await kubectl(kubeconfig, ["get", "pods", "-A", "-o", "json"]), "get pods -A")) as {
      items: { metadata: { namespace: string; name: string } }[];
    };
    const names = list.items.map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
    assert.ok(names.includes("default/alpha") && names.includes("shop/beta") && names.includes("paged/page-6"), names.join(" "));
  });

  it("get po (short name) prints the pod table", async () => {
    assert.match(ok(await kubectl(kubeconfig, ["get", "po", "alpha"]), "get po alpha"), /^NAME\s.*\nalpha\s/);
  });

  it("create -f with the default validation creates the pod", async () => {
    const out = ok(await kubectl(kubeconfig, ["create", "-f", "-"], manifest("created-1")), "create -f");
    assert.match(out, /pod\/created-1 created/);
    assert.equal(server.getPod("default", "created-1")?.metadata.labels?.["app"], "created");
    const post = server.requests.find((r) => r.method === "POST" && r.path === "/api/v1/namespaces/default/pods");
    assert.equal(post?.query["fieldValidation"], "Strict");
  });

  it("create -f rejects an unknown field under strict validation", async () => {
    const r = await kubectl(kubeconfig, ["create", "-f", "-"], manifest("created-bad", { replicas: 2 }));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /strict decoding error: unknown field "spec\.replicas"/);
    assert.equal(server.getPod("default", "created-bad"), undefined);
  });

  it("--dry-run=server (create, label, delete) answers like a write but changes nothing", async () => {
    const rv = server.resourceVersion;
    assert.match(ok(await kubectl(kubeconfig, ["create", "--dry-run=server", "-f", "-"], manifest("dry-1")), "create dry"), /pod\/dry-1 created \(server dry run\)/);
    assert.match(ok(await kubectl(kubeconfig, ["label", "--dry-run=server", "pod", "alpha", "dry=yes"]), "label dry"), /pod\/alpha labeled \(server dry run\)/);
    assert.match(ok(await kubectl(kubeconfig, ["delete", "--dry-run=server", "pod", "alpha"]), "delete dry"), /pod "alpha" deleted \(server dry run\)/);
    assert.equal(server.getPod("default", "dry-1"), undefined);
    assert.equal(server.getPod("default", "alpha")?.metadata.labels?.["dry"], undefined);
    assert.equal(server.getPod("default", "alpha")?.metadata.deletionTimestamp, undefined);
    assert.equal(server.resourceVersion, rv, "no resourceVersion used");
  });

  it("label and annotate patch the pod", async () => {
    ok(await kubectl(kubeconfig, ["label", "pod", "alpha", "tier=backend"]), "label");
    ok(await kubectl(kubeconfig, ["annotate", "pod", "alpha", "example.com/owner=team-a"]), "annotate");
    const pod = server.getPod("default", "alpha");
    assert.equal(pod?.metadata.labels?.["tier"], "backend");
    assert.equal(pod?.metadata.annotations?.["example.com/owner"], "team-a");
    ok(await kubectl(kubeconfig, ["label", "pod", "alpha", "tier-"]), "label removal");
    assert.equal(server.getPod("default", "alpha")?.metadata.labels?.["tier"], undefined);
  });

  it("patch --type strategic, merge and json", async () => {
    ok(await kubectl(kubeconfig, ["patch", "pod", "alpha", "--type", "strategic", "-p", '{"metadata":{"labels":{"s":"1"}}}']), "strategic");
    ok(await kubectl(kubeconfig, ["patch", "pod", "alpha", "--type", "merge", "-p", '{"metadata":{"labels":{"m":"2","s":null}}}']), "merge");
    ok(
      await kubectl(kubeconfig, ["patch", "pod", "alpha", "--type", "json", "-p", '[{"op":"add","path":"/metadata/labels/j","value":"3"}]']),
      "json",
    );
    const labels = server.getPod("default", "alpha")?.metadata.labels ?? {};
    assert.deepEqual([labels["s"], labels["m"], labels["j"]], [undefined, "2", "3"]);
    const types = server.requests.filter((r) => r.method === "PATCH").length;
    assert.ok(types >= 3);
  });

  it("get pods --watch -o name sees a pod created after the list", async () => {
    const child = spawn(KUBECTL, ["--kubeconfig", kubeconfig, "get", "pods", "--watch", "-o", "name"], { env: tmp.env, stdio: ["ignore", "pipe", "pipe"] });
    try {
      await waitForOutput(child, (out) => out.includes("pod/alpha\n"), 20_000);
      // The list has been printed, so this pod can only reach kubectl through the watch.
      server.createPod(makePod({ name: "watched", namespace: "default", app: "shop", ip: "10.244.0.9" }));
      await waitForOutput(child, (out) => out.includes("pod/watched\n"), 20_000);
      assert.ok(server.requests.some((r) => r.watch && r.path === "/api/v1/namespaces/default/pods"));
    } finally {
      const exited = new Promise((resolve) => child.once("close", resolve));
      child.kill("SIGTERM");
      await exited;
    }
  });

  it("get pods --chunk-size=2 pages with continue tokens", async () => {
    const names = ok(await kubectl(kubeconfig, ["get", "pods", "-n", "paged", "--chunk-size=2", "-o", "name"]), "chunked get").trim().split("\n");
    assert.deepEqual(names, Array.from({ length: 7 }, (_, i) => `pod/page-${i}`));
    const pages = server.requests.filter((r) => r.method === "GET" && r.path === "/api/v1/namespaces/paged/pods" && !r.watch);
    assert.ok(pages.every((r) => r.query["limit"] === "2"));
    assert.equal(pages.filter((r) => r.query["continue"]).length, 3);
  });

  it("delete --wait=false deletes the pod (gracefully)", async () => {
    assert.match(ok(await kubectl(kubeconfig, ["delete", "pod", "created-1", "--wait=false"]), "delete"), /pod "created-1" deleted/);
    const pod = server.getPod("default", "created-1");
    assert.ok(pod === undefined || pod.metadata.deletionTimestamp, "the pod is gone or terminating");
    assert.ok(server.requests.some((r) => r.method === "DELETE" && r.path === "/api/v1/namespaces/default/pods/created-1"));
  });

  it("auth can-i answers yes for an anonymous server", async () => {
    assert.equal(ok(await kubectl(kubeconfig, ["auth", "can-i", "delete", "pods"]), "can-i").trim(), "yes");
  });
});

describe("kubectl against the fake API server (TLS, bearer tokens)", { skip: kubectlMissing }, () => {
  const server = new FakeKubeApiServer({
    tokens: {
      "admin-token": { user: "admin" },
      "reader-token": { user: "system:serviceaccount:default:reader", verbs: ["get", "list", "watch"], namespaces: ["default"] },
    },
  });
  const tmp = scratch();
  const admin = join(tmp.dir, "tls-admin.kubeconfig");
  const reader = join(tmp.dir, "tls-reader.kubeconfig");
  before(async () => {
    const { url, caPem } = await server.listen({ tls: true });
    assert.match(url, /^https:\/\//);
    assert.ok(caPem?.includes("BEGIN CERTIFICATE"));
    writeFileSync(admin, server.kubeconfig({ token: "admin-token" }));
    writeFileSync(reader, server.kubeconfig({ token: "reader-token" }));
    server.createPod(makePod({ name: "gamma", namespace: "default", app: "shop", ip: "10.244.2.2" }));
  });
  after(async () => {
    await server.close();
    tmp.remove();
  });

  it("verifies the server certificate from the kubeconfig and sends the token", async () => {
    assert.equal(ok(await kubectl(reader, ["get", "pods", "-o", "name"]), "get over TLS").trim(), "pod/gamma");
  });

  it("auth can-i list pods: yes under the restricted token", async () => {
    const r = await kubectl(reader, ["auth", "can-i", "list", "pods"]);
    assert.equal(r.stdout.trim(), "yes", r.stderr);
    assert.equal(r.code, 0);
  });

  it("auth can-i patch pods -n shop: no under the restricted token", async () => {
    const r = await kubectl(reader, ["auth", "can-i", "patch", "pods", "-n", "shop"]);
    assert.equal(r.stdout.trim(), "no", r.stderr);
    assert.equal(r.code, 1);
    assert.equal(ok(await kubectl(admin, ["auth", "can-i", "patch", "pods", "-n", "shop"]), "admin can-i").trim(), "yes");
  });

  it("a forbidden write fails with the apiserver's message", async () => {
    const r = await kubectl(reader, ["label", "pod", "gamma", "x=y"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /forbidden: User "system:serviceaccount:default:reader" cannot patch resource "pods"/);
  });

  it("auth whoami names the token's user (SelfSubjectReview)", async () => {
    const who = JSON.parse(ok(await kubectl(reader, ["auth", "whoami", "-o", "json"]), "auth whoami")) as { status: { userInfo: { username: string; groups: string[] } } };
    assert.equal(who.status.userInfo.username, "system:serviceaccount:default:reader");
    assert.ok(who.status.userInfo.groups.includes("system:serviceaccounts:default"));
  });

  it("an unknown token is rejected as Unauthorized", async () => {
    const bad = join(tmp.dir, "tls-bad.kubeconfig");
    writeFileSync(bad, server.kubeconfig({ token: "not-a-token" }));
    const r = await kubectl(bad, ["get", "pods"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Unauthorized|must be logged in/);
  });
});

describe("kratos-kube fake-apiserver serves kubectl", { skip: kubectlMissing }, () => {
  const controller = new AbortController();
  const tmp = scratch();
  const kubeconfig = join(tmp.dir, "cli.kubeconfig");
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
  let exit: Promise<number>;
  before(async () => {
    exit = runFakeApiserver(["--token", "cli-token", "--kubeconfig", kubeconfig, "--namespace", "shop", "--pods", "3", "--pod-ips", "cluster", "--app", "cart"], io);
    // The command prints its kubeconfig line once the file is written; a failure resolves `exit` first.
    const early = await Promise.race([serving.then(() => undefined), exit]);
    assert.equal(early, undefined, `fake-apiserver exited early: ${err}`);
  });
  after(async () => {
    controller.abort();
    await exit;
    tmp.remove();
  });

  it("prints the URL and kubeconfig path, and implies --tls for --token", () => {
    assert.match(out, /^url: https:\/\/127\.0\.0\.1:\d+\nkubeconfig: .*cli\.kubeconfig\n$/);
    assert.match(err, /--token implies --tls/);
    assert.ok(readFileSync(kubeconfig, "utf8").includes("cli-token"));
  });

  it("kubectl lists the generated pods: ready, 10.244.x.y, grpc port 9000", async () => {
    const list = JSON.parse(ok(await kubectl(kubeconfig, ["get", "pods", "-o", "json"]), "get pods")) as {
      items: { metadata: { namespace: string; labels: Record<string, string> }; spec: { containers: { ports?: { containerPort: number }[] }[] }; status: { podIP: string; conditions: { type: string; status: string }[] } }[];
    };
    assert.equal(list.items.length, 3);
    for (const p of list.items) {
      assert.equal(p.metadata.namespace, "shop");
      assert.equal(p.metadata.labels["kratos-service-app"], "cart");
      assert.match(p.status.podIP, /^10\.244\.\d+\.\d+$/);
      assert.ok(p.spec.containers.some((c) => c.ports?.some((port) => port.containerPort === 9000)));
      assert.ok(p.status.conditions.some((c) => c.type === "Ready" && c.status === "True"));
    }
  });

  it("with --tls and no --token, kubectl gets a kubeconfig whose user has a token (no username prompt)", async () => {
    const stop = new AbortController();
    const path = join(tmp.dir, "tls-only.kubeconfig");
    let announcedTls: () => void = () => {};
    const up = new Promise<void>((resolve) => (announcedTls = resolve));
    let text = "";
    const tlsIo: CliIo = { stdout: { write: (t: string) => ((text += t), text.includes("kubeconfig: ") && announcedTls()) }, stderr: { write: () => true }, env: {}, signal: stop.signal };
    const done = runFakeApiserver(["--tls", "--kubeconfig", path, "--pods", "1", "--app", "cart"], tlsIo);
    await up;
    try {
      assert.match(readFileSync(path, "utf8"), /token: fake-/);
      assert.equal(ok(await kubectl(path, ["get", "pods", "-o", "name"]), "get pods over TLS").trim().split("\n").length, 1);
      assert.match(ok(await kubectl(path, ["auth", "whoami"]), "whoami"), /kratos-kube-admin/);
    } finally {
      stop.abort();
      assert.equal(await done, 0);
    }
  });

  it("stops cleanly on the abort signal with exit code 0", async () => {
    controller.abort();
    assert.equal(await exit, 0);
    assert.match(err, /stopped/);
    assert.equal(existsSync(kubeconfig), true, "an explicit --kubeconfig is kept");
  });
});
