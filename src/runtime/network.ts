/**
 * This host's interface addresses (`os.networkInterfaces()`), for the
 * endpoint a server bound to every interface registers. Node, Bun and Deno
 * provide `node:os`; Deno needs `--allow-sys` for it, and without the
 * permission (or on any other failure) the list is empty.
 *
 * @module
 */

/** One interface address. */
export interface NetworkAddress {
  readonly address: string;
  readonly family: "IPv4" | "IPv6";
  readonly internal: boolean;
}

/** Every address of every interface, in the order the OS lists the interfaces. */
export async function networkAddresses(): Promise<NetworkAddress[]> {
  try {
    const os = await import("node:os");
    const out: NetworkAddress[] = [];
    for (const list of Object.values(os.networkInterfaces())) {
      for (const a of list ?? []) {
        const family = String(a.family) === "6" || a.family === "IPv6" ? "IPv6" : "IPv4";
        out.push({ address: a.address, family, internal: a.internal });
      }
    }
    return out;
  } catch {
    return [];
  }
}
