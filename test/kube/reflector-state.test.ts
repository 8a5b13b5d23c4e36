import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { initialState, step } from "../../src/kube/reflector/state.ts";
import type { Command, Effect, ReflectorInput, ReflectorState, StepResult } from "../../src/kube/reflector/state.ts";
import { KubeApiError, KubeConnectionError } from "../../src/kube/errors.ts";
import type { Pod, Status } from "../../src/kube/wire.ts";

const pod = (name: string, rv: string): Pod => ({ metadata: { name, namespace: "ns", resourceVersion: rv } });
const status = (code: number, reason: string, extra: Partial<Status> = {}): Status => ({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: reason, reason, code, ...extra });
const apiError = (code: number, reason: string, extra: Partial<Status> = {}, retryAfter?: string): KubeApiError => KubeApiError.fromStatus(status(code, reason, extra), retryAfter);
const tooLarge = (): KubeApiError => apiError(504, "Timeout", { message: "Timeout: Too large resource version: 5399771, current: 5399139", details: { causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }], retryAfterSeconds: 1 } });

/** Feeds inputs in order; returns every result. */
function run(state: ReflectorState, inputs: ReflectorInput[]): StepResult[] {
  const out: StepResult[] = [];
  for (const input of inputs) {
    const r = step(state, input);
    out.push(r);
    state = r.state;
  }
  return out;
}
const last = (rs: StepResult[]): StepResult => rs[rs.length - 1]!;
const kinds = (effects: readonly Effect[]): string[] => effects.map((e) => (e.e === "error" ? `error:${e.kind}` : e.e));
const listed = (rv: string): ReflectorInput[] => [{ i: "start" }, { i: "list-page", resourceVersion: rv, continue: undefined, items: [pod("a", "1")] }];
const watchingAt = (rv: string): ReflectorState => last(run(initialState(), listed(rv))).state;
const listCmd = (resourceVersion: string | undefined, limit: number | undefined, cont?: string): Command => ({ c: "list", request: { resourceVersion, limit, continue: cont } });
const watchCmd = (resourceVersion: string | undefined, sendInitialEvents = false): Command => ({ c: "watch", request: { resourceVersion, sendInitialEvents } });
const backoffCmd = (retryAfterSeconds?: number): Command => ({ c: "backoff", retryAfterSeconds });
const ev = (line: string): ReflectorInput => ({ i: "watch-event", event: JSON.parse(line) });
const evError = (s: Status): ReflectorInput => ({ i: "watch-event", event: { type: "ERROR", status: s } });

describe("reflector state: LIST", () => {
  it("first LIST is RV 0 with limit 500, then WATCH from the list RV", () => {
    const [a, b] = run(initialState(), listed("100"));
    assert.deepEqual(a!.command, listCmd("0", 500));
    assert.deepEqual(kinds(b!.effects), ["relist-begin", "relist-items", "relist-done"]);
    assert.deepEqual(b!.command, watchCmd("100"));
    assert.equal(b!.state.lastSyncRV, "100");
  });

  it("pages with continue; pages 2+ carry no RV; relist-begin once, done at the last page", () => {
    const rs = run(initialState({ pageSize: 2 }), [
      { i: "start" },
      { i: "list-page", resourceVersion: "50", continue: "tok1", items: [pod("a", "1"), pod("b", "2")] },
      { i: "list-page", resourceVersion: "50", continue: "tok2", items: [] },
      { i: "list-page", resourceVersion: "50", continue: undefined, items: [pod("c", "3")] },
    ]);
    assert.deepEqual(rs.map((r) => r.command), [listCmd("0", 2), listCmd(undefined, 2, "tok1"), listCmd(undefined, 2, "tok2"), watchCmd("50")]);
    assert.deepEqual(rs.map((r) => kinds(r.effects)), [[], ["relist-begin", "relist-items"], [], ["relist-items", "relist-done"]]);
  });

  it("expired continue at page 2 → abort, then ONE full LIST at the original RV with no limit, never the token", () => {
    const s = { ...initialState(), rvUnavailable: true };
    const rs = run(s, [
      { i: "start" },
      { i: "list-page", resourceVersion: "50", continue: "tok1", items: [pod("a", "1")] },
      { i: "list-failed", error: apiError(410, "Expired", { metadata: { continue: "inconsistent" } }) },
      { i: "list-page", resourceVersion: "60", continue: undefined, items: [pod("a", "1")] },
    ]);
    assert.deepEqual(rs[0]!.command, listCmd(undefined, 500));
    assert.deepEqual(kinds(rs[2]!.effects), ["relist-abort"]);
    assert.deepEqual(rs[2]!.command, listCmd(undefined, undefined));
    assert.deepEqual(kinds(rs[3]!.effects), ["relist-begin", "relist-items", "relist-done"]);
    assert.deepEqual(rs[3]!.command, watchCmd("60"));
  });

  it("Expired on the full-LIST fallback reports and backs off", () => {
    const rs = run(initialState(), [
      { i: "start" },
      { i: "list-page", resourceVersion: "50", continue: "tok1", items: [] },
      { i: "list-failed", error: apiError(410, "Expired") },
      { i: "list-failed", error: apiError(410, "Expired") },
    ]);
    assert.deepEqual(rs[2]!.command, listCmd("0", undefined));
    // page 1 of the fallback at RV "0" expired: retried at "" at once (item 24)
    assert.deepEqual(rs[3]!.command, listCmd(undefined, 500));
    assert.equal(rs[3]!.state.rvUnavailable, true);
  });

  it("relist uses the last sync RV with no limit; Expired → immediately RV \"\" limit 500; success clears it", () => {
    const rs = run(watchingAt("100"), [
      evError(status(410, "Expired")),
      { i: "wake" },
      { i: "list-failed", error: apiError(410, "Expired") },
      { i: "list-page", resourceVersion: "300", continue: undefined, items: [] },
    ]);
    assert.deepEqual(rs[0]!.command, backoffCmd());
    assert.deepEqual(kinds(rs[0]!.effects), ["error:watch-event"]);
    assert.deepEqual(rs[1]!.command, listCmd("100", undefined));
    assert.deepEqual(kinds(rs[2]!.effects), []);
    assert.deepEqual(rs[2]!.command, listCmd(undefined, 500));
    assert.deepEqual(rs[3]!.command, watchCmd("300"));
    assert.equal(rs[3]!.state.rvUnavailable, false);
  });

  it("504 TooLargeResourceVersion on LIST → retry with RV \"\" at once; a second failure backs off honouring Retry-After", () => {
    const rs = run(watchingAt("100"), [
      { i: "watch-ended", elapsedMs: 0 },
      { i: "wake" },
      { i: "list-failed", error: tooLarge() },
      { i: "list-failed", error: tooLarge() },
      { i: "wake" },
    ]);
    assert.deepEqual(rs[2]!.command, listCmd(undefined, 500));
    assert.deepEqual(rs[3]!.command, backoffCmd(1));
    assert.deepEqual(kinds(rs[3]!.effects), ["error:list"]);
    assert.deepEqual(rs[4]!.command, listCmd(undefined, 500));
  });

  it("other LIST errors report kind list and back off, keeping the RV", () => {
    const rs = run(watchingAt("100"), [evError(status(500, "InternalError")), { i: "wake" }, { i: "list-failed", error: apiError(503, "ServiceUnavailable") }, { i: "wake" }]);
    assert.deepEqual(kinds(rs[2]!.effects), ["error:list"]);
    assert.deepEqual(rs[2]!.command, backoffCmd());
    assert.deepEqual(rs[3]!.command, listCmd("100", undefined));
  });

  it("a failure on page 2 (not Expired) aborts the buffered relist", () => {
    const rs = run(initialState(), [{ i: "start" }, { i: "list-page", resourceVersion: "5", continue: "t", items: [pod("a", "1")] }, { i: "list-failed", error: new TypeError("fetch failed") }]);
    assert.deepEqual(kinds(rs[2]!.effects), ["relist-abort", "error:list"]);
  });

  it("a LIST without metadata.resourceVersion is an error (no-resource-version)", () => {
    const rs = run(initialState(), [{ i: "start" }, { i: "list-page", resourceVersion: undefined, continue: undefined, items: [] }]);
    assert.deepEqual(kinds(rs[1]!.effects), ["relist-begin", "relist-abort", "error:no-resource-version"]);
    assert.deepEqual(rs[1]!.command, backoffCmd());
  });
});

describe("reflector state: WATCH", () => {
  it("events and bookmarks advance the RV; a clean end re-watches at once from it with no LIST", () => {
    const rs = run(watchingAt("100"), [
      ev(`{"type":"ADDED","object":{"metadata":{"name":"b","namespace":"ns","resourceVersion":"101"}},"resourceVersion":"101"}`),
      { i: "watch-event", event: { type: "BOOKMARK", resourceVersion: "150", initialEventsEnd: false } },
      { i: "watch-ended", elapsedMs: 5 },
    ]);
    assert.deepEqual(kinds(rs[0]!.effects), ["apply"]);
    assert.equal(rs[0]!.command, undefined);
    assert.equal(rs[1]!.state.lastSyncRV, "150");
    assert.deepEqual(rs[1]!.effects, []);
    assert.deepEqual(rs[2]!.command, watchCmd("150"));
    assert.deepEqual(rs[2]!.effects, []);
  });

  it("a watch that ends in under 1 s with zero events is very short → backoff then relist", () => {
    const rs = run(watchingAt("100"), [{ i: "watch-ended", elapsedMs: 999 }, { i: "wake" }]);
    assert.deepEqual(kinds(rs[0]!.effects), ["error:stream"]);
    assert.match((rs[0]!.effects[0] as { message: string }).message, /very short watch/);
    assert.deepEqual(rs[0]!.command, backoffCmd());
    assert.deepEqual(rs[1]!.command, listCmd("100", undefined));
    // 1 s or more is a normal end
    assert.deepEqual(step(watchingAt("100"), { i: "watch-ended", elapsedMs: 1000 }).command, watchCmd("100"));
  });

  for (const [name, input] of [
    ["HTTP 410 at watch start", { i: "watch-failed", error: apiError(410, "Gone") }],
    ["ERROR 410 Expired", evError(status(410, "Expired"))],
    ["ERROR 410 Gone (servers ≤ 1.17)", evError(status(410, "Gone"))],
    ["ERROR 500", evError(status(500, "InternalError"))],
    ["HTTP 401 at watch start", { i: "watch-failed", error: apiError(401, "Unauthorized") }],
    ["a TLS failure", { i: "watch-failed", error: new KubeConnectionError("https://x", "bad cert", { tls: true }) }],
  ] as const) {
    it(`${name} → backoff, then relist at the last RV`, () => {
      const rs = run(watchingAt("100"), [input as ReflectorInput, { i: "wake" }]);
      assert.equal(rs[0]!.effects.length, 1);
      assert.equal(rs[0]!.effects[0]!.e, "error");
      assert.deepEqual(rs[0]!.command, backoffCmd());
      assert.deepEqual(rs[1]!.command, listCmd("100", undefined));
    });
  }

  for (const [name, input, retry] of [
    ["HTTP 429 with Retry-After", { i: "watch-failed", error: apiError(429, "TooManyRequests", {}, "7") }, 7],
    ["ERROR 429", evError(status(429, "TooManyRequests", { details: { retryAfterSeconds: 3 } })), 3],
    ["connection refused at watch start", { i: "watch-failed", error: new KubeConnectionError("https://x", "connect ECONNREFUSED", {}) }, undefined],
  ] as const) {
    it(`${name} → backoff, then re-watch the same RV with no relist`, () => {
      const rs = run(watchingAt("100"), [input as ReflectorInput, { i: "wake" }]);
      assert.deepEqual(rs[0]!.command, backoffCmd(retry));
      assert.deepEqual(rs[1]!.command, watchCmd("100"));
    });
  }

  it("ERROR 504 TooLargeResourceVersion → backoff, relist at RV \"\"", () => {
    const rs = run(watchingAt("100"), [evError(tooLarge().body!), { i: "wake" }]);
    assert.deepEqual(rs[1]!.command, listCmd(undefined, 500));
  });

  it("a connection reset after events re-watches at once from the last RV; a decode error backs off and relists", () => {
    const s = last(run(watchingAt("100"), [ev(`{"type":"MODIFIED","object":{"metadata":{"name":"a","namespace":"ns","resourceVersion":"120"}},"resourceVersion":"120"}`)])).state;
    const reset = step(s, { i: "stream-failed", kind: "stream", error: new Error("reset"), elapsedMs: 10 });
    assert.deepEqual(reset.command, watchCmd("120"));
    assert.deepEqual(kinds(reset.effects), ["error:stream"]);
    const idle = step(s, { i: "stream-failed", kind: "idle-timeout", error: new Error("idle"), elapsedMs: 400_000 });
    assert.deepEqual(idle.command, watchCmd("120"));
    assert.deepEqual(kinds(idle.effects), ["error:idle-timeout"]);
    const bad = step(s, { i: "stream-failed", kind: "decode", error: new Error("not json"), elapsedMs: 10 });
    assert.deepEqual(bad.command, backoffCmd());
    assert.deepEqual(step(bad.state, { i: "wake" }).command, listCmd("120", undefined));
  });

  it("an immediate reset with no event counts as very short (backoff + relist)", () => {
    const r = step(watchingAt("100"), { i: "stream-failed", kind: "stream", error: new Error("reset"), elapsedMs: 3 });
    assert.deepEqual(r.command, backoffCmd());
    assert.deepEqual(step(r.state, { i: "wake" }).command, listCmd("100", undefined));
  });

  it("ignores inputs that do not fit the state", () => {
    const s = watchingAt("100");
    const r = step(s, { i: "wake" });
    assert.equal(r.state, s);
    assert.equal(r.command, undefined);
    assert.deepEqual(r.effects, []);
  });
});

describe("reflector state: streaming list", () => {
  const stream = initialState({ streamingList: true });
  const end = (rv: string): ReflectorInput => ({ i: "watch-event", event: { type: "BOOKMARK", resourceVersion: rv, initialEventsEnd: true } });
  const added = (name: string, rv: string): ReflectorInput => ({ i: "watch-event", event: { type: "ADDED", object: pod(name, rv), resourceVersion: rv } });

  it("starts with sendInitialEvents, buffers ADDED, completes at the end bookmark and keeps the stream", () => {
    const rs = run(stream, [{ i: "start" }, added("a", "3"), added("b", "4"), end("9"), added("c", "10")]);
    assert.deepEqual(rs[0]!.command, watchCmd(undefined, true));
    assert.deepEqual(kinds(rs[0]!.effects), []);
    assert.deepEqual(kinds(rs[1]!.effects), ["relist-items"]);
    assert.deepEqual(kinds(rs[3]!.effects), ["relist-done"]);
    assert.equal(rs[3]!.command, undefined);
    assert.equal(rs[3]!.state.t, "watching");
    assert.equal(rs[3]!.state.lastSyncRV, "9");
    assert.deepEqual(kinds(rs[4]!.effects), ["apply"]);
  });

  it("a relist after 410 streams again from the last RV", () => {
    const rs = run(stream, [{ i: "start" }, end("9"), evError(status(410, "Expired")), { i: "wake" }]);
    assert.deepEqual(rs[3]!.command, watchCmd("9", true));
  });

  it("422 at start → LIST at once and streaming off for good", () => {
    const rs = run(stream, [{ i: "start" }, { i: "watch-failed", error: apiError(422, "Invalid") }]);
    assert.deepEqual(kinds(rs[1]!.effects), ["relist-abort", "error:watch-start"]);
    assert.deepEqual(rs[1]!.command, listCmd("0", 500));
    assert.equal(rs[1]!.state.streaming, false);
  });

  it("a server that ignores it (plain bookmark first, or an end without the bookmark) → LIST, streaming off", () => {
    const a = run(stream, [{ i: "start" }, added("a", "3"), { i: "watch-event", event: { type: "BOOKMARK", resourceVersion: "5", initialEventsEnd: false } }]);
    assert.deepEqual(last(a).command, listCmd("0", 500));
    assert.equal(last(a).state.streaming, false);
    const b = run(stream, [{ i: "start" }, { i: "watch-ended", elapsedMs: 300_000 }]);
    assert.deepEqual(last(b).command, listCmd("0", 500));
    assert.equal(last(b).state.streaming, false);
  });

  it("ERROR 410 during the initial events → LIST at RV \"\", streaming stays on", () => {
    const rs = run(stream, [{ i: "start" }, added("a", "3"), evError(status(410, "Expired"))]);
    assert.deepEqual(last(rs).command, listCmd(undefined, 500));
    assert.equal(last(rs).state.streaming, true);
  });

  it("a reset during the initial events → LIST at once; DELETED in the initial phase is forwarded", () => {
    const rs = run(stream, [{ i: "start" }, { i: "watch-event", event: { type: "DELETED", object: pod("a", "4"), resourceVersion: "4" } }, { i: "stream-failed", kind: "stream", error: new Error("reset"), elapsedMs: 1 }]);
    assert.deepEqual(kinds(rs[1]!.effects), ["relist-delete"]);
    assert.deepEqual(kinds(rs[2]!.effects), ["relist-abort", "error:stream"]);
    assert.deepEqual(rs[2]!.command, listCmd("0", 500));
  });
});
