/**
 * Discovery targets, pure:
 * - Kratos services found by their Pods' labels: `discovery:///<service>`
 *   (the watched namespaces) and `discovery://<namespace>/<service>` (that
 *   namespace; Go Kratos ignores the authority, go-kratos/kratos#2252);
 * - Kubernetes Services found through their EndpointSlices, in kuberesolver's
 *   syntax (github.com/sercand/kuberesolver `builder.go` `parseResolverTarget`):
 *   `kubernetes:///<service>[.<namespace>[.svc…]][:<port>]`,
 *   `kubernetes://<namespace>/<service>[:<port>]` and
 *   `kubernetes://<service>[.<namespace>][:<port>]`. The port is a port name,
 *   or a number used as the endpoints' port; none means each slice's first port.
 *
 * @module
 */
import { RegistryError } from "./errors.ts";

/** `discovery` (Kratos Pods) or `kubernetes` (a Service's EndpointSlices). */
export type TargetScheme = "discovery" | "kubernetes";

/** A parsed target. */
export interface DiscoveryTarget {
  readonly scheme: TargetScheme;
  /** The Kratos service name, or the Kubernetes Service name. */
  readonly service: string;
  /** The namespace the target names; undefined for the discovery's default. */
  readonly namespace: string | undefined;
  /** `kubernetes` only: a port name or number; undefined for each slice's first port. */
  readonly port: string | undefined;
}

const DNS1123_LABEL = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/;

function bad(target: string, why: string): RegistryError {
  return new RegistryError("INVALID_TARGET", `target ${JSON.stringify(target.slice(0, 200))} ${why}`);
}

function decode(target: string, part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw bad(target, "has a malformed %-escape");
  }
}

function checkNamespace(target: string, ns: string | undefined): string | undefined {
  if (ns === undefined || ns === "") return undefined;
  if (!DNS1123_LABEL.test(ns)) throw bad(target, `names namespace ${JSON.stringify(ns)}, which is not a DNS-1123 label (lower case alphanumerics and '-', at most 63)`);
  return ns;
}

/** kuberesolver `splitServicePortNamespace`: `svc[.ns[.rest]][:port]`. */
function splitServicePort(hpn: string): { service: string; namespace: string | undefined; port: string | undefined } {
  let service = hpn;
  let port: string | undefined;
  const colon = service.lastIndexOf(":");
  if (colon !== -1) {
    port = service.slice(colon + 1);
    service = service.slice(0, colon);
  }
  const dot = service.indexOf(".");
  if (dot === -1) return { service, namespace: undefined, port };
  const rest = service.slice(dot + 1);
  const dot2 = rest.indexOf(".");
  return { service: service.slice(0, dot), namespace: dot2 === -1 ? rest : rest.slice(0, dot2), port };
}

function kubernetesTarget(target: string, parts: { service: string; namespace: string | undefined; port: string | undefined }): DiscoveryTarget {
  const { service, port } = parts;
  if (service === "") throw bad(target, "names no Service");
  if (!DNS1035_LABEL.test(service)) throw bad(target, `names Service ${JSON.stringify(service)}, which is not a DNS-1035 label (a Service name)`);
  let p: string | undefined;
  if (port !== undefined && port !== "") {
    if (/^\d+$/.test(port)) {
      const n = Number(port);
      if (n < 1 || n > 65535) throw bad(target, `has port ${port}, outside 1..65535`);
      p = String(n);
    } else if (DNS1123_LABEL.test(port)) p = port;
    else throw bad(target, `has port ${JSON.stringify(port)}: neither a number nor a port name (a DNS-1123 label)`);
  }
  return { scheme: "kubernetes", service, namespace: checkNamespace(target, parts.namespace), port: p };
}

/**
 * Parses `target`. A string without a scheme is read as `bare` says: a Kratos
 * service name as is (`discovery`), or kuberesolver's `svc[.ns][:port]`
 * (`kubernetes`). Throws an `INVALID_TARGET` {@link RegistryError} naming the
 * problem.
 */
export function parseDiscoveryTarget(target: string, bare: TargetScheme = "discovery"): DiscoveryTarget {
  if (typeof target !== "string" || target === "") throw new RegistryError("INVALID_TARGET", "the target is empty");
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(?:\/([^?#]*))?$/.exec(target);
  if (m === null) {
    if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(target)) throw bad(target, "has a query or fragment, which targets do not take");
    if (bare === "kubernetes") return kubernetesTarget(target, splitServicePort(target));
    if (target.includes("/")) throw bad(target, "is neither a service name nor discovery:///<service>");
    return { scheme: "discovery", service: target, namespace: undefined, port: undefined };
  }
  const scheme = m[1]!.toLowerCase();
  const authority = decode(target, m[2]!);
  const path = m[3] === undefined ? undefined : decode(target, m[3]);
  if (scheme === "discovery") {
    const service = path?.endsWith("/") ? path.slice(0, -1) : path;
    if (service === undefined || service === "" || service.includes("/")) throw bad(target, "is not discovery:///<service> or discovery://<namespace>/<service>");
    return { scheme: "discovery", service, namespace: checkNamespace(target, authority), port: undefined };
  }
  if (scheme === "kubernetes") {
    if (authority === "") return kubernetesTarget(target, splitServicePort(path ?? ""));
    if (path !== undefined && path !== "") {
      const p = splitServicePort(path);
      return kubernetesTarget(target, { service: p.service, namespace: authority, port: p.port });
    }
    return kubernetesTarget(target, splitServicePort(authority));
  }
  throw bad(target, `has scheme ${JSON.stringify(scheme)}; kratos-kube resolves discovery:// (Kratos Pods) and kubernetes:// (EndpointSlices)`);
}

/** The target in its canonical form, for messages and keys. */
export function formatTarget(t: DiscoveryTarget): string {
  // join: one flat string (a watcher keeps it; a template literal would keep its pieces).
  if (t.scheme === "discovery") return ["discovery://", t.namespace ?? "", "/", t.service].join("");
  return ["kubernetes:///", t.service, t.namespace !== undefined ? "." : "", t.namespace ?? "", t.port !== undefined ? ":" : "", t.port ?? ""].join("");
}
