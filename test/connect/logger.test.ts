/**
 * The logger hook: levels, structured fields, credential-named fields
 * redacted, a throwing logger ignored, and the transport's records (an
 * ejected endpoint, a failing discovery) when `logger` is set.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { consoleLogger, createDiscoveryTransport, createManualDiscovery, filterLevel, type EndpointSource, type LogRecord } from "../../src/connect/index.ts";
import { emit } from "../../src/connect/logger.ts";
import { closedPort, instance } from "./support/servers.ts";
import { watchdog } from "./support/load.ts";

describe("logger", () => {
  it("consoleLogger writes records at its level and above, one line each", () => {
    const lines: string[] = [];
    const log = consoleLogger({ level: "info", write: (l) => lines.push(l) });
    emit(log, "debug", "endpoint ready", { address: "10.0.0.1:9000" });
    emit(log, "warn", "endpoint ejected", { address: "10.0.0.1:9000", error: new Error("connect ECONNREFUSED") });
    assert.deepEqual(lines, ['kratos-kube warn endpoint ejected {"address":"10.0.0.1:9000","error":"connect ECONNREFUSED"}']);
    assert.throws(() => consoleLogger({ level: "verbose" as never }), /consoleLogger: unknown level "verbose" \(debug, info, warn, error\)/);
  });

  it("redacts credential-named fields and ignores a throwing logger", () => {
    const got: LogRecord[] = [];
    emit((r) => got.push(r), "info", "x", { token: "s3cr3t", Authorization: "Bearer s3cr3t", bearerTokenFile: "/var/run/t", name: "web-0", skipped: undefined });
    assert.deepEqual(got, [{ level: "info", message: "x", fields: { token: "[redacted]", Authorization: "[redacted]", bearerTokenFile: "[redacted]", name: "web-0" } }]);
    assert.doesNotThrow(() => emit(() => { throw new Error("boom"); }, "error", "y", {}));
    const kept: LogRecord[] = [];
    const warnOnly = filterLevel((r) => kept.push(r), "warn");
    emit(warnOnly, "info", "a", {});
    emit(warnOnly, "error", "b", {});
    assert.deepEqual(kept.map((r) => r.message), ["b"]);
  });

  it("the transport logs an ejected endpoint", watchdog, async () => {
    const port = await closedPort();
    const records: LogRecord[] = [];
    let ejected!: () => void;
    const backoff = new Promise<void>((r) => (ejected = r));
    const discovery = createManualDiscovery({ "echo.service": [instance(`127.0.0.1:${port}`)] });
    const transport = createDiscoveryTransport({
      discovery,
      target: "discovery:///echo.service",
      logger: (r) => {
        records.push(r);
        if (r.message === "endpoint ejected") ejected();
      },
    });
    try {
      await backoff;
      const rec = records.find((r) => r.message === "endpoint ejected")!;
      assert.equal(rec.level, "warn");
      assert.deepEqual(Object.keys(rec.fields).sort(), ["address", "error", "service", "state"]);
      assert.equal(rec.fields.service, "echo.service");
      assert.equal(rec.fields.address, `127.0.0.1:${port}`);
      assert.equal(rec.fields.state, "backoff");
      assert.equal(typeof rec.fields.error, "string");
      assert.ok(records.some((r) => r.level === "debug" && r.message === "endpoint connecting"), JSON.stringify(records));
    } finally {
      await transport.close();
    }
  });

  it("refuses a logger that is not a function, naming the option", () => {
    const discovery = createManualDiscovery();
    assert.throws(
      () => createDiscoveryTransport({ discovery, target: "discovery:///echo.service", logger: "debug" as never }),
      (e: unknown) => e instanceof TypeError && /createDiscoveryTransport: logger must be a function \(record\) => void, e\.g\. consoleLogger\(\); got string/.test(e.message),
    );
  });

  it("the transport logs a failing discovery", watchdog, async () => {
    const records: LogRecord[] = [];
    let failed!: () => void;
    const discoveryFailed = new Promise<void>((r) => (failed = r));
    const source: EndpointSource = { watch: () => Promise.reject(new Error("apiserver unreachable")) };
    const transport = createDiscoveryTransport({
      discovery: source,
      target: "discovery:///echo.service",
      logger: (r) => records.push(r),
      onError: () => failed(),
    });
    try {
      await discoveryFailed;
      assert.deepEqual(records, [
        { level: "warn", message: "discovery failed, retrying", fields: { service: "echo.service", during: "watch", error: "apiserver unreachable" } },
      ]);
    } finally {
      await transport.close();
    }
  });
});
