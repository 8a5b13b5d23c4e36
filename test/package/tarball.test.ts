/**
 * The published package as a user gets it: `npm pack` of a fresh build,
 * installed into temporary apps with the README's own install command, and
 * the README's examples, generate step and esbuild command taken from the
 * README text (blocks after `<!-- readme-test: NAME -->`), run on the runtime
 * running this test against the fake API server over TLS and real Greeter
 * servers. The apps are set up once per tarball and README (see
 * support/temp-app.ts; the first runtime of a run pays for the installs).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { FakeKubeApiServer, makePod } from "../../src/testing/index.ts";
import { startServer, type TestServer } from "../connect/support/servers.ts";
import { installedCopies, MINOR_PEERS, tempApps, type TempApps } from "./support/temp-app.ts";

declare const Bun: unknown;
declare const Deno: unknown;

type Runtime = "node20" | "node24" | "bun" | "deno";

function currentRuntime(): Runtime {
  const fromRunner = process.env["KRATOS_KUBE_TEST_RUNTIME"];
  if (fromRunner === "node20" || fromRunner === "node24" || fromRunner === "bun" || fromRunner === "deno") return fromRunner;
  if (typeof Bun !== "undefined") return "bun";
  if (typeof Deno !== "undefined") return "deno";
  return Number(process.versions.node.split(".")[0]) >= 22 ? "node24" : "node20";
}

const runtime = currentRuntime();

/** How this runtime runs a README example: Node 20 the `tsc` output, the others the `.ts` file itself. */
function exampleArgs(app: string, name: string): string[] {
  if (runtime === "node20") return [join(app, "out", `${name}.js`)];
  return scriptArgs(`${name}.ts`);
}

function scriptArgs(file: string): string[] {
  return runtime === "deno" ? ["run", "-A", file] : [file];
}

interface Result {
  code: number | null;
  out: string;
  err: string;
}

/** Runs this runtime's binary in `cwd` (asynchronously: the servers live in this process). */
function runHere(cwd: string, args: string[], env: Record<string, string> = {}, onStart: (child: ChildProcess) => void = () => {}): Promise<Result> {
  const childEnv: Record<string, string | undefined> = { ...process.env, ...env, NO_COLOR: "1" };
  for (const k of ["FORCE_COLOR", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", "NODE_TEST_CONTEXT", "NODE_OPTIONS", "POD_NAME", "POD_NAMESPACE"]) {
    if (!(k in env)) delete childEnv[k];
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
    onStart(child);
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Uint8Array) => (out += new TextDecoder().decode(d)));
    child.stderr.on("data", (d: Uint8Array) => (err += new TextDecoder().decode(d)));
    const timer = setTimeout(() => child.kill("SIGKILL"), 45_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

function explain(r: Result): string {
  return `exit ${r.code}\n--- stdout\n${r.out.slice(-3000)}\n--- stderr\n${r.err.slice(-3000)}`;
}

/** Files of the installed package, relative to its directory. */
function packageFiles(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, prefix))) {
    const rel = prefix ? `${prefix}/${e}` : e;
    if (statSync(join(dir, rel)).isDirectory()) out.push(...packageFiles(dir, rel));
    else out.push(rel);
  }
  return out;
}

describe(`the packed package on ${runtime}`, { timeout: 600_000 }, () => {
  let apps: TempApps;
  let fake: FakeKubeApiServer;
  const greeters: TestServer[] = [];
  let work: string;
  let kubeconfig: string;

  before(async () => {
    apps = tempApps();
    for (const line of apps.log) console.log(`# ${line}`);
    work = mkdtempSync(join(tmpdir(), "kratos-kube-readme-"));
    fake = new FakeKubeApiServer();
    await fake.listen({ tls: true });
    kubeconfig = join(work, "kubeconfig");
    writeFileSync(kubeconfig, fake.kubeconfig());
    for (let i = 1; i <= 2; i++) {
      const g = await startServer();
      greeters.push(g);
      fake.createPod(makePod({ name: `sayhello-${i}`, app: "sayhello.service", ip: "127.0.0.1",
        ports: [{ name: "grpc", containerPort: g.port }] }));
    }
    fake.createPod(makePod({ name: "sayhello-0", ip: "127.0.0.1" })); // the server example's own Pod, not registered yet
  });

  after(async () => {
    await fake?.close();
    for (const g of greeters) await g.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("holds dist/ without source maps, the licence of the bundled yaml, README, CHANGELOG and LICENSE", () => {
    const dir = join(apps.readmeApp, "node_modules", "kratos-kube");
    const files = packageFiles(dir);
    assert.deepEqual(files.filter((f) => f.endsWith(".map")), []);
    for (const f of ["package.json", "README.md", "CHANGELOG.md", "LICENSE", "dist/licenses/yaml.LICENSE", "dist/cli/main.js"]) {
      assert.ok(files.includes(f), `${f} is in the package`);
    }
    assert.deepEqual(files.filter((f) => !f.startsWith("dist/") && !["package.json", "README.md", "CHANGELOG.md", "LICENSE"].includes(f)), []);
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { exports: Record<string, string | Record<string, string>> };
    for (const [sub, entry] of Object.entries(pkg.exports)) {
      for (const target of typeof entry === "string" ? [entry] : Object.values(entry)) {
        assert.ok(existsSync(join(dir, target)), `exports[${sub}] → ${target} exists`);
      }
    }
    const packed = statSync(apps.tarball).size;
    // A bound that catches accidents (source maps, the test stack, fixtures), not growth by features.
    assert.ok(packed < 420_000, `the tarball is ${packed} bytes`);
  });

  it("keeps the CLI's commands (the demo included) out of what importing the library loads", () => {
    const dist = join(apps.readmeApp, "node_modules", "kratos-kube", "dist");
    const imports = (file: string, dynamic: boolean): string[] => {
      const text = readFileSync(join(dist, file), "utf8");
      const re = dynamic ? /\bimport\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g : /(?:^|\n)\s*(?:import|export)\s[^;]*?["'](\.{1,2}\/[^"']+)["'];/g;
      return [...text.matchAll(re)].map((m) => join(file, "..", m[1]!));
    };
    const commands = imports("cli/main.js", true);
    assert.ok(commands.some((f) => /^demo-/.test(f)), `cli/main.js loads its commands lazily: ${commands.join(", ")}`);
    const pkg = JSON.parse(readFileSync(join(dist, "..", "package.json"), "utf8")) as { exports: Record<string, string | { default?: string }> };
    for (const [sub, entry] of Object.entries(pkg.exports)) {
      if (typeof entry === "string" || entry.default === undefined) continue;
      const seen = new Set<string>();
      const todo = [entry.default.replace(/^\.\/dist\//, "")];
      while (todo.length > 0) {
        const f = todo.pop()!;
        if (seen.has(f)) continue;
        seen.add(f);
        todo.push(...imports(f, false));
      }
      assert.deepEqual([...seen].filter((f) => commands.includes(f) || f.startsWith("cli/")), [], `${sub} statically loads no CLI code`);
      assert.ok(seen.size >= 2, `${sub}: followed its imports (${[...seen].join(", ")})`);
    }
  });

  it("installs no X.509 stack, no yaml package and no @opentelemetry/api (an optional peer), and one copy of each peer", () => {
    for (const pkg of ["@peculiar/x509", "tsyringe", "reflect-metadata", "asn1js", "tslib", "yaml", "@opentelemetry/api"]) {
      assert.deepEqual([...installedCopies(apps.readmeApp, pkg).keys()], [], `${pkg} is not installed`);
    }
    for (const pkg of Object.keys(MINOR_PEERS)) {
      assert.equal(installedCopies(apps.readmeApp, pkg).size, 1, `one copy of ${pkg} (README install)`);
      assert.deepEqual([...installedCopies(apps.minorsApp, pkg).values()], [MINOR_PEERS[pkg as keyof typeof MINOR_PEERS]],
        `one copy of ${pkg} at the app's version`);
    }
  });

  it("README `kratos-kube/testing` example: discovers the Pod through the fake's fetch handler", async () => {
    const r = await runHere(apps.readmeApp, exampleArgs(apps.readmeApp, "testing"));
    assert.equal(r.code, 0, explain(r));
    assert.match(r.out, /sayhello-1/, explain(r));
    assert.match(r.out, /grpc:\/\/10\.244\.0\.10:9000/, explain(r));
  });

  /** The resourceVersion of the server examples' own Pod, sayhello-0, now. */
  async function ownPodVersion(): Promise<string> {
    const list = await fake.fetch(new Request("http://fake.invalid/api/v1/namespaces/default/pods?fieldSelector=metadata.name%3Dsayhello-0"));
    return ((await list.json()) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
  }

  /**
   * Follows sayhello-0's history since `rv` on the fake's watch: the
   * `kratos-service-app` label of each MODIFIED event goes to `take`, until it
   * returns true (or the watch ends).
   */
  async function followAppLabel(rv: string, take: (app: string | undefined) => boolean): Promise<void> {
    const abort = new AbortController();
    const res = await fake.fetch(new Request(
      `http://fake.invalid/api/v1/namespaces/default/pods?watch=true&resourceVersion=${rv}&fieldSelector=metadata.name%3Dsayhello-0`,
      { signal: abort.signal },
    ));
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += value;
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const ev = JSON.parse(buf.slice(0, nl)) as { type: string; object: { metadata: { labels?: Record<string, string> } } };
          buf = buf.slice(nl + 1);
          if (ev.type === "MODIFIED" && take(ev.object.metadata.labels?.["kratos-service-app"])) return;
        }
      }
    } finally {
      abort.abort();
      await reader.cancel().catch(() => {});
    }
  }

  it("README server example: registers its Pod, then deregisters it", async () => {
    const rv = await ownPodVersion();
    const r = await runHere(apps.readmeApp, exampleArgs(apps.readmeApp, "server"), { KUBECONFIG: kubeconfig, POD_NAME: "sayhello-0" });
    assert.equal(r.code, 0, explain(r));
    // The Pod's history since before the run, from the fake's watch.
    const apps_: (string | undefined)[] = [];
    await followAppLabel(rv, (app) => apps_.push(app) >= 2);
    assert.deepEqual(apps_, ["sayhello.service", undefined], "registered as sayhello.service, then the label removed");
  });

  it("README App example: registers its Pod on run(), and on SIGTERM deregisters and exits by itself", async () => {
    const rv = await ownPodVersion();
    let child: ChildProcess | undefined;
    const running = runHere(apps.readmeApp, exampleArgs(apps.readmeApp, "app"), { KUBECONFIG: kubeconfig, POD_NAME: "sayhello-0" }, (c) => (child = c));
    const labels: (string | undefined)[] = [];
    await followAppLabel(rv, (app) => {
      if (labels.length === 0 && app === "sayhello.service") {
        labels.push(app);
        child!.kill("SIGTERM"); // registered: now the kubelet's SIGTERM
      } else if (labels.length === 1 && app === undefined) labels.push(app);
      return labels.length === 2;
    });
    const r = await running;
    assert.deepEqual(labels, ["sayhello.service", undefined], `registered, then deregistered on SIGTERM\n${explain(r)}`);
    // Deno's node:child_process reports a child it sent a signal to as killed
    // by it (code null) even when the child handled it and exited 0.
    if (runtime === "deno") assert.ok(r.code === 0 || r.code === null, explain(r));
    else assert.equal(r.code, 0, explain(r));
  });

  it("README client example: calls a real Greeter server through the discovery transport", async () => {
    const before = greeters.reduce((n, g) => n + g.calls.total, 0);
    const r = await runHere(apps.readmeApp, exampleArgs(apps.readmeApp, "client"), { KUBECONFIG: kubeconfig });
    assert.equal(r.code, 0, explain(r));
    assert.match(r.out, /Hello kratos/, explain(r));
    assert.equal(greeters.reduce((n, g) => n + g.calls.total, 0), before + 1);
  });

  it("the README's esbuild command bundles the client example, and the testing example bundles without a banner", async () => {
    const client = await runHere(join(apps.readmeApp, "bundle"), scriptArgs("client.mjs"), { KUBECONFIG: kubeconfig });
    assert.equal(client.code, 0, explain(client));
    assert.match(client.out, /Hello kratos/, explain(client));
    const testing = await runHere(join(apps.readmeApp, "bundle"), scriptArgs("testing.mjs"));
    assert.equal(testing.code, 0, explain(testing));
    assert.match(testing.out, /sayhello-1/, explain(testing));
  });

  it("require() loads every subpath (require(esm): no top-level await, a default condition)", async (t) => {
    if (runtime === "node20") {
      const [major, minor] = process.versions.node.split(".").map(Number) as [number, number];
      if (major === 20 && minor < 19) return t.skip(`Node ${process.versions.node} has no require(esm) (Node ≥ 20.19)`);
    }
    const pkg = JSON.parse(readFileSync(join(apps.readmeApp, "node_modules", "kratos-kube", "package.json"), "utf8")) as { exports: Record<string, unknown> };
    const specifiers = Object.keys(pkg.exports).filter((s) => s !== "./package.json").map((s) => s.replace(/^\./, "kratos-kube"));
    const file = join(apps.readmeApp, "require-all.cjs");
    writeFileSync(file, `for (const s of ${JSON.stringify(specifiers)}) console.log(\`\${s} \${Object.keys(require(s)).length}\`);\n`);
    const r = await runHere(apps.readmeApp, scriptArgs("require-all.cjs"));
    assert.equal(r.code, 0, explain(r));
    for (const s of specifiers) assert.match(r.out, new RegExp(`^${s} [1-9]\\d*$`, "m"), explain(r));
  });

  it(`the client example with other minors of the peers (${Object.entries(MINOR_PEERS).map(([k, v]) => `${k}@${v}`).join(", ")})`, async (t) => {
    if (runtime === "node20") return t.skip("@connectrpc/connect-node 2.2 and later need Node ≥ 22 (its engines field)");
    const r = await runHere(apps.minorsApp, scriptArgs("client.ts"), { KUBECONFIG: kubeconfig });
    assert.equal(r.code, 0, explain(r));
    assert.match(r.out, /Hello kratos/, explain(r));
  });

});
