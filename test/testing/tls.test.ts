import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { connect, createServer } from "node:tls";
import type { AddressInfo } from "node:net";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { generateTlsMaterial, DEFAULT_TLS_HOSTS } from "../../src/testing/tls.ts";
import type { TlsMaterial } from "../../src/testing/tls.ts";

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

  it("rejects an empty host name", async () => {
    await assert.rejects(generateTlsMaterial({ hosts: [""] }), /hosts must not contain an empty name/);
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
