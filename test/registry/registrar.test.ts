/**
 * The registrar over the real client with a recording `fetch`: exact bytes on
 * the wire, content type, validation before any request, RBAC messages.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createKubeClient } from "../../src/kube/client.ts";
import { KubeConfig } from "../../src/kube/config.ts";
import { createRegistrar } from "../../src/registry/registrar.ts";
import { RegistryError } from "../../src/registry/errors.ts";
import type { ServiceInstance } from "../../src/registry/kratos-codec.ts";

interface Seen {
  method: string;
  path: string;
  query: string;
  contentType: string | null;
  body: string;
}

function recorder(answer: (seen: Seen) => Response) {
  const seen: Seen[] = [];
  const fetch = async (req: Request): Promise<Response> => {
    const u = new URL(req.url);
    const s = { method: req.method, path: u.pathname, query: u.search, contentType: req.headers.get("content-type"), body: await req.text() };
    seen.push(s);
    return answer(s);
  };
  const config = KubeConfig.fromOptions({ server: "http://127.0.0.1:6443", namespace: "shop", user: "system:serviceaccount:shop:sayhello" });
  return { seen, client: createKubeClient({ config, fetch }) };
}

const podJson = (): Response =>
  new Response(JSON.stringify({ kind: "Pod", apiVersion: "v1", metadata: { name: "sayhello-1", namespace: "shop" } }), {
    status: 200,
    headers: { "content-type": "application/json" },
  });

const instance: ServiceInstance = {
  id: "sayhello-1",
  name: "sayhello.service",
  version: "v1.0.0",
  metadata: { region: "sh", note: "a<b" },
  endpoints: ["grpc://0.0.0.0:9000", "http://0.0.0.0:8000"],
};

describe("registrar", () => {
  it("sends one strategic merge patch of the own Pod with Go Kratos's exact bytes", async () => {
    const { seen, client } = recorder(podJson);
    const reg = createRegistrar({ api: client, pod: { namespace: "shop", name: "sayhello-1" } });
    await reg.register(instance);
    assert.equal(seen.length, 1);
    const [s] = seen;
    assert.equal(s!.method, "PATCH");
    assert.equal(s!.path, "/api/v1/namespaces/shop/pods/sayhello-1");
    assert.equal(s!.query, "?fieldManager=kratos-kube");
    assert.equal(s!.contentType, "application/strategic-merge-patch+json");
    assert.equal(
      s!.body,
      '{"metadata":{"labels":{"kratos-service-app":"sayhello.service","kratos-service-id":"sayhello-1","kratos-service-version":"v1.0.0"},' +
        '"annotations":{"kratos-service-metadata":"{\\"note\\":\\"a\\\\u003cb\\",\\"region\\":\\"sh\\"}","kratos-service-protocols":"{\\"8000\\":\\"http\\",\\"9000\\":\\"grpc\\"}"}}}',
    );
    await reg.register(instance); // idempotent: the same bytes again
    assert.equal(seen[1]!.body, s!.body);
    await client.close();
  });

  it("deregisters with nulls", async () => {
    const { seen, client } = recorder(podJson);
    const reg = createRegistrar({ api: client, pod: () => Promise.resolve({ namespace: "shop", name: "sayhello-1" }) });
    await reg.deregister(instance);
    assert.match(seen[0]!.body, /^\{"metadata":\{"labels":\{"kratos-service-app":null,/);
    await client.close();
  });

  it("rejects an invalid label value before sending anything", async () => {
    const { seen, client } = recorder(podJson);
    const reg = createRegistrar({ api: client, pod: { namespace: "shop", name: "sayhello-1" } });
    await assert.rejects(
      reg.register({ ...instance, version: "v1.0.0+build.5" }),
      (e: unknown) => e instanceof RegistryError && e.code === "INVALID_INSTANCE" && /kratos-service-version="v1.0.0\+build.5"/.test(e.message),
    );
    assert.equal(seen.length, 0);
    await client.close();
  });

  it("rejects with NO_POD_IDENTITY when the own Pod is unknown, sending nothing", async () => {
    const { seen, client } = recorder(podJson);
    const reg = createRegistrar({ api: client, pod: { namespace: "shop", name: "" } });
    await assert.rejects(reg.register(instance), (e: unknown) => e instanceof RegistryError && e.code === "NO_POD_IDENTITY" && /POD_NAME/.test(e.message));
    assert.equal(seen.length, 0);
    await client.close();
  });

  it("turns a 403 into a FORBIDDEN error naming verb, resource, namespace and identity", async () => {
    const status = {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message:
        'pods "sayhello-1" is forbidden: User "system:serviceaccount:shop:sayhello" cannot patch resource "pods" in API group "" in the namespace "shop"',
      reason: "Forbidden",
      details: { name: "sayhello-1", kind: "pods" },
      code: 403,
    };
    const { client } = recorder(() => new Response(JSON.stringify(status), { status: 403, headers: { "content-type": "application/json" } }));
    const reg = createRegistrar({ api: client, pod: { namespace: "shop", name: "sayhello-1" }, identity: client.config.user });
    await assert.rejects(reg.register(instance), (e: unknown) => {
      assert.ok(e instanceof RegistryError);
      assert.equal(e.code, "FORBIDDEN");
      assert.match(e.message, /^cannot patch pods in namespace shop as system:serviceaccount:shop:sayhello/);
      return true;
    });
    await client.close();
  });

  it("names the identity from the config when the 403 body is not a Status", async () => {
    const { client } = recorder(() => new Response("forbidden", { status: 403, headers: { "content-type": "text/plain" } }));
    const reg = createRegistrar({ api: client, pod: { namespace: "shop", name: "sayhello-1" }, identity: "system:serviceaccount:shop:sayhello" });
    await assert.rejects(reg.register(instance), /^RegistryError: cannot patch pods in namespace shop as system:serviceaccount:shop:sayhello/);
    await client.close();
  });

  it("succeeds without a patch right when the Pod already carries the labels statically (annotation JSON compared as values)", async () => {
    const forbidden = new Response('{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Forbidden","code":403,"message":"forbidden"}', {
      status: 403,
      headers: { "content-type": "application/json" },
    });
    const staticPod = (version: string) =>
      new Response(
        JSON.stringify({
          kind: "Pod",
          apiVersion: "v1",
          metadata: {
            name: "sayhello-1",
            namespace: "shop",
            labels: { app: "sayhello", "kratos-service-id": "sayhello-1", "kratos-service-app": "sayhello.service", "kratos-service-version": version },
            annotations: {
              "kratos-service-protocols": '{ "9000": "grpc", "8000": "http" }',
              "kratos-service-metadata": '{"region":"sh","note":"a<b"}',
            },
          },
        }),
        { status: 200, headers: { "content-type": "application/json" } },
      );
    for (const [version, ok] of [["v1.0.0", true], ["v0.9.0", false]] as const) {
      const { seen, client } = recorder((s) => (s.method === "PATCH" ? forbidden.clone() : staticPod(version)));
      const reg = createRegistrar({ api: client, pod: { namespace: "shop", name: "sayhello-1" }, identity: "system:serviceaccount:shop:sayhello" });
      if (ok) await reg.register(instance);
      else await assert.rejects(reg.register(instance), (e: unknown) => e instanceof RegistryError && e.code === "FORBIDDEN");
      assert.deepEqual(seen.map((r) => r.method), ["PATCH", "GET"]);
      await client.close();
    }
  });

  it("defaults the instance ID to the own Pod's name", async () => {
    const { seen, client } = recorder(podJson);
    const reg = createRegistrar({ api: client, pod: { namespace: "shop", name: "sayhello-7" } });
    const { id: _id, ...noId } = instance;
    await reg.register(noId);
    await reg.register({ ...noId, id: "" });
    for (const r of seen) assert.equal((JSON.parse(r.body) as { metadata: { labels: Record<string, string> } }).metadata.labels["kratos-service-id"], "sayhello-7");
    assert.equal(seen.length, 2);
    await client.close();
  });

  it("wraps other API errors as REGISTER_FAILED with the cause", async () => {
    const { client } = recorder(() => new Response("{}", { status: 404 }));
    const reg = createRegistrar({ api: client, pod: { namespace: "shop", name: "gone" } });
    await assert.rejects(reg.register(instance), (e: unknown) => e instanceof RegistryError && e.code === "REGISTER_FAILED" && /shop\/gone/.test(e.message) && e.cause !== undefined);
    await client.close();
  });

  it("rejects with the signal's reason when aborted", async () => {
    const { seen, client } = recorder(podJson);
    const reg = createRegistrar({ api: client, pod: { namespace: "shop", name: "sayhello-1" } });
    const ac = new AbortController();
    ac.abort(new Error("shutting down"));
    await assert.rejects(reg.register(instance, { signal: ac.signal }), /shutting down/);
    assert.equal(seen.length, 0);
    await client.close();
  });
});
