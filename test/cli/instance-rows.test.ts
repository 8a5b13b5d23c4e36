import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { PodRecord } from "../../src/kube/pod-record.ts";
import type { Pod } from "../../src/kube/wire.ts";
import { instanceRows, renderInstanceTable, summaryLine } from "../../cli/instance-rows.ts";
import { annotationsCheck, exclusionFix, protocolsCheck, readyCheck, terminatingCheck } from "../../cli/doctor-pod-checks.ts";

/** A record; `protocols` and `metadata` are the raw Kratos annotations. */
function rec(name: string, o: Partial<PodRecord> & { protocols?: string | undefined; metadata?: string | undefined } = {}): PodRecord {
  const { protocols: given, metadata, ...rest } = o;
  const protocols = "protocols" in o ? given : '{"9000":"grpc"}';
  const annotations: Record<string, string> = {};
  if (protocols !== undefined) annotations["kratos-service-protocols"] = protocols;
  if (metadata !== undefined) annotations["kratos-service-metadata"] = metadata;
  return {
    namespace: "default",
    name,
    uid: `uid-${name}`,
    resourceVersion: "1",
    labels: { "kratos-service-app": "sayhello.service", "kratos-service-id": name, "kratos-service-version": "v1" },
    annotations,
    phase: "Running",
    ready: true,
    terminating: false,
    podIPs: ["10.0.0.1"],
    ports: [{ name: "grpc", port: 9000, protocol: "TCP" }],
    ...rest,
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
    assert.deepEqual(rows.map((r) => r.exclusion), [undefined, "not-ready", "bad-protocols", "terminating", "phase", "no-ip"]);
    assert.equal(rows[0]?.address, "10.0.0.1:9000");
    assert.equal(summaryLine(rows, "sayhello.service"), "1 of 6 pods of sayhello.service is routable over grpc://");
  });

  it("a pod whose only endpoint is not grpc is not routable, as the transport decides (routableAddress with the protocol)", () => {
    const http = [rec("h", { protocols: '{"9000":"http"}' })];
    const grpc = instanceRows(http, "sayhello.service");
    assert.equal(grpc[0]?.included, false);
    assert.equal(grpc[0]?.exclusion, "no-endpoint");
    assert.match(grpc[0]?.excluded ?? "", /^no grpc:\/\/ endpoint \(a grpc transport skips it\)$/);
    assert.equal(summaryLine(grpc, "sayhello.service"), "0 of 1 pod of sayhello.service is routable over grpc://");
    const connect = instanceRows(http, "sayhello.service", "ready", { protocol: "connect" });
    assert.equal(connect[0]?.included, true);
    assert.equal(connect[0]?.address, "10.0.0.1:9000");
    assert.equal(summaryLine(connect, "sayhello.service", { protocol: "connect" }), "1 of 1 pod of sayhello.service is routable over http://");
    const tls = instanceRows([rec("s", { protocols: '{"9000":"grpcs"}' })], "sayhello.service", "ready", { secure: true });
    assert.equal(tls[0]?.included, true);
    assert.equal(instanceRows([rec("s", { protocols: '{"9000":"grpcs"}' })], "sayhello.service")[0]?.exclusion, "no-endpoint");
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
  it("ready fails only when no pod is Running and Ready, naming each pod left out with a fix per reason", () => {
    const rows = instanceRows([rec("a", { ready: false }), rec("b", { terminating: true })], "sayhello.service");
    const c = readyCheck(rows);
    assert.equal(c.verdict, "FAIL");
    assert.match(c.detail, /^none of 2 pods is Running and Ready: a: not Ready.*; b: terminating/);
    assert.match(c.fix ?? "", /readiness probe fails or it is still starting: kubectl describe pod a -n default/);
    assert.match(c.fix ?? "", /being deleted \(a rollout or scale-down\)/);
    assert.equal(readyCheck(instanceRows([rec("a"), rec("b", { ready: false })], "sayhello.service")).verdict, "PASS");
    const pending = readyCheck(instanceRows([rec("p", { phase: "Pending", podIPs: [] })], "sayhello.service"));
    assert.match(pending.fix ?? "", /Pending pod is not scheduled or not started yet: kubectl describe pod p/);
    assert.doesNotMatch(pending.fix ?? "", /readiness/);
  });

  it("a pod with invalid metadata JSON fails the annotations check with its own fix, not readiness advice", () => {
    const pods = [rec("m", { metadata: "{not json" })];
    const rows = instanceRows(pods, "sayhello.service");
    assert.equal(rows[0]?.exclusion, "bad-metadata");
    const a = annotationsCheck(pods);
    assert.equal(a.verdict, "FAIL");
    assert.match(a.detail, /^discovery skips m \(annotation kratos-service-metadata: invalid JSON/);
    assert.match(a.fix ?? "", /kratos-service-metadata must be a JSON object of strings/);
    assert.doesNotMatch(a.fix ?? "", /readiness|describe pod/);
    assert.equal(readyCheck(rows).verdict, "PASS", "the pod is Running and Ready; its annotation is the problem");
    assert.equal(annotationsCheck([rec("ok")]).verdict, "PASS");
    const fixes = new Set((["phase", "terminating", "not-ready", "no-ip", "bad-metadata", "bad-protocols", "no-endpoint"] as const).map((c) => exclusionFix(c, rows)));
    assert.equal(fixes.size, 7, "every reason has its own fix");
  });

  it("flags Ready pods that are terminating: WARN within the grace period, FAIL once it is over", () => {
    const now = Date.parse("2026-03-01T12:00:00Z");
    const pod = (name: string, deletion: string | undefined, ready = true, finalizers?: string[]): Pod => ({
      metadata: { name, namespace: "default", ...(deletion ? { deletionTimestamp: deletion } : {}), ...(finalizers ? { finalizers } : {}) },
      status: { phase: "Running", conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
    });
    assert.equal(terminatingCheck([pod("a", undefined)], now).verdict, "PASS");
    assert.equal(terminatingCheck([pod("a", "2026-03-01T11:00:00Z", false)], now).verdict, "PASS", "an unready terminating pod is not flagged");
    const warn = terminatingCheck([pod("a", "2026-03-01T12:00:25Z")], now);
    assert.equal(warn.verdict, "WARN");
    assert.match(warn.detail, /^Ready but terminating: a: deletion requested, 25 s of grace left$/);
    assert.match(warn.fix ?? "", /Go Kratos clients \(phase Running only\) keep calling/);
    const stuck = terminatingCheck([pod("a", "2026-03-01T11:59:00Z", true, ["example.com/hold"])], now);
    assert.equal(stuck.verdict, "FAIL");
    assert.match(stuck.detail, /a: grace period ended 60 s ago; finalizers example\.com\/hold/);
  });

  it("protocols needs a grpc endpoint per pod and returns the routable ones to probe", () => {
    const pods = [rec("a"), rec("b", { ready: false }), rec("n", { protocols: undefined, ports: [{ name: "grpc-api", port: 9000, protocol: "TCP" }] })];
    const ok = protocolsCheck(pods, instanceRows(pods, "sayhello.service"));
    assert.equal(ok.check.verdict, "PASS", "a port named grpc-… counts without the annotation");
    assert.deepEqual(ok.grpcEndpoints, ["grpc://10.0.0.1:9000", "grpc://10.0.0.1:9000"], "only routable pods are probed");
    const bad = [rec("h", { protocols: '{"9000":"http"}' })];
    const c = protocolsCheck(bad, instanceRows(bad, "sayhello.service")).check;
    assert.equal(c.verdict, "FAIL");
    assert.match(c.detail, /^h: no grpc endpoint \(http:\/\/10\.0\.0\.1:9000; annotation kratos-service-protocols is \{"9000":"http"\}\)$/);
  });
});
