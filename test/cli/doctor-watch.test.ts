// doctor's watch check (does a pod watch stream, or does something buffer
// it?) and its identity fallback for API servers without SelfSubjectReview,
// driven in-process through injected fetches and a manual clock.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createKubeClient, KubeConfig, type FetchLike } from "../../src/kube/index.ts";
import { createManualClock, FakeKubeApiServer, makePod } from "../../src/testing/index.ts";
import { watchStreamsCheck } from "../../cli/doctor-watch.ts";
import { runDoctor } from "../../cli/doctor-checks.ts";

const SELECTOR = "kratos-service-app=sayhello.service";
const config = (token?: string): KubeConfig => KubeConfig.fromOptions({ server: "http://127.0.0.1:6443", namespace: "default", ...(token ? { token } : {}) });

/** A proxy that holds the whole response back until it ends (what nginx does with proxy_buffering on). */
function buffering(inner: FetchLike): FetchLike {
  return async (req) => {
    const res = await inner(req);
    const body = await new Promise<ArrayBuffer>((resolve, reject) => {
      req.signal.addEventListener("abort", () => {
        reject(req.signal.reason);
        void res.body?.cancel().catch(() => {});
      }, { once: true });
      res.arrayBuffer().then(resolve, reject);
    });
    return new Response(body, { status: res.status, headers: res.headers });
  };
}

describe("doctor: the watch streams", () => {
  // The fake's own clock never moves: its watches never time out by themselves.
  const fake = new FakeKubeApiServer({ clock: createManualClock() });
  fake.createPod(makePod({ name: "sayhello-a", app: "sayhello.service", ip: "10.244.0.2" }));
  after(() => fake.close());
  const explain = (e: unknown): string => String(e);

  it("PASS when the first event arrives while the watch stays open", async () => {
    await using client = createKubeClient({ config: config(), fetch: fake.fetch });
    const c = await watchStreamsCheck({ client, namespace: "default", labelSelector: SELECTOR, deadlineMs: 2000, clock: createManualClock(), explain });
    assert.equal(c.verdict, "PASS", c.detail);
    assert.match(c.detail, /^a pod watch streams: the first event \(ADDED\) arrived after \d+ ms while the response stayed open$/);
    const watch = fake.requests.findLast((r) => r.watch);
    assert.deepEqual([watch?.query["labelSelector"], watch?.query["allowWatchBookmarks"], watch?.query["resourceVersion"]], [SELECTOR, "true", undefined]);
  });

  it("FAIL naming a buffering proxy when nothing arrives by the deadline", async () => {
    const clock = createManualClock();
    await using client = createKubeClient({ config: config(), fetch: buffering(fake.fetch) });
    const pending = watchStreamsCheck({ client, namespace: "default", labelSelector: SELECTOR, deadlineMs: 2000, clock, explain });
    await clock.advance(2000);
    const c = await pending;
    assert.equal(c.verdict, "FAIL");
    assert.match(c.detail, /^no watch event within 2000 ms, although pods match kratos-service-app=sayhello\.service$/);
    assert.match(c.fix ?? "", /buffers streaming responses.*proxy_buffering off/);
  });

  it("FAIL when the watch ends at once or its first line is not a watch event", async () => {
    const answer = (text: string): FetchLike => async () => new Response(text, { status: 200, headers: { "content-type": "application/json" } });
    await using empty = createKubeClient({ config: config(), fetch: answer("") });
    const ended = await watchStreamsCheck({ client: empty, namespace: "default", labelSelector: SELECTOR, deadlineMs: 2000, clock: createManualClock(), explain });
    assert.equal(ended.verdict, "FAIL");
    assert.match(ended.detail, /ended without an event right after it opened/);
    await using list = createKubeClient({ config: config(), fetch: answer('{"kind":"PodList","items":[]}\n') });
    const notEvent = await watchStreamsCheck({ client: list, namespace: "default", labelSelector: SELECTOR, deadlineMs: 2000, clock: createManualClock(), explain });
    assert.equal(notEvent.verdict, "FAIL");
    assert.match(notEvent.detail, /^the first line of the watch is not a watch event: "\{\\"kind\\":\\"PodList\\"/);
  });
});

describe("doctor: the identity without SelfSubjectReview", () => {
  const fake = new FakeKubeApiServer({ tokens: { "list-only": { user: "system:serviceaccount:default:lister", verbs: ["list", "create"] } } });
  after(() => fake.close());

  it("is read from the 403 of a request the review said is denied (a server before 1.28)", async () => {
    // An API server without SelfSubjectReview answers 404 for it.
    const old: FetchLike = async (req) =>
      new URL(req.url).pathname.startsWith("/apis/authentication.k8s.io/")
        ? new Response('{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}', { status: 404, headers: { "content-type": "application/json" } })
        : fake.fetch(req);
    const checks = await runDoctor({
      service: "sayhello.service",
      loadConfig: async () => config("list-only"),
      openClient: (c) => createKubeClient({ config: c, fetch: old }),
      namespace: (c) => c.namespace,
      probe: async (endpoint) => ({ endpoint, ok: false, stage: "tcp", detail: "not probed", fix: undefined }),
    });
    const watch = checks.find((c) => c.name === "rbac watch");
    assert.equal(watch?.verdict, "FAIL");
    assert.match(watch?.detail ?? "", /^cannot watch pods in namespace default as system:serviceaccount:default:lister:/);
    assert.match(checks.find((c) => c.name === "rbac watch")?.fix ?? "", /name: "lister"/);
    const probes = fake.requests.filter((r) => r.path === "/api/v1/namespaces/default/pods/kratos-kube-doctor-identity-probe");
    assert.equal(probes.length, 1, "one patch of a pod that does not exist, answered 403");
    assert.equal(probes[0]?.method, "PATCH");
    assert.equal(fake.listPods().length, 0, "nothing was created");
  });
});
