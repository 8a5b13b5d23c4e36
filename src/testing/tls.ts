/**
 * TLS material for the fake API server: a throw-away certificate authority and
 * a server certificate it signs, made with WebCrypto and a small DER writer
 * (`certificate.ts`, `der.ts`), so it works the same on Node, Bun and Deno and
 * needs no X.509 library.
 *
 * Keys are ECDSA P-256 with SHA-256 signatures: the one combination that
 * Node's and Bun's OpenSSL/BoringSSL and Deno's rustls all accept, and that
 * kubectl (Go crypto/tls) verifies. The private key is PKCS#8 PEM
 * (`-----BEGIN PRIVATE KEY-----`), the form `node:tls` and `Deno.serve` load.
 *
 * @module
 */
import { createCertificate, toPem } from "./certificate.ts";

/** PEM text of a fresh CA certificate, a server certificate it signed, and the server's key. */
export interface TlsMaterial {
  /** The CA certificate (PEM), to trust on the client side. */
  caPem: string;
  /** The server certificate (PEM), signed by the CA. */
  certPem: string;
  /** The server's private key, PKCS#8 PEM. */
  keyPem: string;
}

/** Options for {@link generateTlsMaterial}. */
export interface TlsMaterialOptions {
  /** Extra subject alternative names: IP literals become IP SANs, anything else DNS SANs. */
  hosts?: string[];
  /** Validity start, default now minus one hour (tolerates small clock skew). */
  notBefore?: Date;
  /** Validity in days from `notBefore`, default 7. */
  validityDays?: number;
}

/** The names every server certificate covers: the loopback addresses and `localhost`. */
export const DEFAULT_TLS_HOSTS: readonly string[] = ["127.0.0.1", "::1", "localhost"];

const EC_KEY: EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * The 4 or 16 bytes of an IPv4 dotted quad or an IPv6 literal (brackets
 * allowed, `::` and a trailing dotted quad included), else undefined.
 */
export function ipAddressBytes(host: string): Uint8Array | undefined {
  const text = host.replace(/^\[(.*)\]$/, "$1");
  const v4 = (s: string): number[] | undefined => {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
    if (!m) return undefined;
    const octets = m.slice(1).map(Number);
    return octets.every((o) => o <= 255) ? octets : undefined;
  };
  const quad = v4(text);
  if (quad) return Uint8Array.from(quad);
  if (!text.includes(":")) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    const pieces = part.split(":");
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i]!;
      if (i === pieces.length - 1 && p.includes(".")) {
        const tail = v4(p);
        if (!tail) return undefined;
        out.push((tail[0]! << 8) | tail[1]!, (tail[2]! << 8) | tail[3]!);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) {
        out.push(parseInt(p, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  return bytes;
}

function randomSerial(): Uint8Array {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f; // keep the serial positive (RFC 5280 §4.1.2.2)
  if (bytes[0] === 0) bytes[0] = 1;
  return bytes;
}

/**
 * Generates a new CA and a server certificate for `127.0.0.1`, `::1`,
 * `localhost` and `o.hosts`. Each call makes new keys; nothing is cached or
 * written to disk.
 *
 * Errors: rejects when `o.hosts` holds an empty or non-ASCII name, or when the
 * runtime's WebCrypto lacks ECDSA P-256 (all supported runtimes have it).
 */
export async function generateTlsMaterial(o: TlsMaterialOptions = {}): Promise<TlsMaterial> {
  const extra = o.hosts ?? [];
  for (const h of extra) {
    if (h.trim() === "") throw new TypeError("generateTlsMaterial: hosts must not contain an empty name");
    if (!/^[\x21-\x7e]+$/.test(h)) throw new TypeError(`generateTlsMaterial: host ${JSON.stringify(h)} is not an ASCII name or IP address`);
  }
  const notBefore = o.notBefore ?? new Date(Date.now() - HOUR_MS);
  const notAfter = new Date(notBefore.getTime() + (o.validityDays ?? 7) * DAY_MS);
  const hosts = [...new Set([...DEFAULT_TLS_HOSTS, ...extra.map((h) => h.replace(/^\[(.*)\]$/, "$1"))])];
  const ipAddresses: Uint8Array[] = [];
  const dnsNames: string[] = [];
  for (const h of hosts) {
    const ip = ipAddressBytes(h);
    if (ip) ipAddresses.push(ip);
    else dnsNames.push(h);
  }

  const caKeys = (await crypto.subtle.generateKey(EC_KEY, true, ["sign", "verify"])) as CryptoKeyPair;
  const caName = "kratos-kube fake apiserver CA";
  const ca = await createCertificate({
    serial: randomSerial(),
    subject: caName,
    issuer: caName,
    notBefore,
    notAfter,
    publicKey: caKeys.publicKey,
    issuerKeys: caKeys,
    ca: true,
  });

  const serverKeys = (await crypto.subtle.generateKey(EC_KEY, true, ["sign", "verify"])) as CryptoKeyPair;
  const cert = await createCertificate({
    serial: randomSerial(),
    subject: "kube-apiserver",
    issuer: caName,
    notBefore,
    notAfter,
    publicKey: serverKeys.publicKey,
    issuerKeys: caKeys,
    ca: false,
    dnsNames,
    ipAddresses,
  });

  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", serverKeys.privateKey));
  return { caPem: toPem(ca, "CERTIFICATE"), certPem: toPem(cert, "CERTIFICATE"), keyPem: toPem(pkcs8, "PRIVATE KEY") };
}
