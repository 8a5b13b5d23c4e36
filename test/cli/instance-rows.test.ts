import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { PodRecord } from "../../src/kube/pod-record.ts";
import { instanceRows, renderInstanceTable, summaryLine } from "../../cli/instance-rows.ts";
import { protocolsCheck, readyCheck } from "../../cli/doctor-pod-checks.ts";

function rec(name: string, o: Partial<PodRecord> = {}): PodRecord {
  return {
    namespace: "default",
    name,
    uid: `uid-${name}`,
    resourceVersion: "1",
    labels: { "kratos-service-app": "sayhello.service", "kratos-service-id": name, "kratos-service-version": "v1" },
    protocols: '{"9000":"grpc"}',
    metadata: undefined,
    phase: "Running",
    ready: true,
    terminating: false,
    podIPs: ["10.0.0.1"],
    ports: [{ name: "grpc", port: 9000, protocol: "TCP" }],
    ...o,
  };
}

describe("cli/instance-rows", () => {
  const pods = [
    rec("c-bad", { protocols: "{not json" }),
    rec("a-ok"),
    rec("b-unready", { ready: false }),
    rec("d-term", { terminating: true }),
    rec("e-pending", { phase: "Pending", podIPs: ["10.0.0.5"] }),
    rec("f-noip", { podIPs: [] }),
    rec("other", { labels: { "kratos-service-app": "other.service" } }),
  ];

  it("keeps only pods of the service, sorted, each with the reason it is excluded", () => {
    const rows = instanceRows(pods, "sayhello.service");
    assert.deepEqual(rows.map((r) => r.pod), ["a-ok", "b-unready", "c-bad", "d-term", "e-pending", "f-noip"]);
    const why = Object.fromEntries(rows.map((r) => [r.pod, r.excluded]));
    assert.equal(why["a-ok"], undefined);
    assert.match(why["b-unready"] ?? "", /not Ready/);
    assert.match(why["c-bad"] ?? "", /kratos-service-protocols: invalid JSON/);
    assert.match(why["d-term"] ?? "", /terminating/);
    assert.match(why["e-pending"] ?? "", /phase is Pending, not Running/);
    assert.match(why["f-noip"] ?? "", /no IP/);
    assert.deepEqual(rows[0]?.endpoints, ["grpc://10.0.0.1:9000"]);
    assert.equal(summaryLine(rows, "sayhello.service"), "1 of 6 pods of sayhello.service is routable");
  });

  it("the kratos selection keeps unready and terminating Running pods, as Go Kratos does", () => {
    const rows = instanceRows(pods, "sayhello.service", "kratos");
    assert.deepEqual(rows.filter((r) => r.included).map((r) => r.pod), ["a-ok", "b-unready", "d-term"]);
  });

  it("renders a table with a NAMESPACE column only across namespaces", () => {
    const one = renderInstanceTable(instanceRows([rec("a-ok"), rec("b-unready", { ready: false })], "sayhello.service"));
    assert.match(one[0] ?? "", /^POD\s+IP\s+ENDPOINTS\s+VERSION\s+READY\s+EXCLUDED$/);
    assert.match(one[1] ?? "", /^a-ok\s+10\.0\.0\.1\s+grpc:\/\/10\.0\.0\.1:9000\s+v1\s+True$/);
    assert.match(one[2] ?? "", /False\s+not Ready/);
    const two = renderInstanceTable(instanceRows([rec("a"), rec("b", { namespace: "shop" })], "sayhello.service"));
    assert.match(two[0] ?? "", /^NAMESPACE\s+POD/);
  });
});

describe("cli/doctor-pod-checks", () => {
  it("ready fails only when no pod is routable, naming each pod left out", () => {
    const rows = instanceRows([rec("a", { ready: false }), rec("b", { terminating: true })], "sayhello.service");
    const c = readyCheck(rows);
    assert.equal(c.verdict, "FAIL");
    assert.match(c.detail, /^none of 2 pods is routable: a: not Ready.*; b: terminating/);
    assert.equal(readyCheck(instanceRows([rec("a"), rec("b", { ready: false })], "sayhello.service")).verdict, "PASS");
  });

  it("protocols needs a grpc endpoint per pod and returns the routable ones to probe", () => {
    const pods = [rec("a"), rec("b", { ready: false }), rec("n", { protocols: undefined, ports: [{ name: "grpc-api", port: 9000, protocol: "TCP" }] })];
    const ok = protocolsCheck(pods, instanceRows(pods, "sayhello.service"));
    assert.equal(ok.check.verdict, "PASS", "a port named grpc-… counts without the annotation");
    assert.deepEqual(ok.grpcEndpoints, ["grpc://10.0.0.1:9000", "grpc://10.0.0.1:9000"]);
    const bad = [rec("h", { protocols: '{"9000":"http"}' })];
    const c = protocolsCheck(bad, instanceRows(bad, "sayhello.service")).check;
    assert.equal(c.verdict, "FAIL");
    assert.match(c.detail, /^h: no grpc endpoint \(http:\/\/10\.0\.0\.1:9000; annotation kratos-service-protocols is \{"9000":"http"\}\)$/);
  });
});
