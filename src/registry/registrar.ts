/**
 * Registration: one strategic merge patch of the service's own Pod, with
 * exactly the labels and annotations Go Kratos writes (see
 * {@link registerPatchBody}).
 *
 * @module
 */
import type { PodApi } from "../kube/pod-api.ts";
import { forbiddenError, RegistryError } from "./errors.ts";
import { deregisterPatchBody, registerPatchBody, type ServiceInstance } from "./kratos-codec.ts";

/** A 403 `KubeApiError` (checked by shape, so any copy of the class matches). */
export function isForbidden(e: unknown): boolean {
  return typeof e === "object" && e !== null && (e as { code?: unknown }).code === "KUBE_API_ERROR" && (e as { status?: unknown }).status === 403;
}

/** A 401 `KubeApiError` (checked by shape): the credentials were rejected. */
export function isUnauthorized(e: unknown): boolean {
  return typeof e === "object" && e !== null && (e as { code?: unknown }).code === "KUBE_API_ERROR" && (e as { status?: unknown }).status === 401;
}

/**
 * What {@link Registrar.register} takes: a {@link ServiceInstance} whose `id`
 * may be left out, and then defaults to the own Pod's name (`POD_NAME`, else
 * `HOSTNAME`), the instance ID Go Kratos uses.
 */
export type RegistrationInstance = Omit<ServiceInstance, "id"> & { id?: string | undefined };

/** Registers and deregisters service instances (Go Kratos's `registry.Registrar`). */
export interface Registrar {
  /**
   * Writes the instance's labels and annotations to the own Pod. Idempotent;
   * succeeds when the same labels are already set statically in the
   * Deployment's Pod template. Rejects with `INVALID_INSTANCE` before any
   * request when a value cannot be a label value. Without an `id`, the
   * instance ID is the own Pod's name.
   */
  register(instance: RegistrationInstance, options?: { signal?: AbortSignal | undefined }): Promise<void>;
  /**
   * Removes the labels and annotations from the own Pod (`null` in the patch).
   * Note: if the Deployment selects its Pods by these labels, removing them
   * orphans the Pod from its ReplicaSet; select by another label.
   */
  deregister(instance: RegistrationInstance, options?: { signal?: AbortSignal | undefined }): Promise<void>;
}

/** The Pod a registrar patches. */
export interface PodIdentity {
  readonly namespace: string;
  readonly name: string;
}

/** Options of {@link createRegistrar}. */
export interface RegistrarOptions {
  /** Pod operations (a `KubeClient`). */
  api: PodApi;
  /** The own Pod, or a function resolving it on first use. */
  pod: PodIdentity | (() => PodIdentity | Promise<PodIdentity>);
  /** The identity the API calls run as, for RBAC messages. */
  identity?: string | undefined;
  /** `fieldManager` of the patch; default `kratos-kube`. */
  fieldManager?: string | undefined;
}

/** Same JSON value (annotation texts may differ in key order or spacing). */
function sameJson(a: string | undefined, b: string): boolean {
  if (a === b) return true;
  if (a === undefined) return false;
  const canon = (t: string): string => {
    const sort = (v: unknown): unknown =>
      v !== null && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])]))
        : v;
    return JSON.stringify(sort(JSON.parse(t)));
  };
  try {
    return canon(a) === canon(b);
  } catch {
    return false;
  }
}

/**
 * Whether the Pod already carries every label and annotation of a register
 * patch `body` (false when it cannot be read, e.g. no `get` right either).
 */
async function alreadyCarries(api: PodApi, namespace: string, name: string, body: string, signal: AbortSignal | undefined): Promise<boolean> {
  const want = (JSON.parse(body) as { metadata: { labels?: Record<string, string | null>; annotations?: Record<string, string | null> } }).metadata;
  let pod;
  try {
    pod = await api.getPod(namespace, name, { signal });
  } catch {
    return false;
  }
  const labels = pod.metadata.labels ?? {};
  const annotations = pod.metadata.annotations ?? {};
  return (
    Object.entries(want.labels ?? {}).every(([k, v]) => v !== null && labels[k] === v) &&
    Object.entries(want.annotations ?? {}).every(([k, v]) => v !== null && sameJson(annotations[k], v))
  );
}

/** Creates a {@link Registrar} patching one Pod through `api`. */
export function createRegistrar(options: RegistrarOptions): Registrar {
  const { api } = options;
  const fieldManager = options.fieldManager ?? "kratos-kube";
  let resolved: Promise<PodIdentity> | undefined;
  const pod = (): Promise<PodIdentity> => {
    if (resolved === undefined) {
      const p = options.pod;
      resolved = Promise.resolve()
        .then(() => (typeof p === "function" ? p() : p))
        .then((id) => {
          if (!id || typeof id.name !== "string" || id.name === "" || typeof id.namespace !== "string" || id.namespace === "") {
            throw new RegistryError(
              "NO_POD_IDENTITY",
              "the own Pod is unknown: set podName/podNamespace, or the POD_NAME/POD_NAMESPACE env vars (Downward API)",
            );
          }
          return id;
        });
      // A failed resolution is retried on the next call.
      resolved.catch(() => (resolved = undefined));
    }
    return resolved;
  };

  async function patch(body: string, what: string, signal: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted();
    const { namespace, name } = await pod();
    try {
      // The client serialises objects with JSON.stringify, which gives back
      // `body` byte for byte: every string in it is already escaped Go-style.
      await api.patchPod(namespace, name, JSON.parse(body), { type: "strategic", fieldManager, signal });
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      if (isForbidden(e)) {
        // Labels set statically in the Pod template need no patch right:
        // register() succeeds when the Pod already shows what it would write.
        if (what.startsWith("register") && (await alreadyCarries(api, namespace, name, body, signal))) return;
        throw forbiddenError({ verb: "patch", resource: "pods", namespace, identity: options.identity }, e);
      }
      if (isUnauthorized(e)) {
        throw new RegistryError("UNAUTHORIZED", `${what}: the Kubernetes API rejected the credentials${options.identity ? ` of ${options.identity}` : ""} (401 Unauthorized)`, { cause: e });
      }
      const message = e instanceof Error ? e.message : String(e);
      throw new RegistryError("REGISTER_FAILED", `${what}: patching pod ${namespace}/${name} failed: ${message}`, { cause: e });
    }
  }

  return {
    async register(instance, o) {
      const id = instance.id === undefined || instance.id === "" ? (await pod()).name : instance.id;
      const body = registerPatchBody({ ...instance, id }); // validates first: no request for a bad instance
      await patch(body, `register ${instance.name}`, o?.signal);
    },
    async deregister(instance, o) {
      await patch(deregisterPatchBody(), `deregister ${instance?.name ?? ""}`, o?.signal);
    },
  };
}
