/**
 * The list-and-watch driver: runs the commands of the pure state machine
 * (`state.ts`) against a {@link ListWatchApi} for one resource (Pods unless
 * `resource` says otherwise), decodes watch streams, keeps the idle
 * watchdog and the backoff timer on an injected {@link Clock}, and hands store
 * updates to a {@link ReflectorSink}.
 *
 * ## Recovery
 * It never stops by itself. Every failure is reported to `onError` as a
 * {@link WatchError} and retried as `state.ts` describes; only `close()` or the
 * `signal` option end it. `close()` aborts the request in flight and cancels
 * every timer at once.
 *
 * ## Idle watchdog
 * Node and Bun `fetch` send no HTTP/2 pings, so a half-open connection would
 * hang forever (kubernetes-client/javascript#596). Each watch gets a
 * {@link Watchdog} (`watchdog.ts`): a silent stream, or a streaming list whose
 * initial events stall, is aborted, reported as an `idle-timeout`
 * {@link WatchError} and resumed (a stalled streaming list falls back to a
 * paged LIST).
 *
 * @module
 */
import type { Clock } from "../clock.ts";
import { sleep, systemClock } from "../clock.ts";
import type { ListOptions, ListWatchApi, WatchOptions } from "../list-watch-api.ts";
import type { PodApi } from "../pod-api.ts";
import { POD_RESOURCE, resourceName, type ResourceType } from "../resource.ts";
import type { KubeObject, KubeObjectList } from "../wire.ts";
import { WatchError } from "../errors.ts";
import { createWatchDecoder, WatchDecodeError } from "../watch-decoder.ts";
import { protobufWatchOf } from "../protobuf/negotiation.ts";
import { createProtobufWatchDecoder } from "../protobuf/watch-decoder.ts";
import type { Backoff, BackoffOptions } from "./backoff.ts";
import { createBackoff } from "./backoff.ts";
import type { Command, Effect, ReflectorInput, ReflectorState, WatchRequest } from "./state.ts";
import { initialState, step } from "./state.ts";
import { Watchdog } from "./watchdog.ts";

/** Watch timeouts are drawn from [300, 600) s (client-go reflector.go `minWatchTimeout` = 5 min, ×(1+rand)). */
export const MIN_WATCH_TIMEOUT_SECONDS = 300;
/** Grace added to `timeoutSeconds` before a silent watch counts as dead (kube-rs watcher.rs, kube-rs#1945: +5 s). */
export const DEFAULT_IDLE_GRACE_MS = 5_000;
/** Silence limit once bookmarks flow: 2× the cacher's 1 min bookmark interval (apiserver `defaultBookmarkFrequency`). */
export const DEFAULT_BOOKMARK_SILENCE_MS = 120_000;

/**
 * Longest wait for one LIST page, 2 min: twice the apiserver's own limit for
 * non-long-running requests (`--request-timeout`, default 60 s, apiserver
 * `server/options/server_run_options.go`), so only a dead connection hits it.
 */
export const DEFAULT_LIST_TIMEOUT_MS = 120_000;

/**
 * Streaming list: longest gap between two initial events, 60 s (the
 * apiserver's `--request-timeout` default, `server_run_options.go`). The
 * watch cache sends its initial events back to back, so a minute without one
 * means a stalled connection or a server that accepted `sendInitialEvents`
 * without honouring it; either way the loop falls back to a paged LIST.
 */
export const DEFAULT_INITIAL_EVENTS_SILENCE_MS = 60_000;
/**
 * Streaming list: longest wait for the `k8s.io/initial-events-end` bookmark
 * while events keep flowing, 3 min (1.5× {@link DEFAULT_LIST_TIMEOUT_MS}),
 * far under the 5–10 min watch timeout that bounded it before.
 */
export const DEFAULT_INITIAL_EVENTS_TIMEOUT_MS = 180_000;

/** Receives the reflector's store updates, in order. */
export interface ReflectorSink {
  /** A relist starts; buffer until {@link ReflectorSink.relistDone}. */
  relistBegin(): void;
  relistItems(items: readonly KubeObject[]): void;
  /** Streaming list only: an object deleted before the relist completed. */
  relistDelete(object: KubeObject): void;
  /** Replace the contents atomically with the buffered objects. */
  relistDone(resourceVersion: string): void;
  /** Drop the buffered objects. */
  relistAbort(): void;
  /** One watch event. */
  apply(type: "ADDED" | "MODIFIED" | "DELETED", object: KubeObject): void;
  /** Optional: a plain watch (not a streaming list) was accepted with a 2xx answer. */
  watchStarted?(): void;
}

/**
 * LIST and WATCH for the reflector: a {@link ListWatchApi} (any resource), or
 * a {@link PodApi} of an earlier release (Pods only).
 */
export type ReflectorApi = ListWatchApi | PodApi;

/** The list and watch calls of `api` bound to `resource`. */
function bind(api: ReflectorApi, resource: ResourceType): {
  list(o: ListOptions): Promise<KubeObjectList>;
  watch(o: WatchOptions): Promise<ReadableStream<Uint8Array>>;
} {
  const lw = api as Partial<ListWatchApi>;
  if (typeof lw.listObjects === "function" && typeof lw.watchObjects === "function") {
    return { list: (o) => lw.listObjects!(resource, o), watch: (o) => lw.watchObjects!(resource, o) };
  }
  const pods = api as Partial<PodApi>;
  const isPods = resource.group === "" && resource.resource === "pods";
  if (!isPods || typeof pods.listPods !== "function" || typeof pods.watchPods !== "function") {
    throw new TypeError(`createReflector: api has no listObjects/watchObjects for ${resourceName(resource)}`);
  }
  return { list: (o) => pods.listPods!(o), watch: (o) => pods.watchPods!(o) };
}

/** Options of {@link createReflector}. */
export interface ReflectorOptions {
  api: ReflectorApi;
  /** The resource listed and watched; default Pods. */
  resource?: ResourceType | undefined;
  sink: ReflectorSink;
  /** Namespace; undefined for all namespaces. */
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
  clock?: Clock | undefined;
  /** Uniform in [0, 1): watch timeouts and backoff jitter. Default `Math.random`. */
  random?: (() => number) | undefined;
  /** Every failure, retried afterwards. Exceptions thrown here are ignored. */
  onError?: ((error: WatchError) => void) | undefined;
  /** LIST page size, default 500. */
  pageSize?: number | undefined;
  /** Try streaming lists (`sendInitialEvents`) first; default false. */
  streamingList?: boolean | undefined;
  /** Grace over `timeoutSeconds` before a silent watch is aborted; default 5 s. */
  idleGraceMs?: number | undefined;
  /** Silence limit once the watch has delivered a bookmark; default 2 min. */
  bookmarkSilenceMs?: number | undefined;
  /** Streaming list: longest gap between initial events; default {@link DEFAULT_INITIAL_EVENTS_SILENCE_MS}. */
  initialEventsSilenceMs?: number | undefined;
  /** Streaming list: longest wait for the initial-events-end bookmark; default {@link DEFAULT_INITIAL_EVENTS_TIMEOUT_MS}. */
  initialEventsTimeoutMs?: number | undefined;
  /** Longest wait for one LIST page; default {@link DEFAULT_LIST_TIMEOUT_MS}. */
  listTimeoutMs?: number | undefined;
  /** Longest accepted watch line (JSON) or frame (protobuf), default 16 MiB. */
  maxLineBytes?: number | undefined;
  backoff?: Omit<BackoffOptions, "clock" | "random"> | undefined;
  /** Ends the reflector like `close()`. */
  signal?: AbortSignal | undefined;
}

/** Resolves with the promise, or rejects as soon as `signal` aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

/**
 * One list-and-watch loop over the objects of one resource in one namespace
 * (or all). Create it with {@link createReflector}; it starts on `start()`.
 */
export class Reflector implements AsyncDisposable {
  #state: ReflectorState;
  #running: Promise<void> | undefined;
  readonly #o: ReflectorOptions;
  readonly #api: ReturnType<typeof bind>;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #abort = new AbortController();
  readonly #backoff: Backoff;
  #unlinkSignal: (() => void) | undefined;

  /** Prefer {@link createReflector}. */
  constructor(options: ReflectorOptions) {
    this.#o = options;
    this.#api = bind(options.api, options.resource ?? POD_RESOURCE);
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#backoff = createBackoff({ ...options.backoff, clock: this.#clock, random: this.#random });
    this.#state = initialState({
      ...(options.pageSize !== undefined ? { pageSize: options.pageSize } : {}),
      streamingList: options.streamingList ?? false,
    });
    const signal = options.signal;
    if (signal) {
      const onAbort = (): void => void this.close();
      if (signal.aborted) this.#abort.abort(signal.reason);
      else {
        signal.addEventListener("abort", onAbort, { once: true });
        this.#unlinkSignal = () => signal.removeEventListener("abort", onAbort);
      }
    }
  }

  /** The state machine's current state (for diagnostics). */
  get state(): ReflectorState {
    return this.#state;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#abort.signal.aborted;
  }

  /** Starts the loop; idempotent; a no-op once closed. */
  start(): void {
    if (this.#running || this.closed) return;
    this.#running = this.#loop().catch((e: unknown) => {
      // Unreachable by design; never leave a rejected promise behind.
      if (!this.closed) this.#report(new WatchError("stream", `reflector loop crashed: ${String(e)}`, { cause: e }));
    });
  }

  /** Aborts the request in flight and every timer; resolves when the loop has exited. */
  async close(): Promise<void> {
    if (!this.closed) this.#abort.abort(new WatchError("stream", "the reflector was closed"));
    this.#unlinkSignal?.();
    await this.#running;
  }

  /** Same as {@link Reflector.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #report(error: WatchError): void {
    try {
      this.#o.onError?.(error);
    } catch {
      // A throwing hook must not stop the loop.
    }
  }

  #effect(e: Effect): void {
    const sink = this.#o.sink;
    switch (e.e) {
      case "relist-begin":
        return sink.relistBegin();
      case "relist-items":
        return sink.relistItems(e.items);
      case "relist-delete":
        return sink.relistDelete(e.object);
      case "relist-done":
        return sink.relistDone(e.resourceVersion);
      case "relist-abort":
        return sink.relistAbort();
      case "apply":
        return sink.apply(e.type, e.object);
      case "error":
        return this.#report(new WatchError(e.kind, e.message, { cause: e.cause }));
    }
  }

  /** Steps the machine, applies the effects, returns the command. */
  #feed(input: ReflectorInput): Command | undefined {
    const r = step(this.#state, input);
    this.#state = r.state;
    for (const e of r.effects) {
      try {
        this.#effect(e);
      } catch (err) {
        this.#report(new WatchError("watch-event", `applying a ${e.e} failed: ${String(err)}`, { cause: err }));
      }
    }
    return r.command;
  }

  async #loop(): Promise<void> {
    let command = this.#feed({ i: "start" });
    while (command !== undefined && !this.closed) {
      command = await this.#exec(command);
    }
  }

  async #exec(command: Command): Promise<Command | undefined> {
    const signal = this.#abort.signal;
    switch (command.c) {
      case "backoff":
        try {
          await sleep(this.#clock, this.#backoff.next(command.retryAfterSeconds), signal);
        } catch {
          return undefined;
        }
        return this.#feed({ i: "wake" });
      case "list": {
        const { request } = command;
        // A LIST has no byte-level watchdog (the client returns parsed pages), so a
        // half-open connection is bounded by an overall timeout instead.
        const ctrl = new AbortController();
        const onClose = (): void => ctrl.abort(signal.reason);
        signal.addEventListener("abort", onClose, { once: true });
        const timeoutMs = this.#o.listTimeoutMs ?? DEFAULT_LIST_TIMEOUT_MS;
        let timedOut: WatchError | undefined;
        const timer = this.#clock.setTimeout(() => {
          timedOut = new WatchError("list", `LIST got no answer within ${timeoutMs} ms; retrying`);
          ctrl.abort(timedOut);
        }, timeoutMs);
        let list;
        try {
          list = await abortable(
            this.#api.list({
              namespace: this.#o.namespace,
              labelSelector: this.#o.labelSelector,
              fieldSelector: this.#o.fieldSelector,
              resourceVersion: request.resourceVersion,
              limit: request.limit,
              continue: request.continue,
              signal: ctrl.signal,
            }),
            ctrl.signal,
          );
        } catch (error) {
          if (this.closed) return undefined;
          return this.#feed({ i: "list-failed", error: timedOut ?? error });
        } finally {
          timer.cancel();
          signal.removeEventListener("abort", onClose);
        }
        const items = Array.isArray(list?.items) ? list.items : [];
        const meta = list?.metadata;
        return this.#feed({ i: "list-page", resourceVersion: meta?.resourceVersion, continue: meta?.continue, items });
      }
      case "watch":
        return this.#watch(command.request);
    }
  }

  async #watch(request: WatchRequest): Promise<Command | undefined> {
    const clock = this.#clock;
    const timeoutSeconds = MIN_WATCH_TIMEOUT_SECONDS + Math.floor(this.#random() * MIN_WATCH_TIMEOUT_SECONDS);
    const graceMs = this.#o.idleGraceMs ?? DEFAULT_IDLE_GRACE_MS;
    const bookmarkSilenceMs = this.#o.bookmarkSilenceMs ?? DEFAULT_BOOKMARK_SILENCE_MS;
    const ctrl = new AbortController();
    const onClose = (): void => ctrl.abort(this.#abort.signal.reason);
    this.#abort.signal.addEventListener("abort", onClose, { once: true });
    const started = clock.now();
    let idle: WatchError | undefined;
    let stalled: WatchError | undefined;
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    const watchdog = new Watchdog({
      clock,
      limits: {
        silenceMs: timeoutSeconds * 1000 + graceMs,
        bookmarkSilenceMs,
        initialSilenceMs: this.#o.initialEventsSilenceMs ?? DEFAULT_INITIAL_EVENTS_SILENCE_MS,
        initialTimeoutMs: this.#o.initialEventsTimeoutMs ?? DEFAULT_INITIAL_EVENTS_TIMEOUT_MS,
      },
      // Initial events are awaited until the state machine leaves the streaming list.
      initialEvents: () => request.sendInitialEvents && this.#state.t === "watch-listing",
      onExpired: (error, kind) => {
        if (kind === "stalled") stalled = error;
        else idle = error;
        ctrl.abort(error);
        reader?.cancel(error).catch(() => {});
      },
    });
    const elapsed = (): number => clock.now() - started;
    const failed = (error: unknown): Command | undefined => {
      if (this.closed) return undefined;
      if (stalled) return this.#feed({ i: "initial-events-timeout", error: stalled });
      if (idle) return this.#feed({ i: "stream-failed", kind: "idle-timeout", error: idle, elapsedMs: elapsed() });
      return this.#feed({ i: "stream-failed", kind: "stream", error, elapsedMs: elapsed() });
    };
    try {
      let body: ReadableStream<Uint8Array>;
      try {
        body = await abortable(
          this.#api.watch({
            namespace: this.#o.namespace,
            labelSelector: this.#o.labelSelector,
            fieldSelector: this.#o.fieldSelector,
            resourceVersion: request.resourceVersion,
            resourceVersionMatch: request.sendInitialEvents ? "NotOlderThan" : undefined,
            sendInitialEvents: request.sendInitialEvents ? true : undefined,
            allowWatchBookmarks: true,
            timeoutSeconds,
            signal: ctrl.signal,
          }),
          ctrl.signal,
        );
      } catch (error) {
        if (this.closed) return undefined;
        if (idle || stalled) return failed(error);
        return this.#feed({ i: "watch-failed", error });
      }
      watchdog.byte();
      if (!request.sendInitialEvents) {
        try {
          this.#o.sink.watchStarted?.();
        } catch (err) {
          this.#report(new WatchError("watch-start", `watchStarted failed: ${String(err)}`, { cause: err }));
        }
      }
      reader = body.getReader();
      // The client marks protobuf answers (Content-Type); anything else is JSON lines.
      const protobuf = protobufWatchOf(body);
      const decoder = protobuf !== undefined
        ? createProtobufWatchDecoder(protobuf, { maxFrameBytes: this.#o.maxLineBytes })
        : createWatchDecoder(this.#o.maxLineBytes !== undefined ? { maxLineBytes: this.#o.maxLineBytes } : {});
      for (;;) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await abortable(reader.read(), ctrl.signal);
        } catch (error) {
          return failed(error);
        }
        if (this.closed) return undefined;
        if (idle || stalled) return failed(idle ?? stalled);
        watchdog.byte();
        const results = chunk.done ? decoder.end() : decoder.push(chunk.value);
        for (const r of results) {
          let next: Command | undefined;
          if (r instanceof WatchDecodeError) {
            next = this.#feed({ i: "stream-failed", kind: "decode", error: r, elapsedMs: elapsed() });
          } else {
            watchdog.event();
            // Bookmarks flow: the shorter silence limit applies from now on.
            if (r.type === "BOOKMARK") watchdog.bookmark();
            next = this.#feed({ i: "watch-event", event: r });
          }
          if (next !== undefined || this.closed) return next;
        }
        if (chunk.done) return this.#feed({ i: "watch-ended", elapsedMs: elapsed() });
      }
    } finally {
      watchdog.cancel();
      this.#abort.signal.removeEventListener("abort", onClose);
      if (!ctrl.signal.aborted) ctrl.abort(new WatchError("stream", "watch finished"));
      reader?.cancel().catch(() => {});
    }
  }
}

/**
 * Creates a list-and-watch loop over one resource (Pods by default). Call
 * `start()`; store updates go to `sink` (see `reflector/store.ts`), failures
 * to `onError`.
 */
export function createReflector(options: ReflectorOptions): Reflector {
  return new Reflector(options);
}
