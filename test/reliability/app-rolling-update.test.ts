/**
 * The App under load (issue 15's proof): three App-based greeter replicas,
 * registered through `KubernetesRegistry` in the fake API server, called at
 * 300 RPC/s through `createDiscoveryTransport`.
 *
 * Rolling restart: each old replica is replaced as Kubernetes does it — a new
 * replica runs and is Ready; the old Pod gets its deletionTimestamp; SIGTERM
 * (`app.stop()`); the App turns NOT_SERVING, deregisters, serves what still
 * arrives during its shutdown delay, drains, sends GOAWAY and closes; the Pod
 * is deleted. The delay runs on the replica's own manual clock and ends once
 * the client has dropped the replica (a signal, not a timer): 0 failed calls,
 * with the default "ready" selection and with Go Kratos's "kratos" selection
 * (which keeps a terminating Pod until its labels go: the deregistration).
 *
 * SIGKILL: an App in its own process is killed; only calls whose attempt was
 * on it and still open fail.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createDiscoveryTransport, type DiscoveryTransport } from "../../src/connect/index.ts";
import { KubeConfig } from "../../src/kube/config.ts";
import { KubernetesRegistry } from "../../src/index.ts";
import { FakeKubeApiServer, makePod } from "../../src/testing/index.ts";
import { Greeter } from "../../proto/gen/helloworld_pb.ts";
import { SHUTDOWN_DELAY_MS, startAppReplica, type AppReplica } from "./support/app-replica.ts";
import { createWaiter, startRateLoad } from "./support/load.ts";

const NS = "default";
const APP = "sayhello.service";
const RATE = 300;
const CALLS_PER_PHASE = 60;
const TIMEOUT = { timeout: 120_000 };

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers.reverse()) await c().catch(() => {});
});

function client(fake: FakeKubeApiServer, selection: "ready" | "kratos", attemptInterceptors: Interceptor[] = []) {
  const config = KubeConfig.fromOptions({ server: "http://127.0.0.1:6443", namespace: NS });
  const waiter = createWaiter();
  const registry = new KubernetesRegistry({ config, fetch: fake.fetch, namespace: NS, selection });
  const transport: DiscoveryTransport = createDiscoveryTransport({ discovery: registry, target: `discovery:///${APP}`, attemptInterceptors, onEvent: () => waiter.notify() });
  closers.push(async () => {
    await transport.close();
    await registry.close();
  });
  const stateOf = (address: string): string | undefined => transport.endpoints().find((e) => e.address === address)?.state;
  return { waiter, transport, stateOf, greeter: createClient(Greeter, transport) };
}

async function rollingRestart(selection: "ready" | "kratos") {
  const fake = new FakeKubeApiServer({ rechunk: 11 });
  closers.push(() => fake.close());
  const c = client(fake, selection);
  const replicas: AppReplica[] = [];
  closers.push(async () => {
    for (const r of replicas) if (r.app.state.kind !== "stopped") await r.shutdown().catch(() => {});
  });
  let serial = 0;
  const launch = async (): Promise<AppReplica> => {
    const r = await startAppReplica({ name: `sayhello-${selection}-${serial++}`, fake, namespace: NS, service: APP });
    replicas.push(r);
    await c.waiter.until(() => c.stateOf(r.address) === "ready");
    return r;
  };
  const replace = async (old: AppReplica): Promise<void> => {
    fake.deletePod(NS, old.name, { gracePeriodSeconds: 30 }); // MODIFIED with a deletionTimestamp
    const stopped = old.app.stop(); // SIGTERM
    await old.until((s) => s.kind === "stopping" && s.step === "delay");
    // The shutdown delay ends once the client no longer has the replica at all.
    await c.waiter.until(() => c.stateOf(old.address) === undefined);
    await old.clock.advance(SHUTDOWN_DELAY_MS);
    await stopped;
    await old.running;
    fake.finishDeletion(NS, old.name); // DELETED
  };

  const initial = [await launch(), await launch(), await launch()];
  await c.transport.ready({ count: 3 });
  const load = startRateLoad({ call: () => c.greeter.sayHello({ name: "rolling" }, { timeoutMs: 5000 }), rate: RATE });
  closers.push(() => load.stop());
  await load.completed(CALLS_PER_PHASE);
  for (const old of initial) {
    await launch();
    await load.completed(CALLS_PER_PHASE);
    await replace(old);
    await load.completed(CALLS_PER_PHASE);
  }
  await load.stop();
  // The client goes first: Deno's node:http2 client crashes on a GOAWAY on an idle connection (README, Runtime notes).
  await c.transport.close();
  for (const r of replicas.slice(3)) await r.shutdown();
  return { load, replicas };
}

describe("App: rolling restart of 3 replicas under load", () => {
  for (const selection of ["ready", "kratos"] as const) {
    it(`selection "${selection}": 0 failed calls; every old replica stopped cleanly`, TIMEOUT, async () => {
      const { load, replicas } = await rollingRestart(selection);
      const whileStopping = replicas.reduce((n, r) => n + r.servedWhileStopping, 0);
      console.log(`# App rolling restart (${selection}): ${load.sent} calls, ${load.failures.length} failed, ${whileStopping} served by replicas already stopping, ${load.shed} shed`);
      assert.deepEqual(load.failures, []);
      assert.equal(load.ok, load.sent);
      assert.equal(replicas.length, 6);
      for (const r of replicas.slice(0, 3)) {
        const s = r.app.state;
        assert.ok(s.kind === "stopped", `${r.name} stopped`);
        assert.deepEqual(s.steps.filter((x) => !x.ok), [], `${r.name}: no step failed`);
        assert.ok(r.served > 0, `${r.name} served calls before its replacement`);
      }
      for (const r of replicas.slice(3)) {
        assert.ok(r.served > 0, `${r.name} served nothing`);
        assert.equal(r.app.state.kind, "stopped");
      }
    });
  }
});

/** The command that runs a .ts file on the current runtime. */
function runner(file: string): string[] {
  const exe = globalThis.process.execPath;
  if ("Deno" in globalThis) return [exe, "run", "-A", "--no-check", file];
  if ("Bun" in globalThis) return [exe, file];
  const [major = 0, minor = 0] = globalThis.process.versions.node.split(".").map(Number);
  return major > 22 || (major === 22 && minor >= 18) ? [exe, file] : [exe, "--import", "tsx", file];
}

describe("App: an App killed with SIGKILL", () => {
  it("fails only the calls that were open on it", TIMEOUT, async () => {
    const fake = new FakeKubeApiServer();
    closers.push(() => fake.close());
    const { url } = await fake.listen({ host: "127.0.0.1" });
    // Per endpoint: attempts open now; after the kill, attempts started on the killed one.
    const open = new Map<string, number>();
    const lastAttempt = new Map<string, string>();
    let killedAddress: string | undefined;
    let startedOnKilledAfterKill = 0;
    const tracker: Interceptor = (next) => async (req) => {
      const address = new URL(req.url).host;
      const id = req.header.get("x-call") ?? "";
      lastAttempt.set(id, address);
      if (address === killedAddress) startedOnKilledAfterKill++;
      open.set(address, (open.get(address) ?? 0) + 1);
      try {
        return await next(req);
      } finally {
        open.set(address, open.get(address)! - 1);
      }
    };
    const c = client(fake, "ready", [tracker]);
    const children: ReturnType<typeof spawn>[] = [];
    closers.push(async () => {
      for (const p of children) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
    });
    /** Starts a child App; creates its Pod (the kubelet's part) once it listens; resolves with its address once it runs. */
    const start = (name: string): Promise<string> => {
      const [cmd, ...args] = runner(fileURLToPath(new URL("./support/app-child.ts", import.meta.url)));
      const proc = spawn(cmd!, [...args, url, name, NS, APP, "20"], { cwd: fileURLToPath(new URL("../../", import.meta.url)), stdio: ["pipe", "pipe", "inherit"] });
      children.push(proc);
      return new Promise((resolve, reject) => {
        let buf = "";
        proc.stdout!.on("data", (d: Uint8Array) => {
          buf += new TextDecoder().decode(d);
          for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
            const line = JSON.parse(buf.slice(0, i)) as { listening?: string; endpoint?: string };
            buf = buf.slice(i + 1);
            if (line.listening !== undefined) {
              const port = Number(new URL(line.listening).port);
              fake.createPod(makePod({ name, namespace: NS, ip: "127.0.0.1", ports: [{ name: "grpc", containerPort: port }], ready: false }));
              proc.stdin!.end("created\n");
            }
            if (line.endpoint !== undefined) resolve(line.endpoint.replace(/^grpc:\/\//, ""));
          }
        });
        proc.on("close", (code) => reject(new Error(`${name} exited with ${code} before running`)));
      });
    };
    const names = ["sayhello-kill-0", "sayhello-kill-1", "sayhello-kill-2"];
    const addresses = await Promise.all(names.map(start));
    for (const n of names) fake.setReady(NS, n, true); // the kubelet's readiness probe passed
    await c.transport.ready({ count: 3 });
    let seq = 0;
    const failedOn: (string | undefined)[] = [];
    const call = (): Promise<unknown> => {
      const id = String(++seq);
      return c.greeter.sayHello({ name: "kill" }, { timeoutMs: 5000, headers: { "x-call": id } }).catch((e: unknown) => {
        failedOn.push(lastAttempt.get(id));
        throw e;
      });
    };
    const load = startRateLoad({ call, rate: RATE });
    closers.push(() => load.stop());
    await load.completed(CALLS_PER_PHASE);

    const victim = 1;
    killedAddress = addresses[victim]!;
    const openAtKill = open.get(killedAddress) ?? 0;
    children[victim]!.kill("SIGKILL");
    // The kubelet's probes fail: Ready=False, then the ReplicaSet deletes the Pod.
    fake.setReady(NS, names[victim]!, false);
    await c.waiter.until(() => c.stateOf(killedAddress!) === undefined);
    fake.deletePod(NS, names[victim]!);
    await load.completed(CALLS_PER_PHASE);
    await load.stop();

    console.log(`# App SIGKILL: ${load.sent} calls, ${load.failures.length} failed; ${openAtKill} open on the killed App at the kill, ${startedOnKilledAfterKill} attempts started on it after`);
    assert.ok(load.ok > 0);
    assert.deepEqual(failedOn.filter((a) => a !== killedAddress), [], "every failed call's last attempt was on the killed App");
    assert.ok(
      load.failures.length <= openAtKill + startedOnKilledAfterKill,
      `${load.failures.length} failed > ${openAtKill} open at the kill + ${startedOnKilledAfterKill} started on it after: ${load.failures.map((f) => f.message).join("; ")}`,
    );
    // The others stop gracefully on SIGTERM and exit; the client goes first (Deno's node:http2
    // client crashes on a GOAWAY on an idle connection: README, Runtime notes).
    await c.transport.close();
    const exits = children.filter((_, i) => i !== victim).map((p) => new Promise<number | null>((resolve) => p.on("close", (code) => resolve(code))));
    for (let i = 0; i < children.length; i++) if (i !== victim) globalThis.process.kill(children[i]!.pid!, "SIGTERM");
    await Promise.all(exits);
  });
});
