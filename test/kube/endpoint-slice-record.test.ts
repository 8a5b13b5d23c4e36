/**
 * The EndpointSlice projection: endpoints as columns with interned traits,
 * the API's condition defaults, and a new version that reuses what the
 * record it replaces already holds.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { endpointSliceResource, projectEndpointSlice, sliceAddress, sliceEndpoints, type EndpointSliceRecord } from "../../src/kube/endpoint-slice-record.ts";
import { makeEndpointSlice, type MakeEndpointOptions } from "../../src/testing/index.ts";
import type { EndpointSlice } from "../../src/kube/wire.ts";

const slice = (endpoints: MakeEndpointOptions[], rv = "1"): EndpointSlice => {
  const s = makeEndpointSlice({ name: "s", namespace: "ns", service: "svc", endpoints, ports: [{ name: "grpc", port: 9000 }] });
  s.metadata.resourceVersion = rv;
  s.metadata.uid = "u1";
  return s;
};
const ok = (r: EndpointSliceRecord | string): EndpointSliceRecord => {
  assert.ok(typeof r !== "string", r as string);
  return r;
};
const addresses = (r: EndpointSliceRecord): string[] => r.addresses.map((_, i) => sliceAddress(r, i));

describe("EndpointSlice projection", () => {
  it("keeps endpoints as columns; endpoints on one node in one state share one frozen traits object", () => {
    const desc = endpointSliceResource();
    const r = ok(desc.project(slice([
      { ip: "10.0.0.1", pod: "p1", zone: "a", nodeName: "n1" },
      { ip: "10.0.0.2", pod: "p2", zone: "a", nodeName: "n1" },
      { ip: "10.0.0.3", pod: "p3", zone: "a", nodeName: "n1", ready: false },
      { ip: "10.0.0.4", pod: "p4", zone: "b", nodeName: "n2", forZones: ["b"] },
    ])));
    assert.deepEqual(addresses(r), ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"]);
    assert.ok(r.addresses.every((a) => typeof a === "number"), "canonical IPv4 addresses are kept as integers, not strings");
    assert.deepEqual(r.targetNames, ["p1", "p2", "p3", "p4"]);
    assert.equal(r.traits[0], r.traits[1]);
    assert.notEqual(r.traits[1], r.traits[2], "another state");
    assert.ok(Object.isFrozen(r.traits[0]) && Object.isFrozen(r.addresses) && Object.isFrozen(r.traits));
    assert.deepEqual(sliceEndpoints(r)[3], {
      address: "10.0.0.4", targetName: "p4", ready: true, serving: true, terminating: false, hostname: undefined, nodeName: "n2", zone: "b",
      forZones: ["b"], forNodes: [], targetKind: "Pod", targetNamespace: "ns",
    });
  });

  it("keeps IPv6 addresses, FQDNs and non-canonical IPv4 text as strings, unchanged", () => {
    const s = slice([{ ip: "10.0.0.1" }, { ip: "fd00::1" }, { ip: "010.0.0.2" }, { ip: "svc.example.com" }, { ip: "255.255.255.255" }]);
    const r = ok(projectEndpointSlice(s));
    assert.deepEqual(addresses(r), ["10.0.0.1", "fd00::1", "010.0.0.2", "svc.example.com", "255.255.255.255"]);
    assert.deepEqual(r.addresses.map((a) => typeof a), ["number", "string", "string", "string", "number"]);
    assert.equal(sliceEndpoints(r)[4]!.address, "255.255.255.255");
  });

  it("reads absent conditions as the API documents them, and drops endpoints without an address", () => {
    const s = slice([{ ip: "10.0.0.1" }, { ip: "10.0.0.2" }]);
    s.endpoints![0]!.conditions = {};
    s.endpoints![1]!.addresses = [];
    const [e, ...rest] = sliceEndpoints(ok(projectEndpointSlice(s)));
    assert.deepEqual([e!.ready, e!.serving, e!.terminating], [true, true, false]);
    assert.equal(rest.length, 0);
  });

  it("a new version reuses the columns, strings and ports of the record it replaces where they are equal", () => {
    const desc = endpointSliceResource();
    const eps: MakeEndpointOptions[] = [{ ip: "10.0.0.1", pod: "p1" }, { ip: "10.0.0.2", pod: "p2" }];
    const v1 = ok(desc.project(slice(eps, "1")));
    const v2 = ok(desc.project(slice([eps[0]!, { ...eps[1]!, ready: false }], "2"), v1));
    assert.equal(v2.addresses, v1.addresses);
    assert.equal(v2.targetNames, v1.targetNames);
    assert.equal(v2.ports, v1.ports);
    assert.equal(v2.labels, v1.labels);
    assert.notEqual(v2.traits, v1.traits);
    assert.equal(v2.traits[0], v1.traits[0]);
    assert.equal(v2.traits[1]!.ready, false);
    assert.equal(v2.resourceVersion, "2");
    // A moved endpoint: new columns, equal strings still shared where the index matches.
    const v3 = ok(desc.project(slice([eps[0]!, { ip: "10.0.0.9", pod: "p9" }], "3"), v2));
    assert.deepEqual(addresses(v3), ["10.0.0.1", "10.0.0.9"]);
    assert.deepEqual(v3.targetNames, ["p1", "p9"]);
    assert.deepEqual(sliceEndpoints(v3).map((e) => e.ready), [true, true]);
  });
});
