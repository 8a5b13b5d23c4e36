/**
 * OpenTelemetry of the balancing transport, read back through the SDK's
 * in-memory reader and exporter: rpc.client.call.duration and kratos-kube's
 * own instruments (names, attributes, values), a call span with one child
 * span per attempt, and the W3C traceparent each attempt sends.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as otel from "@opentelemetry/api";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createDiscoveryTransport, createManualDiscovery, type DiscoveryTransport, type LogRecord } from "../../src/connect/index.ts";
import { Echo } from "../../proto/gen/echo_pb.ts";
import { closedPort, instance, startServer, type TestServer } from "./support/servers.ts";
import { watchdog } from "./support/load.ts";
import { countOf, createTestOtel, sumOf, type TestOtel } from "./support/otel.ts";

const SERVICE = "echo.service";
const METHOD = "kratoskube.echo.v1.Echo/Say";

describe("telemetry: metrics and spans of calls", () => {
  let refuser: TestServer;
  let good: TestServer;
  const seen: { path: string; traceparent: string | undefined }[] = [];
  let t: TestOtel;
  let transport: DiscoveryTransport;

  before(async () => {
    refuser = await startServer({ refuseEcho: true });
    good = await startServer({ onRequest: (path, h) => seen.push({ path, traceparent: h.traceparent as string | undefined }) });
    t = createTestOtel();
    const discovery = createManualDiscovery({ [SERVICE]: [instance(refuser.address), instance(good.address)] });
    transport = createDiscoveryTransport({ discovery, target: `discovery:///${SERVICE}`, telemetry: t.options });
    await transport.ready({ count: 2 });
  });
  after(async () => {
    await transport.close();
    await Promise.all([refuser.close(), good.close(), t.close()]);
  });

  it("records one rpc.client.call.duration per call and one attempt per pick, retries counted", watchdog, async () => {
    const client = createClient(Echo, transport);
    for (let i = 0; i < 4; i++) assert.equal((await client.say({ text: `m${i}` })).server, good.address);
    const err = await client.say({ text: "fail" }).catch((e: unknown) => e);
    assert.ok(err instanceof ConnectError && err.code === Code.FailedPrecondition, String(err));

    const calls = await t.points("rpc.client.call.duration");
    const base = { "rpc.system.name": "grpc", "rpc.method": METHOD, "server.address": SERVICE };
    assert.equal(countOf(calls, { ...base, "rpc.response.status_code": "OK" }), 4);
    assert.equal(countOf(calls, { ...base, "rpc.response.status_code": "FAILED_PRECONDITION", "error.type": "FAILED_PRECONDITION" }), 1);
    const metric = (await t.metrics()).get("rpc.client.call.duration")!;
    assert.equal(metric.descriptor.unit, "s");

    const refused = refuser.refused.count;
    assert.ok(refused >= 1, "round robin picked the refusing endpoint at least once");
    const picks = await t.points("kratos_kube.client.picks");
    const [rHost, rPort] = refuser.address.split(":");
    const [gHost, gPort] = good.address.split(":");
    assert.equal(sumOf(picks, { "server.address": rHost, "server.port": Number(rPort), "kratos_kube.service": SERVICE }), refused);
    assert.equal(sumOf(picks, { "server.address": gHost, "server.port": Number(gPort) }), 5);
    assert.equal(sumOf(await t.points("kratos_kube.client.retries"), { "rpc.method": METHOD }), refused);
    const attempts = await t.points("kratos_kube.client.attempt.duration");
    assert.equal(countOf(attempts, { "server.address": gHost, "rpc.response.status_code": "OK" }), 4);
    assert.equal(countOf(attempts, { "server.address": rHost, "rpc.response.status_code": "UNAVAILABLE" }), refused);

    const states = await t.points("kratos_kube.client.endpoints");
    assert.equal(sumOf(states, { "kratos_kube.service": SERVICE, "kratos_kube.endpoint.state": "ready" }), 2);
  });

  it("makes a call span with a child span per attempt and sends each attempt's traceparent", watchdog, async () => {
    const client = createClient(Echo, transport);
    seen.length = 0;
    const before = t.spans().length;
    for (let i = 0; i < 2; i++) await client.say({ text: `s${i}` });
    const spans = t.spans().slice(before);
    const calls = spans.filter((s) => s.name === METHOD);
    assert.equal(calls.length, 2);
    for (const call of calls) {
      assert.equal(call.kind, 2, "SpanKind.CLIENT");
      assert.equal(call.attributes["rpc.system.name"], "grpc");
      assert.equal(call.attributes["server.address"], SERVICE);
      assert.equal(call.attributes["rpc.response.status_code"], "OK");
      const attempts = spans.filter((s) => s.parentSpanContext?.spanId === call.spanContext().spanId);
      assert.ok(attempts.length >= 1 && attempts.every((a) => a.name === `Attempt.${METHOD}`));
      const last = attempts.at(-1)!;
      assert.equal(last.attributes["server.address"], good.address.split(":")[0]);
      assert.equal(last.attributes["server.port"], good.port);
      assert.equal(last.attributes["kratos_kube.attempt"], attempts.length);
      assert.equal(last.spanContext().traceId, call.spanContext().traceId);
      const sent = seen.filter((s) => s.path === `/${METHOD}` && s.traceparent?.includes(last.spanContext().spanId));
      assert.equal(sent.length, 1, `traceparent of the attempt reached the server: ${JSON.stringify(seen)}`);
      assert.match(sent[0]!.traceparent!, new RegExp(`^00-${call.spanContext().traceId}-${last.spanContext().spanId}-01$`));
    }
    assert.ok(seen.every((s) => s.path !== `/${METHOD}` || s.traceparent !== undefined));
  });

  it("ends a streaming call's span when its messages end", watchdog, async () => {
    const client = createClient(Echo, transport);
    const got: string[] = [];
    for await (const r of client.repeat({ text: "r", count: 3 })) got.push(r.text);
    assert.deepEqual(got, ["r-0", "r-1", "r-2"]);
    const span = t.spans().find((s) => s.name === "kratoskube.echo.v1.Echo/Repeat");
    assert.ok(span !== undefined, "the stream's call span ended");
    assert.equal(span.attributes["rpc.response.status_code"], "OK");
    const calls = await t.points("rpc.client.call.duration");
    assert.equal(countOf(calls, { "rpc.method": "kratoskube.echo.v1.Echo/Repeat", "rpc.response.status_code": "OK" }), 1);
  });
});

describe("telemetry: context and protocols", () => {
  it("makes the call span a child of the caller's active span", watchdog, async () => {
    const server = await startServer();
    const t = createTestOtel();
    const tracer = t.options.tracerProvider!.getTracer("test");
    const parent = tracer.startSpan("handler");
    const parentCtx = otel.trace.setSpan(otel.ROOT_CONTEXT, parent as otel.Span);
    // the caller's context manager, as AsyncLocalStorage would give it
    const api = { ...otel, context: { active: () => parentCtx, with: otel.context.with.bind(otel.context) } } as typeof otel;
    const discovery = createManualDiscovery({ [SERVICE]: [instance(server.address)] });
    const transport = createDiscoveryTransport({ discovery, target: `discovery:///${SERVICE}`, telemetry: { ...t.options, api } });
    try {
      await createClient(Echo, transport).say({ text: "x" });
      parent.end();
      const call = t.spans().find((s) => s.name === METHOD)!;
      assert.equal(call.parentSpanContext?.spanId, parent.spanContext().spanId);
      assert.equal(call.spanContext().traceId, parent.spanContext().traceId);
    } finally {
      await transport.close();
      await Promise.all([server.close(), t.close()]);
    }
  });

  it("names the Connect protocol connectrpc, with Connect's code names and none on success", watchdog, async () => {
    const server = await startServer();
    const t = createTestOtel();
    const discovery = createManualDiscovery({ [SERVICE]: [instance(server.address)] });
    const transport = createDiscoveryTransport({ discovery, target: `discovery:///${SERVICE}`, protocol: "connect", telemetry: t.options });
    try {
      const client = createClient(Echo, transport);
      await client.say({ text: "ok" });
      await client.say({ text: "fail" }).catch(() => {});
      const calls = await t.points("rpc.client.call.duration");
      const base = { "rpc.system.name": "connectrpc", "rpc.method": METHOD };
      assert.equal(countOf(calls, { ...base, "rpc.response.status_code": "failed_precondition", "error.type": "failed_precondition" }), 1);
      const ok = calls.filter((p) => p.attributes["rpc.system.name"] === "connectrpc" && p.attributes["rpc.response.status_code"] === undefined);
      assert.equal(countOf(ok), 1);
    } finally {
      await transport.close();
      await Promise.all([server.close(), t.close()]);
    }
  });
});

describe("telemetry: ejections", () => {
  it("counts an endpoint put in backoff, with a reason", watchdog, async () => {
    const t = createTestOtel();
    const port = await closedPort();
    const discovery = createManualDiscovery({ [SERVICE]: [instance(`127.0.0.1:${port}`)] });
    let ejected!: () => void;
    const backoff = new Promise<void>((r) => (ejected = r));
    const transport = createDiscoveryTransport({
      discovery,
      target: `discovery:///${SERVICE}`,
      telemetry: t.options,
      onEvent: (e) => e.state === "backoff" && ejected(),
    });
    try {
      await backoff;
      const points = await t.points("kratos_kube.client.endpoint.ejections");
      assert.equal(sumOf(points, { "server.address": "127.0.0.1", "server.port": port, "kratos_kube.service": SERVICE }), 1);
      const reason = points[0]!.attributes["kratos_kube.ejection.reason"];
      assert.ok(typeof reason === "string" && reason !== "", String(reason));
    } finally {
      await transport.close();
      await t.close();
    }
  });

  it("counts and logs an outlier detection ejection with its reason, and shows it in the endpoint gauge", watchdog, async () => {
    const t = createTestOtel();
    const [refuser, good] = await Promise.all([startServer({ refuseEcho: true }), startServer()]);
    const discovery = createManualDiscovery({ [SERVICE]: [instance(refuser.address), instance(good.address)] });
    const records: LogRecord[] = [];
    const transport = createDiscoveryTransport({ discovery, target: `discovery:///${SERVICE}`, telemetry: t.options, logger: (r) => records.push(r) });
    try {
      await transport.ready({ count: 2 });
      const client = createClient(Echo, transport);
      // every refused attempt is retried on the good endpoint; the fifth in a row ejects the refuser
      while (refuser.refused.count < 5) await client.say({ text: "x" });
      const [host, port] = refuser.address.split(":");
      const points = await t.points("kratos_kube.client.endpoint.ejections");
      assert.equal(sumOf(points, { "server.address": host, "server.port": Number(port), "kratos_kube.ejection.reason": "consecutive-failures" }), 1);
      const states = await t.points("kratos_kube.client.endpoints");
      assert.equal(sumOf(states, { "kratos_kube.endpoint.state": "ready", "kratos_kube.ejection.reason": "consecutive-failures" }), 1);
      const rec = records.find((r) => r.message === "endpoint ejected by outlier detection");
      assert.deepEqual(rec, { level: "warn", message: "endpoint ejected by outlier detection", fields: { service: SERVICE, address: refuser.address, reason: "consecutive-failures" } });
    } finally {
      await transport.close();
      await Promise.all([refuser.close(), good.close(), t.close()]);
    }
  });

  it("refuses a telemetry option that is not the @opentelemetry/api module", () => {
    const discovery = createManualDiscovery();
    assert.throws(
      () => createDiscoveryTransport({ discovery, target: `discovery:///${SERVICE}`, telemetry: { api: {} as never } }),
      /telemetry\.api must be the @opentelemetry\/api module .*missing: trace, metrics, context, propagation/,
    );
  });
});
