/**
 * Property: random pod operations interleaved with random faults; once the
 * faults stop and time moves on, the cache equals the server's pods (same
 * names, same resourceVersions, same app index). Deterministic: a fixed
 * fast-check seed (override with FC_SEED), a manual clock, server.fetch.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { makePod } from "../../src/testing/pods.ts";
import type { Pod } from "../../src/kube/wire.ts";
import { rig, settle } from "./reflector-harness.ts";
import type { Rig } from "./reflector-harness.ts";

const NAMES = ["p0", "p1", "p2", "p3"];
const APPS = ["a", "b"];

type Op =
  | { op: "create"; name: string; app: string | undefined }
  | { op: "ready"; name: string; ready: boolean }
  | { op: "relabel"; name: string; app: string | undefined }
  | { op: "delete"; name: string; graceful: boolean }
  | { op: "finish"; name: string }
  | { op: "drop" }
  | { op: "compact" }
  | { op: "fail"; n: number; status: 410 | 429 | 500 | 503; watch: boolean }
  | { op: "hang" }
  | { op: "tick"; ms: number }
  | { op: "settle" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant("create" as const), name: fc.constantFrom(...NAMES), app: fc.option(fc.constantFrom(...APPS), { nil: undefined }) }),
  fc.record({ op: fc.constant("ready" as const), name: fc.constantFrom(...NAMES), ready: fc.boolean() }),
  fc.record({ op: fc.constant("relabel" as const), name: fc.constantFrom(...NAMES), app: fc.option(fc.constantFrom(...APPS), { nil: undefined }) }),
  fc.record({ op: fc.constant("delete" as const), name: fc.constantFrom(...NAMES), graceful: fc.boolean() }),
  fc.record({ op: fc.constant("finish" as const), name: fc.constantFrom(...NAMES) }),
  fc.constant<Op>({ op: "drop" }),
  fc.constant<Op>({ op: "compact" }),
  fc.record({ op: fc.constant("fail" as const), n: fc.integer({ min: 1, max: 3 }), status: fc.constantFrom(410 as const, 429 as const, 500 as const, 503 as const), watch: fc.boolean() }),
  fc.constant<Op>({ op: "hang" }),
  fc.record({ op: fc.constant("tick" as const), ms: fc.integer({ min: 0, max: 3_000 }) }),
  fc.constant<Op>({ op: "settle" }),
);

function apply(r: Rig, o: Op): void {
  const s = r.server;
  const pod = s.getPod("default", o.op !== "drop" && o.op !== "compact" && o.op !== "fail" && o.op !== "hang" && o.op !== "tick" && o.op !== "settle" ? o.name : "");
  switch (o.op) {
    case "create":
      if (!pod) s.createPod(makePod({ name: o.name, ...(o.app ? { app: o.app } : {}) }));
      return;
    case "ready":
      if (pod) s.setReady("default", o.name, o.ready);
      return;
    case "relabel":
      if (pod)
        s.updatePod("default", o.name, (p: Pod) => {
          const labels = (p.metadata.labels ??= {});
          if (o.app === undefined) delete labels["kratos-service-app"];
          else labels["kratos-service-app"] = o.app;
        });
      return;
    case "delete":
      if (pod && !pod.metadata.deletionTimestamp) s.deletePod("default", o.name, o.graceful ? { gracePeriodSeconds: 30 } : {});
      return;
    case "finish":
      if (pod?.metadata.deletionTimestamp) s.finishDeletion("default", o.name);
      return;
    case "drop":
      return s.faults.dropWatches();
    case "compact":
      return s.faults.compact();
    case "fail":
      return s.faults.failNext(o.n, { status: o.status, ...(o.status === 429 ? { retryAfter: 2 } : {}), match: { watch: o.watch } });
    case "hang":
      return s.faults.hangWatches();
    case "tick":
    case "settle":
      return;
  }
}

const view = (r: Rig): string[] => [...r.cache.values()].map((p) => `${p.name}@${p.resourceVersion}:${p.labels["kratos-service-app"]}`).sort();
const truth = (r: Rig): string[] =>
  r.server
    .listPods("default")
    .filter((p) => p.metadata.labels?.["kratos-service-app"] !== undefined)
    .map((p) => `${p.metadata.name}@${p.metadata.resourceVersion}:${p.metadata.labels?.["kratos-service-app"]}`)
    .sort();
const byApp = (r: Rig): string[] => APPS.flatMap((a) => r.cache.byApp(a).map((p) => `${a}/${p.name}`)).sort();
const truthByApp = (r: Rig): string[] =>
  r.server
    .listPods("default")
    .flatMap((p) => (p.metadata.labels?.["kratos-service-app"] ? [`${p.metadata.labels["kratos-service-app"]}/${p.metadata.name}`] : []))
    .sort();

describe("reflector property", () => {
  it("after random operations and faults, the cache converges to the server's pods (≥200 schedules)", async () => {
    const seed = Number(globalThis.process?.env?.["FC_SEED"] ?? 20261125);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(opArb, fc.boolean()), { minLength: 1, maxLength: 14 }), fc.array(opArb, { maxLength: 3 }), fc.boolean(), fc.integer({ min: 1, max: 3 }), async (ops, before, streamingList, pageSize) => {
        const r = rig({ server: { historyLimit: 6 }, cache: { streamingList, pageSize } });
        try {
          for (const o of before) apply(r, o);
          r.cache.start();
          for (const [o, yieldAfter] of ops) {
            apply(r, o);
            if (o.op === "tick") await r.clock.advance(o.ms);
            else if (o.op === "settle" || yieldAfter) await settle(2);
          }
          // Faults stop (pending failNext rules are consumed by retries); let time pass.
          const converged = (): boolean => r.cache.synced && view(r).join() === truth(r).join();
          for (let i = 0; i < 60 && !converged(); i++) {
            await settle(10);
            if (!converged()) await r.clock.advance(20_000);
          }
          const why = `errors: ${r.errors.map((e) => e.message).join(" | ")}`;
          assert.equal(r.cache.synced, true, `synced; ${why}`);
          assert.deepEqual(view(r), truth(r), why);
          assert.deepEqual(byApp(r), truthByApp(r));
          // It keeps following after convergence.
          r.server.createPod(makePod({ name: "late", app: "a" }));
          for (let i = 0; i < 30 && r.cache.get("default", "late") === undefined; i++) await r.clock.advance(20_000);
          assert.deepEqual(view(r), truth(r));
        } finally {
          await r.close();
        }
        assert.equal(r.clock.pending, 0, "no timer left");
      }),
      { numRuns: Number(globalThis.process?.env?.["FC_RUNS"] ?? 200), seed, endOnFailure: true },
    );
  });
});
