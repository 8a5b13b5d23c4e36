import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { createManualClock, decodeContinue, FakeKubeApiServer, makePod } from "../../src/testing/index.ts";
import { call, getJson } from "./helpers.ts";

const servers: FakeKubeApiServer[] = [];
function server(n = 0, o: ConstructorParameters<typeof FakeKubeApiServer>[0] = {}): FakeKubeApiServer {
  const s = new FakeKubeApiServer(o);
  servers.push(s);
  // Created out of key order on purpose.
  for (let i = n - 1; i >= 0; i--) s.createPod(makePod({ name: `p${String(i).padStart(2, "0")}`, app: i % 2 ? "odd" : "even" }));
  return s;
}
after(async () => {
  for (const s of servers) await s.close();
});

const PODS = "/api/v1/namespaces/default/pods";

describe("LIST", () => {
  it("bumps one resourceVersion counter on every write, across pods", async () => {
    const s = server();
    const rv0 = Number(s.resourceVersion);
    const a = s.createPod(makePod({ name: "a" }));
    const b = s.createPod(makePod({ name: "b", namespace: "other" }));
    const a2 = s.setReady("default", "a", false);
    assert.deepEqual([a, b, a2].map((p) => Number(p.metadata.resourceVersion)), [rv0 + 1, rv0 + 2, rv0 + 3]);
    s.deletePod("other", "b");
    assert.equal(Number(s.resourceVersion), rv0 + 4);
    const { body } = await getJson(s, "/api/v1/pods");
    assert.equal(body.metadata.resourceVersion, String(rv0 + 4));
  });

  it("returns a PodList whose items carry no kind/apiVersion, in key order", async () => {
    const s = server(3);
    s.createPod(makePod({ name: "z", namespace: "a-ns" }));
    const { status, body } = await getJson(s, "/api/v1/pods");
    assert.equal(status, 200);
    assert.equal(body.kind, "PodList");
    assert.equal(body.apiVersion, "v1");
    assert.deepEqual(body.items.map((p: any) => `${p.metadata.namespace}/${p.metadata.name}`), ["a-ns/z", "default/p00", "default/p01", "default/p02"]);
    for (const p of body.items) assert.equal("kind" in p || "apiVersion" in p, false);
  });

  it("pages with limit/continue in key order, the same list RV on every page, remainingItemCount", async () => {
    const s = server(5);
    const first = await getJson(s, `${PODS}?limit=2`);
    assert.deepEqual(first.body.items.map((p: any) => p.metadata.name), ["p00", "p01"]);
    assert.equal(first.body.metadata.remainingItemCount, 3);
    const listRv = first.body.metadata.resourceVersion;
    const tok = decodeContinue(first.body.metadata.continue);
    assert.equal(tok.rv, Number(listRv));
    // Relative to the namespace, with the watch cache's leading slash (a real v1.34 token).
    assert.equal(tok.start, "/p01\u0000");
    s.createPod(makePod({ name: "p015" })); // a write between pages is not seen
    s.deletePod("default", "p03");
    const second = await getJson(s, `${PODS}?limit=2&continue=${first.body.metadata.continue}`);
    assert.deepEqual(second.body.items.map((p: any) => p.metadata.name), ["p02", "p03"]);
    assert.equal(second.body.metadata.resourceVersion, listRv);
    assert.equal(second.body.metadata.remainingItemCount, 1);
    const third = await getJson(s, `${PODS}?limit=2&continue=${second.body.metadata.continue}`);
    assert.deepEqual(third.body.items.map((p: any) => p.metadata.name), ["p04"]);
    assert.equal(third.body.metadata.continue, undefined);
    assert.equal(third.body.metadata.remainingItemCount, undefined);
  });

  it("sets remainingItemCount only without a selector", async () => {
    const s = server(6);
    const { body } = await getJson(s, `${PODS}?limit=1&labelSelector=app%3Deven`);
    assert.equal(body.items.length, 1);
    assert.ok(body.metadata.continue);
    assert.equal(body.metadata.remainingItemCount, undefined);
  });

  it("answers an expired continue token with 410 and an inconsistent rv:-1 token that continues at the latest state", async () => {
    const s = server(4);
    const first = await getJson(s, `${PODS}?limit=2`);
    s.createPod(makePod({ name: "p05" }));
    s.faults.compact();
    const res = await getJson(s, `${PODS}?limit=2&continue=${first.body.metadata.continue}`);
    assert.equal(res.status, 410);
    assert.equal(res.body.reason, "Expired");
    assert.match(res.body.message, /^The provided continue parameter is too old/);
    const tok = decodeContinue(res.body.metadata.continue);
    assert.equal(tok.rv, -1);
    // etcd answers for expired tokens: its start key has no leading slash.
    assert.equal(tok.start, "p01\u0000");
    const next = await getJson(s, `${PODS}?limit=10&continue=${res.body.metadata.continue}`);
    assert.equal(next.status, 200);
    assert.deepEqual(next.body.items.map((p: any) => p.metadata.name), ["p02", "p03", "p05"]);
    assert.equal(next.body.metadata.resourceVersion, s.resourceVersion);
  });

  it("rejects continue together with a resourceVersion (400) and a malformed token (400)", async () => {
    const s = server(3);
    const first = await getJson(s, `${PODS}?limit=1`);
    const both = await getJson(s, `${PODS}?limit=1&resourceVersion=5&continue=${first.body.metadata.continue}`);
    assert.equal(both.status, 400);
    assert.equal(both.body.message, "specifying resource version is not allowed when using continue");
    const bad = await getJson(s, `${PODS}?limit=1&continue=notatoken`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.reason, "BadRequest");
  });

  it("continue tokens fail with the apiserver's texts (Go base64 and JSON errors, version, rv, start key, path traversal)", async () => {
    const s = server(3);
    const tok = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString("base64url");
    const cases: [string, string][] = [
      ["a!b", "continue key is not valid: illegal base64 data at input byte 1"],
      [Buffer.from("not-a-token").toString("base64url"), "continue key is not valid: invalid character 'o' in literal null (expecting 'u')"],
      [Buffer.from('{"v":').toString("base64url"), "continue key is not valid: unexpected end of JSON input"],
      [tok([1]), "continue key is not valid: json: cannot unmarshal array into Go value of type storage.continueToken"],
      [tok({ v: "meta.k8s.io/v1", rv: "5", start: "/a" }), "continue key is not valid: json: cannot unmarshal string into Go struct field continueToken.rv of type int64"],
      [tok({ v: "v2", rv: 5, start: "/a" }), "continue key is not valid: server does not recognize this encoded version v2"],
      [tok({ v: "meta.k8s.io/v1", rv: 0, start: "/a" }), "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)"],
      [tok({ v: "meta.k8s.io/v1", rv: 5, start: "" }), "continue key is not valid: encoded start key empty (version meta.k8s.io/v1)"],
      [tok({ v: "meta.k8s.io/v1", rv: 5, start: "/../other/a" }), "continue key is not valid: /../other/a"],
    ];
    for (const [token, message] of cases) {
      const { status, body } = await getJson(s, `${PODS}?limit=1&continue=${encodeURIComponent(token)}`);
      assert.equal(status, 400, token);
      assert.equal(body.message, `invalid continue token: ${message}`);
    }
    // A start key without the leading slash (etcd's form) is accepted too.
    const etcdForm = await getJson(s, `${PODS}?limit=1&continue=${tok({ v: "meta.k8s.io/v1", rv: -1, start: "p00\u0000" })}`);
    assert.deepEqual(etcdForm.body.items.map((p: any) => p.metadata.name), ["p01"]);
  });

  it("a cluster-wide token's start key names the namespace", async () => {
    const s = server(2);
    const first = await getJson(s, "/api/v1/pods?limit=1");
    assert.equal(decodeContinue(first.body.metadata.continue).start, "/default/p00\u0000");
    const second = await getJson(s, `/api/v1/pods?limit=1&continue=${first.body.metadata.continue}`);
    assert.deepEqual(second.body.items.map((p: any) => p.metadata.name), ["p01"]);
  });

  it("RV=0 with a continue token serves the rest at once (the cache does not page)", async () => {
    const s = server(4);
    const first = await getJson(s, `${PODS}?limit=1`);
    const rest = await getJson(s, `${PODS}?limit=1&resourceVersion=0&continue=${first.body.metadata.continue}`);
    assert.deepEqual(rest.body.items.map((p: any) => p.metadata.name), ["p01", "p02", "p03"]);
    assert.equal(rest.body.metadata.continue, undefined);
  });

  it("query parameters decode as the parameter codec does: any bool but 0/f/false is true, int64 errors are Go's", async () => {
    const s = server(2);
    for (const v of ["maybe", "", "yes", "T"]) {
      const r = await call(s, "GET", `${PODS}?watch=${v}&timeoutSeconds=1`);
      assert.equal(r.headers.get("content-type"), "application/json");
      await r.body?.cancel();
      assert.equal(s.requests.at(-1)?.watch, true, `watch=${v} is a watch`);
    }
    for (const v of ["0", "f", "FALSE", "False"]) {
      const r = await getJson(s, `${PODS}?watch=${v}`);
      assert.equal(r.body.kind, "PodList", `watch=${v} is a list`);
    }
    const garbled = await getJson(s, `${PODS}?limit=ten`);
    assert.equal(garbled.status, 400);
    assert.equal(garbled.body.message, 'strconv.ParseInt: parsing "ten": invalid syntax');
    const big = await getJson(s, `${PODS}?timeoutSeconds=99999999999999999999`);
    assert.equal(big.body.message, 'strconv.ParseInt: parsing "99999999999999999999": value out of range');
  });

  it("RV=0 ignores limit (no continue)", async () => {
    const s = server(4);
    const { body } = await getJson(s, `${PODS}?resourceVersion=0&limit=2`);
    assert.equal(body.items.length, 4);
    assert.equal(body.metadata.continue, undefined);
  });

  it("RV=N with limit is an exact read at N, and 410 once N is compacted", async () => {
    const s = server(2);
    const rv = s.resourceVersion;
    s.createPod(makePod({ name: "p02" }));
    s.updatePod("default", "p00", (p) => void (p.metadata.labels!["x"] = "1"));
    const exact = await getJson(s, `${PODS}?resourceVersion=${rv}&limit=10`);
    assert.equal(exact.body.metadata.resourceVersion, rv);
    assert.deepEqual(exact.body.items.map((p: any) => p.metadata.name), ["p00", "p01"]);
    assert.equal(exact.body.items[0].metadata.labels.x, undefined);
    const match = await getJson(s, `${PODS}?resourceVersion=${rv}&resourceVersionMatch=Exact`);
    assert.equal(match.body.items.length, 2);
    s.faults.compact();
    const gone = await getJson(s, `${PODS}?resourceVersion=${rv}&limit=10`);
    assert.equal(gone.status, 410);
    assert.equal(gone.body.reason, "Expired");
    assert.equal(gone.body.message, "The resourceVersion for the provided list is too old.");
  });

  it("RV=N NotOlderThan serves the latest state, even when N is compacted", async () => {
    const s = server(2);
    const rv = s.resourceVersion;
    s.createPod(makePod({ name: "p02" }));
    s.faults.compact();
    const { status, body } = await getJson(s, `${PODS}?resourceVersion=${rv}&resourceVersionMatch=NotOlderThan`);
    assert.equal(status, 200);
    assert.equal(body.items.length, 3);
    assert.equal(body.metadata.resourceVersion, s.resourceVersion);
    const noLimit = await getJson(s, `${PODS}?resourceVersion=${rv}`);
    assert.equal(noLimit.body.items.length, 3);
  });

  it("RV=N in the future waits up to 3 s on the clock, then 504 with Retry-After: 1", async () => {
    const clock = createManualClock();
    const s = server(1, { clock });
    const future = Number(s.resourceVersion) + 5;
    const pending = call(s, "GET", `${PODS}?resourceVersion=${future}`);
    await clock.advance(2999);
    let settled = false;
    void pending.then(() => (settled = true));
    await clock.advance(0);
    assert.equal(settled, false);
    await clock.advance(1);
    const res = await pending;
    assert.equal(res.status, 504);
    assert.equal(res.headers.get("retry-after"), "1");
    const body = (await res.json()) as any;
    assert.equal(body.reason, "Timeout");
    assert.equal(body.message, `Timeout: Too large resource version: ${future}, current: ${s.resourceVersion}`);
    assert.deepEqual(body.details.causes, [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }]);
    assert.equal(body.details.retryAfterSeconds, 1);
  });

  it("RV=N in the future answers as soon as the store reaches N", async () => {
    const clock = createManualClock();
    const s = server(0, { clock });
    const future = Number(s.resourceVersion) + 2;
    const pending = call(s, "GET", `${PODS}?resourceVersion=${future}&resourceVersionMatch=NotOlderThan`);
    s.createPod(makePod({ name: "a" }));
    s.createPod(makePod({ name: "b" }));
    const res = await pending;
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as any).items.length, 2);
  });

  describe("ListOptions validation (422 Invalid, kind ListOptions)", () => {
    const cases: [string, string][] = [
      ["resourceVersionMatch=NotOlderThan", "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"],
      ["resourceVersion=0&resourceVersionMatch=Exact", `resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"`],
      ["sendInitialEvents=true", "sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list"],
      ["resourceVersionMatch=Exact&resourceVersion=5&continue=x", "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided"],
    ];
    for (const [q, msg] of cases) {
      it(q, async () => {
        const s = server();
        const { status, body } = await getJson(s, `${PODS}?${q}`);
        assert.equal(status, 422);
        assert.equal(body.reason, "Invalid");
        assert.equal(body.details.kind, "ListOptions");
        assert.equal(body.details.group, "meta.k8s.io");
        assert.ok(body.message.startsWith(`ListOptions.meta.k8s.io "" is invalid: `), body.message);
        assert.ok(body.message.includes(msg), body.message);
      });
    }
  });

  it("a non-numeric resourceVersion: LIST is 400 'invalid resource version' (storage.ValidateListOptions), WATCH a plain 500", async () => {
    const s = server();
    const { status, body } = await getJson(s, `${PODS}?resourceVersion=abc`);
    assert.equal(status, 400);
    assert.equal(body.reason, "BadRequest");
    assert.equal(body.message, 'invalid resource version: resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax');
    const limited = await getJson(s, `${PODS}?resourceVersion=abc&limit=2`);
    assert.equal(limited.status, 400, "the exact (etcd) path answers the same");
    const w = await getJson(s, `${PODS}?watch=true&resourceVersion=abc`);
    assert.equal(w.status, 500, "a real v1.34 answers a plain 500 without a reason");
    assert.equal(w.body.reason, undefined);
    assert.equal(w.body.message, 'resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax');
  });

  it("with continue, a bad token is reported before the resourceVersion, then the RV is refused", async () => {
    const s = server(3);
    const bad = await getJson(s, `${PODS}?continue=%%%&resourceVersion=abc`);
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /^invalid continue token: /);
    const page = await getJson(s, `${PODS}?limit=1`);
    const tok = encodeURIComponent(page.body.metadata.continue);
    for (const rv of ["abc", "5"]) {
      const r = await getJson(s, `${PODS}?continue=${tok}&resourceVersion=${rv}`);
      assert.equal(r.status, 400);
      assert.equal(r.body.message, "specifying resource version is not allowed when using continue");
    }
  });

  it("filters by label and field selector; a bad selector is 400 BadRequest", async () => {
    const s = server(4);
    s.createPod(makePod({ name: "q", namespace: "other", app: "odd" }));
    const odd = await getJson(s, `/api/v1/pods?labelSelector=${encodeURIComponent("app in (odd)")}`);
    assert.deepEqual(odd.body.items.map((p: any) => p.metadata.name), ["p01", "p03", "q"]);
    const field = await getJson(s, `/api/v1/pods?fieldSelector=metadata.namespace%3Dother`);
    assert.deepEqual(field.body.items.map((p: any) => p.metadata.name), ["q"]);
    const bad = await getJson(s, `${PODS}?labelSelector=${encodeURIComponent("app in odd")}`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.reason, "BadRequest");
    const badField = await getJson(s, `${PODS}?fieldSelector=spec.containers%3Dx`);
    assert.equal(badField.status, 400);
    assert.equal(badField.body.message, "field label not supported: spec.containers");
  });

  it("answers 404 NotFound for a resource it does not serve", async () => {
    const s = server();
    const { status, body } = await getJson(s, "/api/v1/namespaces/default/services");
    assert.equal(status, 404);
    assert.equal(body.reason, "NotFound");
    assert.equal(body.message, "the server could not find the requested resource");
  });
});
