/**
 * The demo's "Deployment": sayhello pods, each a real greeter server plus its
 * Pod object in the fake API server, registered through the real
 * `KubernetesRegistry.register`. Plays the kubelet and the ReplicaSet:
 * creates pods, turns them Ready once serving, deletes them gracefully
 * (deletionTimestamp → clients drop the pod → preStop pause → drain →
 * DELETED) and kills them abruptly.
 *
 * @module
 */
import { KubeConfig } from "../../src/kube/index.ts";
import { KubernetesRegistry } from "../../src/index.ts";
import { FakeKubeApiServer, makePod } from "../../src/testing/index.ts";
import { startGreeter, type GreeterServer } from "./greeter-server.ts";

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
  readonly server: GreeterServer;
  state: PodState;
  /** How it ended, for the summary. */
  fate: "running" | "replaced" | "scaled down" | "killed";
  /** Calls in flight on it when it was killed. */
  lostAtKill: number;
}

/** Fleet options. */
export interface FleetOptions {
  readonly fake: FakeKubeApiServer;
  readonly config: KubeConfig;
  /** Simulated work per SayHello, ms. */
  readonly workMs: number;
  /** The preStop pause after clients dropped a terminating pod, ms. */
  readonly preStopMs: number;
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

  /** Creates a pod: server up, Pod created (not Ready), registered, then Ready; waits until discovery lists it. */
  async start(): Promise<DemoPod> {
    const name = this.#name();
    const server = await startGreeter({ name, workMs: this.#o.workMs });
    const endpoint = `grpc://127.0.0.1:${server.port}`;
    const pod: DemoPod = { name, version: this.version, port: server.port, endpoint, server, state: "starting", fate: "running", lostAtKill: 0 };
    this.pods.push(pod);
    // Loopback only: every pod has IP 127.0.0.1 and its own port in the spec.
    this.#o.fake.createPod(
      makePod({ name, namespace: NAMESPACE, ip: "127.0.0.1", ports: [{ name: "grpc", containerPort: server.port }], ready: false, labels: { "app.kubernetes.io/name": "sayhello" } }),
    );
    const registry = new KubernetesRegistry({ config: this.#o.config, podName: name, podNamespace: NAMESPACE, namespace: NAMESPACE });
    this.#registries.set(name, registry);
    await registry.register({ id: name, name: SERVICE, version: pod.version, metadata: {}, endpoints: [endpoint] });
    this.#o.fake.setReady(NAMESPACE, name, true);
    pod.state = "ready";
    await this.#o.waitForDiscovery(endpoint, true);
    return pod;
  }

  /** Graceful deletion as the kubelet does it: deletionTimestamp, preStop, drain, DELETED. */
  async terminate(pod: DemoPod, fate: DemoPod["fate"]): Promise<void> {
    pod.fate = fate;
    pod.state = "terminating";
    this.#o.fake.deletePod(NAMESPACE, pod.name, { gracePeriodSeconds: 30 });
    await this.#o.waitForDiscovery(pod.endpoint, false);
    await new Promise((resolve) => setTimeout(resolve, this.#o.preStopMs));
    pod.state = "draining";
    await pod.server.drain();
    await this.#forget(pod.name);
    this.#finish(pod.name);
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
    this.#o.fake.setReady(NAMESPACE, pod.name, false);
    await this.#o.waitForDiscovery(pod.endpoint, false);
    await this.#forget(pod.name);
    this.#finish(pod.name);
    return pod.lostAtKill;
  }

  async #forget(name: string): Promise<void> {
    const r = this.#registries.get(name);
    this.#registries.delete(name);
    await r?.close();
  }

  #finish(name: string): void {
    if (this.#o.fake.getPod(NAMESPACE, name) !== undefined) this.#o.fake.finishDeletion(NAMESPACE, name);
  }

  /** Drains every server still running (call it after traffic stopped) and closes every registry. */
  async close(): Promise<void> {
    await Promise.all(
      this.pods
        .filter((p) => p.state !== "gone" && p.state !== "killed")
        .map(async (p) => {
          await p.server.drain();
          p.state = "gone";
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
