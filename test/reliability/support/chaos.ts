/**
 * A chaos run, shared by test/reliability/chaos.test.ts and bench/soak.ts:
 * connect-node replicas whose Pods live in the fake API server, a client
 * calling them through `KubernetesRegistry` + `createDiscoveryTransport`, and
 * two loops running together for `seconds`:
 *
 * - faults (a seeded schedule, one every ~`faultEveryMs`): watches dropped or
 *   hung (a hang is ended by a later drop, as the idle watchdog would, only
 *   sooner), history compacted, 410/429/500 answers to LIST or WATCH, and
 *   token rotation (new token file, old token refused);
 * - churn: replicas replaced one at a time with graceful termination
 *   (deletionTimestamp → the client drops the pod → drain → DELETED), and
 *   Ready flaps.
 *
 * API time runs `clockFactor` times faster than real time (backoffs, watch
 * timeouts, Retry-After), so a short run sees many recoveries. At the end the
 * faults stop and the run waits until the registry's view, an independent pod
 * cache and the transport all match the server's state.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createDiscoveryTransport } from "../../../src/connect/index.ts";
import { createKubeClient } from "../../../src/kube/client.ts";
import { KubeConfig } from "../../../src/kube/config.ts";
import { createPodCache } from "../../../src/registry/pod-cache.ts";
import { KubernetesRegistry } from "../../../src/index.ts";
import { FakeKubeApiServer, makePod } from "../../../src/testing/index.ts";
import { Greeter } from "../../../proto/gen/helloworld_pb.ts";
import { startReplica, type Replica } from "./drain-server.ts";
import { createFastClock, seededRandom } from "./fast-clock.ts";
import { createWaiter, startRateLoad, type Failure } from "./load.ts";

/** Rejects when `p` takes longer than `ms` (a stuck run fails clearly instead of hanging). */
function within<T>(p: Promise<T>, ms: number, what: string, state: () => string = () => ""): Promise<T> {
  let t: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(new Error(`chaos: ${what} did not happen within ${ms} ms; ${state()}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

const NS = "default";
const APP = "chaos.service";

export interface ChaosOptions {
  seconds: number;
  seed: number;
  /** RPCs per second. */
  rate?: number;
  replicas?: number;
  faultEveryMs?: number;
  /** Give each replica its own loopback IP and one shared port (Linux); default false (127.0.0.1, ephemeral ports). */
  distinctIps?: boolean;
  /** Pause between churn steps (default 0: back to back). */
  churnEveryMs?: number;
  clockFactor?: number;
  /** Called about once a second with the elapsed ms. */
  onTick?: (elapsedMs: number) => void;
  /** A line for the log (faults, churn). */
  log?: (line: string) => void;
  /** Log every API request (debugging). */
  trace?: boolean;
}

export interface ChaosFailure extends Failure {
  /** Ready endpoints in the transport when the call started and when it failed. */
  readyAtStart: number;
  readyAtEnd: number;
}

export interface ChaosResult {
  sent: number;
  ok: number;
  failures: ChaosFailure[];
  faults: Record<string, number>;
  replaced: number;
  flaps: number;
  registryErrors: number;
  /** Errors the registry reported, by constructor name and code/kind. */
  errorKinds: Record<string, number>;
  /** ms from "faults stop" until every view matched the server. */
  convergeMs: number;
  /** Mismatch description when the views did not converge (undefined = converged). */
  divergence: string | undefined;
  elapsedMs: number;
  /** Requests the fake API server logged (its log is the one thing a run keeps). */
  apiRequests: number;
  /** Calls the load did not issue because 128 were in flight (the machine could not keep up). */
  shed: number;
}

/** Retriable Connect codes (gRPC retry guidance): the call may succeed when repeated. */
export const RETRIABLE: ReadonlySet<Code> = new Set([Code.Unavailable, Code.DeadlineExceeded, Code.ResourceExhausted, Code.Aborted]);

export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const rnd = seededRandom(o.seed);
  let pendingRule: { from: number; n: number; watch: boolean } | undefined; // from: fake.requestCount when the rule was set
  const started = performance.now();
  const log = o.log ?? (() => {});
  const clock = createFastClock(o.clockFactor ?? 20);
  const dir = mkdtempSync(join(tmpdir(), "kratos-kube-chaos-"));
  let tokenSerial = 0;
  const tokenFile = join(dir, "token");
  const rotate = (): void => {
    const token = `chaos-token-${++tokenSerial}`;
    writeFileSync(tokenFile, token);
    fake.setTokens({ [token]: { user: "system:serviceaccount:default:chaos" } });
  };
  // A short watch history (50 events of ~5 KB pods) and a short request log (each entry keeps its
  // URL alive), so the fake's own memory hardly moves the heap measurements.
  const fake = new FakeKubeApiServer({ clock, rechunk: o.seed, tokens: {}, historyLimit: 50, requestLogLimit: 500 });
  rotate();
  const config = KubeConfig.fromOptions({ server: "http://127.0.0.1:6443", tokenFile, namespace: NS });
  const waiter = createWaiter();
  const errorKinds: Record<string, number> = {};
  let registryErrors = 0;
  const traced = (who: string) => async (req: Request): Promise<Response> => {
    const t = (performance.now() - started).toFixed(0);
    const u = new URL(req.url);
    if (o.trace) log(`${who} ${t} ${req.method} ${u.search.slice(0, 80)}`);
    const res = await fake.fetch(req);
    if (o.trace) log(`${who} ${t} -> ${res.status} at ${(performance.now() - started).toFixed(0)}`);
    return res;
  };
  const registry = new KubernetesRegistry({
    config,
    fetch: traced("registry"),
    clock,
    namespace: NS,
    syncTimeoutMs: 600_000,
    onError: (e) => {
      registryErrors++;
      recentErrors.push(`${(performance.now() - started).toFixed(0)}: ${e.message.slice(0, 160)}`);
      if (recentErrors.length > 6) recentErrors.shift();
      log(`registry error at ${(performance.now() - started).toFixed(0)} ms: ${e.message}`);
      const kind = `${e.name}:${String((e as { code?: unknown }).code ?? "")}/${String((e as { kind?: unknown }).kind ?? (e as { cause?: { kind?: unknown } }).cause?.kind ?? "")}`;
      errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
    },
  });
  const observerClient = createKubeClient({ config, fetch: fake.fetch, clock });
  const observer = createPodCache({ api: observerClient, namespaces: [NS], clock, random: rnd });
  const unsubscribe = observer.subscribe(() => waiter.notify());
  observer.start();
  const transport = createDiscoveryTransport({ discovery: registry, target: `discovery:///${APP}`, onEvent: () => waiter.notify() });
  const client = createClient(Greeter, transport);
  const replicas = new Map<string, Replica>();
  const readyCount = (): number => transport.endpoints().filter((e) => e.state === "ready").length;
  const stateOf = (r: Replica): string | undefined => transport.endpoints().find((e) => e.address === r.address)?.state;
  let serial = 0;
  const recentErrors: string[] = [];
  const dump = (): string => {
    const eps = transport.endpoints().map((e) => `${e.address}:${e.state}/${e.inflight}`).join(" ");
    const reqs = fake.requests.slice(-8).map((r) => `${r.method}${r.watch ? " watch" : ""} rv=${r.query["resourceVersion"] ?? ""}`).join(", ");
    const pods = fake.listPods(NS).map((p) => `${p.metadata.name}${p.metadata.deletionTimestamp ? "(term)" : ""}@${p.metadata.resourceVersion}`).join(" ");
    const cached = [...observer.values()].map((p) => `${p.name}${p.terminating ? "(term)" : ""}@${p.resourceVersion}`).join(" ");
    return `transport [${eps}]; server [${pods}] rv ${fake.resourceVersion}; observer [${cached}]; open watches ${fake.openWatches}; last requests [${reqs}]; last errors [${recentErrors.join(" | ")}]`;
  };
  const faults: Record<string, number> = {};
  let replaced = 0;
  let flaps = 0;
  const failures: ChaosFailure[] = [];
  let stopping = false;

  // Like real pods: every replica its own IP (127.1.x.y, all loopback on Linux) and the same container port,
  // so pod records differ only where real ones do. Elsewhere (no 127/8 aliases) 127.0.0.1 and ephemeral ports.
  let sharedPort: number | undefined;
  let aliases = o.distinctIps ?? false;
  const launch = async (): Promise<Replica> => {
    const n = serial++;
    const name = `chaos-${n}`;
    const host = aliases ? `127.1.${Math.floor(n / 250) % 250}.${(n % 250) + 1}` : "127.0.0.1";
    let r: Replica;
    try {
      r = await startReplica(name, { workMs: 1, host, ...(sharedPort !== undefined ? { port: sharedPort } : {}) });
      if (aliases) sharedPort ??= r.port;
    } catch {
      aliases = false;
      r = await startReplica(name, { workMs: 1 });
    }
    replicas.set(name, r);
    const ip = r.address.slice(0, r.address.lastIndexOf(":"));
    fake.createPod(makePod({ name, namespace: NS, app: APP, ip, ports: [{ name: "grpc", containerPort: r.port }], ready: false }));
    fake.setReady(NS, name, true);
    await within(waiter.until(() => stateOf(r) === "ready"), 30_000, `${name} ready in the transport`, dump);
    return r;
  };
  const retire = async (old: Replica): Promise<void> => {
    fake.deletePod(NS, old.name, { gracePeriodSeconds: 30 });
    await within(waiter.until(() => stateOf(old) === undefined), 30_000, `${old.name} dropped by the client`, dump); // the preStop hook's job
    await old.stop();
    fake.finishDeletion(NS, old.name);
    replicas.delete(old.name);
  };

  const ticker = setInterval(() => {
    waiter.notify();
    o.onTick?.(performance.now() - started);
  }, 1000);

  for (let i = 0; i < (o.replicas ?? 3); i++) await launch();
  await transport.ready({ count: o.replicas ?? 3 });
  const load = startRateLoad({
    rate: o.rate ?? 150,
    call: () => {
      const readyAtStart = readyCount();
      return client.sayHello({ name: "chaos" }, { timeoutMs: 5000 }).catch((e: unknown) => {
        const ce = ConnectError.from(e);
        failures.push({ code: ce.code, message: ce.message, at: performance.now() - started, readyAtStart, readyAtEnd: readyCount() });
        log(`call failed: ${Code[ce.code]} ${ce.message}`);
        throw e;
      });
    },
  });

  const count = (k: string): void => {
    faults[k] = (faults[k] ?? 0) + 1;
    log(`fault at ${(performance.now() - started).toFixed(0)} ms: ${k}`);
  };
  const failuresConsumed = (): boolean => {
    if (pendingRule === undefined) return true;
    const { from, n, watch } = pendingRule;
    let met = 0;
    const log = fake.requests;
    for (let i = Math.max(0, log.length - (fake.requestCount - from)); i < log.length; i++) {
      const r = log[i]!;
      if (r.method === "GET" && r.watch === watch && r.path.endsWith("/pods")) met++;
    }
    if (met < n) return false;
    pendingRule = undefined;
    return true;
  };
  const faultLoop = async (): Promise<void> => {
    let hung = 0;
    while (!stopping) {
      await new Promise((r) => setTimeout(r, (o.faultEveryMs ?? 120) * (0.5 + rnd())));
      if (stopping) break;
      if (hung > 0 && --hung === 0) {
        fake.faults.dropWatches();
        count("unhang");
        continue;
      }
      const x = rnd();
      const status = [410, 429, 500][Math.floor(rnd() * 3)]!;
      const watch = rnd() < 0.5;
      if (x < 0.18) {
        fake.faults.dropWatches();
        count("drop");
      } else if (x < 0.28) {
        fake.faults.hangWatches();
        hung = 2 + Math.floor(rnd() * 4);
        count("hang");
      } else if (x < 0.4) {
        fake.faults.compact();
        count("compact");
      } else if (x < 0.75 && failuresConsumed()) {
        // One failNext rule at a time: rules queue up otherwise, and the clients would meet them long after the chaos.
        const n = 1 + Math.floor(rnd() * 2);
        pendingRule = { from: fake.requestCount, n, watch };
        fake.faults.failNext(n, { status, ...(status === 429 ? { retryAfter: 1 } : {}), match: { method: "GET", watch } });
        count(`${status} ${watch ? "watch" : "list"}`);
        fake.faults.dropWatches(); // re-watches (and, after a 410, relists) meet the failure now
      } else if (x < 0.75) {
        fake.faults.dropWatches();
        count("drop");
      } else {
        rotate();
        count("rotate token");
      }
    }
  };
  const churnLoop = async (): Promise<void> => {
    while (!stopping) {
      const live = [...replicas.values()];
      if (rnd() < 0.25 && live.length > 1) {
        const r = live[Math.floor(rnd() * live.length)]!;
        // A Ready flap: the client drops it, then takes it back; the server keeps serving.
        fake.setReady(NS, r.name, false);
        await within(waiter.until(() => stateOf(r) === undefined), 30_000, `${r.name} dropped after Ready=False`, dump);
        fake.setReady(NS, r.name, true);
        await within(waiter.until(() => stateOf(r) === "ready"), 30_000, `${r.name} back after Ready=True`, dump);
        flaps++;
      } else {
        const old = live[0]!;
        await launch();
        await retire(old);
        replaced++;
      }
      if ((o.churnEveryMs ?? 0) > 0) await new Promise((r) => setTimeout(r, o.churnEveryMs));
      log(`churn step done at ${(performance.now() - started).toFixed(0)} ms: ${replaced} replaced, ${flaps} flaps, faults ${JSON.stringify(faults)}`);
    }
  };

  let stuck: string | undefined;
  const churn = churnLoop().catch((e: unknown) => {
    stuck = e instanceof Error ? e.message : String(e);
    log(stuck);
  });
  const faulting = faultLoop();
  await new Promise((r) => setTimeout(r, o.seconds * 1000));
  stopping = true;
  await faulting;
  // Unstick a hang and let every view converge before the churn's last step completes.
  fake.faults.dropWatches();
  await churn;
  await load.stop();
  const stopAt = performance.now();

  const selectedOnServer = (): string[] =>
    fake
      .listPods(NS)
      .filter((p) => p.metadata.deletionTimestamp === undefined && p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"))
      .map((p) => p.metadata.name ?? "")
      .sort();
  const describe = async (): Promise<string | undefined> => {
    const server = fake.listPods(NS).map((p) => `${p.metadata.name}@${p.metadata.resourceVersion}`).sort().join(",");
    const cached = [...observer.values()].map((p) => `${p.name}@${p.resourceVersion}`).sort().join(",");
    if (server !== cached) return `pod cache ${cached} != server ${server}`;
    const found = (await registry.getService(APP)).map((i) => i.id).sort().join(",");
    const selected = selectedOnServer().join(",");
    if (found !== selected) return `registry ${found} != server ${selected}`;
    const endpoints = transport.endpoints().filter((e) => e.state === "ready").map((e) => e.address).sort().join(",");
    const expected = selectedOnServer().map((n) => replicas.get(n)?.address ?? "?").sort().join(",");
    if (endpoints !== expected) return `transport ${endpoints} != ${expected}`;
    return undefined;
  };
  let divergence = stuck ?? (await describe());
  log(`faults stopped: ${divergence ?? "already converged"}`);
  const convergeDeadline = performance.now() + 20_000;
  while (stuck === undefined && divergence !== undefined && performance.now() < convergeDeadline) {
    await new Promise((resolve) => setTimeout(resolve, 50)); // polls the views; no step depends on this pace
    const d = await describe();
    if (d !== divergence) log(`converging: ${d ?? "done"}`);
    divergence = d;
  }
  const convergeMs = performance.now() - stopAt;

  clearInterval(ticker);
  unsubscribe();
  await transport.close();
  await registry.close();
  await observer.close();
  await observerClient.close();
  for (const r of replicas.values()) await r.stop();
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    sent: load.sent,
    ok: load.ok,
    failures,
    faults,
    replaced,
    flaps,
    registryErrors,
    errorKinds,
    convergeMs,
    divergence,
    elapsedMs: performance.now() - started,
    apiRequests: fake.requestCount,
    shed: load.shed,
  };
}
