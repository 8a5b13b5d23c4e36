// `kratos-kube watch --connect`: the client transport's view of each
// endpoint beside discovery's, against the fake API server and real servers
// on loopback (grpc.health.v1 Watch included). Every wait is on an output line.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeKubeApiServer, makePod } from "../../src/testing/index.ts";
import { captureIo } from "../../cli/io.ts";
import { run as watch } from "../../cli/watch.ts";
import { clientCell, lineOfRecord, SlowStartTracker } from "../../cli/watch-client.ts";
import { instanceRow, renderInstanceTable } from "../../cli/instance-rows.ts";
import type { PodRecord } from "../../src/kube/pod-record.ts";
import { closedPort, startServer, type TestServer } from "../connect/support/servers.ts";

const APP = "echo.service";

describe("kratos-kube watch --connect: pure parts", () => {
  it("names each client state in the CLIENT cell", () => {
    const base = { address: "10.0.0.1:9000", inflight: 0, failures: 0 };
    assert.equal(clientCell(undefined), "");
    assert.equal(clientCell({ ...base, state: "ready" }), "ready");
    assert.equal(clientCell({ ...base, state: "ready", slowStartWeight: 0.404 }), "ready, slow start 40%");
    assert.equal(clientCell({ ...base, state: "not-serving" }), "NOT_SERVING");
    assert.equal(clientCell({ ...base, state: "backoff", lastError: "connect ECONNREFUSED" }), "backoff: connect ECONNREFUSED");
    assert.equal(clientCell({ ...base, state: "ready", ejected: "consecutive-failures" }), "ejected (consecutive-failures)");
    assert.equal(clientCell({ ...base, state: "draining" }), "draining");
  });

  it("turns transport log records into lines, leaving debug out", () => {
    assert.equal(lineOfRecord({ level: "debug", message: "endpoint connecting", fields: { address: "a:1" } }), undefined);
    assert.deepEqual(lineOfRecord({ level: "warn", message: "endpoint ejected by outlier detection", fields: { address: "a:1", reason: "success-rate" } }), {
      address: "a:1",
      message: "endpoint ejected by outlier detection",
      detail: "success-rate",
    });
    assert.deepEqual(lineOfRecord({ level: "warn", message: "endpoint ejected", fields: { address: "a:1", state: "backoff", error: "ECONNREFUSED" } }), {
      address: "a:1",
      message: "endpoint ejected",
      state: "backoff",
      detail: "ECONNREFUSED",
    });
  });

  it("says once when a slow start begins and once when it ends", () => {
    const t = new SlowStartTracker();
    const s = (weight?: number) => ({ address: "a:1", state: "ready" as const, inflight: 0, failures: 0, ...(weight !== undefined ? { slowStartWeight: weight } : {}) });
    assert.deepEqual(t.update([s(0.1)]).map((l) => [l.message, l.detail]), [["slow start: taking a growing share of calls", "weight 10%"]]);
    assert.deepEqual(t.update([s(0.5)]), []);
    assert.deepEqual(t.update([s()]).map((l) => l.message), ["slow start over: taking its full share of calls"]);
    assert.deepEqual(t.update([s()]), []);
  });

  it("adds a CLIENT column only when asked", () => {
    const record: PodRecord = {
      namespace: "default", name: "echo-a", uid: "uid-a", resourceVersion: "1",
      labels: { "kratos-service-app": APP, "kratos-service-id": "echo-a", "kratos-service-version": "v1" },
      annotations: { "kratos-service-protocols": '{"9000":"grpc"}' },
      phase: "Running", ready: true, terminating: false, podIPs: ["10.244.0.5"], ports: [{ name: "grpc", port: 9000, protocol: "TCP" }],
    };
    const row = instanceRow(record);
    assert.doesNotMatch(renderInstanceTable([row])[0]!, /CLIENT/);
    const table = renderInstanceTable([row], (r) => (r.address === "10.244.0.5:9000" ? "ready, slow start 40%" : "?"));
    assert.match(table[0]!, /READY\s+CLIENT/);
    assert.match(table[1]!, /True\s+ready, slow start 40%/);
  });
});

describe("kratos-kube watch --connect against the fake API server and real servers", () => {
  const fake = new FakeKubeApiServer();
  const dir = mkdtempSync(join(tmpdir(), "kratos-kube-watch-connect-"));
  let a: TestServer;
  let b: TestServer;
  let kubeconfig = "";
  const pod = (name: string, port: number) =>
    makePod({ name, app: APP, ip: "127.0.0.1", ports: [{ name: "grpc", containerPort: port }], protocols: `{"${port}":"grpc"}` });

  before(async () => {
    await fake.listen();
    [a, b] = await Promise.all([startServer(), startServer()]);
    kubeconfig = join(dir, "config.yaml");
    writeFileSync(kubeconfig, fake.kubeconfig());
  });
  after(async () => {
    await Promise.all([a.close(), b.close()]);
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("-o json: connects, NOT_SERVING and SERVING again from the health watch, and a refused endpoint's backoff", async () => {
    fake.createPod(pod("echo-a", a.port));
    const stop = new AbortController();
    const io = captureIo({ signal: stop.signal });
    const done = watch([APP, "--kubeconfig", kubeconfig, "--connect", "-o", "json"], io);
    try {
      await io.waitForOut(new RegExp(`"type":"client","address":"${a.address}","message":"endpoint ready, taking calls"`));
      a.serving = false;
      await io.waitForOut(new RegExp(`"address":"${a.address}","message":"endpoint reports NOT_SERVING[^"]*","state":"not-serving"`));
      a.serving = true;
      await io.waitForOut(new RegExp(`"address":"${a.address}","message":"endpoint reports SERVING again, taking calls"`));
      const dead = await closedPort();
      fake.createPod(pod("echo-dead", dead));
      await io.waitForOut(new RegExp(`"address":"127\\.0\\.0\\.1:${dead}","message":"endpoint ejected","state":"backoff","detail":"[^"]*ECONNREFUSED`));
    } finally {
      stop.abort();
    }
    assert.equal(await done, 0);
    const lines = io.out().trim().split("\n").map((l) => JSON.parse(l) as { type: string; message?: string; address?: string });
    assert.equal(lines[0]?.type, "synced");
    // The recovery is said once, by the health watch's line, not again as a fresh connect.
    assert.equal(lines.filter((l) => l.address === a.address && l.message === "endpoint ready, taking calls").length, 1);
    fake.deletePod("default", "echo-dead");
    fake.deletePod("default", "echo-a");
  });

  it("plain lines name the pod; a pod that joins later ramps up under --slow-start and says when it is over", async () => {
    fake.createPod(pod("echo-a", a.port));
    const stop = new AbortController();
    const io = captureIo({ signal: stop.signal });
    const done = watch([APP, "--kubeconfig", kubeconfig, "--connect", "--slow-start", "300"], io);
    try {
      await io.waitForOut(new RegExp(`client: default/echo-a ${a.address} endpoint ready, taking calls`));
      fake.createPod(pod("echo-b", b.port));
      await io.waitForOut(new RegExp(`client: default/echo-b ${b.address} slow start: taking a growing share of calls \\(weight \\d+%\\)`));
      await io.waitForOut(new RegExp(`client: default/echo-b ${b.address} slow start over: taking its full share of calls`));
    } finally {
      stop.abort();
    }
    assert.equal(await done, 0);
    assert.doesNotMatch(io.out(), new RegExp(`echo-a ${a.address} slow start`), "the first endpoint has nobody to ramp up beside");
    fake.deletePod("default", "echo-a");
    fake.deletePod("default", "echo-b");
  });

  it("rejects --slow-start without --connect, and a bad window, with exit code 2", async () => {
    const io = captureIo();
    assert.equal(await watch([APP, "--kubeconfig", kubeconfig, "--slow-start", "100"], io), 2);
    assert.match(io.err(), /--slow-start needs --connect/);
    const io2 = captureIo();
    assert.equal(await watch([APP, "--kubeconfig", kubeconfig, "--connect", "--slow-start", "soon"], io2), 2);
    assert.match(io2.err(), /--slow-start must be a number from 0 to 3600000, not "soon"/);
  });
});
