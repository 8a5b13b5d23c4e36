import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { makePod, parseFieldSelector, parseLabelSelector, SelectorError } from "../../src/testing/index.ts";

const pod = (labels: Record<string, string>) => ({ metadata: { name: "p", namespace: "default", labels } });

describe("label selectors (apimachinery labels.Parse grammar)", () => {
  const cases: [string, Record<string, string>, boolean][] = [
    ["", {}, true],
    ["app=web", { app: "web" }, true],
    ["app==web", { app: "web" }, true],
    ["app=web", { app: "api" }, false],
    ["app!=web", { app: "api" }, true],
    ["app!=web", {}, true],
    ["app!=web", { app: "web" }, false],
    ["env in (a,b)", { env: "b" }, true],
    ["env in (a,b)", { env: "c" }, false],
    ["env in (a,b)", {}, false],
    ["env notin (a,b)", {}, true],
    ["env notin (a,b)", { env: "a" }, false],
    ["env notin (a,b)", { env: "c" }, true],
    ["app", { app: "" }, true],
    ["app", {}, false],
    ["!app", {}, true],
    ["!app", { app: "x" }, false],
    ["n>5", { n: "6" }, true],
    ["n>5", { n: "5" }, false],
    ["n<5", { n: "4" }, true],
    ["n<5", { n: "x" }, false],
    ["n<5", {}, false],
    ["app=web,env in (a, b),!old", { app: "web", env: "a" }, true],
    ["app=web,env in (a, b),!old", { app: "web", env: "a", old: "1" }, false],
    ["kratos-service-app", { "kratos-service-app": "greeter" }, true],
    ["example.com/tier=front", { "example.com/tier": "front" }, true],
    ["app=", { app: "" }, true],
  ];
  for (const [sel, labels, want] of cases) {
    it(`${JSON.stringify(sel)} on ${JSON.stringify(labels)} → ${want}`, () => {
      assert.equal(parseLabelSelector(sel)(pod(labels)), want);
    });
  }

  it("words errors like apimachinery (unable to parse requirement: …)", () => {
    assert.throws(() => parseLabelSelector("x ("), { message: "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt" });
  });

  for (const bad of ["app in a", "app in (a", "=web", "app=web,", "bad key=x", "app=-bad-", "n>x", "app in ()", "app notin"]) {
    it(`rejects ${JSON.stringify(bad)} with a SelectorError`, () => {
      assert.throws(() => parseLabelSelector(bad), (e: unknown) => e instanceof SelectorError && e.message.length > 0);
    });
  }
});

describe("pod field selectors", () => {
  const p = makePod({ name: "a-1", namespace: "shop", ips: ["10.0.0.7", "fd00::7"] });
  p.spec!.nodeName = "node-9";
  it("supports each selectable pod field, spec.host alias, ==, != and comma-AND", () => {
    const yes = [
      "metadata.name=a-1",
      "metadata.namespace==shop",
      "spec.nodeName=node-9",
      "spec.host=node-9",
      "spec.restartPolicy=Always",
      "spec.schedulerName=default-scheduler",
      "spec.serviceAccountName=default",
      "spec.hostNetwork=false",
      "status.phase=Running",
      "status.podIP=10.0.0.7",
      "status.nominatedNodeName=",
      "status.phase!=Failed,metadata.name=a-1",
    ];
    for (const s of yes) assert.equal(parseFieldSelector(s)(p), true, s);
    assert.equal(parseFieldSelector("status.phase=Pending")(p), false);
    assert.equal(parseFieldSelector("metadata.name!=a-1")(p), false);
  });
  it("unescapes backslash escapes in values", () => {
    const q = makePod({ name: "x" });
    q.spec!.nodeName = "a,b=c";
    assert.equal(parseFieldSelector("spec.nodeName=a\\,b\\=c")(q), true);
  });
  it("rejects unsupported fields with the apiserver's message", () => {
    assert.throws(() => parseFieldSelector("metadata.labels=x"), { message: "field label not supported: metadata.labels" });
    assert.throws(() => parseFieldSelector("spec.containers=x"), { message: "field label not supported: spec.containers" });
  });
  it("accepts status.podIPs (it passes conversion) but it selects nothing", () => {
    assert.equal(parseFieldSelector("status.podIPs=10.0.0.7")(p), false);
  });
  it("rejects a term without an operator", () => {
    assert.throws(() => parseFieldSelector("status.phase"), /can't understand/);
  });
});
