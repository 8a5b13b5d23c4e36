// Pure parts of the demo: the timeline and the verdict.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { describeStep, planScenario } from "../../cli/demo/scenario.ts";
import { renderSummary, verdict, type DemoState } from "../../cli/demo/view.ts";
import { emptyStats } from "../../cli/demo/traffic.ts";
import type { DemoPod } from "../../cli/demo/fleet.ts";

function pod(name: string, port: number, fate: DemoPod["fate"], lostAtKill = 0): DemoPod {
  return { name, version: "v1", port, endpoint: `grpc://127.0.0.1:${port}`, server: undefined as never, state: "gone", fate, lostAtKill };
}

describe("demo scenario and verdict", () => {
  it("plans scale-up, rolling restart, kill, scale-down and end in order within the duration", () => {
    const plan = planScenario({ durationMs: 20_000, replicas: 3 });
    assert.deepEqual(plan.map((s) => s.kind), ["scale-up", "rolling-restart", "kill", "scale-down", "end"]);
    assert.deepEqual(plan.map((s) => s.at), [3000, 6000, 13_000, 16_000, 20_000]);
    assert.equal(plan[0]?.kind === "scale-up" ? plan[0].to : 0, 5);
    assert.equal(plan[3]?.kind === "scale-down" ? plan[3].to : 0, 3);
    assert.equal(describeStep(plan[2]!), "kill one server abruptly (like a crash or OOM kill)");
  });

  it("holds only when every failed call's last attempt went to a killed server", () => {
    const pods = [pod("a", 1001, "replaced"), pod("b", 1002, "killed", 2), pod("c", 1003, "running")];
    const stats = emptyStats();
    stats.sent = 10;
    stats.ok = 8;
    stats.failed = 2;
    stats.failedOn.set("127.0.0.1:1002", 2);
    assert.deepEqual(verdict(stats, pods), { held: true, failed: 2, onKilled: 2, inFlightAtKill: 2 });
    stats.failed = 3;
    stats.failedOn.set("127.0.0.1:1001", 1);
    assert.equal(verdict(stats, pods).held, false);
    const state: DemoState = {
      elapsedMs: 1000, durationMs: 1000, phase: "finishing", balancer: "round_robin", rate: 10, pods,
      discovered: new Set(), clientInflight: () => 0, watchEvents: 0, stats,
    };
    const lines = renderSummary(state).join("\n");
    assert.match(lines, /^result: NOT HELD \(3 failed: 2 on the killed server, 1 elsewhere\)$/m);
    assert.match(lines, /^killed: b, 2 call\(s\) in flight at the kill; 2 failed call\(s\) were on it$/m);
  });
});
