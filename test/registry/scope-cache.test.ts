/**
 * Shared scopes: one open per key while held, closed once with the last hold,
 * and a released key opens afresh.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ScopeCache } from "../../src/registry/scope-cache.ts";
import type { ObjectRecord } from "../../src/kube/resource.ts";

function opener(log: string[], name: string) {
  return () => {
    log.push(`open ${name}`);
    return { parts: [], close: () => log.push(`close ${name}`) };
  };
}

describe("ScopeCache", () => {
  it("opens a key once for all its holders and closes it with the last release", () => {
    const log: string[] = [];
    const cache = new ScopeCache<ObjectRecord>();
    const a = cache.acquire("shop", opener(log, "shop#1"));
    const b = cache.acquire("shop", opener(log, "shop#2"));
    const c = cache.acquire("db", opener(log, "db#1"));
    assert.equal(a, b, "one scope object per key");
    assert.notEqual(a, c);
    assert.deepEqual(log, ["open shop#1", "open db#1"]);
    assert.equal(cache.size, 2);
    a.release();
    assert.deepEqual(log, ["open shop#1", "open db#1"], "still held once");
    b.release();
    assert.deepEqual(log, ["open shop#1", "open db#1", "close shop#1"]);
    assert.equal(cache.size, 1);
    b.release();
    assert.deepEqual(log, ["open shop#1", "open db#1", "close shop#1"], "a release beyond the holds does nothing");
    const d = cache.acquire("shop", opener(log, "shop#3"));
    assert.notEqual(d, a, "a key released by all opens afresh");
    assert.deepEqual(log.slice(3), ["open shop#3"]);
    c.release();
    d.release();
    assert.deepEqual(log.slice(4), ["close db#1", "close shop#3"]);
    assert.equal(cache.size, 0);
  });

  it("a stale scope released after its key reopened leaves the new one alone", () => {
    const log: string[] = [];
    const cache = new ScopeCache<ObjectRecord>();
    const a = cache.acquire("shop", opener(log, "1"));
    a.release();
    const b = cache.acquire("shop", opener(log, "2"));
    a.release();
    assert.equal(cache.size, 1);
    assert.equal(cache.acquire("shop", opener(log, "3")), b);
    assert.deepEqual(log, ["open 1", "close 1", "open 2"]);
  });
});
