/**
 * Registration endpoints as Go Kratos reads them: scheme and port of each
 * endpoint URL, and the `kratos-service-protocols` map (port → scheme) built
 * from them (go-kratos/kratos `contrib/registry/kubernetes/registry.go`,
 * `getProtocolMapByEndpoints`). Pure.
 *
 * @module
 */
import { RegistryError } from "./errors.ts";

function setOwn(target: Record<string, string>, key: string, value: string): void {
  if (key === "__proto__") Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/**
 * Splits an endpoint like Go's `url.Parse` + `u.Port()` + `u.Scheme`
 * (scheme lower-cased, query such as the legacy `?isSecure=` ignored), but
 * stricter: an endpoint must be `scheme://host:port` with a port in 1..65535.
 */
export function endpointSchemePort(endpoint: string): { scheme: string; port: string } | string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)/.exec(endpoint);
  if (m === null) return "must look like scheme://host:port";
  const scheme = m[1]!.toLowerCase();
  let host = m[2]!;
  const at = host.lastIndexOf("@");
  if (at >= 0) host = host.slice(at + 1);
  let port: string;
  if (host.startsWith("[")) {
    const close = host.indexOf("]");
    if (close < 0) return "has an unclosed '[' in its host";
    const rest = host.slice(close + 1);
    if (rest !== "" && !/^:\d*$/.test(rest)) return "has an invalid port";
    port = rest.slice(1);
  } else {
    const colon = host.lastIndexOf(":");
    if (colon < 0) return "has no port";
    port = host.slice(colon + 1);
    if (!/^\d*$/.test(port)) return "has an invalid port";
  }
  if (port === "") return "has no port";
  const n = Number(port);
  if (n < 1 || n > 65535) return `has port ${port}, outside 1..65535`;
  return { scheme, port };
}

/** Go Kratos's `getProtocolMapByEndpoints`: port → scheme (a later endpoint on the same port wins). */
export function protocolsFromEndpoints(endpoints: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of endpoints) {
    const r = typeof e === "string" ? endpointSchemePort(e) : "must be a string";
    if (typeof r === "string") throw new RegistryError("INVALID_INSTANCE", `endpoint ${JSON.stringify(e)} ${r}`);
    setOwn(out, r.port, r.scheme);
  }
  return out;
}
