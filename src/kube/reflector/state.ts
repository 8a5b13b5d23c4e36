/**
 * The list-and-watch loop as a pure state machine: `step(state, input)`
 * returns the next state, the effects to apply to the store (and the errors to
 * report) and the one I/O command to run next. No I/O, no timers, no clock:
 * the driver (`reflector.ts`) runs the commands and feeds their results back.
 *
 * The rules are client-go's reflector (`tools/cache/reflector.go`, pager
 * `tools/pager/pager.go`), as summarised in kubernetes-api.md §3–§4, items
 * 23–35; the shape is kube-rs's `watcher.rs` (a state enum and one step
 * function; relists delivered as begin / items / done so the store swaps
 * atomically).
 *
 * ## Recovery
 * - LIST: first `resourceVersion=0` (limit ignored by the server), then the
 *   last synced RV with no limit, or `""` with pages of 500 once that RV is
 *   known to be unavailable (410 Expired or 504 TooLargeResourceVersion, which
 *   are retried at `""` at once). Pages 2+ send only `continue` and `limit`;
 *   an expired continue token restarts as ONE full LIST at the original RV,
 *   never with the inconsistent token the server offers.
 * - WATCH from the last RV (events and bookmarks advance it). A clean end
 *   re-watches at once with no LIST, unless the watch lasted under 1 s with no
 *   event (a "very short watch": backoff, then relist). A dropped connection
 *   or an idle timeout also re-watches at once.
 * - 410 (HTTP or in-stream `ERROR`, reason Expired or Gone): backoff, relist
 *   at the last RV, then at `""` if that is expired too. 429 and connection
 *   errors at watch start (or an `ERROR` 429): backoff and re-watch at the same
 *   RV. Any other error, and undecodable lines: backoff and relist.
 * - Streaming list (optional): a WATCH with `sendInitialEvents=true`, done at
 *   the `k8s.io/initial-events-end` bookmark, keeping the same stream. Any
 *   failure before that bookmark falls back to a LIST at once; a 400/422, a
 *   plain bookmark before the end bookmark or a stream that ends without it
 *   (a server that ignores the parameter) turns streaming off for good, and
 *   so does an `initial-events-timeout` (the driver's bound on initial events
 *   that stall or never end), so a sync can never wait out the 5–10 min watch
 *   timeout silently.
 *
 * ## Errors
 * Every failure yields an `error` effect (a {@link WatchErrorKind} and the
 * cause) and a retry; the machine has no terminal state.
 *
 * @module
 */
import type { KubeObject } from "../wire.ts";
import type { DecodedWatchEvent } from "../watch-decoder.ts";
import type { WatchErrorKind } from "../errors.ts";
import { KubeApiError, KubeConnectionError } from "../errors.ts";

/** Default LIST page size, 500 (client-go `tools/pager` `defaultPageSize`). */
export const DEFAULT_PAGE_SIZE = 500;
/** A watch that ends sooner than this with no event is a failure (client-go reflector.go `VeryShortWatchError`, 1 s). */
export const VERY_SHORT_WATCH_MS = 1000;

/** One LIST request. `resourceVersion: undefined` is the quorum read (`""`). */
export interface ListRequest {
  readonly resourceVersion: string | undefined;
  readonly limit: number | undefined;
  readonly continue: string | undefined;
}

/** One WATCH request; `timeoutSeconds` and `allowWatchBookmarks=true` are added by the driver. */
export interface WatchRequest {
  readonly resourceVersion: string | undefined;
  /** A streaming list: `sendInitialEvents=true&resourceVersionMatch=NotOlderThan`. */
  readonly sendInitialEvents: boolean;
}

/** The next I/O action. */
export type Command =
  | { readonly c: "list"; readonly request: ListRequest }
  | { readonly c: "watch"; readonly request: WatchRequest }
  /** Wait (the backoff policy picks how long), then feed `{ i: "wake" }`. */
  | { readonly c: "backoff"; readonly retryAfterSeconds: number | undefined };

/** Store updates and error reports, applied in order. */
export type Effect =
  /** A relist starts: buffer what follows, the current contents stay visible. */
  | { readonly e: "relist-begin" }
  | { readonly e: "relist-items"; readonly items: readonly KubeObject[] }
  /** Streaming list only: an object of the relist was deleted before it completed. */
  | { readonly e: "relist-delete"; readonly object: KubeObject }
  /** The relist is complete: replace the contents atomically and emit the difference. */
  | { readonly e: "relist-done"; readonly resourceVersion: string }
  /** The relist failed: drop the buffer, the current contents stay. */
  | { readonly e: "relist-abort" }
  | { readonly e: "apply"; readonly type: "ADDED" | "MODIFIED" | "DELETED"; readonly object: KubeObject }
  | { readonly e: "error"; readonly kind: WatchErrorKind; readonly message: string; readonly cause: unknown };

/** Inputs: the results of commands. */
export type ReflectorInput =
  | { readonly i: "start" }
  | {
      readonly i: "list-page";
      readonly resourceVersion: string | undefined;
      readonly continue: string | undefined;
      readonly items: readonly KubeObject[];
    }
  | { readonly i: "list-failed"; readonly error: unknown }
  /** The WATCH request failed before a 2xx response. */
  | { readonly i: "watch-failed"; readonly error: unknown }
  | { readonly i: "watch-event"; readonly event: DecodedWatchEvent }
  /** The stream ended cleanly (EOF, e.g. the server's timeoutSeconds). */
  | { readonly i: "watch-ended"; readonly elapsedMs: number }
  /** The stream broke: a reset, an undecodable line or the idle watchdog. */
  | { readonly i: "stream-failed"; readonly kind: "stream" | "decode" | "idle-timeout"; readonly error: unknown; readonly elapsedMs: number }
  /**
   * Streaming list only: the initial events stalled or did not reach their
   * end bookmark in time (the driver's bound); the server is treated as not
   * supporting streaming lists.
   */
  | { readonly i: "initial-events-timeout"; readonly error: unknown }
  | { readonly i: "wake" };

/** What the loop remembers across states. */
export interface Memory {
  /** The RV the store is synced to (client-go `lastSyncResourceVersion`). */
  readonly lastSyncRV: string | undefined;
  /** The last RV is known to be gone: relist with `""` (client-go `isLastSyncResourceVersionUnavailable`). */
  readonly rvUnavailable: boolean;
  /** Streaming lists are enabled and not known to be unsupported. */
  readonly streaming: boolean;
  readonly pageSize: number;
}

/** Before `start`. */
export interface StartState extends Memory {
  readonly t: "start";
}
/** A (possibly paged) LIST in progress. */
export interface ListingState extends Memory {
  readonly t: "listing";
  /** The first page's request, kept for the full-LIST fallback. */
  readonly first: ListRequest;
  /** 1-based page number; `relist-begin` was emitted when `page > 1`. */
  readonly page: number;
  /** This is the one full LIST after an expired continue token. */
  readonly fullRetry: boolean;
  /** Already retried at `""` after Expired/TooLarge. */
  readonly quorumRetried: boolean;
}
/** A streaming list: a WATCH receiving its initial events. */
export interface WatchListingState extends Memory {
  readonly t: "watch-listing";
  readonly events: number;
}
/** A WATCH in progress. */
export interface WatchingState extends Memory {
  readonly t: "watching";
  /** Events (bookmarks included) received on this watch. */
  readonly events: number;
}
/** Waiting out a backoff delay. */
export interface BackoffState extends Memory {
  readonly t: "backoff";
  readonly resume: "relist" | "watch";
}
/** Every state of the loop. */
export type ReflectorState = StartState | ListingState | WatchListingState | WatchingState | BackoffState;

/** The result of {@link step}. `command: undefined` means "keep reading the current watch stream". */
export interface StepResult {
  readonly state: ReflectorState;
  readonly effects: readonly Effect[];
  readonly command: Command | undefined;
}

/** The state before `start`. */
export function initialState(options: { pageSize?: number; streamingList?: boolean } = {}): ReflectorState {
  return {
    t: "start",
    lastSyncRV: undefined,
    rvUnavailable: false,
    streaming: options.streamingList ?? false,
    pageSize: options.pageSize ?? DEFAULT_PAGE_SIZE,
  };
}

function memory(s: Memory): Memory {
  return { lastSyncRV: s.lastSyncRV, rvUnavailable: s.rvUnavailable, streaming: s.streaming, pageSize: s.pageSize };
}

/** client-go `relistResourceVersion` plus its pager's limit (kubernetes-api.md item 33). */
export function relistRequest(m: Memory): ListRequest {
  if (m.rvUnavailable) return { resourceVersion: undefined, limit: m.pageSize, continue: undefined };
  if (m.lastSyncRV === undefined) return { resourceVersion: "0", limit: m.pageSize, continue: undefined };
  return { resourceVersion: m.lastSyncRV, limit: undefined, continue: undefined };
}

function startList(m: Memory, effects: Effect[], quorumRetried = false): StepResult {
  const request = relistRequest(m);
  return {
    state: { ...memory(m), t: "listing", first: request, page: 1, fullRetry: false, quorumRetried },
    effects,
    command: { c: "list", request },
  };
}

function startWatchList(m: Memory, effects: Effect[]): StepResult {
  const rv = m.rvUnavailable ? undefined : m.lastSyncRV;
  return {
    state: { ...memory(m), t: "watch-listing", events: 0 },
    effects,
    command: { c: "watch", request: { resourceVersion: rv, sendInitialEvents: true } },
  };
}

function relist(m: Memory, effects: Effect[]): StepResult {
  return m.streaming ? startWatchList(m, effects) : startList(m, effects);
}

function watch(m: Memory, effects: Effect[]): StepResult {
  return {
    state: { ...memory(m), t: "watching", events: 0 },
    effects,
    command: { c: "watch", request: { resourceVersion: m.lastSyncRV, sendInitialEvents: false } },
  };
}

function backoff(m: Memory, resume: "relist" | "watch", effects: Effect[], retryAfterSeconds?: number): StepResult {
  return { state: { ...memory(m), t: "backoff", resume }, effects, command: { c: "backoff", retryAfterSeconds } };
}

function err(kind: WatchErrorKind, message: string, cause: unknown): Effect {
  return { e: "error", kind, message, cause };
}

/** How the loop reacts to a failed request or an `ERROR` event. */
export type ErrorClass = "expired" | "too-large" | "throttled" | "unreachable" | "unsupported" | "other";

/** Classifies an error (client-go `isExpiredError`, `isTooLargeResourceVersionError`, `isWatchErrorRetriable`). */
export function classifyError(error: unknown): ErrorClass {
  if (error instanceof KubeApiError) {
    if (error.isGone()) return "expired";
    if (error.isTooLargeResourceVersion()) return "too-large";
    if (error.isTooManyRequests()) return "throttled";
    if (error.status === 422 || error.status === 400) return "unsupported";
    return "other";
  }
  if (error instanceof KubeConnectionError && !error.tls) return "unreachable";
  return "other";
}

function retryAfter(error: unknown): number | undefined {
  return error instanceof KubeApiError ? error.retryAfterSeconds : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function listFailed(s: ListingState, error: unknown): StepResult {
  const cls = classifyError(error);
  const effects: Effect[] = s.page > 1 ? [{ e: "relist-abort" }] : [];
  if (s.page > 1 && cls === "expired" && !s.fullRetry) {
    // client-go pager: an expired continue token → one full LIST at the original RV.
    const request: ListRequest = { resourceVersion: s.first.resourceVersion, limit: undefined, continue: undefined };
    return {
      state: { ...memory(s), t: "listing", first: request, page: 1, fullRetry: true, quorumRetried: s.quorumRetried },
      effects,
      command: { c: "list", request },
    };
  }
  if ((cls === "expired" || cls === "too-large") && !s.quorumRetried && s.first.resourceVersion !== undefined) {
    // client-go reflector list(): retry at once with RV "" (kubernetes-api.md item 24).
    return startList({ ...memory(s), rvUnavailable: true }, effects, true);
  }
  const m: Memory = cls === "expired" || cls === "too-large" ? { ...memory(s), rvUnavailable: true } : memory(s);
  effects.push(err("list", `LIST failed: ${messageOf(error)}`, error));
  return backoff(m, "relist", effects, retryAfter(error));
}

function listPage(s: ListingState, input: Extract<ReflectorInput, { i: "list-page" }>): StepResult {
  const effects: Effect[] = s.page === 1 ? [{ e: "relist-begin" }] : [];
  if (input.items.length > 0) effects.push({ e: "relist-items", items: input.items });
  if (input.continue !== undefined && input.continue !== "") {
    const request: ListRequest = { resourceVersion: undefined, limit: s.first.limit ?? s.pageSize, continue: input.continue };
    return { state: { ...s, page: s.page + 1 }, effects, command: { c: "list", request } };
  }
  const rv = input.resourceVersion;
  if (rv === undefined || rv === "") {
    effects.push({ e: "relist-abort" }, err("no-resource-version", "LIST response has no metadata.resourceVersion", undefined));
    return backoff(memory(s), "relist", effects);
  }
  effects.push({ e: "relist-done", resourceVersion: rv });
  return watch({ ...memory(s), lastSyncRV: rv, rvUnavailable: false }, effects);
}

/** A failure of the plain watch (start, ERROR event, broken stream). */
function watchFailed(s: WatchingState, kind: WatchErrorKind, error: unknown, message: string): StepResult {
  const effects = [err(kind, message, error)];
  switch (classifyError(error)) {
    case "throttled":
    case "unreachable":
      return backoff(memory(s), "watch", effects, retryAfter(error));
    case "too-large":
      return backoff({ ...memory(s), rvUnavailable: true }, "relist", effects, retryAfter(error));
    default:
      // 410 relists at the last RV (item 29); anything else relists too (item 31).
      return backoff(memory(s), "relist", effects, retryAfter(error));
  }
}

/** A failure of a streaming list before its end bookmark: fall back to a LIST at once. */
function watchListFailed(s: WatchListingState, kind: WatchErrorKind, error: unknown, message: string, disable: boolean): StepResult {
  const cls = classifyError(error);
  const m: Memory = {
    ...memory(s),
    streaming: disable || cls === "unsupported" ? false : s.streaming,
    rvUnavailable: cls === "expired" || cls === "too-large" ? true : s.rvUnavailable,
  };
  const effects: Effect[] = [{ e: "relist-abort" }, err(kind, message, error)];
  return startList(m, effects);
}

function watchEvent(s: WatchingState, event: DecodedWatchEvent): StepResult {
  switch (event.type) {
    case "BOOKMARK":
      return { state: { ...s, lastSyncRV: event.resourceVersion, events: s.events + 1 }, effects: [], command: undefined };
    case "ERROR": {
      const e = KubeApiError.fromStatus(event.status);
      return watchFailed(s, "watch-event", e, `watch ERROR event: ${e.message}`);
    }
    default:
      return {
        state: { ...s, lastSyncRV: event.resourceVersion ?? s.lastSyncRV, events: s.events + 1 },
        effects: [{ e: "apply", type: event.type, object: event.object }],
        command: undefined,
      };
  }
}

function watchListEvent(s: WatchListingState, event: DecodedWatchEvent): StepResult {
  const next = { ...s, events: s.events + 1 };
  switch (event.type) {
    case "ADDED":
    case "MODIFIED":
      return { state: next, effects: [{ e: "relist-items", items: [event.object] }], command: undefined };
    case "DELETED":
      return { state: next, effects: [{ e: "relist-delete", object: event.object }], command: undefined };
    case "BOOKMARK":
      if (event.initialEventsEnd) {
        const m: Memory = { ...memory(s), lastSyncRV: event.resourceVersion, rvUnavailable: false };
        return { state: { ...m, t: "watching", events: next.events }, effects: [{ e: "relist-done", resourceVersion: event.resourceVersion }], command: undefined };
      }
      return watchListFailed(s, "watch-event", undefined, "the server ignored sendInitialEvents (a bookmark came before the initial-events-end bookmark); falling back to LIST", true);
    case "ERROR": {
      const e = KubeApiError.fromStatus(event.status);
      return watchListFailed(s, "watch-event", e, `streaming list ERROR event: ${e.message}; falling back to LIST`, false);
    }
  }
}

/**
 * Advances the loop by one input. Pure: the same state and input always give
 * the same result. An input that does not fit the state (a stale result) is
 * ignored: the state is returned unchanged with no command... except `start`
 * and `wake`, which always lead somewhere.
 */
export function step(state: ReflectorState, input: ReflectorInput): StepResult {
  switch (state.t) {
    case "start":
      if (input.i === "start") return relist(state, []);
      break;
    case "backoff":
      if (input.i === "wake") return state.resume === "watch" && state.lastSyncRV !== undefined ? watch(state, []) : relist(state, []);
      break;
    case "listing":
      if (input.i === "list-page") return listPage(state, input);
      if (input.i === "list-failed") return listFailed(state, input.error);
      break;
    case "watching":
      switch (input.i) {
        case "watch-event":
          return watchEvent(state, input.event);
        case "watch-failed":
          return watchFailed(state, "watch-start", input.error, `WATCH failed: ${messageOf(input.error)}`);
        case "watch-ended":
          if (state.events === 0 && input.elapsedMs < VERY_SHORT_WATCH_MS) {
            const e = err("stream", `very short watch: it ended after ${Math.round(input.elapsedMs)} ms with no event`, undefined);
            return backoff(state, "relist", [e]);
          }
          return watch(state, []);
        case "stream-failed": {
          const e = err(input.kind, `watch stream failed: ${messageOf(input.error)}`, input.error);
          if (input.kind === "decode") return backoff(state, "relist", [e]);
          if (state.events === 0 && input.elapsedMs < VERY_SHORT_WATCH_MS) return backoff(state, "relist", [e]);
          return watch(state, [e]);
        }
        default:
          break;
      }
      break;
    case "watch-listing":
      switch (input.i) {
        case "watch-event":
          return watchListEvent(state, input.event);
        case "watch-failed":
          return watchListFailed(state, "watch-start", input.error, `streaming list failed: ${messageOf(input.error)}; falling back to LIST`, false);
        case "watch-ended":
          return watchListFailed(state, "stream", undefined, "the streaming list ended before its initial-events-end bookmark; falling back to LIST", true);
        case "stream-failed":
          return watchListFailed(state, input.kind, input.error, `streaming list stream failed: ${messageOf(input.error)}; falling back to LIST`, false);
        case "initial-events-timeout":
          return watchListFailed(state, "idle-timeout", input.error, `${messageOf(input.error)}; falling back to LIST`, true);
        default:
          break;
      }
      break;
  }
  return { state, effects: [], command: undefined };
}
