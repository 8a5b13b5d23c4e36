/**
 * Pure: the endpoint a server registers, as Go Kratos derives it (scheme,
 * `s` with TLS, a specific bound host as it is, else a global unicast
 * interface address, IPv4 first), and Go's IsGlobalUnicast.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { isGlobalUnicast, pickHostAddress, serverEndpoint, type InterfaceAddress } from "../../src/app/index.ts";

const lo: InterfaceAddress[] = [
  { address: "127.0.0.1", family: "IPv4", internal: true },
  { address: "::1", family: "IPv6", internal: true },
];
const pod: InterfaceAddress[] = [
  ...lo,
  { address: "fe80::1c2f:aff:fe00:7", family: "IPv6", internal: false },
  { address: "fd00:10:244::7", family: "IPv6", internal: false },
  { address: "10.244.1.7", family: "IPv4", internal: false },
];

describe("serverEndpoint", () => {
  const rows: [Parameters<typeof serverEndpoint>[0], string][] = [
    [{ scheme: "grpc", secure: false, host: undefined, port: 9000, addresses: pod }, "grpc://10.244.1.7:9000"],
    [{ scheme: "grpc", secure: true, host: "0.0.0.0", port: 9000, addresses: pod }, "grpcs://10.244.1.7:9000"],
    [{ scheme: "http", secure: false, host: "::", port: 8000, addresses: pod }, "http://10.244.1.7:8000"],
    [{ scheme: "http", secure: true, host: "[::]", port: 8443, addresses: pod }, "https://10.244.1.7:8443"],
    [{ scheme: "grpc", secure: false, host: "127.0.0.1", port: 40123, addresses: pod }, "grpc://127.0.0.1:40123"],
    [{ scheme: "grpc", secure: false, host: "fd00::5", port: 9000, addresses: pod }, "grpc://[fd00::5]:9000"],
    [{ scheme: "grpc", secure: false, host: undefined, port: 9000, addresses: [...lo, { address: "fd00:10:244::7", family: "IPv6", internal: false }] }, "grpc://[fd00:10:244::7]:9000"],
    // No usable address (loopback only): the bound host as it is, as the README's old example registered.
    [{ scheme: "grpc", secure: false, host: "0.0.0.0", port: 9000, addresses: lo }, "grpc://0.0.0.0:9000"],
    [{ scheme: "grpc", secure: false, host: "::", port: 9000, addresses: [] }, "grpc://[::]:9000"],
  ];
  for (const [input, want] of rows) {
    it(`${input.scheme}${input.secure ? "s" : ""} ${String(input.host)}:${input.port} → ${want}`, () => {
      assert.equal(serverEndpoint(input), want);
    });
  }

  it("picks the first IPv4 interface address, skipping loopback and link-local", () => {
    assert.equal(pickHostAddress(pod), "10.244.1.7");
    assert.equal(pickHostAddress([{ address: "169.254.3.3", family: "IPv4", internal: false }, { address: "192.168.1.20", family: "IPv4", internal: false }]), "192.168.1.20");
    assert.equal(pickHostAddress(lo), undefined);
  });
});

describe("isGlobalUnicast (Go net.IP.IsGlobalUnicast)", () => {
  const rows: [string, boolean][] = [
    ["10.244.1.7", true],
    ["192.168.0.1", true],
    ["8.8.8.8", true],
    ["0.0.0.0", false],
    ["127.0.0.1", false],
    ["169.254.1.1", false],
    ["224.0.0.1", false],
    ["255.255.255.255", false],
    ["::", false],
    ["::1", false],
    ["fe80::1", false],
    ["ff02::1", false],
    ["fd00::1", true],
    ["2001:db8::1", true],
    ["::ffff:10.0.0.1", true],
    ["::ffff:127.0.0.1", false],
    ["not-an-ip", false],
  ];
  for (const [ip, want] of rows) it(`${ip} → ${want}`, () => assert.equal(isGlobalUnicast(ip), want));
});
