/**
 * The demo's "Deployment": sayhello pods, each a kratos-kube App (greeter
 * server, registration through the real `KubernetesRegistry`, health, the
 * graceful stop) plus its Pod object in the API server. Plays the
 * kubelet and the ReplicaSet: creates pods, turns them Ready once their App
 * runs, deletes them gracefully (deletionTimestamp, then SIGTERM: the App
 * turns NOT_SERVING, deregisters, serves for its shutdown delay, drains and
 * closes; then DELETED) and kills them abruptly.
 *
 * @module
 */
import { KubeConfig } from "../../src/kube/index.ts";
import { KubernetesRegistry, type Registrar } from "../../src/index.ts";
import { startGreeterApp, type GreeterApp } from "./greeter-app.ts";
import type { PodControl } from "./pod-control.ts";

/** The service the demo's servers register as. */
export const SERVICE = "sayhello.service";
const NAMESPACE = "default";

/** Where a pod is in its life. */
export type PodState = "starting" | "ready" | "terminating" | "draining" | "gone" | "killed";

/** One demo pod. */
export interface DemoPod {
  readonly name: string;
  readonly version: string;
  readonly port: number;
  readonly endpoint: string;
  readonly server: GreeterApp;
  state: PodState;
  /** How it ended, for the summary. */
  fate: "running" | "replaced" | "scaled down" | "killed";
  /** Calls in flight on it when it was killed. */
  lostAtKill: number;
}

/** Fleet options. */
export interface FleetOptions {
  /** The Pods' API server: the embedded fake, or a real one without a kubelet. */
  readonly pods: PodControl;
  readonly config: KubeConfig;
  /** Simulated work per SayHello, ms. */
  readonly workMs: number;
  /** The Apps' shutdown delay: how long a stopping pod serves calls that still arrive, ms. */
  readonly shutdownDelayMs: number;
  /** Waits until discovery (the client's view) does / does not list `endpoint`. */
  readonly waitForDiscovery: (endpoint: string, present: boolean) => Promise<void>;
  /** Client-side calls in flight to `endpoint` (from the transport). */
  readonly clientInflight: (endpoint: string) => number;
  readonly log: (line: string) => void;
}

/** apimachinery util/rand's alphabet, for ReplicaSet-like pod name suffixes. */
const ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

/** The demo pods and what happens to them. Close it to stop every server. */
export class DemoFleet implements AsyncDisposable {
  readonly pods: DemoPod[] = [];
  readonly #o: FleetOptions;
  readonly #registries = new Map<string, KubernetesRegistry>();
  #serial = 0;
  #revision = 1;

  constructor(o: FleetOptions) {
    this.#o = o;
  }

  /** Pods that are starting or serving (the Deployment's current replicas). */
  get live(): DemoPod[] {
    return this.pods.filter((p) => p.state === "starting" || p.state === "ready");
  }

  /** The version new pods get (`v1`, then `v2` after a rolling restart…). */
  get version(): string {
    return `v${this.#revision}`;
  }

  /** Starts the next revision (a rolling restart changes the pod template). */
  bumpRevision(): void {
    this.#revision++;
  }

  #name(): string {
    let n = (this.#serial++ * 7919 + 104729) % ALPHABET.length ** 5;
    let s = "";
    for (let i = 0; i < 5; i++) {
      s += ALPHABET[n % ALPHABET.length];
      n = Math.floor(n / ALPHABET.length);
    }
    return `sayhello-${this.version}-${s}`;
  }

  /**
   * Creates a pod: its App listens, the Pod object appears (not Ready, with
   * the App's port) as the App registers, Ready once the App runs; waits
   * until discovery lists it.
   */
  async start(): Promise<DemoPod> {
    const name = this.#name();
    const version = this.version;
    const pods = this.#o.pods;
    const registry = new KubernetesRegistry({ config: this.#o.config, podName: name, podNamespace: NAMESPACE, namespace: NAMESPACE });
    this.#registries.set(name, registry);
    const registrar: Registrar = {
      async register(instance, o) {
        // Loopback only: every pod has IP 127.0.0.1 and its own port in the spec.
        const port = Number(new URL(instance.endpoints[0]!).port);
        await pods.create({ name, namespace: NAMESPACE, ip: "127.0.0.1", ports: [{ name: "grpc", containerPort: port }], ready: false, labels: { "app.kubernetes.io/name": "sayhello" } });
        await registry.register(instance, o);
      },
      // A killed pod's process is gone: nothing deregisters it.
      deregister: (instance, o) => (this.pods.find((p) => p.name === name)?.state === "killed" ? Promise.resolve() : registry.deregister(instance, o)),
    };
    const onDrain = (): void => {
      const p = this.pods.find((x) => x.name === name);
      if (p?.state === "terminating") p.state = "draining";
    };
    const server = await startGreeterApp({ name, version, workMs: this.#o.workMs, registrar, shutdownDelayMs: this.#o.shutdownDelayMs, log: this.#o.log, onDrain });
    const pod: DemoPod = { name, version, port: server.port, endpoint: server.endpoint, server, state: "starting", fate: "running", lostAtKill: 0 };
    this.pods.push(pod);
    await pods.setReady(NAMESPACE, name, true);
    pod.state = "ready";
    await this.#o.waitForDiscovery(pod.endpoint, true);
    return pod;
  }

  /** Graceful deletion as the kubelet does it: deletionTimestamp, SIGTERM (the App's stop), DELETED. */
  async terminate(pod: DemoPod, fate: DemoPod["fate"]): Promise<void> {
    pod.fate = fate;
    pod.state = "terminating";
    await this.#o.pods.deleteGracefully(NAMESPACE, pod.name, 30);
    // No preStop hook: the kubelet sends SIGTERM at once, and the App orders its own stop.
    await pod.server.stop();
    await this.#forget(pod.name);
    await this.#o.pods.finishDeletion(NAMESPACE, pod.name);
    pod.state = "gone";
  }

  /**
   * Kills `pod` abruptly (every socket destroyed, no drain), then plays the
   * kubelet noticing it (Ready=False after `detectMs`) and the ReplicaSet
   * removing it. Returns the calls that were in flight on it.
   */
  async kill(pod: DemoPod, detectMs: number): Promise<number> {
    pod.fate = "killed";
    const client = this.#o.clientInflight(pod.endpoint);
    const server = pod.server.kill();
    pod.lostAtKill = Math.max(client, server);
    pod.state = "killed";
    this.#o.log(`killed ${pod.name} with ${pod.lostAtKill} call(s) in flight`);
    await new Promise((resolve) => setTimeout(resolve, detectMs));
    await this.#o.pods.setReady(NAMESPACE, pod.name, false);
    await this.#o.waitForDiscovery(pod.endpoint, false);
    await this.#forget(pod.name);
    await this.#o.pods.finishDeletion(NAMESPACE, pod.name);
    return pod.lostAtKill;
  }

  async #forget(name: string): Promise<void> {
    const r = this.#registries.get(name);
    this.#registries.delete(name);
    await r?.close();
  }

  /** Stops every App still running (call it after traffic stopped; a killed pod's App only cleans up) and closes every registry. */
  async close(): Promise<void> {
    await Promise.all(
      this.pods.map(async (p) => {
        await p.server.stop();
        if (p.state !== "killed") p.state = "gone";
      }),
    );
    await Promise.all([...this.#registries.values()].map((r) => r.close()));
    this.#registries.clear();
  }

  /** Same as {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
