// Drives the real kubectl (client-go v1.32) against the fake API server and,
// with the same tests, against a real kube-apiserver (shared spec kubectl.md):
// discovery, get/list/watch/paging, create with kubectl's default (strict)
// validation, label/annotate/patch, dry runs, delete, and `auth can-i` /
// `auth whoami` with a restricted token. Requests are observed from kubectl's
// own -v=6 log, so the assertions hold for both servers. Also runs the
// `kratos-kube fake-apiserver` command in-process and points kubectl at the
// kubeconfig it writes.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run as runFakeApiserver } from "../../cli/fake-apiserver.ts";
import type { CliIo } from "../../cli/io.ts";
import { fakeBackend, KUBECTL, kubectl, kubectlMissing, loggedCalls, realBackend, type KubectlBackend, type KubectlResult } from "../support/kubectl.ts";
import { realSkip, releaseSharedCluster, sharedCluster } from "../support/real-cluster.ts";

after(async () => {
  await releaseSharedCluster();
});

/** A scratch directory used as kubectl's HOME (its discovery cache) and for kubeconfigs; removed in `after`. */
function scratch(): { dir: string; env: Record<string, string>; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "kratos-kube-kubectl-"));
  return {
    dir,
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: dir, KUBECTL_COMMAND_HEADERS: "false" },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function ok(r: KubectlResult, what: string): string {
  assert.equal(r.code, 0, `${what} failed (exit ${String(r.code)}): ${r.stderr}`);
  return r.stdout;
}

/** Resolves with stdout so far once `predicate` holds, or rejects at the deadline. */
/**
 * Everything `child` writes to stdout, from the start: a flowing stream drops
 * what arrives while no listener is attached, so one collector listens all
 * along and {@link StdoutLog.until} checks what it has.
 */
interface StdoutLog {
  until(predicate: (out: string) => boolean, ms: number): Promise<string>;
}

function collectStdout(child: ChildProcess, which: "stdout" | "stderr" = "stdout"): StdoutLog {
  let out = "";
  const waiters = new Set<() => void>();
  child[which]?.on("data", (d: Buffer | string) => {
    out += d.toString();
    for (const w of [...waiters]) w();
  });
  return {
    until: (predicate, ms) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (!predicate(out)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(out);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`expected output did not appear within ${ms} ms; got: ${JSON.stringify(out)}`));
        }, ms);
        waiters.add(check);
        check();
      }),
  };
}

function manifest(name: string, extraSpec: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: { app: "created" } },
    spec: { containers: [{ name: "main", image: "registry.example/app:1", ports: [{ name: "grpc", containerPort: 9000 }] }], ...extraSpec },
  });
}

const backends: { backend: KubectlBackend; skip: string | false | undefined }[] = [
  { backend: fakeBackend({ tls: false }), skip: kubectlMissing },
  { backend: fakeBackend({ tls: true }), skip: kubectlMissing },
  { backend: realBackend(() => sharedCluster()), skip: kubectlMissing || realSkip() },
];

for (const { backend: b, skip } of backends) {
  describe(`kubectl against ${b.name}`, { skip }, () => {
    let ns = "";
    let shop = "";
    let paged = "";
    let admin = "";
    before(async () => {
      await b.start();
      [ns, shop, paged] = [await b.namespace("kubectl"), await b.namespace("shop"), await b.namespace("paged")];
      admin = b.kubeconfig("admin", ns);
      await b.runPod(ns, "alpha", "shop", "127.0.3.2");
      await b.runPod(shop, "beta", "shop", "127.0.3.3");
      for (let i = 0; i < 7; i++) await b.runPod(paged, `page-${i}`, "paged", `127.0.4.${i + 2}`);
    });
    after(() => b.close());

    it("get pods -A -o json lists the pods of every namespace", async () => {
      const list = JSON.parse(ok(await kubectl(admin, ["get", "pods", "-A", "-o", "json"]), "get pods -A")) as { items: { metadata: { namespace: string; name: string } }[] };
      const names = list.items.map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
      for (const n of [`${ns}/alpha`, `${shop}/beta`, `${paged}/page-6`]) assert.ok(names.includes(n), `${n} in ${names.join(" ")}`);
    });

    it("get po (short name) prints the pod table", async () => {
      assert.match(ok(await kubectl(admin, ["get", "po", "alpha"]), "get po alpha"), /^NAME\s+READY\s+STATUS\s.*\nalpha\s+\d\/1\s+Running\s/);
    });

    it("create -f with the default validation creates the pod (fieldValidation=Strict)", async () => {
      const r = await kubectl(admin, ["create", "-f", "-", "-v=6"], manifest("created-1"));
      assert.match(ok(r, "create -f"), /pod\/created-1 created/);
      assert.equal((await b.pod(ns, "created-1"))?.metadata.labels?.["app"], "created");
      const post = loggedCalls(r.stderr).find((c) => c.method === "POST" && c.path === `/api/v1/namespaces/${ns}/pods`);
      assert.equal(post?.query.get("fieldValidation"), "Strict");
    });

    it("create -f rejects an unknown field under strict validation", async () => {
      const r = await kubectl(admin, ["create", "-f", "-"], manifest("created-bad", { replicas: 2 }));
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /strict decoding error: unknown field "spec\.replicas"/);
      assert.equal(await b.pod(ns, "created-bad"), undefined);
    });

    it("--dry-run=server (create, label, delete) answers like a write but changes nothing", async () => {
      assert.match(ok(await kubectl(admin, ["create", "--dry-run=server", "-f", "-"], manifest("dry-1")), "create dry"), /pod\/dry-1 created \(server dry run\)/);
      assert.match(ok(await kubectl(admin, ["label", "--dry-run=server", "pod", "alpha", "dry=yes"]), "label dry"), /pod\/alpha labeled \(server dry run\)/);
      assert.match(ok(await kubectl(admin, ["delete", "--dry-run=server", "pod", "alpha"]), "delete dry"), /pod "alpha" deleted \(server dry run\)/);
      assert.equal(await b.pod(ns, "dry-1"), undefined);
      const alpha = await b.pod(ns, "alpha");
      assert.equal(alpha?.metadata.labels?.["dry"], undefined);
      assert.equal(alpha?.metadata.deletionTimestamp, undefined);
    });

    it("label and annotate patch the pod", async () => {
      ok(await kubectl(admin, ["label", "pod", "alpha", "tier=backend"]), "label");
      ok(await kubectl(admin, ["annotate", "pod", "alpha", "example.com/owner=team-a"]), "annotate");
      const pod = await b.pod(ns, "alpha");
      assert.equal(pod?.metadata.labels?.["tier"], "backend");
      assert.equal(pod?.metadata.annotations?.["example.com/owner"], "team-a");
      ok(await kubectl(admin, ["label", "pod", "alpha", "tier-"]), "label removal");
      assert.equal((await b.pod(ns, "alpha"))?.metadata.labels?.["tier"], undefined);
    });

    it("patch --type strategic, merge and json", async () => {
      const r1 = await kubectl(admin, ["patch", "pod", "alpha", "-v=6", "--type", "strategic", "-p", '{"metadata":{"labels":{"s":"1"}}}']);
      ok(r1, "strategic");
      ok(await kubectl(admin, ["patch", "pod", "alpha", "--type", "merge", "-p", '{"metadata":{"labels":{"m":"2","s":null}}}']), "merge");
      ok(await kubectl(admin, ["patch", "pod", "alpha", "--type", "json", "-p", '[{"op":"add","path":"/metadata/labels/j","value":"3"}]']), "json");
      const labels = (await b.pod(ns, "alpha"))?.metadata.labels ?? {};
      assert.deepEqual([labels["s"], labels["m"], labels["j"]], [undefined, "2", "3"]);
      assert.ok(loggedCalls(r1.stderr).some((c) => c.method === "PATCH" && c.status === 200));
    });

    it("get pods --watch -o name sees a pod created after the list", async () => {
      const home = join(admin, "..");
      const env = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: home, KUBECTL_COMMAND_HEADERS: "false" };
      const child = spawn(KUBECTL, ["--kubeconfig", admin, "get", "pods", "--watch", "-o", "name", "-v=6"], { env, stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
      const stdout = collectStdout(child);
      const stderrLog = collectStdout(child, "stderr");
      try {
        await stdout.until((out) => out.includes("pod/alpha\n"), 20_000).catch((e: Error) => {
          throw new Error(`${e.message}; kubectl's log: ${stderr.slice(-3000)}`);
        });
        // The list has been printed, so this pod can only reach kubectl through the watch.
        await b.runPod(ns, "watched", "shop", "127.0.3.9");
        await stdout.until((out) => out.includes("pod/watched\n"), 20_000).catch((e: Error) => {
          throw new Error(`${e.message}; kubectl's log: ${stderr.slice(-3000)}`);
        });
        // kubectl logs the watch request on stderr, a pipe of its own: its line
        // may reach this process after the pod's name on stdout.
        await stderrLog.until((err) => loggedCalls(err).some((c) => c.path === `/api/v1/namespaces/${ns}/pods` && c.query.get("watch") === "true"), 20_000);
      } finally {
        const exited = new Promise((resolve) => child.once("close", resolve));
        child.kill("SIGTERM");
        await exited;
      }
    });

    it("get pods --chunk-size=2 pages with continue tokens", async () => {
      const r = await kubectl(admin, ["get", "pods", "-n", paged, "--chunk-size=2", "-o", "name", "-v=6"]);
      assert.deepEqual(ok(r, "chunked get").trim().split("\n"), Array.from({ length: 7 }, (_, i) => `pod/page-${i}`));
      const pages = loggedCalls(r.stderr).filter((c) => c.method === "GET" && c.path === `/api/v1/namespaces/${paged}/pods`);
      assert.ok(pages.every((c) => c.query.get("limit") === "2"));
      assert.equal(pages.filter((c) => c.query.get("continue")).length, 3);
    });

    it("delete --wait=false deletes the pod (gracefully)", async () => {
      const r = await kubectl(admin, ["delete", "pod", "created-1", "--wait=false", "-v=6"]);
      assert.match(ok(r, "delete"), /pod "created-1" deleted/);
      const pod = await b.pod(ns, "created-1");
      assert.ok(pod === undefined || pod.metadata.deletionTimestamp, "the pod is gone or terminating");
      assert.ok(loggedCalls(r.stderr).some((c) => c.method === "DELETE" && c.path === `/api/v1/namespaces/${ns}/pods/created-1`));
    });

    it("auth can-i answers yes for the admin", async () => {
      assert.equal(ok(await kubectl(admin, ["auth", "can-i", "delete", "pods"]), "can-i").trim(), "yes");
    });

    describe("with a restricted token", { skip: b.authenticates ? false : "this server does not authenticate" }, () => {
      it("verifies the server certificate from the kubeconfig and sends the token", async () => {
        assert.equal(ok(await kubectl(b.kubeconfig("reader", shop), ["get", "pods", "-o", "name"]), "get over TLS").trim(), "pod/beta");
      });

      it("auth can-i list pods: yes under the restricted token", async () => {
        const r = await kubectl(b.kubeconfig("reader", shop), ["auth", "can-i", "list", "pods"]);
        assert.equal(r.stdout.trim(), "yes", r.stderr);
        assert.equal(r.code, 0);
      });

      it("auth can-i patch pods: no under the restricted token, yes for the admin", async () => {
        const r = await kubectl(b.kubeconfig("reader", shop), ["auth", "can-i", "patch", "pods", "-n", shop]);
        assert.equal(r.stdout.trim(), "no", r.stderr);
        assert.equal(r.code, 1);
        assert.equal(ok(await kubectl(admin, ["auth", "can-i", "patch", "pods", "-n", shop]), "admin can-i").trim(), "yes");
      });

      it("a forbidden write fails with the apiserver's message", async () => {
        const r = await kubectl(b.kubeconfig("reader", shop), ["label", "pod", "beta", "x=y"]);
        assert.notEqual(r.code, 0);
        assert.ok(r.stderr.includes(`pods "beta" is forbidden: User "${b.readerUser}" cannot patch resource "pods" in API group "" in the namespace "${shop}"`), r.stderr);
      });

      it("auth whoami names the token's user (SelfSubjectReview)", async () => {
        const who = JSON.parse(ok(await kubectl(b.kubeconfig("reader", shop), ["auth", "whoami", "-o", "json"]), "auth whoami")) as { status: { userInfo: { username: string; groups: string[] } } };
        assert.equal(who.status.userInfo.username, b.readerUser);
        assert.ok(who.status.userInfo.groups.includes("system:authenticated"));
      });

      it("an unknown token is rejected as Unauthorized", async () => {
        const r = await kubectl(b.kubeconfig("stranger", shop), ["get", "pods"]);
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /Unauthorized|must be logged in/);
      });
    });
  });
}

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
