// A short demo run, in-process, with captured output: the whole scenario
// (scale up, rolling restart, abrupt kill, scale down) must finish by itself,
// close everything, and hold its promise: no failed call except calls in
// flight on the killed server.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { captureIo } from "../../cli/io.ts";
import { run } from "../../cli/demo.ts";

function summaryNumbers(out: string): { sent: number; ok: number; failed: number; onKilled: number; elsewhere: number } {
  const calls = /^calls: (\d+) sent, (\d+) ok, (\d+) failed/m.exec(out);
  const result = /^result: \w+(?: \w+)? \((\d+) failed: (\d+) on the killed server, (\d+) elsewhere\)$/m.exec(out);
  assert.ok(calls && result, `no summary in:\n${out}`);
  return { sent: Number(calls[1]), ok: Number(calls[2]), failed: Number(calls[3]), onKilled: Number(result[2]), elsewhere: Number(result[3]) };
}

describe("kratos-kube demo", () => {
  it("runs a 3 s scenario to the end with plain lines and holds the expected result", async () => {
    const io = captureIo();
    const code = await run(["--duration", "3", "--replicas", "2", "--rate", "40"], io);
    const out = io.out();
    assert.equal(code, 0, `${out}\n${io.err()}`);
    assert.ok(!out.includes("\x1b["), "plain lines when stdout is not a terminal");
    for (const step of ["scale up to 4 replicas", "rolling restart", "kill one server abruptly", "scale down to 2 replicas"]) {
      assert.ok(out.includes(step), `the log mentions ${step}`);
    }
    assert.match(out, /watch: MODIFIED default\/sayhello-v1-\w+ terminating/);
    assert.match(out, /watch: DELETED {2}default\/sayhello-v1-/);
    assert.match(out, /^POD\s+VER\s+FATE\s+CALLS$/m);
    assert.match(out, /\bkilled\b/);
    assert.match(out, /\breplaced\b/);
    assert.match(out, /^expected: no failed call except calls in flight on the killed server$/m);
    const n = summaryNumbers(out);
    assert.ok(n.sent >= 40, `calls were made: ${n.sent}`);
    assert.equal(n.ok + n.failed, n.sent, "every call settled");
    assert.equal(n.elsewhere, 0, "no failure except on the killed server");
    assert.equal(n.onKilled, n.failed);
    assert.match(out, /^killed: sayhello-v2-\w+, \d+ call\(s\) in flight at the kill; \d+ failed call\(s\) were on it$/m);
    assert.match(out, /^result: HELD/m);
  });

  it("redraws a live view in place on a terminal, then prints the summary", async () => {
    const io = captureIo({ tty: true });
    const code = await run(["--duration", "2", "--replicas", "1", "--rate", "20", "--balancer", "p2c"], io);
    const out = io.out();
    assert.equal(code, 0, `${out}\n${io.err()}`);
    assert.ok(out.includes("\x1b[2K"), "lines are cleared and redrawn");
    assert.match(out, /\x1b\[\d+A/, "the cursor moves up over the previous frame");
    assert.match(out, /kratos-kube demo {2}[\d.]+s \/ 2\.0s {2}phase:/);
    assert.match(out, /balancer p2c/);
    assert.match(out, /result: HELD/);
  });

  it("-o json prints the summary as data on stdout and the log on stderr", async () => {
    const io = captureIo();
    const code = await run(["--duration", "1", "--replicas", "1", "--rate", "20", "-o", "json"], io);
    assert.equal(code, 0, io.err());
    const doc = JSON.parse(io.out()) as { held: boolean; calls: { sent: number; ok: number; failed: number }; failedOnKilled: number; pods: { fate: string }[] };
    assert.equal(doc.held, true);
    assert.equal(doc.calls.ok + doc.calls.failed, doc.calls.sent);
    assert.equal(doc.calls.failed, doc.failedOnKilled);
    assert.ok(doc.pods.some((p) => p.fate === "killed"));
    assert.match(io.err(), /── rolling restart/);
  });

  it("--source endpointslices: micro-forge finds sayhello through its Service's EndpointSlices and the result holds", async () => {
    const io = captureIo();
    const code = await run(["--duration", "2", "--replicas", "2", "--rate", "40", "--source", "endpointslices"], io);
    const out = io.out();
    assert.equal(code, 0, `${out}\n${io.err()}`);
    assert.match(out, /micro-forge discovers kubernetes:\/\/\/sayhello\.default:grpc: the EndpointSlices of Service sayhello/);
    const n = summaryNumbers(out);
    assert.ok(n.sent >= 20 && n.ok + n.failed === n.sent, `calls were made and settled: ${n.sent}`);
    assert.equal(n.elsewhere, 0, "no failure except on the killed server");
    assert.match(out, /^result: HELD/m);
    const io2 = captureIo();
    assert.equal(await run(["--source", "endpointslices", "--kubeconfig", "/nonexistent"], io2), 2);
    assert.match(io2.err(), /--source endpointslices runs on the embedded fake API server only/);
  });

  it("rejects bad flags in one line with exit code 2", async () => {
    const io = captureIo();
    assert.equal(await run(["--balancer", "fastest"], io), 2);
    assert.match(io.err(), /^kratos-kube demo: --balancer must be one of round_robin, p2c, wrr, random, not "fastest"; see `kratos-kube demo --help`\n$/);
    const io2 = captureIo();
    assert.equal(await run(["--duration", "0"], io2), 2);
    assert.match(io2.err(), /--duration must be a number from 1 to 3600/);
  });
});
