/**
 * The coalescing watcher over a versioned set: latest state wins between
 * pulls, and a stopped watcher lets go of what it watched (a consumer that
 * keeps the watcher object, as a finished `for await` loop's scope does,
 * keeps no instances alive through it).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CoalescingWatcher } from "../../src/registry/service-watcher.ts";
import type { ServiceInstance } from "../../src/registry/kratos-codec.ts";
import type { DiscoveryState } from "../../src/registry/service-hub.ts";

const instance = (id: string): ServiceInstance => ({ id, name: "greeter", version: "", metadata: {}, endpoints: [`grpc://10.0.0.${id}:9000`] });

/** A source whose reads are counted, and can be told to change. */
function source() {
  let items: ServiceInstance[] = [instance("1")];
  let state: DiscoveryState = "synced";
  const reads = { set: 0, state: 0 };
  const set = { version: 1, instances: () => items.slice() };
  return {
    reads,
    change(next: ServiceInstance[], s: DiscoveryState = state) {
      items = next;
      state = s;
      set.version++;
    },
    source: {
      get set() {
        reads.set++;
        return set;
      },
      state() {
        reads.state++;
        return state;
      },
    },
  };
}

describe("CoalescingWatcher", () => {
  it("yields the current set at once, then the latest one after changes (a burst coalesces)", async () => {
    const s = source();
    const w = new CoalescingWatcher("greeter", s.source);
    assert.deepEqual((await w.next()).map((i) => i.id), ["1"]);
    s.change([instance("1"), instance("2")]);
    s.change([instance("3")]);
    assert.deepEqual((await w.next()).map((i) => i.id), ["3"], "the latest state wins");
    const pending = w.next();
    s.change([instance("4")]);
    w.notify();
    assert.deepEqual((await pending).map((i) => i.id), ["4"]);
    await w.stop();
  });

  it("once stopped, ends pending pulls, keeps the state it had and reads nothing more of its source", async () => {
    const s = source();
    const w = new CoalescingWatcher("greeter", s.source);
    await w.next();
    const pending = w.next();
    s.change([], "failing");
    await w.stop();
    await assert.rejects(pending, { code: "CLOSED" });
    const before = { ...s.reads };
    s.change([instance("9")], "synced");
    w.notify();
    assert.equal(w.state, "failing", "the state at stop()");
    await assert.rejects(w.next(), { code: "CLOSED" });
    assert.deepEqual(await w[Symbol.asyncIterator]().next(), { value: undefined, done: true });
    assert.deepEqual(s.reads, before, "neither the set nor the state is read after stop()");
  });
});
