/**
 * The demo, end to end: an embedded fake API server on loopback, sayhello
 * servers that are kratos-kube Apps (registering their pods through
 * `KubernetesRegistry`, stopping gracefully on the demo's SIGTERM), and a
 * micro-forge client calling them through `createDiscoveryTransport` while
 * the script scales up, rolls, kills one server and scales down.
 *
 * @module
 */
import { createDiscoveryTransport } from "../../src/connect/index.ts";
import { createKubeClient, KubeConfig } from "../../src/kube/index.ts";
import { createPodCache } from "../../src/index.ts";
import { KubernetesRegistry } from "../../src/index.ts";
import { apiPodControl, fakePodControl } from "./pod-control.ts";
import type { CliIo } from "../io.ts";
import { createLiveScreen } from "../live-view.ts";
import { describeChange } from "../watch.ts";
import { DemoFleet, SERVICE } from "./fleet.ts";
import { describeStep, planScenario } from "./scenario.ts";
import { createAttemptTracker, emptyStats, startTraffic, type Traffic, type TrafficStats } from "./traffic.ts";
import { progressLine, renderFrame, renderSummary, summaryJson, verdict, type DemoState } from "./view.ts";

/** Demo settings. */
export interface DemoOptions {
  readonly durationMs: number;
  readonly replicas: number;
  readonly balancer: "round_robin" | "p2c" | "wrr" | "random";
  /** Calls per second. */
  readonly rate: number;
  /** Simulated work per call, ms (default 20). */
  readonly workMs?: number;
  /** Force the live (ANSI) view on or off; default: stdout is a terminal. */
  readonly live?: boolean;
  /** Print the summary as JSON on stdout (the log goes to stderr as plain lines). */
  readonly json?: boolean;
  /**
   * Run on the API server of this kubeconfig instead of the embedded fake:
   * one without a kubelet (a test control plane), as the demo plays the kubelet.
   */
  readonly kubeconfig?: string;
  /**
   * How micro-forge finds sayhello: `pods` (default: the Kratos labels its
   * servers register, `discovery:///sayhello.service`) or `endpointslices`
   * (the EndpointSlices of Service `sayhello`, which the embedded fake keeps
   * in step with the pods: `kubernetes:///sayhello.default:grpc`).
   */
  readonly source?: "pods" | "endpointslices";
}

/** Kratos clients' default per-call timeout (go-kratos transport/grpc client: 2 s). */
const CALL_TIMEOUT_MS = 2000;
/**
 * The sayhello Apps' shutdown delay: a stopping pod keeps serving calls that
 * still arrive this long after it deregistered (clients' watches here are
 * local, so a fraction of the 5 s default is plenty).
 */
const SHUTDOWN_DELAY_MS = 500;
/** How long waiting for discovery to reflect a change may take before the demo moves on. */
const DISCOVERY_WAIT_MS = 5000;

/** Waits `ms`, or less when `signal` aborts (Ctrl-C ends the scenario early but still prints the summary). */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Runs the demo; resolves to the exit code (0 when the expected result held). */
export async function runDemo(o: DemoOptions, io: CliIo): Promise<number> {
  const started = performance.now();
  const elapsed = (): number => performance.now() - started;
  const screen = o.json ? createLiveScreen(io.stderr, { live: false }) : createLiveScreen(io.stdout, o.live !== undefined ? { live: o.live } : {});
  const log = (line: string): void => screen.log(`[${(elapsed() / 1000).toFixed(2)}s] ${line}`);
  let phase = "starting";

  const pods =
    o.kubeconfig === undefined
      ? await fakePodControl((url) => KubeConfig.fromOptions({ server: url, namespace: "default" }), { endpointSlices: o.source === "endpointslices" })
      : await apiPodControl(await KubeConfig.fromKubeconfig(o.kubeconfig), `the API server of ${o.kubeconfig}`);
  const config = pods.config;
  log(pods.description);

  // micro-forge's discovery, and a view of it for the script and the screen.
  const discovery = new KubernetesRegistry({ config, namespace: "default", onError: (e) => log(`discovery error (retrying): ${e.message}`) });
  const discovered = new Set<string>();
  const waiters = new Set<() => void>();
  const target = o.source === "endpointslices" ? "kubernetes:///sayhello.default:grpc" : `discovery:///${SERVICE}`;
  if (o.source === "endpointslices") log(`micro-forge discovers ${target}: the EndpointSlices of Service sayhello`);
  const watcher = await discovery.watch(target);
  const following = (async () => {
    for await (const instances of watcher) {
      discovered.clear();
      for (const i of instances) for (const e of i.endpoints) if (e.startsWith("grpc://")) discovered.add(e);
      for (const w of [...waiters]) w();
    }
  })();
  const waitForDiscovery = (endpoint: string, present: boolean): Promise<void> =>
    new Promise((resolve) => {
      const check = (): void => {
        if (discovered.has(endpoint) !== present) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        log(`discovery did not ${present ? "add" : "drop"} ${endpoint} within ${DISCOVERY_WAIT_MS} ms; moving on`);
        resolve();
      }, DISCOVERY_WAIT_MS);
      waiters.add(check);
      check();
    });

  // The watch events, as `kratos-kube watch` prints them.
  const eventsClient = createKubeClient({ config });
  const events = createPodCache({ api: eventsClient, namespaces: ["default"] });
  let watchEvents = 0;
  const unsubscribe = events.subscribe((changes) => {
    for (const c of changes) {
      watchEvents++;
      log(`watch: ${describeChange(c, "ready")}`);
    }
  });
  events.start();

  const tracker = createAttemptTracker();
  const transport = createDiscoveryTransport({
    discovery,
    attemptInterceptors: [tracker.interceptor],
    target,
    balancer: o.balancer,
    onError: (e) => log(`transport discovery error: ${e.message}`),
    // Ejections, health changes and drains as the transport sees them.
    logger: (r) => {
      if (r.level === "debug") return;
      const f = r.fields as { address?: unknown; reason?: unknown };
      log(`transport: ${r.message}${f.address !== undefined ? ` (${String(f.address)}${f.reason !== undefined ? `, ${String(f.reason)}` : ""})` : ""}`);
    },
  });
  const clientInflight = (endpoint: string): number => {
    for (const e of transport.endpoints()) if (`grpc://${e.address}` === endpoint) return e.inflight;
    return 0;
  };
  const fleet = new DemoFleet({ pods, config, workMs: o.workMs ?? 20, shutdownDelayMs: SHUTDOWN_DELAY_MS, waitForDiscovery, clientInflight, log });
  let traffic: Traffic | undefined;
  const idle: TrafficStats = emptyStats();

  const state = (): DemoState => ({
    elapsedMs: elapsed(),
    durationMs: o.durationMs,
    phase,
    balancer: o.balancer,
    rate: o.rate,
    pods: fleet.pods,
    discovered,
    clientInflight,
    watchEvents,
    stats: traffic?.stats ?? idle,
  });
  let lastProgress = 0;
  const ticker = setInterval(() => {
    if (screen.live) screen.render(renderFrame(state()));
    else if (elapsed() - lastProgress >= 1000) {
      lastProgress = elapsed();
      log(progressLine(state()));
    }
  }, screen.live ? 100 : 250);

  let failure: unknown;
  try {
    phase = `scale up to ${o.replicas}`;
    log(`starting ${o.replicas} sayhello pods; micro-forge calls ${o.rate}/s through the ${o.balancer} balancer`);
    await Promise.all(Array.from({ length: o.replicas }, () => fleet.start()));
    // micro-forge starts once its first endpoints are connected, as a client
    // would after its resolver's first update (Kratos waits for it up to 10 s).
    await transport.ready({ count: o.replicas, signal: AbortSignal.timeout(DISCOVERY_WAIT_MS * 2) }).catch(() => log("the client connected to fewer endpoints than expected; calling anyway"));
    traffic = startTraffic({ transport, tracker, rate: o.rate, timeoutMs: CALL_TIMEOUT_MS, onFailure: (m) => log(`call failed: ${m}`) });
    for (const step of planScenario({ durationMs: o.durationMs, replicas: o.replicas })) {
      const wait = step.at - elapsed();
      if (wait > 0) await pause(wait, io.signal);
      if (io.signal.aborted) break;
      phase = describeStep(step);
      log(`── ${phase}`);
      if (step.kind === "scale-up") {
        while (fleet.live.length < step.to) await fleet.start();
      } else if (step.kind === "rolling-restart") {
        fleet.bumpRevision();
        for (const old of fleet.live) {
          const fresh = await fleet.start();
          log(`${fresh.name} ready; terminating ${old.name}`);
          await fleet.terminate(old, "replaced");
          if (step.spacingMs > 0) await pause(step.spacingMs, io.signal);
          if (io.signal.aborted) break;
        }
      } else if (step.kind === "kill") {
        // The pod with the most calls in flight, so the kill shows what it costs.
        const ready = fleet.live.filter((p) => p.state === "ready");
        const victim = ready.reduce<(typeof ready)[number] | undefined>((best, p) => (best === undefined || clientInflight(p.endpoint) > clientInflight(best.endpoint) ? p : best), undefined);
        if (victim) {
          await fleet.kill(victim, 300);
          const replacement = await fleet.start();
          log(`ReplicaSet replaced ${victim.name} with ${replacement.name}`);
        }
      } else if (step.kind === "scale-down") {
        const extra = fleet.live.slice(step.to);
        await Promise.all(extra.map((p) => fleet.terminate(p, "scaled down")));
      }
    }
  } catch (error) {
    failure = error;
  } finally {
    phase = "finishing";
    await traffic?.stop();
    clearInterval(ticker);
    if (screen.live) screen.render(renderFrame(state()));
    unsubscribe();
    await transport.close();
    await watcher.stop();
    await following.catch(() => {});
    await fleet.close();
    await events.close();
    await eventsClient.close();
    await discovery.close();
    await pods.close();
    screen.close();
  }
  if (failure !== undefined) {
    io.stderr.write(`kratos-kube demo: the scenario failed: ${failure instanceof Error ? failure.message : String(failure)}\n`);
    return 1;
  }
  if (o.json) io.stdout.write(`${JSON.stringify(summaryJson(state()), null, 2)}\n`);
  else io.stdout.write(`${renderSummary(state()).join("\n")}\n`);
  if (io.signal.aborted) {
    io.stderr.write("kratos-kube demo: interrupted before the scenario finished\n");
    return 130;
  }
  return verdict(traffic?.stats ?? idle, fleet.pods).held ? 0 : 1;
}
