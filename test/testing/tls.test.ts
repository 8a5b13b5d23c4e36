import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { connect, createServer } from "node:tls";
import type { AddressInfo } from "node:net";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { generateTlsMaterial, DEFAULT_TLS_HOSTS, ipAddressBytes } from "../../src/testing/tls.ts";
import type { TlsMaterial } from "../../src/testing/tls.ts";

// The certificates are written by our own DER writer; @peculiar/x509 (a dev
// dependency only) and the runtime's node:crypto parse them independently.
describe("generateTlsMaterial", () => {
  let m: TlsMaterial;
  before(async () => {
    x509.cryptoProvider.set(crypto);
    m = await generateTlsMaterial({ hosts: ["kube.example.test", "10.1.2.3", "[fd00::1]"] });
  });

  it("returns PEM text with a PKCS#8 private key", () => {
    assert.match(m.caPem, /^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\n$/);
    assert.match(m.certPem, /^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\n$/);
    assert.match(m.keyPem, /^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/);
  });

  it("makes a CA certificate that is self-signed and may sign certificates", async () => {
    const ca = new x509.X509Certificate(m.caPem);
    assert.equal(ca.subject, ca.issuer);
    assert.equal(await ca.isSelfSigned(), true);
    const bc = ca.getExtension(x509.BasicConstraintsExtension);
    assert.equal(bc?.ca, true);
    const ku = ca.getExtension(x509.KeyUsagesExtension);
    assert.ok(ku && (ku.usages & x509.KeyUsageFlags.keyCertSign) !== 0);
  });

  it("signs the server certificate with the CA", async () => {
    const ca = new x509.X509Certificate(m.caPem);
    const cert = new x509.X509Certificate(m.certPem);
    assert.equal(cert.issuer, ca.subject);
    assert.equal(await cert.verify({ publicKey: ca.publicKey, signatureOnly: true }), true);
    assert.equal(cert.getExtension(x509.BasicConstraintsExtension)?.ca, false);
    const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
    assert.deepEqual([...(eku?.usages ?? [])], [x509.ExtendedKeyUsage.serverAuth]);
    const now = new Date();
    assert.ok(cert.notBefore <= now && now < cert.notAfter);
  });

  it("covers loopback, localhost and the extra hosts as SANs", () => {
    const cert = new x509.X509Certificate(m.certPem);
    const names = cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON() ?? [];
    const ips = names.filter((n) => n.type === "ip").map((n) => n.value);
    const dns = names.filter((n) => n.type === "dns").map((n) => n.value);
    assert.deepEqual(ips.sort(), ["10.1.2.3", "127.0.0.1", "::1", "fd00::1"].sort());
    assert.deepEqual(dns.sort(), ["kube.example.test", "localhost"]);
    assert.deepEqual([...DEFAULT_TLS_HOSTS], ["127.0.0.1", "::1", "localhost"]);
  });

  it("pairs the private key with the certificate's public key", async () => {
    const cert = new x509.X509Certificate(m.certPem);
    const der = Uint8Array.from(atob(m.keyPem.replace(/-----[A-Z ]+-----|\s/g, "")), (c) => c.charCodeAt(0));
    const alg = { name: "ECDSA", namedCurve: "P-256" };
    const priv = await crypto.subtle.importKey("pkcs8", der, alg, false, ["sign"]);
    const pub = await cert.publicKey.export(alg, ["verify"]);
    const data = new TextEncoder().encode("kratos-kube");
    const sig = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, priv, data);
    assert.equal(await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, pub, sig, data), true);
  });

  it("makes new keys on every call", async () => {
    const other = await generateTlsMaterial();
    assert.notEqual(other.caPem, m.caPem);
    assert.notEqual(other.keyPem, m.keyPem);
  });

  it("gives the server certificate only the digitalSignature key usage (ECDSA keys sign, never encipher)", () => {
    const cert = new x509.X509Certificate(m.certPem);
    assert.equal(cert.getExtension(x509.KeyUsagesExtension)?.usages, x509.KeyUsageFlags.digitalSignature);
    const ca = new x509.X509Certificate(m.caPem);
    assert.equal(ca.getExtension(x509.BasicConstraintsExtension)?.pathLength, 0);
  });

  it("links the server certificate to the CA by key identifiers", () => {
    const ca = new x509.X509Certificate(m.caPem);
    const cert = new x509.X509Certificate(m.certPem);
    const ski = ca.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
    assert.ok(ski && /^[0-9a-f]{40}$/.test(ski));
    assert.equal(cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId, ski);
  });

  it("is accepted by the runtime's own X.509 parser (node:crypto)", () => {
    const ca = new X509Certificate(m.caPem);
    const cert = new X509Certificate(m.certPem);
    assert.equal(ca.ca, true);
    assert.equal(cert.ca, false);
    assert.equal(cert.checkIssued(ca), true);
    assert.equal(cert.verify(ca.publicKey), true);
    assert.equal(cert.checkIP("10.1.2.3"), "10.1.2.3");
    assert.equal(cert.checkIP("10.1.2.4"), undefined);
    assert.equal(cert.checkHost("kube.example.test"), "kube.example.test");
    assert.equal(cert.checkHost("other.example.test"), undefined);
    assert.match(cert.subject, /CN=kube-apiserver/);
  });

  it("uses the given validity window, in whole seconds", () => {
    return generateTlsMaterial({ notBefore: new Date("2049-12-31T23:00:00.750Z"), validityDays: 2 }).then((late) => {
      const cert = new x509.X509Certificate(late.certPem);
      assert.equal(cert.notBefore.toISOString(), "2049-12-31T23:00:00.000Z");
      assert.equal(cert.notAfter.toISOString(), "2050-01-02T23:00:00.000Z"); // GeneralizedTime from 2050 on
    });
  });

  it("rejects an empty or non-ASCII host name", async () => {
    await assert.rejects(generateTlsMaterial({ hosts: [""] }), /hosts must not contain an empty name/);
    await assert.rejects(generateTlsMaterial({ hosts: ["bücher.example"] }), /host "bücher.example" is not an ASCII name/);
  });
});

describe("ipAddressBytes", () => {
  const hex = (b: Uint8Array | undefined): string | undefined => (b ? Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("") : undefined);
  it("reads IPv4 dotted quads and IPv6 literals, with brackets, :: and a trailing quad", () => {
    assert.equal(hex(ipAddressBytes("127.0.0.1")), "7f000001");
    assert.equal(hex(ipAddressBytes("::1")), "00000000000000000000000000000001");
    assert.equal(hex(ipAddressBytes("[fd00::1]")), "fd000000000000000000000000000001");
    assert.equal(hex(ipAddressBytes("2001:db8:0:0:1:0:0:1")), "20010db8000000000001000000000001");
    assert.equal(hex(ipAddressBytes("::ffff:10.1.2.3")), "00000000000000000000ffff0a010203");
    assert.equal(hex(ipAddressBytes("1::")), "00010000000000000000000000000000");
  });
  it("answers undefined for names and malformed addresses", () => {
    for (const s of ["localhost", "256.0.0.1", "1.2.3", "1::2::3", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "12345::", "::1.2.3", "kube.example.test"]) {
      assert.equal(ipAddressBytes(s), undefined, s);
    }
  });
});

describe("TLS handshake with the generated material (node:tls)", () => {
  let m: TlsMaterial;
  const server = createServer({}, (socket) => {
    socket.end("hello over tls\n");
  });
  let port = 0;
  before(async () => {
    m = await generateTlsMaterial();
    server.setSecureContext({ key: m.keyPem, cert: m.certPem });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const talk = (o: { ca: string; servername?: string }): Promise<string> =>
    new Promise((resolve, reject) => {
      const socket = connect({ host: "127.0.0.1", port, ca: o.ca, ...(o.servername ? { servername: o.servername } : {}) });
      let text = "";
      socket.setEncoding("utf8");
      socket.on("data", (d: string) => (text += d));
      socket.on("end", () => resolve(text));
      socket.on("error", reject);
    });

  it("verifies the server certificate against the CA for 127.0.0.1 and localhost", async () => {
    assert.equal(await talk({ ca: m.caPem }), "hello over tls\n");
    assert.equal(await talk({ ca: m.caPem, servername: "localhost" }), "hello over tls\n");
  });

  it("fails verification against another CA", async () => {
    const other = await generateTlsMaterial();
    await assert.rejects(talk({ ca: other.caPem }));
  });
});
