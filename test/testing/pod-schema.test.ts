import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { unknownPodFields, strictDecodingMessage } from "../../src/testing/pod-schema.ts";

/** A pod as a real cluster returns it (trimmed from `kubectl get pod -o json`). */
function realisticPod(): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "shop-7d9f-abcde",
      generateName: "shop-7d9f-",
      namespace: "default",
      uid: "0b1c2d3e-0000-4000-8000-000000000001",
      resourceVersion: "1234",
      creationTimestamp: "2026-01-01T00:00:00Z",
      labels: { app: "shop", "kratos-service-app": "shop", "pod-template-hash": "7d9f" },
      annotations: { "kratos-service-protocols": '{"9000":"grpc"}' },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "shop-7d9f", uid: "u", controller: true, blockOwnerDeletion: true }],
      managedFields: [
        { manager: "kube-controller-manager", operation: "Update", apiVersion: "v1", time: "2026-01-01T00:00:00Z", fieldsType: "FieldsV1", fieldsV1: { "f:metadata": { "f:anything": {} } } },
        { manager: "kubelet", operation: "Update", apiVersion: "v1", time: "2026-01-01T00:00:01Z", fieldsType: "FieldsV1", fieldsV1: {}, subresource: "status" },
      ],
    },
    spec: {
      volumes: [
        {
          name: "kube-api-access-x1",
          projected: {
            defaultMode: 420,
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: "token" } },
              { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
              { downwardAPI: { items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }] } },
            ],
          },
        },
        { name: "cache", emptyDir: { sizeLimit: "1Gi" } },
        { name: "cfg", configMap: { name: "shop", defaultMode: 420 } },
      ],
      containers: [
        {
          name: "shop",
          image: "ghcr.io/example/shop:1.2.3",
          args: ["-conf", "/data/conf"],
          ports: [{ name: "grpc", containerPort: 9000, protocol: "TCP" }],
          env: [
            { name: "LOG_LEVEL", value: "info" },
            { name: "POD_NAME", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.name" } } },
            { name: "CPU", valueFrom: { resourceFieldRef: { containerName: "shop", resource: "limits.cpu", divisor: "1" } } },
          ],
          envFrom: [{ configMapRef: { name: "shop-env" } }],
          resources: { limits: { cpu: "1", memory: "256Mi" }, requests: { cpu: "100m", memory: "64Mi" } },
          volumeMounts: [{ name: "kube-api-access-x1", readOnly: true, mountPath: "/var/run/secrets/kubernetes.io/serviceaccount" }],
          livenessProbe: { grpc: { port: 9000, service: "" }, initialDelaySeconds: 5, periodSeconds: 10 },
          readinessProbe: { httpGet: { path: "/healthz", port: 8000, scheme: "HTTP", httpHeaders: [{ name: "X", value: "y" }] }, failureThreshold: 3 },
          startupProbe: { tcpSocket: { port: 9000 } },
          lifecycle: { preStop: { sleep: { seconds: 5 } } },
          securityContext: { runAsNonRoot: true, capabilities: { drop: ["ALL"] } },
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
      nodeName: "node-1",
      securityContext: {},
      affinity: { podAntiAffinity: {} },
      schedulerName: "default-scheduler",
      tolerations: [{ key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 }],
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: "PreemptLowerPriority",
    },
    status: {
      phase: "Running",
      conditions: [{ type: "Ready", status: "True", lastProbeTime: null, lastTransitionTime: "2026-01-01T00:00:05Z" }],
      hostIP: "172.18.0.2",
      hostIPs: [{ ip: "172.18.0.2" }],
      podIP: "10.244.0.5",
      podIPs: [{ ip: "10.244.0.5" }],
      startTime: "2026-01-01T00:00:00Z",
      containerStatuses: [
        {
          name: "shop",
          state: { running: { startedAt: "2026-01-01T00:00:02Z" } },
          lastState: { terminated: { exitCode: 1, reason: "Error", startedAt: null, finishedAt: null, containerID: "containerd://a" } },
          ready: true,
          restartCount: 1,
          image: "ghcr.io/example/shop:1.2.3",
          imageID: "ghcr.io/example/shop@sha256:00",
          containerID: "containerd://b",
          started: true,
          volumeMounts: [{ name: "kube-api-access-x1", mountPath: "/var/run/secrets/kubernetes.io/serviceaccount", readOnly: true }],
        },
      ],
      qosClass: "Burstable",
    },
  };
}

describe("unknownPodFields", () => {
  it("accepts a realistic pod as a real cluster returns it", () => {
    assert.deepEqual(unknownPodFields(realisticPod()), []);
  });

  it("accepts a minimal manifest", () => {
    assert.deepEqual(unknownPodFields({ apiVersion: "v1", kind: "Pod", metadata: { name: "a" }, spec: { containers: [{ name: "c", image: "i" }] } }), []);
  });

  it("finds unknown fields at every level in document order, with the apiserver's path syntax", () => {
    const pod = realisticPod() as any;
    pod.bogus = 1;
    pod.metadata.labelz = {};
    pod.metadata.ownerReferences[0].extra = true;
    pod.spec.replicas = 3;
    pod.spec.containers[0].port = 80;
    pod.spec.containers[0].ports[0].containerport = 9000;
    pod.spec.containers[0].env[1].valueFrom.fieldRef.path = "x";
    pod.spec.containers[0].resources.limit = {};
    pod.spec.containers[0].readinessProbe.httpGet.url = "/";
    pod.spec.containers[0].livenessProbe.delay = 1;
    pod.spec.volumes[0].projected.sources[0].serviceAccountToken.ttl = 1;
    pod.spec.volumes[1].emptyDir.size = "1Gi";
    pod.spec.volumes.push({ name: "x", hostpath: { path: "/" } });
    pod.status.containerStatuses[0].state.running.since = "now";
    pod.status.podIPs[0].family = "IPv4";
    assert.deepEqual(unknownPodFields(pod), [
      "metadata.ownerReferences[0].extra",
      "metadata.labelz",
      "spec.volumes[0].projected.sources[0].serviceAccountToken.ttl",
      "spec.volumes[1].emptyDir.size",
      "spec.volumes[3].hostpath",
      "spec.containers[0].ports[0].containerport",
      "spec.containers[0].env[1].valueFrom.fieldRef.path",
      "spec.containers[0].resources.limit",
      "spec.containers[0].livenessProbe.delay",
      "spec.containers[0].readinessProbe.httpGet.url",
      "spec.containers[0].port",
      "spec.replicas",
      "status.podIPs[0].family",
      "status.containerStatuses[0].state.running.since",
      "bogus",
    ]);
  });

  it("does not descend into free-form fields (fieldsV1, maps, lifecycle, affinity)", () => {
    const pod = realisticPod() as any;
    pod.metadata.managedFields[0].fieldsV1 = { "f:spec": { "f:whatever": {} } };
    pod.metadata.labels = { anything: "goes" };
    pod.spec.affinity = { nodeAffinity: { made: { up: 1 } } };
    pod.spec.containers[0].resources.limits = { "example.com/gpu": "1" };
    assert.deepEqual(unknownPodFields(pod), []);
  });

  it("treats prototype keys as unknown", () => {
    assert.deepEqual(unknownPodFields(JSON.parse('{"constructor":1,"metadata":{"toString":2}}')), ["constructor", "metadata.toString"]);
  });

  it("ignores nulls, wrong shapes and non-objects (those are other errors)", () => {
    assert.deepEqual(unknownPodFields({ metadata: null, spec: { containers: "nope", volumes: [1, null] }, status: [] }), []);
    for (const v of [null, undefined, 1, "pod", []]) assert.deepEqual(unknownPodFields(v), []);
  });
});

describe("strictDecodingMessage", () => {
  it("writes the apiserver's strict decoding error", () => {
    assert.equal(
      strictDecodingMessage(["spec.foo", "bar"]),
      'Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.foo", unknown field "bar"',
    );
  });
});
