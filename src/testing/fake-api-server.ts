/**
 * `FakeKubeApiServer`: an in-memory kube-apiserver for pods, as a web-standard
 * handler (`fetch`) and, with `listen()`, over real HTTP(S) on loopback.
 *
 * @module
 */
import type { Clock, TimerHandle } from "../kube/clock.ts";
import { systemClock } from "../kube/clock.ts";
import type { EndpointSlice, Pod } from "../kube/wire.ts";
import { ENDPOINT_SLICE_PATH, routeEndpointSlices, type SliceContext } from "./endpoint-slices.ts";
import { FakeEndpointSlices } from "./fake-endpoint-slices.ts";
import { ANONYMOUS, authenticate, type TokenGrant } from "./auth.ts";
import { maybeGzip } from "./compression.ts";
import { FailRule, type FailSpec } from "./faults.ts";
import { buildKubeconfig } from "./kubeconfig.ts";
import { serve, type Listening } from "./listen.ts";
import { queryBool } from "./list-options.ts";
import { metaRoute } from "./meta-routes.ts";
import { asProtobuf, asYaml, negotiate, notAcceptable, type Representation } from "./negotiation.ts";
import { POD_PATH, routePods, type PodRouteContext } from "./pod-routes.ts";
import { prepareCreate, type WriteContext } from "./pod-writes.ts";
import { restampDefault, rfc3339, setPodReady } from "./pods.ts";
import { REVIEW_PATHS, routeReviews } from "./review-routes.ts";
import { copyPod, podKey, PodStore } from "./store.ts";
import {
  badRequest,
  cacheNotReady,
  forbiddenPath,
  internalError,
  pathNotFound,
  statusResponse,
  unauthorized,
} from "./status.ts";
import { generateTlsMaterial } from "./tls.ts";
import { withKind, type WatchContext, type WatchSession } from "./watch.ts";
import { seededRandom } from "./watch-stream.ts";

/** Options of {@link FakeKubeApiServer}. */
export interface FakeKubeApiServerOptions {
  /** Drives watch timeouts, bookmarks, graceful-deletion timers, waits and delays. Default {@link systemClock}. */
  clock?: Clock;
  /**
   * Watch history window in events (default 1000); older resourceVersions get 410 Expired.
   * The real watch cache keeps at least 75 s of history (apiserver `DefaultEventFreshDuration`)
   * and etcd compacts every 5 min; a count makes tests deterministic.
   */
  historyLimit?: number;
  /** Accepted bearer tokens; undefined = no authentication (everything allowed). */
  tokens?: Record<string, TokenGrant>;
  /** Bookmark period of watches that allow bookmarks; default 60 000 ms (the cacher's `defaultBookmarkFrequency`). */
  bookmarkIntervalMs?: number;
  /**
   * Alternate the bookmark shapes of older and other servers: an empty Pod
   * with `creationTimestamp: null` (before v1.33) and a metadata-only object
   * (custom resources), to test that a client reads both. Default false: every
   * bookmark looks as a v1.34 kube-apiserver writes it for pods.
   */
  legacyBookmarkShapes?: boolean;
  /** Re-chunk watch output at random byte boundaries (a number seeds the PRNG); default true. */
  rechunk?: boolean | number;
  /** The user name when `tokens` is undefined; default `kubernetes-admin`. */
  user?: string;
  /**
   * With `tokens`, a request without an `Authorization` header is the user
   * `system:anonymous` with no rights (403 with the real texts; `/version` and
   * the health probes stay readable), as kube-apiserver's default
   * `--anonymous-auth=true` with RBAC does. False: such requests get 401.
   * Default true.
   */
  anonymous?: boolean;
  /**
   * Plays the kubelet for graceful deletion: a pod deleted with a grace period
   * is removed when the period ends (default true). False leaves it
   * terminating until a delete with grace 0, as a control plane without
   * kubelets does (the real test control plane of the differential suite).
   */
  kubelet?: boolean;
  /**
   * The wall time at construction (default `Date.now()`); server timestamps
   * (creation, deletion, conditions) are this plus the clock's elapsed time,
   * so a manual clock and a fixed `wallTime` give deterministic timestamps.
   */
  wallTime?: Date | number;
  /**
   * How many requests {@link FakeKubeApiServer.requests} keeps (default
   * 100 000); past it the oldest tenth is dropped, so a long-running server
   * stays bounded. {@link FakeKubeApiServer.requestCount} counts them all.
   */
  requestLogLimit?: number;
  /**
   * Accept loopback addresses (127.0.0.0/8, ::1) in EndpointSlices, so tests
   * can put real servers on loopback behind slices. A relaxation of the fake:
   * a real kube-apiserver refuses them (`ValidateEndpointIP`), and so does the
   * fake by default.
   */
  allowLoopbackEndpoints?: boolean;
}

export type { TokenGrant } from "./auth.ts";
export type { FailSpec } from "./faults.ts";

/** One logged request. */
export interface LoggedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  watch: boolean;
}

/** The fault injection controls of {@link FakeKubeApiServer.faults}. */
export interface FakeFaults {
  /** Ends every open watch abruptly (the reader gets an error; a served socket is reset). */
  dropWatches(): void;
  /**
   * Simulates a half-open connection on every open watch: no more bytes (no
   * events, no bookmarks, not even the end of the stream at `timeoutSeconds`),
   * until `dropWatches()`, `close()` or the client aborts (its idle watchdog).
   */
  hangWatches(): void;
  /** Forgets all history: any older resourceVersion gets 410 Expired; continue tokens expire. */
  compact(): void;
  /** Fails the next `n` (matching) requests with `f`. */
  failNext(n: number, f: FailSpec): void;
  /** Delays each response by `ms` on the server's clock (0 = off). */
  delay(ms: number): void;
  /**
   * Makes the watch cache "not ready" (as after an apiserver restart) for LISTs and
   * WATCHes: 429 TooManyRequests with Retry-After = clamp(e^(0.06·downtimeSeconds), 1, 30)
   * (apiserver `storage/cacher/util.go`). `false` makes it ready again.
   */
  cacheNotReady(downtimeSeconds: number | false): void;
}

/** The API groups besides the core group that the fake serves. */
const SERVED_GROUPS = new Set(["authorization.k8s.io", "authentication.k8s.io", "discovery.k8s.io"]);
/** What `system:public-info-viewer` lets an anonymous caller read. */
const PUBLIC_PATHS = new Set(["/version", "/healthz", "/readyz", "/livez"]);

/** Whether a request is a watch (a GET with a true `watch` parameter, see {@link queryBool}, or on a legacy `/api/v1/watch/` path). */
function isWatch(method: string, url: URL): boolean {
  if (method.toUpperCase() !== "GET") return false;
  const w = url.searchParams.get("watch");
  return url.pathname.startsWith("/api/v1/watch/") || (w !== null && queryBool(w));
}

/**
 * An in-memory Kubernetes API server for pods. Every write bumps one
 * resourceVersion counter; watches see every change. See the package docs.
 */
export class FakeKubeApiServer implements AsyncDisposable {
  /** The handler: usable as an injected `FetchLike` with no sockets. */
  readonly fetch: (req: Request) => Promise<Response>;
  /** Fault injection. */
  readonly faults: FakeFaults;
  /** The EndpointSlices (`discovery.k8s.io/v1`), and a Service mirror that keeps them in step with pods. */
  readonly endpointSlices: FakeEndpointSlices;
  readonly #slices: SliceContext;
  readonly #clock: Clock;
  readonly #store: PodStore;
  readonly #wallBase: number;
  #tokens: Record<string, TokenGrant> | undefined;
  readonly #user: string;
  readonly #anonymous: boolean;
  readonly #bookmarkIntervalMs: number;
  readonly #rechunk: boolean;
  readonly #random: () => number;
  readonly #watches = new Set<WatchSession>();
  readonly #requests: LoggedRequest[] = [];
  readonly #requestLogLimit: number;
  #requestCount = 0;
  readonly #rules: FailRule[] = [];
  readonly #finishTimers = new Map<string, TimerHandle>();
  readonly #writeCtx: WriteContext;
  readonly #watchCtx: WatchContext;
  readonly #routeCtx: PodRouteContext;
  #delayMs = 0;
  #notReadyFor: number | false = false;
  #bookmarkShape: 0 | 1 = 0;
  readonly #legacyBookmarkShapes: boolean;
  #listening: Listening | undefined;
  #caPem: string | undefined;
  #closed = false;

  constructor(options: FakeKubeApiServerOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    // One revision for every resource, as etcd has.
    const revision = { value: 1000 };
    this.#store = new PodStore(options.historyLimit ?? 1000, revision.value, revision);
    this.#requestLogLimit = Math.max(1, options.requestLogLimit ?? 100_000);
    this.#wallBase = (options.wallTime === undefined ? Date.now() : new Date(options.wallTime).getTime()) - this.#clock.now();
    this.#tokens = options.tokens === undefined ? undefined : { ...options.tokens };
    this.#user = options.user ?? "kubernetes-admin";
    this.#anonymous = options.anonymous ?? true;
    this.#bookmarkIntervalMs = options.bookmarkIntervalMs ?? 60_000;
    this.#legacyBookmarkShapes = options.legacyBookmarkShapes ?? false;
    const r = options.rechunk ?? true;
    this.#rechunk = r !== false;
    this.#random = typeof r === "number" ? seededRandom(r) : Math.random;
    this.#writeCtx = {
      store: this.#store,
    timestamp: (offset = 0) => rfc3339(this.#wallBase + this.#clock.now() + offset * 1000),
    uid: () => crypto.randomUUID(),
    scheduleFinish: (ns, name, grace) => {
      if (options.kubelet === false) return;
      const key = podKey(ns, name);
      this.#finishTimers.get(key)?.cancel();
      this.#finishTimers.set(
        key,
        this.#clock.setTimeout(() => {
          this.#finishTimers.delete(key);
          if (this.#store.get(key)?.metadata.deletionTimestamp) this.#store.remove(key);
        }, grace * 1000),
      );
    },
  };
    this.#watchCtx = {
      store: this.#store,
      clock: this.#clock,
      bookmarkIntervalMs: this.#bookmarkIntervalMs,
    chunkRandom: () => (this.#rechunk ? seededRandom(Math.floor(this.#random() * 2 ** 32)) : undefined),
    random: () => this.#random(),
    register: (w) => {
      this.#watches.add(w);
      return () => this.#watches.delete(w);
    },
    nextBookmarkShape: () => {
      if (!this.#legacyBookmarkShapes) return "current";
      const s = this.#bookmarkShape;
      this.#bookmarkShape = s === 0 ? 1 : 0;
      return s === 0 ? "legacy-empty-pod" : "metadata-only";
    },
  };
    this.#routeCtx = { store: this.#store, clock: this.#clock, writes: this.#writeCtx, watches: this.#watchCtx };
    const sliceStore = new PodStore<EndpointSlice>(options.historyLimit ?? 1000, revision.value, revision);
    this.#slices = {
      store: sliceStore,
      clock: this.#clock,
      watches: { ...this.#watchCtx, store: sliceStore },
      timestamp: () => this.#writeCtx.timestamp(),
      uid: () => crypto.randomUUID(),
      allowLoopback: options.allowLoopbackEndpoints ?? false,
      notReady: () => (this.#notReadyFor === false ? undefined : cacheNotReady(this.#notReadyFor)),
    };
    this.endpointSlices = new FakeEndpointSlices(this.#slices, this.#store);
    this.fetch = async (req) => {
      const url = new URL(req.url);
      let res: Response;
      try {
        res = await this.#handle(req, url);
      } catch (e) {
        // A bug or an unreadable body: answer like the apiserver's panic/error path.
        res = statusResponse(internalError(e instanceof Error ? e.message : String(e)));
      }
      return maybeGzip(req, res, isWatch(req.method, url));
    };
    this.faults = {
      dropWatches: () => {
        for (const w of [...this.#watches]) w.output.fail(new Error("watch dropped by FakeKubeApiServer.faults.dropWatches()"));
      },
      hangWatches: () => {
        for (const w of this.#watches) w.output.hang();
      },
      compact: () => {
        this.#store.compact();
        this.#slices.store.compact();
      },
      failNext: (n, f) => {
        if (n > 0) this.#rules.push(new FailRule(n, f));
      },
      delay: (ms) => {
        this.#delayMs = Math.max(0, ms);
      },
      cacheNotReady: (downtime) => {
        this.#notReadyFor = downtime === false ? false : Math.max(0, downtime);
      },
    };
  }

  // ── state ────────────────────────────────────────────────────────────

  /** The latest resourceVersion. */
  get resourceVersion(): string {
    return String(this.#store.rv);
  }

  /** The request log (method, path, query, watch), for counting tests; the latest `requestLogLimit` requests. */
  get requests(): ReadonlyArray<LoggedRequest> {
    return this.#requests;
  }

  /** Every request served since construction, including those the bounded log dropped. */
  get requestCount(): number {
    return this.#requestCount;
  }

  /** The number of watch streams open now. */
  get openWatches(): number {
    return this.#watches.size;
  }

  /** The base URL after `listen()`. */
  get url(): string | undefined {
    return this.#listening?.url;
  }

  /** The CA (PEM) after `listen({ tls: true })`. */
  get caPem(): string | undefined {
    return this.#caPem;
  }

  /**
   * Stores a pod as given (status included); uid and timestamp filled when
   * missing. A pod from `makePod` without an explicit `creationTimestamp` is
   * stamped with the server's clock (wall time at construction + clock time).
   * Throws when it exists.
   */
  createPod(pod: Pod): Pod {
    const ns = pod.metadata?.namespace || "default";
    const p = prepareCreate(this.#writeCtx, ns, restampDefault(pod, this.#writeCtx.timestamp()), true);
    if ("code" in p) throw new Error(`createPod: ${p.message ?? p.reason ?? "rejected"}`);
    return withKind(copyPod(this.#store.add(podKey(ns, p.metadata.name!), p)));
  }

  /** A copy of one pod. */
  getPod(ns: string, name: string): Pod | undefined {
    const p = this.#store.get(podKey(ns, name));
    return p && withKind(copyPod(p));
  }

  /** Copies of the pods of `ns` (or all), in key order. */
  listPods(ns?: string): Pod[] {
    return this.#store
      .sorted()
      .filter(([, p]) => ns === undefined || p.metadata.namespace === ns)
      .map(([, p]) => withKind(copyPod(p)));
  }

  /** Changes a pod through `mutate` (on a copy) and stores it as one MODIFIED. Throws when missing. */
  updatePod(ns: string, name: string, mutate: (pod: Pod) => void): Pod {
    const key = podKey(ns, name);
    const cur = this.#store.get(key);
    if (cur === undefined) throw new Error(`updatePod: pod ${key} not found`);
    const next = copyPod(cur);
    mutate(next);
    next.metadata.name = name;
    next.metadata.namespace = ns;
    return withKind(copyPod(this.#store.replace(key, next)));
  }

  /** Deletes a pod: at once (DELETED), or with `gracePeriodSeconds > 0` as {@link startGracefulDeletion}. */
  deletePod(ns: string, name: string, o: { gracePeriodSeconds?: number } = {}): void {
    const key = podKey(ns, name);
    if (this.#store.get(key) === undefined) throw new Error(`deletePod: pod ${key} not found`);
    if ((o.gracePeriodSeconds ?? 0) > 0) this.startGracefulDeletion(ns, name, o.gracePeriodSeconds);
    else this.finishDeletion(ns, name);
  }

  /** Flips the `Ready` (and `ContainersReady`) condition. */
  setReady(ns: string, name: string, ready: boolean): Pod {
    return this.updatePod(ns, name, (p) => setPodReady(p, ready, this.#writeCtx.timestamp()));
  }

  /**
   * Starts graceful deletion: MODIFIED with `deletionTimestamp` (now + grace) and
   * `deletionGracePeriodSeconds`. The pod stays until {@link finishDeletion}.
   */
  startGracefulDeletion(ns: string, name: string, gracePeriodSeconds?: number): Pod {
    return this.updatePod(ns, name, (p) => {
      const grace = gracePeriodSeconds ?? p.spec?.terminationGracePeriodSeconds ?? 30;
      p.metadata.deletionTimestamp = this.#writeCtx.timestamp(grace);
      p.metadata.deletionGracePeriodSeconds = grace;
    });
  }

  /** Removes the pod (DELETED, carrying its last state with the delete's resourceVersion). */
  finishDeletion(ns: string, name: string): void {
    const key = podKey(ns, name);
    this.#finishTimers.get(key)?.cancel();
    this.#finishTimers.delete(key);
    if (this.#store.remove(key) === undefined) throw new Error(`finishDeletion: pod ${key} not found`);
  }

  /** Replaces the accepted tokens; requests with other tokens get 401 from now on. */
  setTokens(tokens: Record<string, TokenGrant>): void {
    this.#tokens = { ...tokens };
  }

  // ── serving ──────────────────────────────────────────────────────────

  /**
   * Serves the handler on loopback. `tls` defaults to true when tokens are
   * configured (kubectl never sends a token over plain http); with TLS a fresh
   * CA and server certificate are generated and the CA is exposed as `caPem`.
   */
  async listen(o: { port?: number; host?: string; tls?: boolean } = {}): Promise<{ url: string; caPem?: string }> {
    if (this.#closed) throw new Error("FakeKubeApiServer.listen: the server is closed");
    if (this.#listening) throw new Error(`FakeKubeApiServer.listen: already listening on ${this.#listening.url}`);
    const host = o.host ?? "127.0.0.1";
    const tls = o.tls ?? this.#tokens !== undefined;
    let material: { caPem: string; certPem: string; keyPem: string } | undefined;
    if (tls) material = await generateTlsMaterial({ hosts: [host] });
    this.#listening = await serve(this.fetch, {
      host,
      ...(o.port !== undefined ? { port: o.port } : {}),
      ...(material ? { tls: { certPem: material.certPem, keyPem: material.keyPem } } : {}),
    });
    this.#caPem = material?.caPem;
    return material ? { url: this.#listening.url, caPem: material.caPem } : { url: this.#listening.url };
  }

  /**
   * A kubeconfig (YAML) for the listening server. The token defaults to the
   * first configured one. Over plain http kubectl drops the token (it never
   * sends one over http), so with tokens configured listen with TLS (the
   * default then) for kubectl; the library's own client still sends it.
   */
  kubeconfig(o: { token?: string; namespace?: string; context?: string } = {}): string {
    const url = this.url;
    if (url === undefined) throw new Error("FakeKubeApiServer.kubeconfig: call listen() first");
    const token = o.token ?? (this.#tokens ? Object.keys(this.#tokens)[0] : undefined);
    return buildKubeconfig({ server: url, caPem: this.#caPem, token, namespace: o.namespace, context: o.context });
  }

  /** Ends every watch, cancels timers, closes the listening socket. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const w of [...this.#watches]) w.output.end();
    this.endpointSlices.stopMirrors();
    for (const t of this.#finishTimers.values()) t.cancel();
    this.#finishTimers.clear();
    const l = this.#listening;
    if (l) await l.close();
  }

  /** Same as {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #handle(req: Request, url: URL): Promise<Response> {
    const method = req.method.toUpperCase();
    const query: Record<string, string> = {};
    url.searchParams.forEach((v, k) => {
      query[k] = v;
    });
    const m = POD_PATH.exec(url.pathname);
    const watch = isWatch(method, url);
    this.#requestCount++;
    if (this.#requests.length >= this.#requestLogLimit) this.#requests.splice(0, Math.max(1, Math.floor(this.#requestLogLimit / 10)));
    this.#requests.push({ method, path: url.pathname, query, watch });
    if (this.#closed) return statusResponse({ ...badRequest("the server is shutting down"), code: 503, reason: "ServiceUnavailable" });
    if (this.#delayMs > 0) await new Promise<void>((r) => this.#clock.setTimeout(r, this.#delayMs));
    const rule = this.#rules.find((r) => r.matches({ method, path: url.pathname, watch }));
    if (rule) {
      const res = rule.respond();
      if (rule.remaining <= 0) this.#rules.splice(this.#rules.indexOf(rule), 1);
      return res;
    }
    const who = authenticate(this.#tokens, req.headers.get("authorization"), this.#anonymous);
    if (who === undefined) return statusResponse(unauthorized());
    const user = who.grant ? who.user : this.#user;
    const api = url.pathname === "/api" || url.pathname.startsWith("/api/") || url.pathname === "/apis" || url.pathname.startsWith("/apis/");
    // Anonymous callers (no Authorization header) may read only the public info; resources answer their own 403s.
    const sm = m === null ? ENDPOINT_SLICE_PATH.exec(url.pathname) : null;
    if (who.grant?.user === ANONYMOUS && !PUBLIC_PATHS.has(url.pathname) && m === null && sm === null && !REVIEW_PATHS.has(url.pathname)) {
      return statusResponse(forbiddenPath(ANONYMOUS, method.toLowerCase(), url.pathname));
    }
    const rep = api ? negotiate(req.headers.get("accept"), m !== null) : "json";
    if (rep === undefined) return statusResponse(notAcceptable());
    const res = sm !== null
      ? await routeEndpointSlices(this.#slices, req, url, sm, { grant: who.grant, user }, watch, rep)
      : await this.#route(req, url, m, method, who.grant, user, watch, rep);
    if (rep === "protobuf") return await asProtobuf(res, sm !== null ? "EndpointSlice" : "Pod");
    return rep === "yaml" && !watch ? await asYaml(res) : res;
  }

  async #route(req: Request, url: URL, m: RegExpExecArray | null, method: string, grant: TokenGrant | undefined, user: string, watch: boolean, rep: Representation): Promise<Response> {
    if (m !== null && this.#notReadyFor !== false && method === "GET" && m[3] === undefined) {
      return statusResponse(cacheNotReady(this.#notReadyFor));
    }
    if (m !== null) return routePods(this.#routeCtx, req, url, m, { grant, user }, watch, rep);
    const review = await routeReviews(req, url, method, grant, user, this.#writeCtx.timestamp());
    if (review) return review;
    const meta = metaRoute(req, url);
    if (meta) return meta;
    // Under /apis/, a group the server does not serve is the mux's plain 404 (a real v1.34 answer).
    const group = /^\/apis\/([^/]+)\//.exec(url.pathname)?.[1];
    if (url.pathname.startsWith("/api/") || (group !== undefined && SERVED_GROUPS.has(group))) return statusResponse(pathNotFound());
    return new Response("404 page not found\n", { status: 404, headers: { "content-type": "text/plain; charset=utf-8" } });
  }
}
