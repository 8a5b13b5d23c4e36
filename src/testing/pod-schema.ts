/**
 * The field names of the core/v1 Pod schema, for the fake API server's
 * `fieldValidation=Strict` check: a real kube-apiserver rejects a Pod whose
 * JSON has a field its Go types do not declare (400 BadRequest, "strict
 * decoding error: unknown field \"spec.foo\""), and kubectl's `create -f`
 * relies on that instead of validating on the client.
 *
 * The schema is a table: for each object type, its field names and what each
 * holds. It follows k8s.io/api `core/v1/types.go` (v1.32) for metadata, spec
 * (containers with ports, env, resources, probes, volume mounts; volumes with
 * the common sources in detail) and status. Free-form or rarely used objects
 * (affinity, security contexts, lifecycle hooks, exotic volume sources) are
 * marked `*`: their own fields are not checked.
 *
 * @module
 */

/** `""` a scalar or string map (not descended into), `"*"` any value, `"T"` an object of type T, `"T[]"` a list of them. */
type FieldKind = string;
type ObjectType = Readonly<Record<string, FieldKind>>;

const fields = (leaves: string, nested: Record<string, FieldKind> = {}): ObjectType => {
  const out: Record<string, FieldKind> = {};
  for (const f of leaves.split(/\s+/)) if (f !== "") out[f] = "";
  return { ...out, ...nested };
};

const CONTAINER_FIELDS: Record<string, FieldKind> = {
  ports: "ContainerPort[]",
  env: "EnvVar[]",
  envFrom: "EnvFromSource[]",
  resources: "ResourceRequirements",
  resizePolicy: "ContainerResizePolicy[]",
  volumeMounts: "VolumeMount[]",
  volumeDevices: "VolumeDevice[]",
  livenessProbe: "Probe",
  readinessProbe: "Probe",
  startupProbe: "Probe",
  lifecycle: "*",
  securityContext: "*",
};
const CONTAINER_LEAVES =
  "name image command args workingDir restartPolicy terminationMessagePath terminationMessagePolicy imagePullPolicy stdin stdinOnce tty";

const KEY_SELECTOR = fields("name key optional");
const KEY_TO_PATH = fields("key path mode");
const FIELD_REF = fields("apiVersion fieldPath");
const RESOURCE_FIELD_REF = fields("containerName resource divisor");

/** Object types by name; `Pod` is the root. */
const TYPES: Readonly<Record<string, ObjectType>> = {
  Pod: fields("apiVersion kind", { metadata: "ObjectMeta", spec: "PodSpec", status: "PodStatus" }),
  ObjectMeta: fields(
    "name generateName namespace selfLink uid resourceVersion generation creationTimestamp deletionTimestamp deletionGracePeriodSeconds labels annotations finalizers",
    { ownerReferences: "OwnerReference[]", managedFields: "ManagedFieldsEntry[]" },
  ),
  OwnerReference: fields("apiVersion kind name uid controller blockOwnerDeletion"),
  ManagedFieldsEntry: fields("manager operation apiVersion time fieldsType subresource", { fieldsV1: "*" }),

  PodSpec: fields(
    "restartPolicy terminationGracePeriodSeconds activeDeadlineSeconds dnsPolicy nodeSelector serviceAccountName serviceAccount automountServiceAccountToken nodeName hostNetwork hostPID hostIPC shareProcessNamespace hostname subdomain schedulerName priorityClassName priority runtimeClassName enableServiceLinks preemptionPolicy overhead setHostnameAsFQDN hostUsers",
    {
      volumes: "Volume[]",
      initContainers: "Container[]",
      containers: "Container[]",
      ephemeralContainers: "EphemeralContainer[]",
      securityContext: "*",
      imagePullSecrets: "LocalObjectReference[]",
      affinity: "*",
      tolerations: "Toleration[]",
      hostAliases: "HostAlias[]",
      dnsConfig: "*",
      readinessGates: "PodReadinessGate[]",
      topologySpreadConstraints: "*",
      os: "PodOS",
      schedulingGates: "PodSchedulingGate[]",
      resourceClaims: "*",
      resources: "ResourceRequirements",
    },
  ),
  Container: fields(CONTAINER_LEAVES, CONTAINER_FIELDS),
  EphemeralContainer: fields(`${CONTAINER_LEAVES} targetContainerName`, CONTAINER_FIELDS),
  ContainerPort: fields("name hostPort containerPort protocol hostIP"),
  EnvVar: fields("name value", { valueFrom: "EnvVarSource" }),
  EnvVarSource: { fieldRef: "ObjectFieldSelector", resourceFieldRef: "ResourceFieldSelector", configMapKeyRef: "KeySelector", secretKeyRef: "KeySelector" },
  EnvFromSource: fields("prefix", { configMapRef: "LocalObjectReferenceOptional", secretRef: "LocalObjectReferenceOptional" }),
  ObjectFieldSelector: FIELD_REF,
  ResourceFieldSelector: RESOURCE_FIELD_REF,
  KeySelector: KEY_SELECTOR,
  LocalObjectReference: fields("name"),
  LocalObjectReferenceOptional: fields("name optional"),
  ResourceRequirements: fields("limits requests", { claims: "ResourceClaim[]" }),
  ResourceClaim: fields("name request"),
  ContainerResizePolicy: fields("resourceName restartPolicy"),
  VolumeMount: fields("name readOnly recursiveReadOnly mountPath subPath mountPropagation subPathExpr"),
  VolumeDevice: fields("name devicePath"),
  Probe: fields(
    "initialDelaySeconds timeoutSeconds periodSeconds successThreshold failureThreshold terminationGracePeriodSeconds",
    { exec: "ExecAction", httpGet: "HTTPGetAction", tcpSocket: "TCPSocketAction", grpc: "GRPCAction" },
  ),
  ExecAction: fields("command"),
  HTTPGetAction: fields("path port host scheme", { httpHeaders: "HTTPHeader[]" }),
  HTTPHeader: fields("name value"),
  TCPSocketAction: fields("port host"),
  GRPCAction: fields("port service"),
  Toleration: fields("key operator value effect tolerationSeconds"),
  HostAlias: fields("ip hostnames"),
  PodReadinessGate: fields("conditionType"),
  PodOS: fields("name"),
  PodSchedulingGate: fields("name"),

  Volume: {
    ...fields("name"),
    hostPath: "HostPathVolumeSource",
    emptyDir: "EmptyDirVolumeSource",
    secret: "SecretVolumeSource",
    configMap: "ConfigMapVolumeSource",
    persistentVolumeClaim: "PersistentVolumeClaimVolumeSource",
    projected: "ProjectedVolumeSource",
    downwardAPI: "DownwardAPIVolumeSource",
    ...Object.fromEntries(
      (
        "gcePersistentDisk awsElasticBlockStore gitRepo nfs iscsi glusterfs rbd flexVolume cinder cephfs flocker fc azureFile " +
        "vsphereVolume quobyte azureDisk photonPersistentDisk portworxVolume scaleIO storageos csi ephemeral image"
      )
        .split(" ")
        .map((k) => [k, "*"]),
    ),
  },
  HostPathVolumeSource: fields("path type"),
  EmptyDirVolumeSource: fields("medium sizeLimit"),
  SecretVolumeSource: fields("secretName defaultMode optional", { items: "KeyToPath[]" }),
  ConfigMapVolumeSource: fields("name defaultMode optional", { items: "KeyToPath[]" }),
  PersistentVolumeClaimVolumeSource: fields("claimName readOnly"),
  KeyToPath: KEY_TO_PATH,
  ProjectedVolumeSource: fields("defaultMode", { sources: "VolumeProjection[]" }),
  VolumeProjection: {
    secret: "ProjectedKeys",
    configMap: "ProjectedKeys",
    downwardAPI: "DownwardAPIProjection",
    serviceAccountToken: "ServiceAccountTokenProjection",
    clusterTrustBundle: "*",
  },
  ProjectedKeys: fields("name optional", { items: "KeyToPath[]" }),
  DownwardAPIProjection: { items: "DownwardAPIVolumeFile[]" },
  DownwardAPIVolumeSource: fields("defaultMode", { items: "DownwardAPIVolumeFile[]" }),
  DownwardAPIVolumeFile: fields("path mode", { fieldRef: "ObjectFieldSelector", resourceFieldRef: "ResourceFieldSelector" }),
  ServiceAccountTokenProjection: fields("audience expirationSeconds path"),

  PodStatus: fields(
    "observedGeneration phase message reason nominatedNodeName hostIP podIP startTime qosClass resize",
    {
      conditions: "PodCondition[]",
      hostIPs: "HostIP[]",
      podIPs: "PodIP[]",
      initContainerStatuses: "ContainerStatus[]",
      containerStatuses: "ContainerStatus[]",
      ephemeralContainerStatuses: "ContainerStatus[]",
      resourceClaimStatuses: "*",
    },
  ),
  PodCondition: fields("type observedGeneration status lastProbeTime lastTransitionTime reason message"),
  HostIP: fields("ip"),
  PodIP: fields("ip"),
  ContainerStatus: fields("name ready restartCount image imageID containerID started allocatedResources stopSignal", {
    state: "ContainerState",
    lastState: "ContainerState",
    resources: "ResourceRequirements",
    volumeMounts: "*",
    user: "*",
    allocatedResourcesStatus: "*",
  }),
  ContainerState: { waiting: "ContainerStateWaiting", running: "ContainerStateRunning", terminated: "ContainerStateTerminated" },
  ContainerStateWaiting: fields("reason message"),
  ContainerStateRunning: fields("startedAt"),
  ContainerStateTerminated: fields("exitCode signal reason message startedAt finishedAt containerID"),
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function walk(value: unknown, typeName: string, path: string, out: string[]): void {
  const type = TYPES[typeName];
  if (type === undefined || !isObject(value)) return; // wrong shapes are a type error, not an unknown field
  for (const [key, child] of Object.entries(value)) {
    const childPath = path === "" ? key : `${path}.${key}`;
    const kind = type[key];
    if (kind === undefined || !Object.hasOwn(type, key)) {
      out.push(childPath);
      continue;
    }
    if (kind === "" || kind === "*" || child === null) continue;
    if (kind.endsWith("[]")) {
      if (!Array.isArray(child)) continue;
      const item = kind.slice(0, -2);
      child.forEach((c, i) => walk(c, item, `${childPath}[${i}]`, out));
    } else {
      walk(child, kind, childPath, out);
    }
  }
}

/**
 * The paths of the fields in `obj` that the core/v1 Pod schema does not
 * declare, in document order, written as the apiserver writes them in strict
 * decoding errors (`spec.containers[0].foo`). Returns `[]` for a valid pod
 * and for anything that is not a JSON object (that is a different error).
 */
export function unknownPodFields(obj: unknown): string[] {
  const out: string[] = [];
  walk(obj, "Pod", "", out);
  return out;
}

/**
 * The message a real apiserver gives (400 BadRequest) when strict field
 * validation fails on a Pod write, e.g.
 * `Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.foo"`
 * (apimachinery `runtime/serializer/json` strict errors, wrapped by the
 * apiserver's `handlers/create.go`).
 */
export function strictDecodingMessage(paths: readonly string[]): string {
  return `Pod in version "v1" cannot be handled as a Pod: strict decoding error: ${paths.map((p) => `unknown field ${JSON.stringify(p)}`).join(", ")}`;
}
