/**
 * Content negotiation of the client over an injected fetch: the Accept each
 * encoding sends, decoding by the answer's Content-Type (protobuf captures of
 * a real kube-apiserver, or JSON), protobuf error bodies, and an informer
 * over protobuf; `auto` and `json` against the fake API server.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { KubeConfig } from "../../src/kube/config.ts";
import { createKubeClient } from "../../src/kube/client.ts";
import { KubeApiError, WatchError } from "../../src/kube/errors.ts";
import { WatchDecodeError } from "../../src/kube/watch-decoder.ts";
import { createInformer } from "../../src/kube/informer.ts";
import { podResource } from "../../src/kube/pod-resource.ts";
import { protobufWatchOf } from "../../src/kube/protobuf/negotiation.ts";
import { POD_RESOURCE } from "../../src/kube/resource.ts";
import { createManualClock, FakeKubeApiServer, makePod } from "../../src/testing/index.ts";

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../fixtures/protobuf/${name}`, import.meta.url)));
const config = KubeConfig.fromOptions({ server: "https://kube.example:6443", token: "t", namespace: "capture" });
const PB = "application/vnd.kubernetes.protobuf";

/** A fetch answering LIST with `list`, WATCH with `watch`, anything else 404 in protobuf; logs the Accept of each request. */
function server(list: { type: string; body: Uint8Array }, watch: { type: string; body: Uint8Array }) {
  const accepts: string[] = [];
  const fetch = async (req: Request): Promise<Response> => {
    accepts.push(req.headers.get("accept") ?? "");
    const url = new URL(req.url);
    if (url.pathname.endsWith("/pods") && url.searchParams.get("watch") === "true") {
      // The stream stays open after the captured frames, as a real watch does.
      return new Response(new ReadableStream({ start: (c) => c.enqueue(watch.body) }), { headers: { "content-type": watch.type } });
    }
    if (url.pathname.endsWith("/pods")) return new Response(list.body as Uint8Array<ArrayBuffer>, { headers: { "content-type": list.type } });
    return new Response(fixture("status-404.pb") as Uint8Array<ArrayBuffer>, { status: 404, headers: { "content-type": PB } });
  };
  return { fetch, accepts };
}

const pbServer = () => server({ type: PB, body: fixture("pod-list.pb") }, { type: `${PB};stream=watch`, body: fixture("watch-pods.pb") });
const jsonServer = () => server({ type: "application/json", body: fixture("pod-list.json") }, { type: "application/json", body: fixture("watch-pods.json") });

describe("client content negotiation", () => {
  it("sends the Accept of each encoding, protobuf only where the descriptor reads it", async () => {
    const expected = {
      auto: [`${PB}, application/json`, `${PB};stream=watch, application/json`],
      protobuf: [PB, `${PB};stream=watch`],
      json: ["application/json", "application/json"],
    };
    for (const encoding of ["auto", "protobuf", "json"] as const) {
      const s = pbServer();
      const client = createKubeClient({ config, fetch: s.fetch, encoding });
      await client.listObjects(podResource(), { namespace: "capture" }).catch(() => {});
      await (await client.watchObjects(podResource(), { namespace: "capture" })).cancel();
      await client.listObjects(POD_RESOURCE, { namespace: "capture" }).catch(() => {});
      assert.deepEqual(s.accepts, [...expected[encoding], "application/json"], encoding);
    }
  });

  it("decodes whichever encoding comes back and marks protobuf watches only", async () => {
    const d = podResource({ annotations: "all" });
    const fromPb = createKubeClient({ config, fetch: pbServer().fetch });
    const fromJson = createKubeClient({ config, fetch: jsonServer().fetch });
    const [a, b] = [await fromPb.listObjects(d, {}), await fromJson.listObjects(d, {})];
    assert.deepEqual(a.items.map((p) => d.project(p)), b.items.map((p) => d.project(p)));
    assert.equal(a.metadata.resourceVersion, b.metadata.resourceVersion);
    const [wa, wb] = [await fromPb.watchObjects(d, {}), await fromJson.watchObjects(d, {})];
    assert.equal(protobufWatchOf(wa), d.protobuf);
    assert.equal(protobufWatchOf(wb), undefined);
    await Promise.all([wa.cancel(), wb.cancel()]);
  });

  it("turns a protobuf error body into the KubeApiError of its Status", async () => {
    const client = createKubeClient({ config, fetch: pbServer().fetch });
    await assert.rejects(client.request("GET", "/api/v1/namespaces/capture/pods/nobody", { accept: PB }), (e: unknown) => {
      assert.ok(e instanceof KubeApiError);
      assert.equal(e.status, 404);
      assert.equal(e.reason, "NotFound");
      assert.ok(e.isNotFound());
      assert.match(e.message, /pods "nobody" not found/);
      return true;
    });
  });

  it("an undecodable protobuf error body still gives a KubeApiError with the status line; a broken protobuf list is InvalidBody", async () => {
    const garbage = async (req: Request): Promise<Response> =>
      new Response(Uint8Array.of(1, 2, 3), { status: new URL(req.url).pathname.endsWith("/a") ? 503 : 200, headers: { "content-type": PB } });
    const client = createKubeClient({ config, fetch: garbage });
    await assert.rejects(client.request("GET", "/api/v1/namespaces/capture/pods/a", { accept: PB }), (e: unknown) => e instanceof KubeApiError && e.status === 503);
    await assert.rejects(client.listObjects(podResource(), {}), (e: unknown) =>
      e instanceof KubeApiError && e.reason === "InvalidBody" && /protobuf answer cannot be decoded: .*magic/.test(e.message));
  });

  it("refuses an unknown encoding with a TypeError naming it", () => {
    assert.throws(() => createKubeClient({ config, encoding: "yaml" as never }), /encoding must be "auto", "json" or "protobuf", got "yaml"/);
  });

  it("an informer over protobuf lists and applies the watch's frames", async () => {
    const client = createKubeClient({ config, fetch: pbServer().fetch, encoding: "protobuf" });
    const errors: Error[] = [];
    await using inf = createInformer({ api: client, resource: podResource(), namespace: "capture", onError: (e) => errors.push(e) });
    inf.start();
    await inf.ready();
    // The captured watch ends with the unscheduled pod's DELETED.
    await new Promise<void>((resolve) => {
      const check = (): boolean => inf.get("capture", "greeter-2")?.terminating === true && inf.get("capture", "unscheduled") === undefined;
      if (check()) return resolve();
      const off = inf.subscribe(() => check() && (off(), resolve()));
    });
    assert.deepEqual([...inf.values()].map((p) => p.name).sort(), ["greeter-1", "greeter-2"]);
    assert.equal(inf.get("capture", "greeter-1")?.labels["tier"], "frontend");
    assert.deepEqual(errors, []);
  });

  it("a garbage frame in a protobuf watch is a decode WatchError; the reflector re-watches and goes on, as with a bad JSON line", async () => {
    const frames = fixture("watch-pods.pb");
    let watches = 0;
    const fetch = async (req: Request): Promise<Response> => {
      const url = new URL(req.url);
      if (url.searchParams.get("watch") !== "true") return new Response(fixture("pod-list.pb") as Uint8Array<ArrayBuffer>, { headers: { "content-type": PB } });
      // First watch: a frame of 12 bytes of garbage; then the captured events.
      const body = ++watches === 1 ? Uint8Array.of(0, 0, 0, 12, ...new Uint8Array(12).fill(0xff)) : frames;
      return new Response(new ReadableStream({ start: (c) => c.enqueue(body) }), { headers: { "content-type": `${PB};stream=watch` } });
    };
    const clock = createManualClock(Date.now());
    const errors: Error[] = [];
    const client = createKubeClient({ config, fetch, encoding: "protobuf" });
    await using inf = createInformer({ api: client, resource: podResource(), namespace: "capture", clock, random: () => 0, onError: (e) => errors.push(e) });
    inf.start();
    await inf.ready();
    for (let i = 0; i < 600 && inf.get("capture", "unscheduled") === undefined && watches < 2; i++) await clock.advance(100);
    for (let i = 0; i < 100 && inf.get("capture", "greeter-1")?.labels["tier"] !== "frontend"; i++) await clock.advance(100);
    assert.equal(inf.get("capture", "greeter-1")?.labels["tier"], "frontend", "the second watch's events applied");
    const decode = errors.find((e) => e instanceof WatchError && e.kind === "decode");
    assert.ok(decode, errors.map((e) => e.message).join("; "));
    assert.ok(decode.cause instanceof WatchDecodeError && decode.cause.reason === "invalid-protobuf", String(decode.cause));
  });

  it("against the fake API server: auto reads protobuf, json reads JSON", async () => {
    await using fake = new FakeKubeApiServer();
    fake.createPod(makePod({ name: "p1", namespace: "default", app: "x" }));
    for (const encoding of ["auto", "json"] as const) {
      const client = createKubeClient({ config: KubeConfig.fromOptions({ server: "https://kube.example", token: "t" }), fetch: fake.fetch, encoding });
      try {
        const list = await client.listObjects(podResource(), { namespace: "default" });
        assert.equal("creationTimestamp" in list.items[0]!.metadata, encoding === "json", "a JSON answer keeps the whole object");
        const body = await client.watchObjects(podResource(), { namespace: "default" });
        assert.equal(protobufWatchOf(body) !== undefined, encoding === "auto");
        await body.cancel();
      } finally {
        await client.close();
      }
    }
  });
});
