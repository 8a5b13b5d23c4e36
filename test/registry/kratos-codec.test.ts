/**
 * Golden vectors of Go Kratos's conversions (go-kratos/kratos
 * contrib/registry/kubernetes/registry.go at 668db92, with json-iterator's
 * ConfigDefault and Go's net/url, net.JoinHostPort). The URL, JoinHostPort and
 * label-regex expectations were checked against Go's standard library.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Pod } from "../../src/kube/wire.ts";
import {
  deregisterPatchBody,
  endpointSchemePort,
  instanceFromPod,
  labelValueProblem,
  parseStringMapAnnotation,
  protocolsFromEndpoints,
  registerPatchBody,
  registrationMetadata,
  type InstanceResult,
  type ServiceInstance,
} from "../../src/registry/kratos-codec.ts";
import { goJsonString, goJsonStringMap } from "../../src/registry/go-json.ts";
import { RegistryError } from "../../src/registry/errors.ts";

interface PodSpec {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ip?: string;
  ips?: string[];
  containers?: { name?: string; containerPort: number; protocol?: string }[][];
  phase?: string;
  ready?: boolean;
  deleting?: boolean;
}

function pod(o: PodSpec = {}): Pod {
  const labels = o.labels ?? { "kratos-service-app": "sayhello.service", "kratos-service-id": "sayhello-1", "kratos-service-version": "v1.0.0" };
  return {
    metadata: {
      name: "sayhello-1",
      namespace: "shop",
      uid: "u1",
      resourceVersion: "7",
      labels,
      annotations: o.annotations ?? {},
      ...(o.deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
    },
    spec: {
      containers: (o.containers ?? [[{ name: "grpc", containerPort: 9000, protocol: "TCP" }]]).map((ports, i) => ({ name: `c${i}`, ports })),
    },
    status: {
      phase: o.phase ?? "Running",
      conditions: [{ type: "Ready", status: o.ready === false ? "False" : "True" }],
      ...(o.ip === undefined ? { podIP: "10.0.0.1" } : o.ip === "" ? {} : { podIP: o.ip }),
      ...(o.ips ? { podIPs: o.ips.map((ip) => ({ ip })) } : {}),
    },
  };
}

function ok(r: InstanceResult): ServiceInstance {
  assert.ok(r.ok, `expected an instance, got ${r.ok ? "" : `${r.code}: ${r.reason}`}`);
  return r.instance;
}

function endpointsOf(o: PodSpec): string[] {
  return ok(instanceFromPod(pod(o), "kratos")).endpoints;
}

describe("kratos codec: pod → instance (golden vectors of getServiceInstanceFromPod)", () => {
  it("reads id, name, version, metadata and one endpoint per port", () => {
    const inst = ok(
      instanceFromPod(
        pod({
          annotations: { "kratos-service-protocols": '{"8000":"http","9000":"grpc"}', "kratos-service-metadata": '{"region":"sh","weight":"80"}' },
          containers: [[{ name: "http", containerPort: 8000 }, { name: "grpc", containerPort: 9000 }]],
        }),
      ),
    );
    assert.deepEqual(inst, {
      id: "sayhello-1",
      name: "sayhello.service",
      version: "v1.0.0",
      metadata: { region: "sh", weight: "80" },
      endpoints: ["http://10.0.0.1:8000", "grpc://10.0.0.1:9000"],
    });
  });

  it("takes the scheme from the annotation, else the port name up to its first '-', else the protocol", () => {
    assert.deepEqual(
      endpointsOf({
        annotations: { "kratos-service-protocols": '{"7000":"grpcs","7001":""}' },
        containers: [
          [
            { name: "http-metrics", containerPort: 7000, protocol: "TCP" },
            { name: "grpc-api-v2", containerPort: 7001, protocol: "TCP" },
            { name: "http", containerPort: 7002 },
            { containerPort: 7003, protocol: "TCP" },
            { containerPort: 7004, protocol: "UDP" },
            { containerPort: 7005 },
            { name: "-odd", containerPort: 7006 },
          ],
        ],
      }),
      [
        "grpcs://10.0.0.1:7000",
        "grpc://10.0.0.1:7001",
        "http://10.0.0.1:7002",
        "TCP://10.0.0.1:7003",
        "UDP://10.0.0.1:7004",
        "TCP://10.0.0.1:7005",
        "://10.0.0.1:7006",
      ],
    );
  });

  it("brackets IPv6 addresses like net.JoinHostPort and uses the first pod IP", () => {
    assert.deepEqual(endpointsOf({ ip: "fd00::1" }), ["grpc://[fd00::1]:9000"]);
    assert.deepEqual(endpointsOf({ ip: "10.0.0.9", ips: ["10.0.0.9", "fd00::9"] }), ["grpc://10.0.0.9:9000"]);
    assert.deepEqual(endpointsOf({ ip: "fd00::9", ips: ["fd00::9", "10.0.0.9"] }), ["grpc://[fd00::9]:9000"]);
  });

  it("walks several containers and ports in spec order; no ports gives no endpoints", () => {
    assert.deepEqual(
      endpointsOf({
        containers: [
          [{ name: "grpc", containerPort: 9000 }, { name: "http", containerPort: 8000 }],
          [],
          [{ name: "metrics", containerPort: 9090 }],
        ],
      }),
      ["grpc://10.0.0.1:9000", "http://10.0.0.1:8000", "metrics://10.0.0.1:9090"],
    );
    assert.deepEqual(endpointsOf({ containers: [[]] }), []);
  });

  it("treats every Go 'empty' spelling (\"\", {}, null, nil, []) and an absent annotation as none", () => {
    for (const empty of ["", "{}", "null", "nil", "[]"]) {
      const inst = ok(instanceFromPod(pod({ annotations: { "kratos-service-metadata": empty, "kratos-service-protocols": empty } })));
      assert.deepEqual(inst.metadata, {}, `metadata ${JSON.stringify(empty)}`);
      assert.deepEqual(inst.endpoints, ["grpc://10.0.0.1:9000"], `protocols ${JSON.stringify(empty)}`);
    }
    assert.deepEqual(ok(instanceFromPod(pod({ annotations: {} }))).metadata, {});
    assert.deepEqual(parseStringMapAnnotation(" null "), {});
    assert.deepEqual(parseStringMapAnnotation('{"a":null,"b":"x"}'), { a: "", b: "x" });
    assert.deepEqual(parseStringMapAnnotation('{ "region" : "sh" }\n'), { region: "sh" });
  });

  it("keeps a '__proto__' metadata key as plain data", () => {
    const md = ok(instanceFromPod(pod({ annotations: { "kratos-service-metadata": '{"__proto__":"x"}' } }))).metadata;
    assert.deepEqual(Object.keys(md), ["__proto__"]);
    assert.equal(Object.getPrototypeOf(md), Object.prototype);
  });

  it("skips malformed annotations with a reason (Go fails the whole service there)", () => {
    const cases: [string, string, string][] = [
      ["kratos-service-metadata", "{bad", "bad-metadata"],
      ["kratos-service-metadata", '{"weight":100}', "bad-metadata"],
      ["kratos-service-metadata", '{"a":{"b":"c"}}', "bad-metadata"],
      ["kratos-service-metadata", '["a"]', "bad-metadata"],
      ["kratos-service-metadata", '"text"', "bad-metadata"],
      ["kratos-service-metadata", " {}x", "bad-metadata"],
      ["kratos-service-protocols", '{"9000":9000}', "bad-protocols"],
      ["kratos-service-protocols", "Nil", "bad-protocols"],
    ];
    for (const [key, value, code] of cases) {
      const r = instanceFromPod(pod({ annotations: { [key]: value } }));
      assert.equal(r.ok, false, `${key}=${value}`);
      if (!r.ok) {
        assert.equal(r.code, code);
        assert.match(r.reason, new RegExp(key));
      }
    }
  });

  it("reports a pod without an IP as no-ip", () => {
    const r = instanceFromPod(pod({ ip: "" }), "kratos");
    assert.deepEqual(r.ok ? "ok" : r.code, "no-ip");
  });

  it("treats pods deregistered by Go Kratos (empty labels, {} annotations) and unlabelled pods as not registered", () => {
    const blanked = pod({
      labels: { "kratos-service-app": "", "kratos-service-id": "", "kratos-service-version": "" },
      annotations: { "kratos-service-metadata": "{}", "kratos-service-protocols": "{}" },
    });
    const r = instanceFromPod(blanked);
    assert.equal(r.ok ? "ok" : r.code, "not-registered");
    const bare = instanceFromPod(pod({ labels: { app: "x" } }));
    assert.equal(bare.ok ? "ok" : bare.code, "not-registered");
  });

  it("gives empty id and version when only the app label is set (as Go does)", () => {
    const inst = ok(instanceFromPod(pod({ labels: { "kratos-service-app": "a" } })));
    assert.deepEqual([inst.id, inst.name, inst.version], ["", "a", ""]);
  });

  it("selects Running only for 'kratos', Running + Ready + not terminating for 'ready'", () => {
    const table: [PodSpec, boolean, boolean][] = [
      [{}, true, true],
      [{ ready: false }, false, true],
      [{ deleting: true }, false, true],
      [{ phase: "Pending", ready: false }, false, false],
      [{ phase: "Succeeded", ready: false }, false, false],
      [{ phase: "Failed" }, false, false],
    ];
    for (const [spec, ready, kratos] of table) {
      const p = pod(spec);
      assert.equal(instanceFromPod(p, "ready").ok, ready, `ready ${JSON.stringify(spec)}`);
      assert.equal(instanceFromPod(p, "kratos").ok, kratos, `kratos ${JSON.stringify(spec)}`);
      assert.equal(instanceFromPod(p).ok, ready, `default ${JSON.stringify(spec)}`);
    }
    const r = instanceFromPod(pod({ ready: false }));
    assert.equal(r.ok ? "ok" : r.code, "not-selected");
  });

  it("reports an object without name or namespace as bad-object", () => {
    const p = pod();
    delete p.metadata.namespace;
    const r = instanceFromPod(p);
    assert.equal(r.ok ? "ok" : r.code, "bad-object");
  });
});

describe("kratos codec: instance → patch (golden vectors of Register)", () => {
  const instance: ServiceInstance = {
    id: "sayhello-7d9c",
    name: "sayhello.service",
    version: "v1.2.0",
    metadata: { zone: "a", region: "<b>&" },
    endpoints: ["grpc://0.0.0.0:9000", "http://0.0.0.0:8000?isSecure=false", "grpc://[::]:10000"],
  };

  it("writes the exact strategic merge patch body Go Kratos marshals (sorted keys, no spaces, HTML escaped)", () => {
    assert.equal(
      registerPatchBody(instance),
      '{"metadata":{"labels":{"kratos-service-app":"sayhello.service","kratos-service-id":"sayhello-7d9c","kratos-service-version":"v1.2.0"},' +
        '"annotations":{"kratos-service-metadata":"{\\"region\\":\\"\\\\u003cb\\\\u003e\\\\u0026\\",\\"zone\\":\\"a\\"}",' +
        '"kratos-service-protocols":"{\\"10000\\":\\"grpc\\",\\"8000\\":\\"http\\",\\"9000\\":\\"grpc\\"}"}}}',
    );
  });

  it("stores annotation values that read back to the same instance", () => {
    const { labels, annotations } = registrationMetadata(instance);
    assert.equal(annotations["kratos-service-metadata"], '{"region":"\\u003cb\\u003e\\u0026","zone":"a"}');
    assert.equal(annotations["kratos-service-protocols"], '{"10000":"grpc","8000":"http","9000":"grpc"}');
    const back = ok(
      instanceFromPod(
        pod({ labels, annotations, containers: [[{ containerPort: 9000 }, { containerPort: 8000 }, { containerPort: 10000 }]] }),
      ),
    );
    assert.deepEqual(back, { ...instance, id: "sayhello-7d9c", endpoints: ["grpc://10.0.0.1:9000", "http://10.0.0.1:8000", "grpc://10.0.0.1:10000"] });
  });

  it("writes {} for empty metadata and endpoints", () => {
    assert.equal(
      registerPatchBody({ id: "", name: "a", version: "", metadata: {}, endpoints: [] }),
      '{"metadata":{"labels":{"kratos-service-app":"a","kratos-service-id":"","kratos-service-version":""},"annotations":{"kratos-service-metadata":"{}","kratos-service-protocols":"{}"}}}',
    );
  });

  it("derives port → scheme like url.Parse (lower-cased scheme, legacy ?isSecure= ignored, last wins)", () => {
    assert.deepEqual(
      protocolsFromEndpoints([
        "GRPC://10.0.0.1:9000",
        "grpcs://[fd00::1]:443?isSecure=true",
        "grpc://user@h:7",
        "grpc://fd00::1:9001",
        "http://h:80",
        "grpc://h:80",
      ]),
      { "9000": "grpc", "443": "grpcs", "7": "grpc", "9001": "grpc", "80": "grpc" },
    );
    for (const bad of ["grpc://h", "grpc://h:x", "no-scheme:9000", "grpc://[::1", "grpc://h:0", "grpc://h:70000"]) {
      assert.equal(typeof endpointSchemePort(bad), "string", bad);
      assert.throws(() => protocolsFromEndpoints([bad]), (e: unknown) => e instanceof RegistryError && e.code === "INVALID_INSTANCE" && e.message.includes(bad));
    }
  });

  it("writes the deregistration patch with nulls, which removes the keys", () => {
    assert.equal(
      deregisterPatchBody(),
      '{"metadata":{"labels":{"kratos-service-app":null,"kratos-service-id":null,"kratos-service-version":null},"annotations":{"kratos-service-metadata":null,"kratos-service-protocols":null}}}',
    );
  });

  it("validates label values before anything is sent, naming the label", () => {
    const bad: [Partial<ServiceInstance>, string][] = [
      [{ name: "a".repeat(64) }, "kratos-service-app"],
      [{ name: "say hello" }, "kratos-service-app"],
      [{ name: "" }, "kratos-service-app"],
      [{ id: "-x" }, "kratos-service-id"],
      [{ version: "v1+build" }, "kratos-service-version"],
      [{ version: "1.0." }, "kratos-service-version"],
      [{ metadata: { weight: 100 as unknown as string } }, "weight"],
      [{ endpoints: ["grpc://h"] }, "grpc://h"],
    ];
    for (const [patch, needle] of bad) {
      assert.throws(
        () => registerPatchBody({ ...instance, ...patch }),
        (e: unknown) => e instanceof RegistryError && e.code === "INVALID_INSTANCE" && e.message.includes(needle),
        needle,
      );
    }
    assert.equal(labelValueProblem("a".repeat(63)), undefined);
    assert.equal(labelValueProblem("a.b_c-D9"), undefined);
    assert.equal(labelValueProblem(""), undefined);
  });
});

describe("go-json", () => {
  it("escapes like json-iterator ConfigDefault", () => {
    assert.equal(goJsonString('a"\\\n\r\t\b\f\u0001<>&\u2028\u2029é😀'), '"a\\"\\\\\\n\\r\\t\\u0008\\u000c\\u0001\\u003c\\u003e\\u0026\\u2028\\u2029é😀"');
    assert.equal(goJsonString("x\ud800y"), '"x\ufffdy"');
  });

  it("sorts map keys in UTF-8 byte order", () => {
    assert.equal(goJsonStringMap({ b: "1", a: "2", "\u{1F600}": "3", "\uFF01": "4", B: "5" }), '{"B":"5","a":"2","b":"1","\uFF01":"4","\u{1F600}":"3"}');
  });
});
