/**
 * The informer observer hook: what observeSink reports around the sink it
 * wraps (relists with the size, first watch vs reconnect, events with the
 * object's last write), and that a throwing observer changes nothing.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { lastWrite, observeSink, type InformerObserver, type KubeObject, type ReflectorSink } from "../../src/kube/index.ts";

function recordingSink(log: string[]): ReflectorSink {
  return {
    relistBegin: () => log.push("begin"),
    relistItems: (items) => log.push(`items ${items.length}`),
    relistDelete: () => log.push("delete"),
    relistDone: (rv) => log.push(`done ${rv}`),
    relistAbort: () => log.push("abort"),
    apply: (type) => log.push(`apply ${type}`),
    watchStarted: () => log.push("watch"),
  };
}

const pod = (times: (string | number | undefined)[]): KubeObject =>
  ({ metadata: { name: "p", namespace: "ns", managedFields: times.map((time) => (time === undefined ? { manager: "x" } : { manager: "x", time })) } }) as KubeObject;

describe("informer observer", () => {
  it("reports relists, first watches, reconnects and events after the sink saw them", () => {
    const log: string[] = [];
    let size = 0;
    const observer: InformerObserver = {
      relisted: (n) => log.push(`relisted ${n}`),
      watchStarted: (resumed) => log.push(resumed ? "reconnected" : "watch started"),
      event: (type, at, n) => log.push(`event ${type} ${at} ${n}`),
    };
    const sink = observeSink(recordingSink(log), observer, () => size);
    sink.relistBegin();
    sink.relistItems([pod([]), pod([])]);
    size = 2;
    sink.relistDone("10");
    sink.watchStarted!();
    sink.apply("ADDED", pod(["2026-01-01T00:00:05Z", "2026-01-01T00:00:09Z", undefined]));
    sink.watchStarted!();
    sink.apply("DELETED", pod([]));
    assert.deepEqual(log, [
      "begin",
      "items 2",
      "done 10",
      "relisted 2",
      "watch",
      "watch started",
      "apply ADDED",
      `event ADDED ${Date.parse("2026-01-01T00:00:09Z")} 2`,
      "watch",
      "reconnected",
      "apply DELETED",
      "event DELETED undefined 2",
    ]);
  });

  it("reads the newest managedFields time, and none when there is none", () => {
    assert.equal(lastWrite(pod(["2026-01-01T00:00:05Z", "garbage", "2025-12-31T23:59:59Z"])), Date.parse("2026-01-01T00:00:05Z"));
    assert.equal(lastWrite(pod([undefined])), undefined);
    // The protobuf reader keeps the time as epoch milliseconds.
    assert.equal(lastWrite(pod([Date.parse("2026-01-01T00:00:05Z"), "2026-01-01T00:00:07Z", Number.NaN])), Date.parse("2026-01-01T00:00:07Z"));
    assert.equal(lastWrite(pod([1_767_225_610_000])), 1_767_225_610_000);
    assert.equal(lastWrite({ metadata: {} } as KubeObject), undefined);
  });

  it("ignores a throwing observer", () => {
    const log: string[] = [];
    const boom = (): never => {
      throw new Error("observer bug");
    };
    const sink = observeSink(recordingSink(log), { relisted: boom, watchStarted: boom, event: boom }, () => 0);
    sink.relistDone("1");
    sink.watchStarted!();
    sink.apply("MODIFIED", pod([]));
    assert.deepEqual(log, ["done 1", "watch", "apply MODIFIED"]);
  });
});
