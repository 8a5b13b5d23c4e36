/**
 * TLS material for the fake API server: a throw-away certificate authority and
 * a server certificate it signs, generated with WebCrypto through
 * `@peculiar/x509`, so it works the same on Node, Bun and Deno.
 *
 * Keys are ECDSA P-256 with SHA-256 signatures: the one combination that
 * Node's and Bun's OpenSSL/BoringSSL and Deno's rustls all accept, and that
 * kubectl (Go crypto/tls) verifies. The private key is PKCS#8 PEM
 * (`-----BEGIN PRIVATE KEY-----`), the form `node:tls` and `Deno.serve` load.
 *
 * @module
 */

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
const SIGNING: EcdsaParams & { name: string } = { name: "ECDSA", hash: "SHA-256" };
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** True for IPv4 dotted quads and IPv6 literals (with or without brackets). */
function isIpLiteral(host: string): boolean {
  return /^\d{1,3}(?:\.\d{1,3}){3}$/.test(host) || /^\[?[0-9a-fA-F:.]*:[0-9a-fA-F:.]*\]?$/.test(host);
}

function toPem(der: ArrayBuffer, label: string): string {
  const bytes = new Uint8Array(der);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  const b64 = btoa(binary);
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

function randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f; // keep the serial positive (RFC 5280 §4.1.2.2)
  if (bytes[0] === 0) bytes[0] = 1;
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Generates a new CA and a server certificate for `127.0.0.1`, `::1`,
 * `localhost` and `o.hosts`. Each call makes new keys; nothing is cached or
 * written to disk.
 *
 * Errors: rejects when `o.hosts` holds an empty string, or when the runtime's
 * WebCrypto lacks ECDSA P-256 (all supported runtimes have it).
 */
export async function generateTlsMaterial(o: TlsMaterialOptions = {}): Promise<TlsMaterial> {
  const extra = o.hosts ?? [];
  for (const h of extra) {
    if (h.trim() === "") throw new TypeError("generateTlsMaterial: hosts must not contain an empty name");
  }
  // @peculiar/x509 resolves its services through tsyringe, which needs a Reflect polyfill.
  await import("reflect-metadata");
  const x509 = await import("@peculiar/x509");
  x509.cryptoProvider.set(crypto);

  const notBefore = o.notBefore ?? new Date(Date.now() - HOUR_MS);
  const notAfter = new Date(notBefore.getTime() + (o.validityDays ?? 7) * DAY_MS);
  const hosts = [...new Set([...DEFAULT_TLS_HOSTS, ...extra.map((h) => h.replace(/^\[(.*)\]$/, "$1"))])];

  const caKeys = (await crypto.subtle.generateKey(EC_KEY, true, ["sign", "verify"])) as CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: "CN=kratos-kube fake apiserver CA",
    notBefore,
    notAfter,
    signingAlgorithm: SIGNING,
    keys: caKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  const serverKeys = (await crypto.subtle.generateKey(EC_KEY, true, ["sign", "verify"])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: "CN=kube-apiserver",
    issuer: ca.subject,
    notBefore,
    notAfter,
    signingAlgorithm: SIGNING,
    publicKey: serverKeys.publicKey,
    signingKey: caKeys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(
        hosts.map((h) => (isIpLiteral(h) ? { type: "ip" as const, value: h } : { type: "dns" as const, value: h })),
      ),
      await x509.SubjectKeyIdentifierExtension.create(serverKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  const pkcs8 = await crypto.subtle.exportKey("pkcs8", serverKeys.privateKey);
  return { caPem: ca.toString("pem") + "\n", certPem: cert.toString("pem") + "\n", keyPem: toPem(pkcs8, "PRIVATE KEY") };
}
