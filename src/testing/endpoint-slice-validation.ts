/**
 * EndpointSlice defaults, serialisation and validation as a real
 * kube-apiserver v1.34 applies them (kubernetes `pkg/apis/discovery/v1`
 * `defaults.go`, `pkg/apis/discovery/validation/validation.go`,
 * `pkg/apis/core/validation` `ValidateEndpointIP`), checked against one.
 *
 * The apiserver refuses unspecified, loopback, link-local and link-local
 * multicast addresses in IPv4/IPv6 slices. `allowLoopback` lifts the loopback
 * rule only: a documented relaxation of the fake, so tests can put servers
 * on 127.0.0.0/8 behind slices.
 *
 * @module
 */
import type { EndpointSlice } from "../kube/wire.ts";
import type { FieldError } from "./status.ts";

const ADDRESS_TYPES = ["FQDN", "IPv4", "IPv6"];
const PROTOCOLS = ["SCTP", "TCP", "UDP"];
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_MESSAGE =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
/** The fields of an endpoint in the order Go writes them (`discovery/v1` `Endpoint`). */
const ENDPOINT_FIELDS = ["addresses", "conditions", "hostname", "targetRef", "nodeName", "zone", "hints"];
/** `discovery.maxEndpoints`, `maxPorts`, `maxAddresses`. */
const MAX_ENDPOINTS = 1000;
const MAX_PORTS = 100;
const MAX_ADDRESSES = 100;

/** The 4 bytes of an IPv4 literal, or undefined. */
export function ipv4Bytes(s: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (m === null) return undefined;
  const b = m.slice(1).map(Number);
  return b.every((x) => x <= 255) ? b : undefined;
}

/** The 16 bytes of an IPv6 literal (an IPv4 tail allowed), or undefined. */
export function ipv6Bytes(s: string): number[] | undefined {
  if (!s.includes(":") || s.includes("%")) return undefined;
  let body = s;
  const lastColon = s.lastIndexOf(":");
  const last = s.slice(lastColon + 1);
  if (last.includes(".")) {
    const v4 = ipv4Bytes(last);
    if (v4 === undefined) return undefined;
    body = `${s.slice(0, lastColon + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const halves = body.split("::");
  if (halves.length > 2) return undefined;
  const groups = (h: string): number[] | undefined => {
    if (h === "") return [];
    const out: number[] = [];
    for (const g of h.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const a = groups(halves[0]!);
  const b = halves.length === 2 ? groups(halves[1]!) : [];
  if (a === undefined || b === undefined) return undefined;
  if (halves.length === 1 ? a.length !== 8 : a.length + b.length > 7) return undefined;
  const words = [...a, ...new Array<number>(8 - a.length - b.length).fill(0), ...b];
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

/** What `ValidateEndpointIP` says about `ip` (both families), as messages; empty when it is fine. */
export function endpointIpProblems(ip: string, allowLoopback: boolean): string[] {
  const v4 = ipv4Bytes(ip);
  const v6 = v4 === undefined ? ipv6Bytes(ip) : undefined;
  if (v4 === undefined && v6 === undefined) return ["must be a valid IP address"];
  // An IPv4-mapped IPv6 address is judged as the IPv4 address (Go's net.IP).
  const mapped = v6 !== undefined && v6.slice(0, 10).every((x) => x === 0) && v6[10] === 0xff && v6[11] === 0xff;
  const b4 = v4 ?? (mapped ? v6!.slice(12) : undefined);
  const out: string[] = [];
  if (b4 !== undefined) {
    if (b4.every((x) => x === 0)) out.push(`may not be unspecified (${ip})`);
    if (b4[0] === 127 && !allowLoopback) out.push("may not be in the loopback range (127.0.0.0/8, ::1/128)");
    if (b4[0] === 169 && b4[1] === 254) out.push("may not be in the link-local range (169.254.0.0/16, fe80::/10)");
    if (b4[0] === 224 && b4[1] === 0 && b4[2] === 0) out.push("may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)");
    return out;
  }
  const b6 = v6!;
  if (b6.every((x) => x === 0)) out.push(`may not be unspecified (${ip})`);
  if (b6.slice(0, 15).every((x) => x === 0) && b6[15] === 1 && !allowLoopback) out.push("may not be in the loopback range (127.0.0.0/8, ::1/128)");
  if (b6[0] === 0xfe && (b6[1]! & 0xc0) === 0x80) out.push("may not be in the link-local range (169.254.0.0/16, fe80::/10)");
  if (b6[0] === 0xff && (b6[1]! & 0x0f) === 0x02) out.push("may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)");
  return out;
}

/**
 * The defaults and the field order of a stored slice: `endpoints` and
 * `ports` are `null` when absent, each endpoint has `conditions` (`{}`), each
 * port a `name` (`""`) and a `protocol` (`TCP`). Mutates and returns `s`.
 */
export function defaultEndpointSlice(s: EndpointSlice): EndpointSlice {
  const raw = s as unknown as Record<string, unknown>;
  const endpoints = Array.isArray(raw["endpoints"]) ? (raw["endpoints"] as Record<string, unknown>[]) : null;
  const ports = Array.isArray(raw["ports"]) ? (raw["ports"] as Record<string, unknown>[]) : null;
  const rest = { ...raw };
  delete rest["kind"];
  delete rest["apiVersion"];
  delete rest["metadata"];
  delete rest["addressType"];
  delete rest["endpoints"];
  delete rest["ports"];
  const out: Record<string, unknown> = {
    metadata: raw["metadata"] ?? {},
    addressType: raw["addressType"] ?? "",
    endpoints: endpoints === null ? null : endpoints.map((e) => {
      const src: Record<string, unknown> = e && typeof e === "object" ? e : {};
      const o: Record<string, unknown> = {};
      for (const k of ENDPOINT_FIELDS) {
        if (k === "conditions") o[k] = src[k] ?? {};
        else if (src[k] !== undefined && src[k] !== null) o[k] = src[k];
      }
      for (const [k, v] of Object.entries(src)) if (!(k in o) && v !== null && v !== undefined) o[k] = v;
      return o;
    }),
    ports: ports === null ? null : ports.map((p) => {
      const src = p && typeof p === "object" ? p : {};
      const o: Record<string, unknown> = { name: src["name"] ?? "", protocol: src["protocol"] ?? "TCP" };
      if (src["port"] !== undefined && src["port"] !== null) o["port"] = src["port"];
      if (src["appProtocol"] !== undefined && src["appProtocol"] !== null) o["appProtocol"] = src["appProtocol"];
      return o;
    }),
    ...rest,
  };
  for (const k of Object.keys(raw)) delete raw[k];
  Object.assign(raw, out);
  return s;
}

/** The validation errors of a (defaulted) slice, in the apiserver's order. */
export function validateEndpointSlice(s: EndpointSlice, allowLoopback: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const type = s.addressType;
  if (type === "" || type === undefined) errs.push({ type: "FieldValueRequired", field: "addressType", detail: "" });
  else if (!ADDRESS_TYPES.includes(type)) {
    errs.push({ type: "FieldValueNotSupported", field: "addressType", value: type, detail: `supported values: ${ADDRESS_TYPES.map((t) => JSON.stringify(t)).join(", ")}` });
  }
  const endpoints = s.endpoints ?? [];
  if (endpoints.length > MAX_ENDPOINTS) errs.push({ type: "FieldValueTooMany", field: "endpoints", detail: `must have at most ${MAX_ENDPOINTS} items` });
  endpoints.forEach((e, i) => {
    const at = `endpoints[${i}]`;
    const addresses = Array.isArray(e?.addresses) ? e.addresses : [];
    if (addresses.length === 0) errs.push({ type: "FieldValueRequired", field: `${at}.addresses`, detail: "must contain at least 1 address" });
    else if (addresses.length > MAX_ADDRESSES) errs.push({ type: "FieldValueTooMany", field: `${at}.addresses`, detail: `must have at most ${MAX_ADDRESSES} items` });
    addresses.forEach((a, j) => {
      if (type !== "IPv4" && type !== "IPv6") return;
      const ok = type === "IPv4" ? ipv4Bytes(a) !== undefined : ipv6Bytes(a) !== undefined;
      if (!ok) errs.push({ type: "FieldValueInvalid", field: `${at}.addresses`, value: a, detail: `must be an ${type} address` });
      for (const p of endpointIpProblems(a, allowLoopback)) errs.push({ type: "FieldValueInvalid", field: `${at}.addresses[${j}]`, value: a, detail: p });
    });
    if (typeof e?.hostname === "string" && !DNS1123_LABEL.test(e.hostname)) {
      errs.push({ type: "FieldValueInvalid", field: `${at}.hostname`, value: e.hostname, detail: LABEL_MESSAGE });
    }
  });
  const ports = s.ports ?? [];
  if (ports.length > MAX_PORTS) errs.push({ type: "FieldValueTooMany", field: "ports", detail: `must have at most ${MAX_PORTS} items` });
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const at = `ports[${i}]`;
    const name = p?.name ?? "";
    if (name !== "") {
      if (names.has(name)) errs.push({ type: "FieldValueDuplicate", field: `${at}.name`, value: name, detail: "" });
      else if (!DNS1123_LABEL.test(name) || name.length > 63) errs.push({ type: "FieldValueInvalid", field: `${at}.name`, value: name, detail: LABEL_MESSAGE });
      names.add(name);
    }
    const protocol = p?.protocol ?? "TCP";
    if (!PROTOCOLS.includes(protocol)) {
      errs.push({ type: "FieldValueNotSupported", field: `${at}.protocol`, value: protocol, detail: `supported values: ${PROTOCOLS.map((t) => JSON.stringify(t)).join(", ")}` });
    }
  });
  return errs;
}
