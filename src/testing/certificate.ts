/**
 * X.509 v3 certificates (RFC 5280) for ECDSA P-256 keys, signed with
 * ECDSA-SHA256 through WebCrypto and encoded with the DER writer in `der.ts`:
 * a CA certificate, or a TLS server certificate with subject alternative
 * names. Only what the fake API server needs; no parsing.
 *
 * @module
 */
import {
  type Der,
  ascii,
  bitString,
  boolean,
  explicit,
  implicitPrimitive,
  namedBits,
  octetString,
  oid,
  sequence,
  set,
  smallInteger,
  time,
  unsignedInteger,
  utf8String,
} from "./der.ts";

/** What to put into a certificate. */
export interface CertificateFields {
  /** Serial number, big-endian; must be positive (RFC 5280 §4.1.2.2). */
  serial: Uint8Array;
  /** Common name of the subject. */
  subject: string;
  /** Common name of the issuer (the subject, for a self-signed CA). */
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  /** The subject's ECDSA P-256 public key. */
  publicKey: CryptoKey;
  /** The issuer's ECDSA P-256 key pair: signs the certificate, names the authority key. */
  issuerKeys: CryptoKeyPair;
  /** A CA that may sign end-entity certificates (path length 0), else a TLS server certificate. */
  ca: boolean;
  /** Subject alternative names of a server certificate: DNS names and IP addresses (4 or 16 bytes). */
  dnsNames?: readonly string[];
  ipAddresses?: readonly Uint8Array[];
}

const OID = {
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  commonName: "2.5.4.3",
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  authorityKeyIdentifier: "2.5.29.35",
  extKeyUsage: "2.5.29.37",
  serverAuth: "1.3.6.1.5.5.7.3.1",
} as const;

/** KeyUsage bit numbers (RFC 5280 §4.2.1.3). */
const KEY_USAGE = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;

/** AlgorithmIdentifier for ecdsa-with-SHA256: parameters absent (RFC 5758 §3.2). */
const ECDSA_SHA256 = sequence(oid(OID.ecdsaWithSha256));

function name(commonName: string): Uint8Array {
  return sequence(set(sequence(oid(OID.commonName), utf8String(commonName))));
}

function extension(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical ? sequence(oid(id), boolean(true), octetString(value)) : sequence(oid(id), octetString(value));
}

/** Key identifier: SHA-1 of the subjectPublicKey bits (RFC 5280 §4.2.1.2, method 1). */
async function keyIdentifier(publicKey: CryptoKey): Promise<Uint8Array> {
  const raw = await crypto.subtle.exportKey("raw", publicKey);
  return new Uint8Array(await crypto.subtle.digest("SHA-1", raw));
}

/** WebCrypto's ECDSA signature (r ‖ s, IEEE P1363) as the DER `Ecdsa-Sig-Value` of RFC 3279 §2.2.3. */
function derSignature(p1363: Uint8Array): Uint8Array {
  const half = p1363.length / 2;
  return sequence(unsignedInteger(p1363.subarray(0, half)), unsignedInteger(p1363.subarray(half)));
}

/** Builds and signs a certificate; returns its DER bytes. */
export async function createCertificate(f: CertificateFields): Promise<Der> {
  if (f.serial.length === 0 || ((f.serial[0] ?? 0) & 0x80) !== 0 || f.serial.every((b) => b === 0)) {
    throw new RangeError("createCertificate: the serial number must be positive");
  }
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", f.publicKey));
  const extensions: Uint8Array[] = [];
  if (f.ca) {
    extensions.push(
      extension(OID.basicConstraints, true, sequence(boolean(true), smallInteger(0))),
      extension(OID.keyUsage, true, namedBits([KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign])),
    );
  } else {
    const names = [
      ...(f.dnsNames ?? []).map((d) => implicitPrimitive(2, ascii(d))),
      ...(f.ipAddresses ?? []).map((ip) => implicitPrimitive(7, ip)),
    ];
    extensions.push(
      extension(OID.basicConstraints, true, sequence()),
      extension(OID.keyUsage, true, namedBits([KEY_USAGE.digitalSignature])),
      extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth))),
      extension(OID.subjectAltName, false, sequence(...names)),
      extension(OID.authorityKeyIdentifier, false, sequence(implicitPrimitive(0, await keyIdentifier(f.issuerKeys.publicKey)))),
    );
  }
  extensions.push(extension(OID.subjectKeyIdentifier, false, octetString(await keyIdentifier(f.publicKey))));

  const tbs = sequence(
    explicit(0, smallInteger(2)), // v3
    unsignedInteger(f.serial),
    ECDSA_SHA256,
    name(f.issuer),
    sequence(time(f.notBefore), time(f.notAfter)),
    name(f.subject),
    spki,
    explicit(3, sequence(...extensions)),
  );
  const signature = new Uint8Array(
    await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, f.issuerKeys.privateKey, tbs),
  );
  return sequence(tbs, ECDSA_SHA256, bitString(derSignature(signature)));
}

/** PEM text (RFC 7468) of DER bytes, 64 characters a line, ending in a newline. */
export function toPem(der: Uint8Array, label: string): string {
  let binary = "";
  for (const b of der) binary += String.fromCharCode(b);
  const lines = btoa(binary).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
