/**
 * The differential suite: every case of the table runs against the fake
 * (`kratos-kube/testing`) and a real kube-apiserver in a fresh namespace of
 * the same name; the normalised answers must be equal, or the difference
 * must be listed in src/testing/DIFFERENCES.md (and every listed difference
 * must still occur). Prints `differential: N cases, E equal, D documented
 * differences` and the real apiserver's version.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { realSkip, releaseSharedCluster, sharedCluster, type Cluster } from "../support/real-cluster.ts";
import type { FakeKubeApiServer } from "../../src/testing/index.ts";
import { CASES } from "./cases.ts";
import { documentedDifferences, type Documented } from "./documented.ts";
import { runCase, type Target } from "./harness.ts";
import type { Case } from "./model.ts";
import { diff, view } from "./normalise.ts";
import { fakeTarget, realTarget } from "./targets.ts";

const skip = realSkip();
const closers: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of closers.reverse()) await c();
  await releaseSharedCluster();
});

interface Result {
  c: Case;
  fake?: unknown;
  real?: unknown;
  diffs: { path: string; fake: unknown; real: unknown }[];
  error?: string;
}

/** Cases in flight at once (each waits on the servers, not the CPU). */
const PARALLEL = 6;

let counter = 0;
function namespaceName(id: string): string {
  const slug = id.replace(/[^a-z0-9]+/g, "-").slice(0, 30).replace(/-+$/, "");
  return `d-${slug}-${(++counter).toString(36)}${randomBytes(2).toString("hex")}`;
}

async function runBoth(c: Case, fake: Target, real: Target): Promise<Result> {
  const ns = namespaceName(c.id);
  try {
    const [f, r] = c.history !== undefined ? [await fake.compacting(), await real.compacting()] : [fake, real];
    await r.makeNamespace(ns);
    const [fo, ro] = await Promise.all([runCase(f, c, ns), runCase(r, c, ns)]);
    const fv = view(c, fo);
    const rv = view(c, ro);
    return { c, fake: fv, real: rv, diffs: diff(fv, rv) };
  } catch (e) {
    return { c, diffs: [], error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
  }
}

async function pool<T, R>(items: readonly T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

function covered(d: Documented, path: string): boolean {
  return d.paths.some((p) => path === p || path.startsWith(`${p}/`));
}

describe("differential: the fake against a real kube-apiserver", { skip }, () => {
  let cluster: Cluster;
  let fake: { target: Target; server: FakeKubeApiServer };
  const results = new Map<string, Result>();
  const documented = documentedDifferences();

  before(async () => {
    cluster = await sharedCluster();
    fake = await fakeTarget(cluster, closers);
    closers.push(() => fake.server.close());
    const real = realTarget(cluster, closers);
    // KRATOS_KUBE_DIFF_ONLY=<regex> runs only the matching cases (to look into one; the others then fail as not run).
    const only = process.env.KRATOS_KUBE_DIFF_ONLY ? new RegExp(process.env.KRATOS_KUBE_DIFF_ONLY) : undefined;
    const selected = CASES.filter((c) => only === undefined || only.test(c.id));
    for (const r of await pool(selected.filter((c) => !c.alone), PARALLEL, (c) => runBoth(c, fake.target, real))) results.set(r.c.id, r);
    for (const c of selected.filter((c) => c.alone)) results.set(c.id, await runBoth(c, fake.target, real));
    const equal = [...results.values()].filter((r) => r.error === undefined && r.diffs.length === 0).length;
    const differing = [...results.values()].filter((r) => r.diffs.length > 0).length;
    const failed = [...results.values()].filter((r) => r.error !== undefined).length;
    console.log(`# real kube-apiserver ${cluster.version}`);
    console.log(`differential: ${CASES.length} cases, ${equal} equal, ${differing} documented differences${failed > 0 ? `, ${failed} failed to run` : ""}`);
    const report = process.env.KRATOS_KUBE_DIFF_REPORT;
    if (report) writeFileSync(report, JSON.stringify([...results.values()], null, 2));
  });

  it("has at least 80 cases with unique ids", () => {
    assert.ok(CASES.length >= 80, `${CASES.length} cases`);
    assert.equal(new Set(CASES.map((c) => c.id)).size, CASES.length);
  });

  for (const c of CASES) {
    it(c.id, () => {
      const r = results.get(c.id);
      assert.ok(r, "the case ran");
      assert.equal(r.error, undefined, r.error);
      const d = documented.get(c.id);
      if (d === undefined) {
        assert.deepEqual(r.diffs, [], `${c.id}: the fake differs from the real kube-apiserver and the difference is not in src/testing/DIFFERENCES.md`);
        return;
      }
      assert.notDeepEqual(r.diffs, [], `${c.id} is listed in src/testing/DIFFERENCES.md but the fake now answers like the real server: remove the row`);
      const unlisted = r.diffs.filter((x) => !covered(d, x.path));
      assert.deepEqual(unlisted, [], `${c.id}: differences beyond the documented ${d.paths.join(", ")}`);
      const unseen = d.paths.filter((p) => !r.diffs.some((x) => x.path === p || x.path.startsWith(`${p}/`)));
      assert.deepEqual(unseen, [], `${c.id}: documented differences that no longer occur`);
    });
  }

  // The summary as a test name too (Deno's test runner prints names, not console output);
  // the test makes the name true.
  const expectedEqual = CASES.length - CASES.filter((c) => documented.has(c.id)).length;
  it(`differential: ${CASES.length} cases, ${expectedEqual} equal, ${CASES.length - expectedEqual} documented differences`, () => {
    const ran = [...results.values()].filter((r) => r.error === undefined);
    assert.equal(ran.length, CASES.length, "every case ran");
    assert.equal(ran.filter((r) => r.diffs.length === 0).length, expectedEqual);
  });

  it("every documented difference names a case of the table", () => {
    const ids = new Set(CASES.map((c) => c.id));
    assert.deepEqual([...documented.keys()].filter((id) => !ids.has(id)), []);
  });
});
