/**
 * The pure retry policies (src/connect/policy/): which methods are retried
 * (names, the descriptor's idempotency level), the decision and gRPC's
 * full-jitter backoff within the deadline, the retry budget over its window
 * on explicit times, the state of a hedged call, and option errors.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Code } from "@connectrpc/connect";
import type { DescMethod } from "@bufbuild/protobuf";
import { EndpointConfigError } from "../../src/connect/endpoint-source.ts";
import { methodFilter, retryBackoffMs, retryConfig, retryDelay } from "../../src/connect/policy/retry.ts";
import { RetryBudget, retryBudgetConfig } from "../../src/connect/policy/retry-budget.ts";
import { HedgeState, hedgingConfig } from "../../src/connect/policy/hedging.ts";
import { Echo } from "../../proto/gen/echo_pb.ts";

/** Echo.Say with another idempotency level, as a descriptor with `option idempotency_level` has it. */
function withLevel(level: number): DescMethod {
  return Object.create(Echo.method.say, { idempotency: { value: level } }) as DescMethod;
}

const badOption = (re: RegExp) => (e: unknown): boolean => e instanceof EndpointConfigError && e.code === "BAD_OPTION" && re.test(e.message);

describe("retry: which methods", () => {
  it("by default, the methods whose descriptor declares NO_SIDE_EFFECTS or IDEMPOTENT", () => {
    const f = methodFilter("retry", {});
    assert.equal(f(Echo.method.say), false, "IDEMPOTENCY_UNKNOWN is not retried");
    assert.equal(f(withLevel(1)), true, "NO_SIDE_EFFECTS");
    assert.equal(f(withLevel(2)), true, "IDEMPOTENT");
  });

  it("by name: package.Service/Method or a whole service; idempotent: false ignores the level", () => {
    const one = methodFilter("retry", { methods: ["kratoskube.echo.v1.Echo/Say"], idempotent: false });
    assert.equal(one(Echo.method.say), true);
    assert.equal(one(Echo.method.repeat), false);
    assert.equal(one(withLevel(2)), true, "named");
    const byLevelOff = methodFilter("retry", { idempotent: false });
    assert.equal(byLevelOff(withLevel(2)), false);
    const service = methodFilter("retry", { methods: ["kratoskube.echo.v1.Echo"] });
    assert.equal(service(Echo.method.say), true);
    assert.equal(service(Echo.method.chat), true);
    assert.equal(methodFilter("retry", { methods: ["kratoskube.echo.v1.Other"] })(Echo.method.say), false);
  });

  it("refuses malformed names and a non-boolean idempotent, naming the option", () => {
    assert.throws(() => retryConfig({ methods: ["/kratoskube.echo.v1.Echo/Say"] }), badOption(/retry\.methods must be/));
    assert.throws(() => retryConfig({ methods: "kratoskube.echo.v1.Echo" as never }), badOption(/retry\.methods must be an array/));
    assert.throws(() => hedgingConfig({ delayMs: 5, methods: ["a b"] }), badOption(/hedging\.methods/));
    assert.throws(() => retryConfig({ idempotent: "yes" as never }), badOption(/retry\.idempotent must be a boolean/));
  });
});

describe("retry: decision and backoff", () => {
  it("defaults: Unavailable, 3 attempts, backoff bound 10 ms ×2 up to 1 s", () => {
    const c = retryConfig();
    assert.equal(c.maxAttempts, 3);
    assert.deepEqual([...c.codes], [Code.Unavailable]);
    assert.deepEqual([c.initialBackoffMs, c.backoffMultiplier, c.maxBackoffMs], [10, 2, 1_000]);
  });

  it("full jitter over the exponential bound (gRFC A6), capped at maxBackoffMs", () => {
    const c = retryConfig({ initialBackoffMs: 100, backoffMultiplier: 3, maxBackoffMs: 500 });
    const max = (): number => 1 - Number.EPSILON;
    assert.ok(Math.abs(retryBackoffMs(c, 1, max) - 100) < 1e-9);
    assert.ok(Math.abs(retryBackoffMs(c, 2, max) - 300) < 1e-9);
    assert.ok(Math.abs(retryBackoffMs(c, 3, max) - 500) < 1e-9, "capped");
    assert.equal(retryBackoffMs(c, 3, () => 0), 0);
    assert.equal(retryBackoffMs(c, 2, () => 0.5), 150);
  });

  it("retries only the configured codes, within maxAttempts and while the deadline leaves time for the backoff", () => {
    const c = retryConfig({ maxAttempts: 3, codes: [Code.Unavailable, Code.ResourceExhausted], initialBackoffMs: 100 });
    const half = (): number => 0.5;
    const at = { now: 1_000, deadline: Number.POSITIVE_INFINITY };
    assert.equal(retryDelay(c, { ...at, code: Code.Unavailable, attempts: 1 }, half), 50);
    assert.equal(retryDelay(c, { ...at, code: Code.ResourceExhausted, attempts: 2 }, half), 100);
    assert.equal(retryDelay(c, { ...at, code: Code.Unavailable, attempts: 3 }, half), undefined, "no attempts left");
    assert.equal(retryDelay(c, { ...at, code: Code.Internal, attempts: 1 }, half), undefined, "not a retried code");
    assert.equal(retryDelay(c, { now: 1_000, deadline: 1_051, code: Code.Unavailable, attempts: 1 }, half), 50);
    assert.equal(retryDelay(c, { now: 1_000, deadline: 1_050, code: Code.Unavailable, attempts: 1 }, half), undefined, "the backoff would reach the deadline");
  });

  it("caps maxAttempts at 5 as gRPC does; refuses bad values", () => {
    assert.equal(retryConfig({ maxAttempts: 9 }).maxAttempts, 5);
    assert.throws(() => retryConfig({ maxAttempts: 0 }), badOption(/retry\.maxAttempts must be a number in \[1, Infinity\], got 0/));
    assert.throws(() => retryConfig({ codes: [99 as Code] }), badOption(/retry\.codes must be an array of Code values/));
    assert.throws(() => retryConfig({ backoffMultiplier: 0.5 }), badOption(/retry\.backoffMultiplier/));
    assert.throws(() => retryConfig({ initialBackoffMs: Number.NaN }), badOption(/retry\.initialBackoffMs/));
    assert.throws(() => retryConfig(7 as never), badOption(/^retry must be an object or false/));
  });
});

describe("retry budget", () => {
  it("defaults: 20 % of the calls of the last 10 s plus 10 retries per second (Finagle, Linkerd)", () => {
    assert.deepEqual(retryBudgetConfig(), { ratio: 0.2, minRetriesPerSecond: 10, windowMs: 10_000 });
  });

  it("allows the floor, then 0.2 retries per call; exhausted, it refuses", () => {
    const b = new RetryBudget(retryBudgetConfig({ minRetriesPerSecond: 0.5 }), 0); // floor: 5 per window
    let allowed = 0;
    while (b.tryWithdraw(1)) allowed++;
    assert.equal(allowed, 5);
    for (let i = 0; i < 10; i++) b.deposit(2);
    assert.equal(b.tryWithdraw(3), true, "10 calls × 0.2 = 2 more");
    assert.equal(b.tryWithdraw(3), true);
    assert.equal(b.tryWithdraw(3), false);
    assert.ok(Math.abs(b.balance(3)) < 1e-9);
  });

  it("a storm: every call failing, retries stay at ratio × calls + floor", () => {
    const b = new RetryBudget(retryBudgetConfig({ minRetriesPerSecond: 1 }), 0); // floor 10
    let retries = 0;
    for (let i = 0; i < 1_000; i++) {
      b.deposit(i);
      // each call would retry twice
      if (b.tryWithdraw(i)) retries++;
      if (b.tryWithdraw(i)) retries++;
    }
    assert.equal(retries, 10 + 200);
  });

  it("calls and retries expire after the window, slot by slot", () => {
    const b = new RetryBudget(retryBudgetConfig({ minRetriesPerSecond: 0, windowMs: 10_000 }), 0);
    for (let i = 0; i < 10; i++) b.deposit(500); // slot 0: 2 retries' worth
    assert.equal(b.tryWithdraw(600), true);
    assert.equal(b.tryWithdraw(600), true);
    assert.equal(b.tryWithdraw(600), false);
    for (let i = 0; i < 5; i++) b.deposit(5_500); // slot 5: 1 more
    assert.equal(b.tryWithdraw(5_600), true);
    assert.equal(b.tryWithdraw(5_600), false);
    // At 10 s slot 0 (10 calls, 2 retries) expires: 5 calls × 0.2 − 1 retry = 0 left.
    assert.ok(Math.abs(b.balance(10_000)) < 1e-9);
    assert.equal(b.tryWithdraw(10_000), false);
    // Long idle: everything expired, the floor (0) and no calls.
    assert.equal(b.balance(1e9), 0);
    b.deposit(1e9);
    assert.ok(Math.abs(b.balance(1e9) - 0.2) < 1e-9);
  });

  it("refuses bad options, naming them", () => {
    assert.throws(() => retryBudgetConfig({ ratio: -1 }), badOption(/retryBudget\.ratio/));
    assert.throws(() => retryBudgetConfig({ minRetriesPerSecond: "10" as never }), badOption(/retryBudget\.minRetriesPerSecond/));
    assert.throws(() => retryBudgetConfig({ windowMs: 1 }), badOption(/retryBudget\.windowMs must be a number in \[10, Infinity\], got 1/));
  });
});

describe("hedging state", () => {
  const config = hedgingConfig({ delayMs: 20, maxAttempts: 3, nonFatalCodes: [Code.Unavailable] });

  it("defaults: 2 attempts, Unavailable non-fatal; delayMs is required", () => {
    const c = hedgingConfig({ delayMs: 0 });
    assert.equal(c.maxAttempts, 2);
    assert.deepEqual([...c.nonFatalCodes], [Code.Unavailable]);
    assert.throws(() => hedgingConfig({} as never), badOption(/hedging\.delayMs must be a finite number ≥ 0, got undefined/));
    assert.throws(() => hedgingConfig({ delayMs: 5, maxAttempts: 0 }), badOption(/hedging\.maxAttempts/));
    assert.throws(() => hedgingConfig({ delayMs: 5, nonFatalCodes: ["x"] as never }), badOption(/hedging\.nonFatalCodes/));
  });

  it("the first OK wins, whatever is still running", () => {
    const s = new HedgeState(config);
    s.sentOne();
    s.sentOne();
    assert.equal(s.ended({ ok: true }), "win");
    assert.equal(s.canSend(), false, "done");
    assert.equal(s.ended({ ok: false, code: Code.Canceled, unsent: false }), "wait", "the cancelled one changes nothing");
  });

  it("a fatal code ends the call at once; a non-fatal one sends the next attempt", () => {
    const s = new HedgeState(config);
    s.sentOne();
    s.sentOne();
    assert.equal(s.ended({ ok: false, code: Code.Unavailable, unsent: false }), "send");
    s.sentOne();
    assert.equal(s.ended({ ok: false, code: Code.Internal, unsent: false }), "fail");
  });

  it("an unsent attempt is non-fatal whatever its code; with every attempt failed, the last failure is the answer", () => {
    const s = new HedgeState(config);
    s.sentOne();
    assert.equal(s.ended({ ok: false, code: Code.Internal, unsent: true }), "send");
    s.sentOne();
    s.sentOne();
    assert.equal(s.canSend(), false, "3 sent");
    assert.equal(s.ended({ ok: false, code: Code.Unavailable, unsent: false }), "wait", "one is still running");
    assert.equal(s.ended({ ok: false, code: Code.Unavailable, unsent: false }), "fail");
  });

  it("when the next attempt cannot be sent, waits for those running, else fails", () => {
    const s = new HedgeState(config);
    s.sentOne();
    s.sentOne();
    assert.equal(s.ended({ ok: false, code: Code.Unavailable, unsent: false }), "send");
    assert.equal(s.unsendable(), "wait");
    assert.equal(s.ended({ ok: false, code: Code.Unavailable, unsent: false }), "send");
    assert.equal(s.unsendable(), "fail");
  });
});
