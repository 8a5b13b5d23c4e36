/**
 * Hostile input (issue 8, item 4): malformed objects, oversized fields and
 * broken streams from the API server (or a proxy in front of it). For each,
 * the expected result is a clear error (reported to `onError`) or the pod
 * skipped (reported to `onSkippedPod`) — and nothing else lost: the healthy
 * pods stay discovered, the watch recovers, and later changes still arrive.
 * Crafted bytes come from an intercepting fetch in front of the fake API
 * server; time moves on a manual clock.
 */
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Pod } from "../../src/kube/wire.ts";
import { makePod } from "../../src/testing/index.ts";
import { APP, hostileRig, NS, watchResponse, withPrefix, type HostileRig } from "./support/hostile-rig.ts";

let current: HostileRig | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

function rig(o: Parameters<typeof hostileRig>[0] = {}): HostileRig {
  const r = hostileRig(o);
  current = r;
  r.fake.createPod(makePod({ name: "good-a", app: APP }));
  r.fake.createPod(makePod({ name: "good-b", app: APP }));
  return r;
}

/** A LIST answer: the fake's pods plus `extra` (crafted objects the fake would refuse to store). */
function listWith(r: HostileRig, extra: unknown[], o: { resourceVersion?: string | null } = {}): Response {
  const rv = o.resourceVersion === undefined ? r.fake.resourceVersion : o.resourceVersion;
  const metadata = rv === null ? {} : { resourceVersion: rv };
  const body = JSON.stringify({ kind: "PodList", apiVersion: "v1", metadata, items: [...r.fake.listPods(NS), ...extra] });
  return new Response(body, { status: 200, headers: { "content-type": "application/json" } });
}

const messages = (r: HostileRig): string => r.errors.map((e) => `${e.name}: ${e.message}`).join("\n");

describe("hostile pods", () => {
  it("malformed kratos annotations: the pod is skipped with the reason, the others stay", async () => {
    const bad: Pod[] = [
      makePod({ name: "bad-metadata-number", app: APP, metadata: '{"weight":5}' }),
      makePod({ name: "bad-protocols-json", app: APP, protocols: "{grpc:9000" }),
      makePod({ name: "bad-metadata-array", app: APP, metadata: '["a"]' }),
    ];
    const r = rig({ onList: (_req, n) => (n === 0 ? listWith(r, bad) : undefined) });
    await r.eventually(() => r.ids().length === 2 && r.skipped.length >= 3, "the healthy pods are listed and the bad ones skipped");
    assert.deepEqual(r.ids(), ["good-a", "good-b"]);
    const reason = (name: string): string => r.skipped.find((s) => s.name === name)?.reason ?? "(not reported)";
    assert.match(reason("bad-metadata-number"), /kratos-service-metadata.*"weight".*not a string/);
    assert.match(reason("bad-protocols-json"), /kratos-service-protocols.*invalid JSON/);
    assert.match(reason("bad-metadata-array"), /kratos-service-metadata.*array/);
  });

  it("a 1 MiB annotation: the pod is served intact, nothing else is affected", async () => {
    const blob = "x".repeat(1 << 20);
    const big = makePod({ name: "big-annotation", app: APP, metadata: JSON.stringify({ blob }) });
    const r = rig({ onList: (_req, n) => (n === 0 ? listWith(r, [big]) : undefined) });
    await r.eventually(() => r.ids().length === 3, "all three pods are listed");
    assert.deepEqual(r.ids(), ["big-annotation", "good-a", "good-b"]);
    assert.equal(r.latest()?.find((i) => i.id === "big-annotation")?.metadata["blob"]?.length, 1 << 20);
    assert.equal(r.skipped.length, 0);
  });

  it("1,000 container ports: one endpoint per port, nothing else is affected", async () => {
    const ports = Array.from({ length: 1000 }, (_, i) => ({ name: `grpc-${i}`, containerPort: 10_000 + i }));
    const wide = makePod({ name: "many-ports", app: APP, ip: "10.1.2.3", ports });
    const r = rig({ onList: (_req, n) => (n === 0 ? listWith(r, [wide]) : undefined) });
    await r.eventually(() => r.ids().length === 3, "all three pods are listed");
    const endpoints = r.latest()?.find((i) => i.id === "many-ports")?.endpoints ?? [];
    assert.equal(endpoints.length, 1000);
    assert.equal(endpoints[999], "grpc://10.1.2.3:10999");
  });

  it("a missing or invalid pod IP: the pod is skipped with the reason, the others stay", async () => {
    const bad = [
      makePod({ name: "no-ip", app: APP, ip: null }),
      makePod({ name: "bad-ip-word", app: APP, ip: "not-an-ip" }),
      makePod({ name: "bad-ip-octet", app: APP, ip: "10.0.0.300" }),
      makePod({ name: "bad-ip-url", app: APP, ip: "evil.example.com/x?" }),
    ];
    const r = rig({ onList: (_req, n) => (n === 0 ? listWith(r, bad) : undefined) });
    await r.eventually(() => r.ids().length === 2 && r.skipped.length >= 4, "the healthy pods are listed and the bad ones skipped");
    assert.deepEqual(r.ids(), ["good-a", "good-b"]);
    const reason = (name: string): string => r.skipped.find((s) => s.name === name)?.reason ?? "(not reported)";
    assert.match(reason("no-ip"), /no IP/);
    for (const name of ["bad-ip-word", "bad-ip-octet", "bad-ip-url"]) assert.match(reason(name), /is not an IPv4 or IPv6 address/, name);
  });

  it("IPv6 pods: endpoints with the address in brackets", async () => {
    const v6 = makePod({ name: "v6", app: APP, ips: ["fd00:10:244::7", "10.244.0.7"] });
    const r = rig({ onList: (_req, n) => (n === 0 ? listWith(r, [v6]) : undefined) });
    await r.eventually(() => r.ids().length === 3, "all three pods are listed");
    assert.deepEqual(r.latest()?.find((i) => i.id === "v6")?.endpoints, ["http://[fd00:10:244::7]:8000", "grpc://[fd00:10:244::7]:9000"]);
  });

  it("objects without metadata or resourceVersion in a LIST: reported or skipped, the others stay", async () => {
    const noMeta = { kind: "Pod", apiVersion: "v1", spec: {}, status: {} };
    const noRv = makePod({ name: "no-rv", app: APP }) as Pod & { metadata: { resourceVersion?: string } };
    delete noRv.metadata.resourceVersion;
    const r = rig({ onList: (_req, n) => (n === 0 ? listWith(r, [noMeta, null, 42, noRv]) : undefined) });
    await r.eventually(() => r.ids().includes("good-a") && r.ids().includes("good-b"), "the healthy pods are listed");
    r.fake.createPod(makePod({ name: "good-c", app: APP }));
    await r.eventually(() => r.ids().includes("good-c"), "a later pod arrives");
    // The pod without a resourceVersion is still a whole pod: kept. The three objects that cannot be pods are reported.
    assert.deepEqual(r.ids(), ["good-a", "good-b", "good-c", "no-rv"]);
    assert.equal(r.errors.filter((e) => /skipped: object has no metadata/.test(e.message)).length, 3, messages(r));
  });

  it("a LIST without metadata.resourceVersion: a clear error, then a relist", async () => {
    const r = rig({ onList: (_req, n) => (n === 0 ? listWith(r, [], { resourceVersion: null }) : undefined) });
    await r.eventually(() => r.ids().length === 2, "the healthy pods are listed");
    assert.match(messages(r), /LIST response has no metadata\.resourceVersion/);
  });
});

describe("hostile streams", () => {
  const afterSync = async (r: HostileRig): Promise<void> => {
    await r.eventually(() => r.ids().length === 2, "the first sync");
    r.fake.createPod(makePod({ name: "good-c", app: APP }));
    await r.eventually(() => r.ids().length === 3, "the pod created after the bad stream arrives");
    assert.deepEqual(r.ids(), ["good-a", "good-b", "good-c"]);
  };

  it("non-JSON watch lines: a decode error, the watch recovers", async () => {
    const r = rig({ onWatch: (_req, n, forward) => (n === 0 ? withPrefix(forward(), "this is not json\n", "{\"type\":\n") : undefined) });
    await afterSync(r);
    assert.match(messages(r), /a line is not valid JSON/);
  });

  it("a stream truncated mid-event: a clear error, the watch recovers", async () => {
    const r = rig({ onWatch: (_req, n) => (n === 0 ? watchResponse('{"type":"ADDED","object":{"kind":"Pod","metadata":{"name":"trunc') : undefined) });
    await afterSync(r);
    assert.match(messages(r), /the stream ended inside an event/);
  });

  it("unknown event types: a clear error naming the type, the watch recovers", async () => {
    const r = rig({ onWatch: (_req, n, forward) => (n === 0 ? withPrefix(forward(), '{"type":"SURPRISE","object":{"kind":"Pod"}}\n') : undefined) });
    await afterSync(r);
    assert.match(messages(r), /unknown watch event type "SURPRISE"/);
  });

  it("watch events without metadata or resourceVersion: reported, the watch recovers", async () => {
    const noMeta = '{"type":"ADDED","object":{"kind":"Pod"}}\n';
    const noRv = `${JSON.stringify({ type: "ADDED", object: { kind: "Pod", metadata: { name: "no-rv", namespace: NS, labels: { "kratos-service-app": APP } } } })}\n`;
    const r = rig({ onWatch: (_req, n, forward) => (n === 0 ? withPrefix(forward(), noMeta, noRv) : undefined) });
    await afterSync(r);
    assert.match(messages(r), /ADDED event object has no metadata/);
  });

  it("a broken protobuf answer to LIST: a clear error naming what is wrong, then a relist", async () => {
    const proto = new Uint8Array([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x0f, 0x0a, 0x02, 0x76, 0x31]);
    const r = rig({ onList: (_req, n) => (n === 0 ? new Response(proto, { status: 200, headers: { "content-type": "application/vnd.kubernetes.protobuf" } }) : undefined) });
    await r.eventually(() => r.ids().length === 2, "the relist");
    assert.match(messages(r), /LIST failed: LIST pods: the protobuf answer cannot be decoded: protobuf: a PodList: a nested message of 15 bytes runs past the end of its parent/);
  });

  it("a wrong content type on WATCH: a clear error, the watch recovers", async () => {
    const r = rig({ onWatch: (_req, n) => (n === 0 ? watchResponse("<html><body>login</body></html>\n", "text/html") : undefined) });
    await afterSync(r);
    assert.match(messages(r), /watch stream: a line is not valid JSON/);
  });

  it("an HTML 502 from a proxy: a KubeApiError with the status, not a JSON parse error; retried", async () => {
    const html = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
    const r = rig({
      onList: (_req, n) => (n === 0 ? new Response(html, { status: 502, headers: { "content-type": "text/html" } }) : undefined),
      onWatch: (_req, n) => (n === 0 ? new Response(html, { status: 502, headers: { "content-type": "text/html" } }) : undefined),
    });
    await afterSync(r);
    assert.match(messages(r), /502/);
    assert.doesNotMatch(messages(r), /SyntaxError|Unexpected token|JSON/);
    assert.match(messages(r), /LIST failed: 502 BadGateway: an HTML page answered.*"502 Bad Gateway"/);
    assert.match(messages(r), /WATCH failed: 502 BadGateway/);
  });

  it("a single 100 MiB line: stopped at the line limit without reading the rest, the watch recovers", async () => {
    const MiB = 1 << 20;
    const chunk = new Uint8Array(MiB).fill(0x78);
    let pulled = 0;
    let cancelled = false;
    const huge = new ReadableStream<Uint8Array>({
      pull(c) {
        if (pulled >= 100 * MiB) return c.close();
        pulled += MiB;
        c.enqueue(chunk.slice());
      },
      cancel() {
        cancelled = true;
      },
    });
    const r = rig({ onWatch: (_req, n) => (n === 0 ? watchResponse(huge) : undefined) });
    await afterSync(r);
    assert.match(messages(r), /a line is longer than the 16777216-byte limit/);
    assert.ok(pulled <= 18 * MiB, `read ${pulled / MiB} MiB of a 100 MiB line`);
    assert.ok(cancelled, "the oversized stream was not cancelled");
  });
});

