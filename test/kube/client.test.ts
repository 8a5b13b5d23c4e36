import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  createKubeClient,
  KRATOS_KUBE_VERSION,
  KubeApiError,
  KubeConfig,
  KubeConfigError,
  KubeConnectionError,
} from "../../src/kube/index.ts";

interface Seen {
  method: string;
  url: URL;
  headers: Headers;
  body: string;
}

/** An injected fetch that records requests and answers with `answer`. */
function recorder(answer: (req: Request) => Response | Promise<Response> = () => json({ kind: "PodList", metadata: {}, items: [] })) {
  const seen: Seen[] = [];
  const fetch = async (req: Request): Promise<Response> => {
    seen.push({ method: req.method, url: new URL(req.url), headers: req.headers, body: await req.text() });
    return answer(req);
  };
  return { seen, fetch };
}

function json(value: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(value), { status, headers: { "content-type": "application/json", ...headers } });
}

const pod = { kind: "Pod", apiVersion: "v1", metadata: { name: "a", namespace: "ns", resourceVersion: "3" } };
const config = KubeConfig.fromOptions({ server: "https://kube.example:6443", token: "t0p-secret", namespace: "shop" });

describe("createKubeClient requests", () => {
  it("lists pods of a namespace with the query parameters the API names", async () => {
    const r = recorder();
    const client = createKubeClient({ config, fetch: r.fetch });
    await client.listPods({
      namespace: "shop",
      labelSelector: "kratos-service-app,env in (a,b)",
      fieldSelector: "status.phase=Running",
      limit: 500,
      continue: "tok",
      resourceVersion: "0",
      resourceVersionMatch: "NotOlderThan",
    });
    const s = r.seen[0]!;
    assert.equal(s.method, "GET");
    assert.equal(s.url.origin + s.url.pathname, "https://kube.example:6443/api/v1/namespaces/shop/pods");
    assert.deepEqual(Object.fromEntries(s.url.searchParams), {
      labelSelector: "kratos-service-app,env in (a,b)",
      fieldSelector: "status.phase=Running",
      limit: "500",
      continue: "tok",
      resourceVersion: "0",
      resourceVersionMatch: "NotOlderThan",
    });
    assert.ok(s.url.search.includes("labelSelector=kratos-service-app%2Cenv+in+%28a%2Cb%29"), s.url.search);
  });

  it("lists pods of all namespaces at /api/v1/pods and leaves out unset parameters", async () => {
    const r = recorder();
    await createKubeClient({ config, fetch: r.fetch }).listPods({});
    assert.equal(r.seen[0]!.url.pathname, "/api/v1/pods");
    assert.equal(r.seen[0]!.url.search, "");
  });

  it("sends Accept, User-Agent and the bearer token", async () => {
    const r = recorder();
    await createKubeClient({ config, fetch: r.fetch }).listPods({ namespace: "x" });
    const h = r.seen[0]!.headers;
    assert.equal(h.get("accept"), "application/json");
    assert.equal(h.get("authorization"), "Bearer t0p-secret");
    assert.match(h.get("user-agent") ?? "", /^kratos-kube\/\d+\.\d+\.\d+ \((node|bun|deno)\/[\w.-]+\)$/);
  });

  it("names the runtime it runs on in User-Agent (feature detection)", async () => {
    const r = recorder();
    await createKubeClient({ config, fetch: r.fetch }).listPods({});
    const ua = r.seen[0]!.headers.get("user-agent") ?? "";
    const expected = (globalThis.process?.env["KRATOS_KUBE_TEST_RUNTIME"] ?? "").replace(/\d+$/, "");
    const actual = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
    assert.ok(ua.includes(`(${actual}/`), ua);
    if (expected !== "") assert.equal(actual, expected);
  });

  it("keeps KRATOS_KUBE_VERSION equal to package.json's version", () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    assert.equal(KRATOS_KUBE_VERSION, pkg.version);
  });

  it("opens a watch with watch=true and every watch parameter, resolving to the body stream", async () => {
    const r = recorder(() => new Response('{"type":"ADDED","object":{}}\n', { status: 200 }));
    const body = await createKubeClient({ config, fetch: r.fetch }).watchPods({
      namespace: "shop",
      labelSelector: "kratos-service-app",
      resourceVersion: "12",
      resourceVersionMatch: "NotOlderThan",
      timeoutSeconds: 301,
      allowWatchBookmarks: true,
      sendInitialEvents: true,
    });
    assert.deepEqual(Object.fromEntries(r.seen[0]!.url.searchParams), {
      watch: "true",
      labelSelector: "kratos-service-app",
      resourceVersion: "12",
      resourceVersionMatch: "NotOlderThan",
      timeoutSeconds: "301",
      allowWatchBookmarks: "true",
      sendInitialEvents: "true",
    });
    assert.equal(await new Response(body).text(), '{"type":"ADDED","object":{}}\n');
  });

  it("gets one pod, escaping the name", async () => {
    const r = recorder(() => json(pod));
    const got = await createKubeClient({ config, fetch: r.fetch }).getPod("ns", "a b");
    assert.equal(r.seen[0]!.url.pathname, "/api/v1/namespaces/ns/pods/a%20b");
    assert.equal(got.metadata.name, "a");
  });

  for (const [type, contentType] of [
    ["strategic", "application/strategic-merge-patch+json"],
    ["merge", "application/merge-patch+json"],
    ["json", "application/json-patch+json"],
  ] as const) {
    it(`patches with ${contentType}`, async () => {
      const r = recorder(() => json(pod));
      const patch = type === "json" ? [{ op: "add", path: "/metadata/labels/x", value: "1" }] : { metadata: { labels: { x: "1" } } };
      await createKubeClient({ config, fetch: r.fetch }).patchPod("ns", "a", patch, { type, fieldManager: "kratos" });
      const s = r.seen[0]!;
      assert.equal(s.method, "PATCH");
      assert.equal(s.url.pathname, "/api/v1/namespaces/ns/pods/a");
      assert.equal(s.url.searchParams.get("fieldManager"), "kratos");
      assert.equal(s.headers.get("content-type"), contentType);
      assert.deepEqual(JSON.parse(s.body), patch);
    });
  }

  it("asks a SelfSubjectAccessReview", async () => {
    const r = recorder(() => json({ status: { allowed: false, reason: "RBAC: no rule" } }, 201));
    const out = await createKubeClient({ config, fetch: r.fetch }).selfSubjectAccessReview({
      verb: "watch",
      resource: "pods",
      namespace: "shop",
    });
    assert.deepEqual(out, { allowed: false, reason: "RBAC: no rule" });
    const s = r.seen[0]!;
    assert.equal(s.method, "POST");
    assert.equal(s.url.pathname, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews");
    assert.deepEqual(JSON.parse(s.body), {
      apiVersion: "authorization.k8s.io/v1",
      kind: "SelfSubjectAccessReview",
      spec: { resourceAttributes: { verb: "watch", resource: "pods", namespace: "shop" } },
    });
  });

  it("keeps a server path prefix", async () => {
    const r = recorder();
    const prefixed = KubeConfig.fromOptions({ server: "https://rancher.example/k8s/clusters/c-1/" });
    await createKubeClient({ config: prefixed, fetch: r.fetch }).listPods({ namespace: "a" });
    assert.equal(r.seen[0]!.url.pathname, "/k8s/clusters/c-1/api/v1/namespaces/a/pods");
  });
});

describe("createKubeClient errors", () => {
  it("rejects with KubeApiError on a non-2xx answer and does not retry a 429", async () => {
    const r = recorder(() => new Response("Too many requests, please try again later.", { status: 429, headers: { "retry-after": "3" } }));
    const client = createKubeClient({ config, fetch: r.fetch });
    await assert.rejects(client.listPods({ namespace: "a" }), (e: unknown) => {
      assert.ok(e instanceof KubeApiError);
      assert.ok(e.isTooManyRequests());
      assert.equal(e.retryAfterSeconds, 3);
      return true;
    });
    assert.equal(r.seen.length, 1);
  });

  it("does not retry a 401 when the token cannot change", async () => {
    const r = recorder(() =>
      json({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "Unauthorized", reason: "Unauthorized", code: 401 }, 401),
    );
    await assert.rejects(createKubeClient({ config, fetch: r.fetch }).listPods({}), (e: unknown) => e instanceof KubeApiError && e.isUnauthorized());
    assert.equal(r.seen.length, 1);
  });

  it("rejects a 200 whose body is not a PodList", async () => {
    const r = recorder(() => new Response("<html>hello</html>", { status: 200 }));
    await assert.rejects(createKubeClient({ config, fetch: r.fetch }).listPods({}), /LIST pods: the answer is not JSON/);
    const r2 = recorder(() => json({ kind: "Status" }));
    await assert.rejects(createKubeClient({ config, fetch: r2.fetch }).listPods({}), /not the expected shape/);
  });

  it("wraps a network failure into KubeConnectionError naming the server", async () => {
    const fetch = (): Promise<Response> => Promise.reject(Object.assign(new TypeError("fetch failed"), { cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }) }));
    await assert.rejects(createKubeClient({ config, fetch }).listPods({}), (e: unknown) => {
      assert.ok(e instanceof KubeConnectionError);
      assert.equal(e.tls, false);
      assert.match(e.message, /cannot reach the Kubernetes API server https:\/\/kube\.example:6443: fetch failed: .*ECONNREFUSED/);
      return true;
    });
  });

  it("rejects with the signal's reason when aborted", async () => {
    const ac = new AbortController();
    const reason = new Error("shutting down");
    const fetch = (req: Request): Promise<Response> =>
      new Promise((_, reject) => {
        if (req.signal.aborted) reject(req.signal.reason);
        req.signal.addEventListener("abort", () => reject(req.signal.reason));
      });
    const p = createKubeClient({ config, fetch }).watchPods({ signal: ac.signal });
    ac.abort(reason);
    await assert.rejects(p, (e: unknown) => e === reason);
  });

  it("refuses to send a token over plain http except to loopback", () => {
    assert.throws(
      () => KubeConfig.fromOptions({ server: "http://kube.example:8080", token: "secret-value" }),
      (e: unknown) => e instanceof KubeConfigError && /plain http/.test(e.message) && !e.message.includes("secret-value"),
    );
    for (const server of ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:2"]) {
      assert.equal(KubeConfig.fromOptions({ server, token: "x" }).server, server);
    }
    assert.equal(KubeConfig.fromOptions({ server: "http://kube.example:8080" }).auth, "none");
  });

  it("never shows the token in errors", async () => {
    const r = recorder(() => json({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "nope", reason: "Forbidden", code: 403 }, 403));
    const err = await createKubeClient({ config, fetch: r.fetch }).listPods({}).catch((e: unknown) => e as Error);
    assert.ok(err instanceof KubeApiError);
    assert.ok(!JSON.stringify({ ...err, message: err.message, stack: err.stack }).includes("t0p-secret"));
  });

  it("reports a body that breaks off as a connection error", async () => {
    const fetch = async (): Promise<Response> =>
      new Response(
        new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(new TextEncoder().encode('{"kind":"PodList","items":['));
            c.error(new TypeError("terminated"));
          },
        }),
      );
    await assert.rejects(createKubeClient({ config, fetch }).listPods({}), (e: unknown) => {
      assert.ok(e instanceof KubeConnectionError, String(e));
      assert.match(e.message, /LIST pods: the answer from https:\/\/kube\.example:6443 broke off: terminated/);
      return true;
    });
  });

  it("refuses a token with a line break without showing it", async () => {
    const bad = KubeConfig.fromOptions({ server: "https://k", token: "line-one\nline-two" });
    const r = recorder();
    await assert.rejects(createKubeClient({ config: bad, fetch: r.fetch }).listPods({}), (e: unknown) => {
      assert.ok(e instanceof KubeConfigError, String(e));
      assert.ok(!e.message.includes("line-one") && !String(e.stack).includes("line-one"), e.message);
      return true;
    });
    assert.equal(r.seen.length, 0);
  });

  it("close() rejects requests in flight", async () => {
    let started: () => void = () => {};
    const inFlight = new Promise<void>((resolve) => (started = resolve));
    const fetch = (req: Request): Promise<Response> =>
      new Promise((_, reject) => {
        started();
        req.signal.addEventListener("abort", () => reject(req.signal.reason));
      });
    const client = createKubeClient({ config, fetch });
    const p = client.watchPods({});
    await inFlight;
    await client.close();
    await assert.rejects(p, /the Kubernetes client is closed/);
  });

  it("close() also rejects requests in flight that came with a caller's signal; the caller's signal still aborts them alone", async () => {
    const started: (() => void)[] = [];
    const fetch = (req: Request): Promise<Response> =>
      new Promise((_, reject) => {
        started.shift()?.();
        req.signal.addEventListener("abort", () => reject(req.signal.reason));
      });
    const client = createKubeClient({ config, fetch });
    const first = new Promise<void>((r) => started.push(r));
    const caller = new AbortController();
    const aborted = client.watchPods({ signal: caller.signal });
    await first;
    caller.abort(new Error("caller gave up"));
    await assert.rejects(aborted, /caller gave up/);
    const second = new Promise<void>((r) => started.push(r));
    const open = client.watchPods({ signal: new AbortController().signal });
    await second;
    await client.close();
    await assert.rejects(open, /the Kubernetes client is closed/);
  });

  it("refuses requests after close()", async () => {
    const client = createKubeClient({ config, fetch: recorder().fetch });
    await client.close();
    await assert.rejects(client.listPods({}), /closed/);
  });
});

describe("createKubeClient over the runtime fetch (plain http on loopback)", () => {
  let server: Server;
  let url = "";
  const auth: string[] = [];
  let watchClosed: () => void = () => {};
  let redirected = 0;
  before(async () => {
    server = createServer((req, res) => {
      if (req.url?.startsWith("/elsewhere")) {
        redirected++;
        res.writeHead(200, { "content-type": "application/json" });
        res.end("{}");
        return;
      }
      if (req.url?.startsWith("/api/v1/namespaces/moved/")) {
        res.writeHead(302, { location: "/elsewhere/api/v1/pods?x=1" });
        res.end();
        return;
      }
      if (req.url?.includes("watch=true")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.write('{"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"5"}}}\n');
        res.on("close", () => watchClosed());
        return;
      }
      auth.push(req.headers.authorization ?? "");
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ kind: "PodList", apiVersion: "v1", metadata: { resourceVersion: "5" }, items: [pod] }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections?.();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("lists pods and sends the token to loopback", async () => {
    await using client = createKubeClient({ config: KubeConfig.fromOptions({ server: url, token: "loop" }) });
    const list = await client.listPods({ namespace: "ns" });
    assert.equal(list.items[0]?.metadata.name, "a");
    assert.equal(auth.at(-1), "Bearer loop");
  });

  it("aborting a watch closes the connection on the server", async () => {
    await using client = createKubeClient({ config: KubeConfig.fromOptions({ server: url }) });
    const closed = new Promise<void>((resolve) => (watchClosed = resolve));
    const ac = new AbortController();
    const body = await client.watchPods({ namespace: "ns", signal: ac.signal });
    const reader = body.getReader();
    const first = await reader.read();
    assert.match(new TextDecoder().decode(first.value), /BOOKMARK/);
    ac.abort();
    await assert.rejects(reader.read());
    await closed;
  });

  it("does not follow redirects (the token would go along)", async () => {
    await using client = createKubeClient({ config: KubeConfig.fromOptions({ server: url, token: "loop" }) });
    await assert.rejects(client.listPods({ namespace: "moved" }), (e: unknown) => {
      assert.ok(e instanceof KubeApiError, String(e));
      assert.equal(e.reason, "Redirect");
      assert.match(e.message, /does not follow redirects/);
      return true;
    });
    assert.equal(redirected, 0);
  });
});
