/**
 * The retry budget: retries (and hedged attempts) may add at most a ratio of
 * the calls made recently, plus a small floor, so that when every endpoint
 * fails, retries cannot multiply the outage. The semantics are Finagle's
 * `RetryBudget` (`com.twitter.finagle.service.RetryBudget`: `ttl`,
 * `minRetriesPerSec`, `percentCanRetry`) and Linkerd's `retryBudget`
 * (`retryRatio`, `minRetriesPerSecond`, `ttl`), whose defaults kratos-kube
 * takes: 20 % of the calls of the last 10 s, plus 10 retries per second.
 * Envoy's `retry_budget` (`budget_percent`, 20 % by default) bounds the
 * same share of retries, counted over the requests in flight instead.
 *
 * Every call deposits `ratio` of a token, every retry or hedge withdraws
 * one; the balance is `minRetriesPerSecond × windowMs / 1000 + ratio ×
 * calls − retries`, counting the calls and retries of the last `windowMs`
 * (in ten slots). A retry is allowed while the balance is at least 1; when
 * it is not, the failure is the call's answer. Over any window, retries ≤
 * `ratio × calls + minRetriesPerSecond × window`: the load a failing
 * service sees grows by at most `ratio` (20 %) once traffic is above the
 * floor.
 *
 * The budget is pure: the transport passes the time.
 *
 * @module
 */
import { badOption, numberOption } from "./retry.ts";

/** Options of the retry budget (the transport's `retryBudget` option). */
export interface RetryBudgetOptions {
  /** Retries allowed per call made, over the window (default 0.2, Finagle `percentCanRetry`, Linkerd `retryRatio`). */
  readonly ratio?: number;
  /** Retries allowed per second whatever the calls (default 10, Finagle's and Linkerd's `minRetriesPerSecond`). */
  readonly minRetriesPerSecond?: number;
  /** How long a call or retry counts, in ms (default 10 000, Finagle's and Linkerd's `ttl`). */
  readonly windowMs?: number;
}

/** The options with every default filled in. */
export interface RetryBudgetConfig {
  readonly ratio: number;
  readonly minRetriesPerSecond: number;
  readonly windowMs: number;
}

/** Validates `o` and fills in the defaults; throws an `EndpointConfigError` (`BAD_OPTION`) naming a bad field. */
export function retryBudgetConfig(o: RetryBudgetOptions = {}): RetryBudgetConfig {
  if (typeof o !== "object" || o === null) badOption("retryBudget", o, "an object or false");
  return {
    ratio: numberOption("retryBudget.ratio", o.ratio, 0.2, 0, 1_000),
    minRetriesPerSecond: numberOption("retryBudget.minRetriesPerSecond", o.minRetriesPerSecond, 10, 0),
    windowMs: numberOption("retryBudget.windowMs", o.windowMs, 10_000, 10),
  };
}

const SLOTS = 10;

/** See the module doc. */
export class RetryBudget {
  readonly config: RetryBudgetConfig;
  readonly #slotMs: number;
  readonly #reserve: number;
  readonly #calls = new Float64Array(SLOTS);
  readonly #retries = new Float64Array(SLOTS);
  #callSum = 0;
  #retrySum = 0;
  /** Index (time / slotMs) of the newest slot. */
  #slot: number;

  /** @param config see {@link retryBudgetConfig}; @param now the clock's time */
  constructor(config: RetryBudgetConfig, now: number) {
    this.config = config;
    this.#slotMs = config.windowMs / SLOTS;
    this.#reserve = (config.minRetriesPerSecond * config.windowMs) / 1000;
    this.#slot = Math.floor(now / this.#slotMs);
  }

  /** A call started. */
  deposit(now: number): void {
    const i = this.#advance(now);
    this.#calls[i]!++;
    this.#callSum++;
  }

  /** Withdraws one retry when the balance allows it; `false` = the budget is exhausted. */
  tryWithdraw(now: number): boolean {
    const i = this.#advance(now);
    if (this.#balance() < 1) return false;
    this.#retries[i]!++;
    this.#retrySum++;
    return true;
  }

  /** Retries the budget allows now (may be fractional). */
  balance(now: number): number {
    this.#advance(now);
    return this.#balance();
  }

  #balance(): number {
    return this.#reserve + this.config.ratio * this.#callSum - this.#retrySum;
  }

  /** Expires the slots older than the window; returns the current slot's index. */
  #advance(now: number): number {
    const slot = Math.floor(now / this.#slotMs);
    if (slot > this.#slot) {
      const expire = Math.min(SLOTS, slot - this.#slot);
      for (let k = 1; k <= expire; k++) {
        const i = (this.#slot + k) % SLOTS;
        this.#callSum -= this.#calls[i]!;
        this.#retrySum -= this.#retries[i]!;
        this.#calls[i] = 0;
        this.#retries[i] = 0;
      }
      this.#slot = slot;
    }
    return ((this.#slot % SLOTS) + SLOTS) % SLOTS;
  }
}
