import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { configInternals, isLoopbackHost, subjectOfToken } from "../../src/kube/config.ts";
import { KubeConfig, KubeConfigError } from "../../src/kube/index.ts";

const SECRET = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6c2hvcDphcGkifQ.c2lnbmF0dXJl";
const KEY = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg-secret-key-bytes\n-----END PRIVATE KEY-----\n";

describe("KubeConfig.fromOptions", () => {
  it("normalises the server and defaults the namespace", () => {
    const c = KubeConfig.fromOptions({ server: "https://10.0.0.1:443/" });
    assert.equal(c.server, "https://10.0.0.1");
    assert.equal(c.namespace, "default");
    assert.equal(c.user, undefined);
    assert.equal(c.auth, "none");
    assert.ok(Object.isFrozen(c));
  });

  it("takes the identity from a service-account token's sub claim", () => {
    const c = KubeConfig.fromOptions({ server: "https://k:6443", token: SECRET, namespace: "shop" });
    assert.equal(c.user, "system:serviceaccount:shop:api");
    assert.equal(c.namespace, "shop");
    assert.equal(c.auth, "token");
    assert.equal(subjectOfToken("not-a-jwt"), undefined);
  });

  it("keeps the TLS material and credentials for the client only", () => {
    const c = KubeConfig.fromOptions({
      server: "https://k:6443",
      tokenFile: "/var/run/token",
      caPem: "CA",
      certPem: "CERT",
      keyPem: KEY,
      tlsServerName: "kubernetes.test",
    });
    const i = configInternals(c);
    assert.deepEqual(i.auth, { type: "file", path: "/var/run/token" });
    assert.equal(i.tls.caPem, "CA");
    assert.equal(i.tls.serverName, "kubernetes.test");
    assert.equal(c.auth, "token-file");
  });

  it("never shows a token or key in toString, inspect, JSON or console formatting", () => {
    const c = KubeConfig.fromOptions({ server: "https://k:6443", token: SECRET, certPem: "CERT", keyPem: KEY });
    for (const text of [
      String(c),
      `${c}`,
      inspect(c),
      inspect({ nested: { c } }, { depth: 5, showHidden: true }),
      JSON.stringify(c),
      JSON.stringify({ c }),
      Object.keys(c).join(","),
    ]) {
      assert.ok(!text.includes(SECRET), text);
      assert.ok(!text.includes("secret-key-bytes"), text);
    }
    assert.match(String(c), /^KubeConfig\(https:\/\/k:6443, namespace default, auth token, user system:serviceaccount:shop:api\)$/);
  });

  it("rejects bad servers and half client certificates with KubeConfigError", () => {
    const bad = (o: Parameters<typeof KubeConfig.fromOptions>[0], re: RegExp): void => {
      assert.throws(() => KubeConfig.fromOptions(o), (e: unknown) => e instanceof KubeConfigError && re.test(e.message) && e.code === "KUBE_CONFIG_ERROR");
    };
    bad({ server: "kube:6443" }, /must be http:\/\/ or https:\/\//);
    bad({ server: "not a url" }, /is not a URL/);
    bad({ server: "https://user:pw@k" }, /must not contain credentials/);
    bad({ server: "https://k", certPem: "CERT" }, /both the certificate and its key/);
    bad({ server: "https://k", token: "a", tokenFile: "/b" }, /not both/);
    bad({ server: "http://10.1.2.3", token: SECRET }, /refusing to send a bearer token over plain http to 10\.1\.2\.3/);
  });

  it("knows loopback hosts", () => {
    for (const h of ["localhost", "127.0.0.1", "127.1.2.3", "[::1]", "::1", "api.localhost"]) assert.ok(isLoopbackHost(h), h);
    for (const h of ["10.0.0.1", "localhost.example.com", "::2", "128.0.0.1"]) assert.ok(!isLoopbackHost(h), h);
  });
});
