/**
 * The merge of a Service's EndpointSlices into instances (pure, on a manual
 * clock): ready endpoints only, ports resolved per slice, address families,
 * identity by targetRef, the grace window of an endpoint moving between
 * slices (either event order), and an empty Service.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { endpointSliceResource, type EndpointSliceRecord } from "../../src/kube/endpoint-slice-record.ts";
import { createEndpointSet, DEFAULT_MOVE_GRACE_MS, portScheme, type AddressFamily } from "../../src/registry/endpoint-set.ts";
import { makeEndpointSlice, createManualClock, type MakeEndpointOptions } from "../../src/testing/index.ts";

const desc = endpointSliceResource();
let rv = 1;

function rec(name: string, endpoints: MakeEndpointOptions[], o: { ports?: { name?: string; port: number; appProtocol?: string }[]; type?: "IPv4" | "IPv6" } = {}): EndpointSliceRecord {
  const s = makeEndpointSlice({ name, service: "greeter", endpoints, ports: o.ports ?? [{ name: "grpc", port: 9000 }], ...(o.type ? { addressType: o.type } : {}) });
  s.metadata.uid = `uid-${name}`;
  s.metadata.resourceVersion = String(rv++);
  const r = desc.project(s);
  assert.ok(typeof r !== "string", r as string);
  return r;
}

function setup(slices: EndpointSliceRecord[], o: { port?: string; family?: AddressFamily; graceMs?: number } = {}) {
  const clock = createManualClock();
  let changed = 0;
  const set = createEndpointSet("greeter", slices, { port: o.port, family: o.family ?? "dual", moveGraceMs: o.graceMs ?? DEFAULT_MOVE_GRACE_MS, clock }, () => changed++);
  return { set, clock, changed: () => changed };
}

const view = (set: { instances(): { id: string; endpoints: readonly string[] }[] }) => set.instances().map((i) => `${i.id}=${i.endpoints.join(",")}`);

describe("EndpointSlice set", () => {
  it("merges every slice of the Service and keeps only ready endpoints (serving+terminating drain like terminating Pods)", () => {
    const { set } = setup([
      rec("a", [{ ip: "10.0.0.1", pod: "p1" }, { ip: "10.0.0.2", pod: "p2", ready: false }]),
      rec("b", [{ ip: "10.0.0.3", pod: "p3" }, { ip: "10.0.0.4", pod: "p4", ready: false, serving: true, terminating: true }]),
    ]);
    assert.deepEqual(view(set), ["p1=grpc://10.0.0.1:9000", "p3=grpc://10.0.0.3:9000"]);
    const [i] = set.instances();
    assert.ok(Object.isFrozen(i) && Object.isFrozen(i!.endpoints) && Object.isFrozen(i!.metadata));
    assert.equal(i!.name, "greeter");
  });

  it("resolves a named port per slice, takes a number as the endpoints' port, and lists every port without one", () => {
    const slices = [
      rec("a", [{ ip: "10.0.0.1", pod: "p1" }], { ports: [{ name: "http", port: 8080 }, { name: "grpc", port: 9000 }] }),
      rec("b", [{ ip: "10.0.0.2", pod: "p2" }], { ports: [{ name: "grpc", port: 9100 }] }),
      rec("c", [{ ip: "10.0.0.3", pod: "p3" }], { ports: [{ name: "http", port: 8080 }] }),
    ];
    assert.deepEqual(view(setup(slices, { port: "grpc" }).set), ["p1=grpc://10.0.0.1:9000", "p2=grpc://10.0.0.2:9100"], "a slice without the port contributes nothing");
    assert.deepEqual(view(setup(slices, { port: "9000" }).set), ["p1=grpc://10.0.0.1:9000", "p2=TCP://10.0.0.2:9000", "p3=TCP://10.0.0.3:9000"], "a number is dialed on every endpoint (kuberesolver); the scheme only names a matching port");
    assert.deepEqual(view(setup(slices).set), ["p1=http://10.0.0.1:8080,grpc://10.0.0.1:9000", "p2=grpc://10.0.0.2:9100", "p3=http://10.0.0.3:8080"]);
    assert.equal(portScheme({ name: "grpc-api", port: 1, protocol: "TCP", appProtocol: undefined }), "grpc");
    assert.equal(portScheme({ name: "web", port: 1, protocol: "TCP", appProtocol: "h2c" }), "h2c");
    assert.equal(portScheme({ name: "web", port: 1, protocol: "TCP", appProtocol: "kubernetes.io/h2c" }), "web");
    assert.equal(portScheme({ name: undefined, port: 1, protocol: "TCP", appProtocol: undefined }), "TCP");
  });

  it("dual-stack: one instance per Pod with IPv4 then IPv6 endpoints; family picks one", () => {
    const slices = [
      rec("v4", [{ ip: "10.0.0.1", pod: "p1", zone: "z1", nodeName: "n1", forZones: ["z1"] }]),
      rec("v6", [{ ip: "fd00::1", pod: "p1" }, { ip: "fd00::2", pod: "p2" }], { type: "IPv6" }),
    ];
    assert.deepEqual(view(setup(slices).set), ["p1=grpc://10.0.0.1:9000,grpc://[fd00::1]:9000", "p2=grpc://[fd00::2]:9000"]);
    assert.deepEqual(view(setup(slices, { family: "IPv6" }).set), ["p1=grpc://[fd00::1]:9000", "p2=grpc://[fd00::2]:9000"]);
    assert.deepEqual(view(setup(slices, { family: "IPv4" }).set), ["p1=grpc://10.0.0.1:9000"]);
    assert.deepEqual(setup(slices).set.instances()[0]!.metadata, { zone: "z1", nodeName: "n1", "hints.forZones": "z1" });
  });

  it("skips addresses that are not IP literals of the slice's family and FQDN slices", () => {
    const { set } = setup([
      rec("a", [{ ip: "10.0.0.1", pod: "ok" }, { ip: "evil.example.com", pod: "dns" }, { ip: "fd00::9", pod: "wrong-family" }]),
      rec("f", [{ ip: "db.example.com", pod: "fqdn" }], { type: "FQDN" as never }),
    ]);
    assert.deepEqual(view(set), ["ok=grpc://10.0.0.1:9000"]);
  });

  for (const order of ["added first", "removed first"] as const) {
    it(`an endpoint moving between slices keeps its identity through the grace window (${order})`, async () => {
      const a1 = rec("a", [{ ip: "10.0.0.1", pod: "p1" }, { ip: "10.0.0.2", pod: "p2" }]);
      const b1 = rec("b", [{ ip: "10.0.0.3", pod: "p3" }]);
      const { set, clock, changed } = setup([a1, b1]);
      const before = set.instances();
      const v0 = set.version;
      const a2 = rec("a", [{ ip: "10.0.0.1", pod: "p1" }]);
      const b2 = rec("b", [{ ip: "10.0.0.3", pod: "p3" }, { ip: "10.0.0.2", pod: "p2" }]);
      if (order === "added first") {
        set.upsert(b2);
        set.upsert(a2);
      } else {
        set.upsert(a2);
        assert.deepEqual(view(set), view({ instances: () => before }), "kept while it is in no slice");
        await clock.advance(DEFAULT_MOVE_GRACE_MS - 1);
        set.upsert(b2);
      }
      assert.equal(set.version, v0, "the set did not change");
      await clock.advance(DEFAULT_MOVE_GRACE_MS * 2);
      assert.equal(set.version, v0);
      assert.equal(changed(), 0);
      assert.equal(set.instances()[1], before[1], "the same instance object");
    });
  }

  it("removes an endpoint that left every slice when the grace window ends, and tells the hub", async () => {
    const { set, clock, changed } = setup([rec("a", [{ ip: "10.0.0.1", pod: "p1" }, { ip: "10.0.0.2", pod: "p2" }])]);
    set.upsert(rec("a", [{ ip: "10.0.0.1", pod: "p1" }]));
    assert.equal(set.instances().length, 2);
    await clock.advance(DEFAULT_MOVE_GRACE_MS);
    assert.deepEqual(view(set), ["p1=grpc://10.0.0.1:9000"]);
    assert.equal(changed(), 1);
    // Not ready when it left: no window, it was not shown.
    set.upsert(rec("a", [{ ip: "10.0.0.1", pod: "p1", ready: false }]));
    set.remove(rec("a", []));
    assert.deepEqual(view(set), []);
    set.close!();
    assert.equal(clock.pending, 0);
  });

  it("readiness flips change the set at once; a Service with no slices is empty at once", () => {
    const { set } = setup([]);
    assert.deepEqual(set.instances(), []);
    const v = set.version;
    set.upsert(rec("a", [{ ip: "10.0.0.1", pod: "p1", ready: false }]));
    assert.equal(set.version, v, "an unready endpoint changes nothing visible");
    set.upsert(rec("a", [{ ip: "10.0.0.1", pod: "p1" }]));
    assert.deepEqual(view(set), ["p1=grpc://10.0.0.1:9000"]);
    set.upsert(rec("a", [{ ip: "10.0.0.1", pod: "p1", ready: false, serving: true, terminating: true }]));
    assert.deepEqual(view(set), [], "terminating: out at once, no grace (it is still in its slice)");
  });
});

describe("EndpointSlice set: what a change costs", () => {
  it("a slice update that changes one endpoint leaves the others' instances as they were (same objects, one version bump)", () => {
    const before = rec("a", [{ ip: "10.0.0.1", pod: "p1", zone: "a", nodeName: "n1" }, { ip: "10.0.0.2", pod: "p2", zone: "a", nodeName: "n1" }]);
    const { set } = setup([before]);
    const [p1, p2] = set.instances();
    const v = set.version;
    set.upsert(rec("a", [{ ip: "10.0.0.1", pod: "p1", zone: "a", nodeName: "n1" }, { ip: "10.0.0.2", pod: "p2", zone: "a", nodeName: "n1", ready: false }]));
    assert.equal(set.version, v + 1);
    assert.deepEqual(view(set), ["p1=grpc://10.0.0.1:9000"]);
    assert.equal(set.instances()[0], p1, "the unchanged endpoint keeps its instance object");
    set.upsert(rec("a", [{ ip: "10.0.0.1", pod: "p1", zone: "a", nodeName: "n1" }, { ip: "10.0.0.2", pod: "p2", zone: "a", nodeName: "n1" }]));
    assert.equal(set.instances()[0], p1);
    assert.notEqual(set.instances()[1], p2, "the flipped endpoint is a new instance");
    assert.deepEqual(set.instances()[1], p2);
    // A new version that repeats everything changes nothing.
    const w = set.version;
    set.upsert(rec("a", [{ ip: "10.0.0.1", pod: "p1", zone: "a", nodeName: "n1" }, { ip: "10.0.0.2", pod: "p2", zone: "a", nodeName: "n1" }]));
    assert.equal(set.version, w);
  });

  it("endpoints on the same node and zone share one frozen metadata object; different ones do not mix", () => {
    const { set } = setup([rec("a", [
      { ip: "10.0.0.1", pod: "p1", zone: "a", nodeName: "n1" },
      { ip: "10.0.0.2", pod: "p2", zone: "a", nodeName: "n1" },
      { ip: "10.0.0.3", pod: "p3", zone: "b", nodeName: "n2", forZones: ["b"] },
    ])]);
    const [a, b, c] = set.instances();
    assert.equal(a!.metadata, b!.metadata);
    assert.deepEqual(a!.metadata, { zone: "a", nodeName: "n1" });
    assert.deepEqual(c!.metadata, { zone: "b", nodeName: "n2", "hints.forZones": "b" });
  });

  it("a changed port re-resolves every endpoint of the slice", () => {
    const { set } = setup([rec("a", [{ ip: "10.0.0.1", pod: "p1" }, { ip: "10.0.0.2", pod: "p2" }])], { port: "grpc" });
    set.upsert(rec("a", [{ ip: "10.0.0.1", pod: "p1" }, { ip: "10.0.0.2", pod: "p2" }], { ports: [{ name: "grpc", port: 9100 }] }));
    assert.deepEqual(view(set), ["p1=grpc://10.0.0.1:9100", "p2=grpc://10.0.0.2:9100"]);
  });
});

describe("EndpointSlice set: incremental updates", () => {
  // Pods p0..p5, each with one IPv4 and one IPv6 address and its own zone; a
  // step writes one of four slices (three IPv4, one IPv6) with some of them
  // in some state, or deletes it.
  const pods = [0, 1, 2, 3, 4, 5];
  const state = fc.constantFrom(
    { ready: true, serving: true, terminating: false },
    { ready: false, serving: false, terminating: false },
    { ready: false, serving: true, terminating: true },
  );
  const step = fc.record({
    slice: fc.constantFrom("a", "b", "c", "v6"),
    members: fc.option(fc.array(fc.tuple(fc.constantFrom(...pods, -1, -2), state), { maxLength: 6 }), { nil: undefined }),
    port: fc.constantFrom(9000, 9100),
    // Instead of a new list: the slice's list with one entry in a new state (the same targets in the same places).
    flip: fc.option(fc.tuple(fc.nat(), state), { nil: undefined, freq: 2 }),
  });
  // -1 and -2: endpoints without a target whose hostname is p0's or p1's name (an id two identities share).
  const write = (name: string, members: [number, { ready: boolean; serving: boolean; terminating: boolean }][], port: number) =>
    rec(name, members.map(([p, st]) => p < 0
      ? { ip: name === "v6" ? `fd00::1:${-p}` : `10.0.1.${-p}`, hostname: `p${-p - 1}`, zone: "z0", ...st }
      : { ip: name === "v6" ? `fd00::${p + 1}` : `10.0.0.${p + 1}`, pod: `p${p}`, zone: `z${p % 2}`, ...st }), {
      ...(name === "v6" ? { type: "IPv6" as const } : {}),
      ports: [{ name: "grpc", port }],
    });

  for (const graceMs of [0, DEFAULT_MOVE_GRACE_MS]) {
    it(`after any sequence of slice writes and deletes, shows what a set built from the slices at hand shows (grace ${graceMs} ms, once it has passed)`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
          const { set, clock } = setup([], { graceMs, port: "grpc" });
          const current = new Map<string, EndpointSliceRecord>();
          const lists = new Map<string, [number, { ready: boolean; serving: boolean; terminating: boolean }][]>();
          for (const st of steps) {
            const list = lists.get(st.slice);
            if (st.flip !== undefined && list !== undefined && list.length > 0) {
              const flipped = list.slice();
              const i = st.flip[0] % flipped.length;
              flipped[i] = [flipped[i]![0], st.flip[1]];
              lists.set(st.slice, flipped);
              const r = write(st.slice, flipped, current.get(st.slice)!.ports[0]!.port!);
              current.set(st.slice, r);
              set.upsert(r);
            } else if (st.members === undefined) {
              lists.delete(st.slice);
              const gone = current.get(st.slice);
              if (gone !== undefined) set.remove(gone);
              current.delete(st.slice);
            } else {
              const r = write(st.slice, st.members, st.port);
              lists.set(st.slice, st.members);
              current.set(st.slice, r);
              set.upsert(r);
            }
            await clock.advance(graceMs);
            const fresh = setup([...current.values()], { graceMs, port: "grpc" }).set;
            assert.deepEqual(set.instances(), fresh.instances());
          }
          set.close!();
          assert.equal(clock.pending, 0);
        }),
        { numRuns: 300 },
      );
    });
  }

  it("an endpoint that joins a second slice and leaves the first keeps its instance object; the IPv6 half of a dual-stack Pod joins it later", () => {
    const { set } = setup([rec("a", [{ ip: "10.0.0.1", pod: "p1" }, { ip: "10.0.0.2", pod: "p2" }])]);
    const p2 = set.instances()[1]!;
    set.upsert(rec("b", [{ ip: "10.0.0.2", pod: "p2" }]));
    set.upsert(rec("a", [{ ip: "10.0.0.1", pod: "p1" }]));
    assert.equal(set.instances()[1], p2);
    set.upsert(rec("v6", [{ ip: "fd00::2", pod: "p2" }], { type: "IPv6" }));
    assert.deepEqual(view(set), ["p1=grpc://10.0.0.1:9000", "p2=grpc://10.0.0.2:9000,grpc://[fd00::2]:9000"]);
    set.remove(rec("b", []));
    assert.deepEqual(view(set), ["p1=grpc://10.0.0.1:9000", "p2=grpc://[fd00::2]:9000"], "the IPv4 half left; the Pod is still there over IPv6");
  });
});

