/**
 * Realistic Pod objects for tests: about 5 KB of JSON each, shaped like what
 * a real cluster returns for a Deployment's pod (ownerReferences to a
 * ReplicaSet, managedFields from kube-controller-manager and the kubelet, the
 * projected `kube-api-access` volume, conditions and container statuses).
 *
 * @module
 */
import type { Pod } from "../kube/wire.ts";
import {
  KRATOS_ANNOTATION_METADATA,
  KRATOS_ANNOTATION_PROTOCOLS,
  KRATOS_LABEL_APP,
  KRATOS_LABEL_ID,
  KRATOS_LABEL_VERSION,
} from "../registry/kratos-pods.ts";

/** Options of {@link makePod}. */
export interface MakePodOptions {
  name: string;
  /** Default `"default"`. */
  namespace?: string;
  /** Sets the `kratos-service-app` label. */
  app?: string;
  /** Sets `kratos-service-id`; defaults to the pod name when `app` is set. */
  id?: string;
  /** Sets `kratos-service-version`; default `"v1.0.0"` when `app` is set. */
  version?: string;
  /** Pod IP; default derived from the name (10.244.x.y); `null` for a pod without an IP yet. */
  ip?: string | null;
  /** All pod IPs (dual stack); the first is `status.podIP`. Overrides `ip`. */
  ips?: string[];
  /** Container ports; default `http` 8000 and `grpc` 9000 (the Kratos defaults). */
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  /** The `Ready` condition; default true. */
  ready?: boolean;
  /** `status.phase`; default `Running`. */
  phase?: string;
  /** The `kratos-service-protocols` annotation (raw JSON text). */
  protocols?: string;
  /** The `kratos-service-metadata` annotation (raw JSON text). */
  metadata?: string;
  /** Extra labels (win over the kratos ones). */
  labels?: Record<string, string>;
  /** Extra annotations. */
  annotations?: Record<string, string>;
  /**
   * The pod's creation time, also used for its start, condition and
   * managedFields times. Explicit values always win. Without it the pod is
   * stamped with a fixed date (deterministic), and `FakeKubeApiServer.createPod`
   * re-stamps such a pod with the server's clock when it stores it.
   */
  creationTimestamp?: string | Date;
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h;
}

function uuidFrom(seed: string): string {
  const hex = [0, 1, 2, 3].map((i) => hash(`${seed}#${i}`).toString(16).padStart(8, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The fixed default stamp of {@link makePod} (deterministic output for equal options). */
const DEFAULT_T0 = "2026-07-01T12:00:00Z";

/** Pods built by makePod with the default stamp (so the server may re-stamp them). */
const defaultStamped = new WeakSet<Pod>();

/** RFC 3339 with seconds precision, as metav1.Time serialises. */
export function rfc3339(t: Date | number): string {
  return new Date(t).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * Builds a full Pod. Deterministic for the same options; uid, resourceVersion
 * and creationTimestamp are replaced by the server when it stores the pod.
 */
export function makePod(o: MakePodOptions): Pod {
  const T0 = o.creationTimestamp === undefined ? DEFAULT_T0 : typeof o.creationTimestamp === "string" ? o.creationTimestamp : rfc3339(o.creationTimestamp);
  const namespace = o.namespace ?? "default";
  const h = hash(`${namespace}/${o.name}`);
  const app = o.app;
  const templateHash = `${(h % 0xfffff).toString(36).padStart(4, "7")}d6b7`.slice(0, 9);
  const rs = `${app ?? "app"}-${templateHash}`;
  const ips = o.ips ?? (o.ip === null ? [] : [o.ip ?? `10.244.${(h >>> 8) % 250}.${(h % 250) + 2}`]);
  const ports = (o.ports ?? [
    { name: "http", containerPort: 8000, protocol: "TCP" },
    { name: "grpc", containerPort: 9000, protocol: "TCP" },
  ]).map((p) => ({ ...p, protocol: p.protocol ?? "TCP" }));
  const labels: Record<string, string> = { "pod-template-hash": templateHash };
  if (app !== undefined) {
    labels["app"] = app;
    labels[KRATOS_LABEL_APP] = app;
    labels[KRATOS_LABEL_ID] = o.id ?? o.name;
    labels[KRATOS_LABEL_VERSION] = o.version ?? "v1.0.0";
  } else {
    if (o.id !== undefined) labels[KRATOS_LABEL_ID] = o.id;
    if (o.version !== undefined) labels[KRATOS_LABEL_VERSION] = o.version;
  }
  Object.assign(labels, o.labels);
  const annotations: Record<string, string> = { "kubectl.kubernetes.io/restartedAt": T0 };
  if (o.protocols !== undefined) annotations[KRATOS_ANNOTATION_PROTOCOLS] = o.protocols;
  if (o.metadata !== undefined) annotations[KRATOS_ANNOTATION_METADATA] = o.metadata;
  Object.assign(annotations, o.annotations);
  const ready = o.ready ?? true;
  const phase = o.phase ?? "Running";
  const image = `registry.example.com/${app ?? "app"}:${o.version ?? "v1.0.0"}`;
  // A container name is a DNS-1123 label (no dots): "sayhello.service" runs in container "sayhello-service".
  const container = (app ?? "app").toLowerCase().replace(/[^a-z0-9-]/g, "-").replace(/^-+|-+$/g, "").slice(0, 63) || "app";
  const node = `node-${(h % 3) + 1}`;
  const readyStatus = ready ? "True" : "False";
  const pod: Pod = {
    metadata: {
      name: o.name,
      generateName: `${rs}-`,
      namespace,
      uid: uuidFrom(`${namespace}/${o.name}`),
      resourceVersion: "1",
      creationTimestamp: T0,
      labels,
      annotations,
      ownerReferences: [
        { apiVersion: "apps/v1", kind: "ReplicaSet", name: rs, uid: uuidFrom(rs), controller: true, blockOwnerDeletion: true },
      ],
      managedFields: [
        {
          manager: "kube-controller-manager",
          operation: "Update",
          apiVersion: "v1",
          time: T0,
          fieldsType: "FieldsV1",
          fieldsV1: {
            "f:metadata": {
              "f:generateName": {},
              "f:labels": { ".": {}, "f:app": {}, "f:pod-template-hash": {} },
              "f:ownerReferences": { ".": {}, [`k:{"uid":"${uuidFrom(rs)}"}`]: {} },
            },
            "f:spec": {
              'f:containers': { [`k:{"name":"${container}"}`]: { ".": {}, "f:image": {}, "f:imagePullPolicy": {}, "f:name": {}, "f:ports": {}, "f:resources": {}, "f:terminationMessagePath": {}, "f:terminationMessagePolicy": {} } },
              "f:dnsPolicy": {},
              "f:enableServiceLinks": {},
              "f:restartPolicy": {},
              "f:schedulerName": {},
              "f:securityContext": {},
              "f:terminationGracePeriodSeconds": {},
            },
          },
        },
        {
          manager: "kubelet",
          operation: "Update",
          apiVersion: "v1",
          time: T0,
          fieldsType: "FieldsV1",
          fieldsV1: {
            "f:status": {
              "f:conditions": { 'k:{"type":"Ready"}': { ".": {}, "f:lastProbeTime": {}, "f:lastTransitionTime": {}, "f:status": {}, "f:type": {} } },
              "f:containerStatuses": {},
              "f:hostIP": {},
              "f:phase": {},
              "f:podIP": {},
              "f:podIPs": { ".": {} },
              "f:startTime": {},
            },
          },
          subresource: "status",
        },
      ],
    },
    spec: {
      volumes: [
        {
          name: "kube-api-access-x7k2p",
          projected: {
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: "token" } },
              { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
              { downwardAPI: { items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }] } },
            ],
            defaultMode: 420,
          },
        },
      ],
      containers: [
        {
          name: container,
          image,
          ports,
          env: [
            { name: "POD_NAMESPACE", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } } },
            { name: "POD_NAME", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.name" } } },
            { name: "POD_IP", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "status.podIP" } } },
            { name: "GOMAXPROCS", valueFrom: { resourceFieldRef: { resource: "limits.cpu", divisor: "1" } } },
          ],
          resources: { limits: { cpu: "500m", memory: "256Mi" }, requests: { cpu: "100m", memory: "128Mi" } },
          volumeMounts: [{ name: "kube-api-access-x7k2p", readOnly: true, mountPath: "/var/run/secrets/kubernetes.io/serviceaccount" }],
          readinessProbe: { grpc: { port: ports[ports.length - 1]?.containerPort ?? 9000, service: "" }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 },
          livenessProbe: { httpGet: { path: "/healthz", port: ports[0]?.containerPort ?? 8000, scheme: "HTTP" }, initialDelaySeconds: 5, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 },
          terminationMessagePath: "/dev/termination-log",
          terminationMessagePolicy: "File",
          imagePullPolicy: "IfNotPresent",
        },
      ],
      restartPolicy: "Always",
      terminationGracePeriodSeconds: 30,
      dnsPolicy: "ClusterFirst",
      serviceAccountName: "default",
      serviceAccount: "default",
      nodeName: node,
      securityContext: {},
      schedulerName: "default-scheduler",
      tolerations: [
        { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
        { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
      ],
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: "PreemptLowerPriority",
    },
    status: {
      phase,
      conditions: [
        { type: "PodReadyToStartContainers", status: "True", lastTransitionTime: T0 },
        { type: "Initialized", status: "True", lastTransitionTime: T0 },
        { type: "Ready", status: readyStatus, lastTransitionTime: T0 },
        { type: "ContainersReady", status: readyStatus, lastTransitionTime: T0 },
        { type: "PodScheduled", status: "True", lastTransitionTime: T0 },
      ],
      hostIP: `192.168.49.${(h % 3) + 2}`,
      hostIPs: [{ ip: `192.168.49.${(h % 3) + 2}` }],
      ...(ips.length > 0 ? { podIP: ips[0]!, podIPs: ips.map((ip) => ({ ip })) } : {}),
      startTime: T0,
      containerStatuses: [
        {
          name: container,
          state: phase === "Running" ? { running: { startedAt: T0 } } : { waiting: { reason: "ContainerCreating" } },
          lastState: {},
          ready,
          restartCount: 0,
          image,
          imageID: `${image.split(":")[0]}@sha256:${hash(image).toString(16).padStart(8, "0").repeat(8)}`,
          containerID: `containerd://${hash(o.name).toString(16).padStart(8, "0").repeat(8)}`,
          started: phase === "Running",
        },
      ],
      qosClass: "Burstable",
    },
  };
  if (o.creationTimestamp === undefined) defaultStamped.add(pod);
  return pod;
}

/**
 * If `pod` came from {@link makePod} without an explicit `creationTimestamp`,
 * returns a copy with every default stamp (creation, start, conditions,
 * managedFields, restartedAt) replaced by `at`; otherwise `pod` itself.
 */
export function restampDefault(pod: Pod, at: string): Pod {
  if (!defaultStamped.has(pod)) return pod;
  return JSON.parse(JSON.stringify(pod).split(`"${DEFAULT_T0}"`).join(JSON.stringify(at))) as Pod;
}

/**
 * Sets the `Ready` and `ContainersReady` conditions of `pod` in place; a
 * condition whose status changes gets `lastTransitionTime` = `at` (default
 * now on the wall clock), as the kubelet's status manager does.
 */
export function setPodReady(pod: Pod, ready: boolean, at: string = rfc3339(Date.now())): void {
  pod.status ??= {};
  const conditions = Array.isArray(pod.status.conditions) ? pod.status.conditions : [];
  pod.status.conditions = conditions;
  for (const type of ["Ready", "ContainersReady"]) {
    const c = conditions.find((x) => x.type === type);
    const status = ready ? "True" : "False";
    if (c) {
      if (c.status !== status) c.lastTransitionTime = at;
      c.status = status;
    } else conditions.push({ type, status, lastTransitionTime: at });
  }
}
