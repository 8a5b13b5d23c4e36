/**
 * The three deadlines of one watch stream, as a pure core and a thin timer:
 *
 * 1. **silence**: no byte for `timeoutSeconds` + `idleGraceMs` (5 s, as
 *    kube-rs #1945); once a bookmark arrived (so bookmarks are known to flow)
 *    the limit drops to `bookmarkSilenceMs` (2 min: twice the cacher's 1 min
 *    bookmark interval, apiserver `cacher.go` `defaultBookmarkFrequency`);
 * 2. **initial-event silence** (streaming lists only): no initial event for
 *    `initialEventsSilenceMs` (60 s);
 * 3. **initial-events end** (streaming lists only): no
 *    `k8s.io/initial-events-end` bookmark within `initialEventsTimeoutMs`
 *    (3 min) of the start.
 *
 * {@link watchDeadline} says, for the times seen so far, which deadline comes
 * next and when; {@link Watchdog} keeps one timer on a {@link Clock} for it and
 * calls `onExpired` with a {@link WatchError} (`idle-timeout`) once.
 *
 * @module
 */
import type { Clock, TimerHandle } from "../clock.ts";
import { WatchError } from "../errors.ts";

/** The limits of one watch (all in ms). */
export interface WatchLimits {
  /** `timeoutSeconds` of the request × 1000 + the idle grace. */
  readonly silenceMs: number;
  /** Silence limit once a bookmark arrived. */
  readonly bookmarkSilenceMs: number;
  /** Longest gap between two initial events of a streaming list. */
  readonly initialSilenceMs: number;
  /** Longest time from the start to the initial-events-end bookmark. */
  readonly initialTimeoutMs: number;
}

/** What the stream delivered so far (times on the watch's clock). */
export interface WatchProgress {
  readonly started: number;
  readonly lastByte: number;
  readonly lastEvent: number;
  /** A bookmark arrived on this stream. */
  readonly bookmarks: boolean;
  /** Initial events are still expected (a streaming list before its end bookmark). */
  readonly initialEvents: boolean;
}

/** The next deadline: which one and when it falls. */
export type WatchDeadline =
  | { readonly kind: "silence"; readonly at: number; readonly limitMs: number }
  | { readonly kind: "initial-silence"; readonly at: number }
  | { readonly kind: "initial-end"; readonly at: number };

/** Pure: the deadline that falls first for `p` under `l`. */
export function watchDeadline(l: WatchLimits, p: WatchProgress): WatchDeadline {
  const limitMs = p.bookmarks ? Math.min(l.bookmarkSilenceMs, l.silenceMs) : l.silenceMs;
  const silence: WatchDeadline = { kind: "silence", at: p.lastByte + limitMs, limitMs };
  if (!p.initialEvents) return silence;
  const quiet = p.lastEvent + l.initialSilenceMs;
  const end = p.started + l.initialTimeoutMs;
  const initial: WatchDeadline = quiet <= end ? { kind: "initial-silence", at: quiet } : { kind: "initial-end", at: end };
  return initial.at <= silence.at ? initial : silence;
}

/** Pure: the error a deadline that fell at `now` reports. */
export function deadlineError(d: WatchDeadline, p: WatchProgress, now: number): WatchError {
  switch (d.kind) {
    case "silence":
      return new WatchError("idle-timeout", `the watch received no bytes for ${Math.round(now - p.lastByte)} ms; reconnecting`);
    case "initial-silence":
      return new WatchError("idle-timeout", `the streaming list received no initial event for ${Math.round(now - p.lastEvent)} ms and no initial-events-end bookmark`);
    case "initial-end":
      return new WatchError("idle-timeout", `the streaming list did not reach its initial-events-end bookmark within ${Math.round(now - p.started)} ms`);
  }
}

/** Which deadline fell: the stream's silence, or one of the streaming list's. */
export type ExpiredKind = "idle" | "stalled";

/**
 * One timer for the deadlines of one watch. Tell it what arrives (`byte`,
 * `event`, `bookmark`); `initialEvents()` is asked each time, so the driver's
 * state decides when the streaming list is over.
 */
export class Watchdog {
  readonly #clock: Clock;
  readonly #limits: WatchLimits;
  readonly #initialEvents: () => boolean;
  readonly #onExpired: (error: WatchError, kind: ExpiredKind) => void;
  readonly #started: number;
  #lastByte: number;
  #lastEvent: number;
  #bookmarks = false;
  #timer: TimerHandle | undefined;
  #done = false;

  constructor(o: { clock: Clock; limits: WatchLimits; initialEvents: () => boolean; onExpired: (error: WatchError, kind: ExpiredKind) => void }) {
    this.#clock = o.clock;
    this.#limits = o.limits;
    this.#initialEvents = o.initialEvents;
    this.#onExpired = o.onExpired;
    this.#started = this.#lastByte = this.#lastEvent = o.clock.now();
    this.#arm();
  }

  /** Bytes arrived. */
  byte(): void {
    this.#lastByte = this.#clock.now();
  }

  /** An event was decoded (after its bytes). */
  event(): void {
    this.#lastEvent = this.#lastByte;
  }

  /** A bookmark was decoded: from now on the shorter silence limit applies. */
  bookmark(): void {
    if (this.#bookmarks) return;
    this.#bookmarks = true;
    this.#arm();
  }

  /** Stops the timer; nothing fires afterwards. */
  cancel(): void {
    this.#done = true;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #progress(): WatchProgress {
    return { started: this.#started, lastByte: this.#lastByte, lastEvent: this.#lastEvent, bookmarks: this.#bookmarks, initialEvents: this.#initialEvents() };
  }

  #arm(): void {
    this.#timer?.cancel();
    if (this.#done) return;
    const now = this.#clock.now();
    const d = watchDeadline(this.#limits, this.#progress());
    this.#timer = this.#clock.setTimeout(() => this.#check(), Math.max(0, d.at - now));
  }

  #check(): void {
    if (this.#done) return;
    const now = this.#clock.now();
    const p = this.#progress();
    const d = watchDeadline(this.#limits, p);
    if (now < d.at) return this.#arm();
    this.#done = true;
    this.#onExpired(deadlineError(d, p, now), d.kind === "silence" ? "idle" : "stalled");
  }
}
