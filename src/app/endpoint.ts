/**
 * Pure: the endpoint URL a server registers, derived as Go Kratos derives it
 * (`transport/grpc/server.go` `Endpoint()`: `endpoint.NewEndpoint(endpoint.Scheme("grpc",
 * tls), host.Extract(address, listener))`): the scheme, `s` appended with TLS,
 * and the host: the bound address when it is a specific one, else a global
 * unicast address of this host's interfaces (IPv4 preferred, as
 * `internal/host.Extract`), with the listener's real port.
 *
 * @module
 */

/** One address of a network interface (the shape of `os.networkInterfaces()` entries). */
export interface InterfaceAddress {
  readonly address: string;
  readonly family: "IPv4" | "IPv6";
  readonly internal: boolean;
}

/** `true` for `0.0.0.0`, `::`, `[::]`, `""`: listen on every interface. */
export function isUnspecifiedHost(host: string | undefined): boolean {
  return host === undefined || host === "" || host === "0.0.0.0" || host === "::" || host === "[::]";
}

function ipv4Octets(ip: string): number[] | undefined {
  const parts = ip.split(".");
  if (parts.length !== 4) return undefined;
  const n = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : NaN));
  return n.every((x) => x >= 0 && x <= 255) ? n : undefined;
}

/**
 * Go's `net.IP.IsGlobalUnicast`: not unspecified, loopback, link-local,
 * multicast or the IPv4 broadcast address (private ranges count).
 */
export function isGlobalUnicast(ip: string): boolean {
  const v4 = ipv4Octets(ip);
  if (v4 !== undefined) {
    const [a, b] = v4 as [number, number, number, number];
    if (a === 0 || a === 127 || a >= 224) return false; // unspecified/this-network, loopback, multicast and 240/4 incl. broadcast
    return !(a === 169 && b === 254); // link-local
  }
  const lower = ip.toLowerCase().replace(/%.*$/, "");
  if (!lower.includes(":")) return false;
  if (lower === "::" || lower === "::1") return false;
  if (/^ff/.test(lower)) return false; // multicast
  if (/^fe[89ab]/.test(lower)) return false; // link-local fe80::/10
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  return mapped ? isGlobalUnicast(mapped[1]!) : true;
}

/** The address to register for a server bound to every interface; undefined when the host has none. */
export function pickHostAddress(addresses: readonly InterfaceAddress[]): string | undefined {
  const usable = addresses.filter((a) => !a.internal && isGlobalUnicast(a.address));
  return (usable.find((a) => a.family === "IPv4") ?? usable[0])?.address.replace(/%.*$/, "");
}

/**
 * `scheme[s]://host:port` for a server bound to `host` (unspecified = every
 * interface) on `port`. IPv6 hosts go in brackets. When the host is
 * unspecified and no interface has a global unicast address, the bound
 * host is used as it is.
 */
export function serverEndpoint(o: {
  readonly scheme: string;
  readonly secure: boolean;
  readonly host: string | undefined;
  readonly port: number;
  readonly addresses: readonly InterfaceAddress[];
}): string {
  const bound = o.host === undefined || o.host === "" ? "0.0.0.0" : o.host.replace(/^\[(.*)\]$/, "$1");
  const host = isUnspecifiedHost(o.host) ? (pickHostAddress(o.addresses) ?? bound) : bound;
  const hostPart = host.includes(":") ? `[${host}]` : host;
  return `${o.scheme}${o.secure ? "s" : ""}://${hostPart}:${o.port}`;
}
