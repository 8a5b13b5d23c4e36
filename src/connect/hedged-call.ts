/**
 * The driver of a hedged unary call (`policy/hedging.ts` holds the rules):
 * the first attempt, then one more every `delayMs` on an endpoint not tried
 * yet, while the budget allows; the first answer that ends the call wins and
 * the other attempts are aborted through their own signals (RST_STREAM
 * CANCEL), which also keeps them out of outlier detection. The hedge timer
 * is the transport's clock; the attempts in flight keep the process alive.
 *
 * @module
 */
import { Code, ConnectError, type UnaryResponse } from "@connectrpc/connect";
import { newAttempt, type Attempt } from "./call/attempt.ts";
import type { Endpoint } from "./channel/endpoint.ts";
import type { PickerNode } from "./picker.ts";
import { HedgeState, type HedgeAction, type HedgingConfig } from "./policy/hedging.ts";
import type { RetryBudget } from "./policy/retry-budget.ts";
import type { TransportClock } from "./transport-clock.ts";
import type { TimerHandle } from "../runtime/clock.ts";

/** What a hedged call needs from the attempt loop. */
export interface HedgeHooks {
  readonly clock: TransportClock;
  readonly budget: RetryBudget | undefined;
  /** The first attempt's endpoint (picked, or waited for). */
  first(): Promise<PickerNode<Endpoint>>;
  /** An endpoint not in `tried`, or `undefined` (also once the deadline passed or the transport closed). */
  other(tried: readonly Endpoint[]): PickerNode<Endpoint> | undefined;
  /** Gives back a pick that is not used. */
  release(node: PickerNode<Endpoint>): void;
  /** The budget refused a hedge. */
  exhausted(): void;
  /** Runs one attempt on `node` with its own `signal` (reporting its outcome); rejects with a `ConnectError`. */
  attempt(node: PickerNode<Endpoint>, signal: AbortSignal, att: Attempt): Promise<UnaryResponse>;
}

/** Runs a hedged call; see the module doc. */
export function runHedged(h: HedgeHooks, config: HedgingConfig, signal: AbortSignal | undefined): Promise<UnaryResponse> {
  return new Promise<UnaryResponse>((resolve, reject) => {
    const state = new HedgeState(config);
    const tried: Endpoint[] = [];
    const running = new Set<AbortController>();
    let timer: TimerHandle | undefined;
    const onAbort = (): void => {
      for (const c of running) c.abort(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });

    const finish = (ok: boolean, value: unknown): void => {
      timer?.cancel();
      timer = undefined;
      signal?.removeEventListener("abort", onAbort);
      const others = [...running];
      running.clear();
      for (const c of others) c.abort(new ConnectError("hedged attempt cancelled: another attempt answered", Code.Canceled));
      if (ok) resolve(value as UnaryResponse);
      else reject(value);
    };

    const act = (a: HedgeAction, value: unknown, unsent: boolean): void => {
      if (a === "win") finish(true, value);
      else if (a === "fail") finish(false, value);
      else if (a === "send" && !hedge(unsent) && state.unsendable() === "fail") finish(false, value);
    };

    const launch = (node: PickerNode<Endpoint>): void => {
      state.sentOne();
      tried.push(node.value);
      const c = new AbortController();
      running.add(c);
      if (signal?.aborted === true) c.abort(signal.reason);
      const att = newAttempt();
      h.attempt(node, c.signal, att).then(
        (res) => {
          running.delete(c);
          act(state.ended({ ok: true }), res, false);
        },
        (e: unknown) => {
          running.delete(c);
          const err = ConnectError.from(e);
          act(state.ended({ ok: false, code: err.code, unsent: att.notSent }), err, att.notSent);
        },
      );
      timer?.cancel();
      timer = state.canSend() ? h.clock.setTimeout(onDelay, config.delayMs) : undefined;
    };

    /** Sends the next attempt if an endpoint not tried is ready and (unless `free`) the budget allows it. */
    const hedge = (free: boolean): boolean => {
      if (!state.canSend() || (signal?.aborted ?? false)) return false;
      const node = h.other(tried);
      if (node === undefined) return false;
      if (!free && h.budget !== undefined && !h.budget.tryWithdraw(h.clock.now())) {
        h.release(node);
        h.exhausted();
        return false;
      }
      launch(node);
      return true;
    };

    const onDelay = (): void => {
      timer = undefined;
      hedge(false);
    };

    h.first().then(launch, (e: unknown) => finish(false, e));
  });
}
