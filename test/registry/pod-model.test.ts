/**
 * What watched Kratos pods share: reused instances while nothing they show
 * changes, one parsed metadata map per distinct annotation text, and no
 * value ever crossing from one annotation to another.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { PodRecord } from "../../src/kube/pod-record.ts";
import type { Pod } from "../../src/kube/wire.ts";
import { kratosPodResource } from "../../src/registry/kratos-pods.ts";
import { podConverter, sharedMapParser } from "../../src/registry/pod-model.ts";
import { createServiceSet } from "../../src/registry/service-set.ts";
import type { ServiceInstance } from "../../src/registry/kratos-codec.ts";

interface PodOptions {
  rv?: string;
  ip?: string;
  ready?: boolean;
  metadata?: string;
  version?: string;
  port?: number;
  extraAnnotation?: string;
}

function pod(name: string, o: PodOptions = {}): Pod {
  return {
    metadata: {
      name,
      namespace: "ns",
      uid: `uid-${name}`,
      resourceVersion: o.rv ?? "1",
      labels: { "kratos-service-app": "svc", "kratos-service-id": name, "kratos-service-version": o.version ?? "v1" },
      annotations: {
        "kratos-service-protocols": '{"9000":"grpc"}',
        "kratos-service-metadata": o.metadata ?? '{"region":"eu","zone":"a"}',
        ...(o.extraAnnotation === undefined ? {} : { "example.com/other": o.extraAnnotation }),
      },
    },
    spec: { containers: [{ name: "app", ports: [{ name: "grpc", containerPort: o.port ?? 9000 }] }, { name: "sidecar" }] },
    status: { phase: "Running", podIP: o.ip ?? "10.0.0.1", conditions: [{ type: "Ready", status: o.ready === false ? "False" : "True" }] },
  };
}

/** Records as the registry's caches make them (interned). */
function recorder(): (p: Pod) => PodRecord {
  const resource = kratosPodResource();
  return (p) => {
    const r = resource.project(p);
    assert.ok(typeof r !== "string", String(r));
    return r;
  };
}

function instanceOf(convert: ReturnType<typeof podConverter>, rec: PodRecord, prev?: { rec: PodRecord; instance: ServiceInstance }): ServiceInstance {
  const r = convert(rec, prev);
  assert.ok(r.ok, r.ok ? "" : r.reason);
  return r.instance;
}

describe("pod model: shared instances", () => {
  it("an unchanged pod (new resourceVersion, status noise) keeps the same instance object, and the set keeps its version", () => {
    const rec = recorder();
    const convert = podConverter();
    const a = rec(pod("p", { rv: "1" }));
    const set = createServiceSet([a], convert);
    const before = set.instances()[0]!;
    const v0 = set.version;
    set.upsert(rec(pod("p", { rv: "2", extraAnnotation: "not kept" })));
    assert.equal(set.version, v0);
    assert.equal(set.instances()[0], before);
    assert.ok(Object.isFrozen(before) && Object.isFrozen(before.metadata));
    // Frozen except on Bun, where a frozen small array costs 160 more bytes (src/runtime/immutable.ts).
    assert.ok(Object.isFrozen(before.endpoints));
  });

  it("a changed metadata annotation, IP, version or port gives a new instance showing it", () => {
    const rec = recorder();
    const convert = podConverter();
    const base = rec(pod("p"));
    const first = instanceOf(convert, base);
    const cases: [PodOptions, (i: ServiceInstance) => void][] = [
      [{ metadata: '{"region":"eu","zone":"b"}' }, (i) => assert.deepEqual(i.metadata, { region: "eu", zone: "b" })],
      [{ ip: "10.0.0.2" }, (i) => assert.deepEqual(i.endpoints, ["grpc://10.0.0.2:9000"])],
      [{ version: "v2" }, (i) => assert.equal(i.version, "v2")],
      [{ port: 9001 }, (i) => assert.deepEqual(i.endpoints, ["grpc://10.0.0.1:9001"])],
    ];
    for (const [o, check] of cases) {
      const next = instanceOf(convert, rec(pod("p", { rv: "2", ...o })), { rec: base, instance: first });
      assert.notEqual(next, first, JSON.stringify(o));
      check(next);
    }
    assert.deepEqual(first, { id: "p", name: "svc", version: "v1", metadata: { region: "eu", zone: "a" }, endpoints: ["grpc://10.0.0.1:9000"] });
  });

  it("a pod that stops being ready leaves the set even when it shows the same", () => {
    const rec = recorder();
    const set = createServiceSet([rec(pod("p"))], podConverter());
    set.upsert(rec(pod("p", { rv: "2", ready: false })));
    assert.deepEqual(set.instances(), []);
  });

  it("pods with the same metadata text share one map; different texts never share values", () => {
    const rec = recorder();
    const convert = podConverter();
    const a = instanceOf(convert, rec(pod("a", { metadata: '{"zone":"a"}' })));
    const b = instanceOf(convert, rec(pod("b", { metadata: '{"zone":"a"}' })));
    const c = instanceOf(convert, rec(pod("c", { metadata: '{"zone":"c"}' })));
    const d = instanceOf(convert, rec(pod("d", { metadata: '{"zone":"a","weight":"5"}' })));
    assert.equal(a.metadata, b.metadata);
    assert.notEqual(a.metadata, c.metadata);
    assert.deepEqual(a.metadata, { zone: "a" });
    assert.deepEqual(c.metadata, { zone: "c" });
    assert.deepEqual(d.metadata, { zone: "a", weight: "5" });
    assert.deepEqual(b.metadata, { zone: "a" });
  });

  it("the shared parser keys on the exact text, freezes, and keeps no errors", () => {
    const parse = sharedMapParser();
    const x = parse('{"a":"1"}');
    assert.equal(parse('{"a":"1"}'), x);
    assert.notEqual(parse('{"a": "1"}'), x); // another text, its own map (equal content)
    assert.deepEqual(parse('{"a": "1"}'), { a: "1" });
    assert.ok(Object.isFrozen(x));
    assert.equal(typeof parse('{"a":1}'), "string");
    assert.equal(typeof parse('{"a":1}'), "string");
    assert.equal(parse(undefined), parse("{}"));
    // A "__proto__" key stays an own property of that map only.
    const p = parse('{"__proto__":"x"}');
    assert.ok(typeof p !== "string" && Object.hasOwn(p, "__proto__"));
    assert.equal(Object.hasOwn(parse('{"b":"2"}') as object, "__proto__"), false);
  });

  it("reports a malformed pod once per record, and again for a new record of it", () => {
    const rec = recorder();
    const seen: string[] = [];
    const convert = podConverter({ onSkippedPod: (p, reason) => seen.push(`${p.name}: ${reason}`) });
    const bad = rec(pod("p", { metadata: "{not json" }));
    assert.equal(convert(bad).ok, false);
    assert.equal(convert(bad).ok, false);
    assert.equal(seen.length, 1);
    assert.match(seen[0]!, /^p: annotation kratos-service-metadata: invalid JSON/);
    convert(rec(pod("p", { rv: "2", metadata: "{not json" })));
    assert.equal(seen.length, 2);
  });
});
