/**
 * {@link createKubeClient}: the pod operations of {@link PodApi} plus raw
 * requests, over a {@link FetchLike} (injected, or the runtime's own fetch built
 * with the config's CA and client certificate).
 *
 * Errors: a non-2xx answer rejects with {@link KubeApiError}; no answer at all
 * (refused, DNS, TLS) rejects with {@link KubeConnectionError} naming the
 * server; an aborted signal rejects with the signal's reason. The client
 * retries nothing itself except once after a 401 when the token can be
 * renewed (a token file or exec plugin); backoff belongs to the reflector,
 * which reads {@link KubeApiError.retryAfterSeconds}.
 *
 * @module
 */
import { runtimeLabel } from "../runtime/detect.ts";
import type { RuntimeFetch } from "../runtime/fetch.ts";
import { createRuntimeFetch } from "../runtime/fetch.ts";
import type { Clock } from "./clock.ts";
import { systemClock } from "./clock.ts";
import type { KubeConfig } from "./config.ts";
import { configInternals, isLoopbackHost } from "./config.ts";
import { KubeApiError, KubeConfigError, KubeConnectionError } from "./errors.ts";
import type { FetchLike } from "./fetch-like.ts";
import type { ListOptions, ListWatchApi, WatchOptions } from "./list-watch-api.ts";
import type { ListPodsOptions, PatchType, PodApi, WatchPodsOptions } from "./pod-api.ts";
import { POD_RESOURCE, resourceName, resourcePath, type ResourceType } from "./resource.ts";
import { createTokenSource } from "./token-source.ts";
import { decodeListBody, type ProtobufProjection } from "./protobuf/decoder.ts";
import type { Encoding } from "./protobuf/negotiation.ts";
import { acceptHeader, checkEncoding, isProtobufContentType, markProtobufWatch, protobufErrorAsJson, watchAcceptHeader } from "./protobuf/negotiation.ts";
import type { ResourceDescriptor } from "./resource.ts";
import type { KubeObjectList, Pod, PodList } from "./wire.ts";

/** The package version sent in `User-Agent` (kept equal to package.json by a test). */
export const KRATOS_KUBE_VERSION = "0.1.0";

/** Patch content types (apimachinery `pkg/types/patch.go`). */
export const PATCH_CONTENT_TYPES: Readonly<Record<PatchType, string>> = {
  strategic: "application/strategic-merge-patch+json",
  merge: "application/merge-patch+json",
  json: "application/json-patch+json",
};

/** Query values; `undefined` entries are left out. */
export type QueryValues = Record<string, string | number | boolean | undefined>;

/** Options of {@link KubeClient.request}. */
export interface KubeRequestOptions {
  query?: QueryValues | undefined;
  /** A string or bytes are sent as they are; anything else as JSON. */
  body?: unknown;
  /** Default `application/json` when there is a body. */
  contentType?: string | undefined;
  /** `Accept`; default `application/json`. A protobuf error body is decoded into the same {@link KubeApiError}. */
  accept?: string | undefined;
  signal?: AbortSignal | undefined;
}

/** A Kubernetes API client: list and watch of any resource, pod operations, raw requests and an access check. */
export interface KubeClient extends PodApi, ListWatchApi, AsyncDisposable {
  /** The config it was built from. */
  readonly config: KubeConfig;
  /** One request; resolves to a 2xx response, rejects with {@link KubeApiError} otherwise. */
  request(method: string, path: string, options?: KubeRequestOptions): Promise<Response>;
  /** `SelfSubjectAccessReview`: may the current identity do `verb` on `resource`? */
  selfSubjectAccessReview(
    attributes: { verb: string; resource: string; namespace?: string | undefined; group?: string | undefined },
    options?: { signal?: AbortSignal | undefined },
  ): Promise<{ allowed: boolean; reason?: string }>;
  /** Closes connections (and open watches) of the runtime fetch it built. Idempotent. */
  close(): Promise<void>;
}

/** Options of {@link createKubeClient}. */
export interface KubeClientOptions {
  config: KubeConfig;
  /** HTTP seam; default: the runtime's fetch with the config's TLS settings. */
  fetch?: FetchLike | undefined;
  /** Clock for token refreshes; default {@link systemClock}. */
  clock?: Clock | undefined;
  /**
   * Wire encoding of LIST and WATCH for resources whose descriptor reads
   * protobuf (`podResource`, `endpointSliceResource`): `json` (default)
   * never asks for protobuf; `auto` asks for protobuf and JSON and decodes
   * whichever the server answers (cheaper to decode; some fields the JSON
   * path reads, such as `managedFields` times for the event-lag metric, are
   * not decoded); `protobuf` asks for protobuf only.
   */
  encoding?: Encoding | undefined;
}

function podsPath(namespace: string | undefined, name?: string): string {
  return resourcePath(POD_RESOURCE, namespace, name);
}

function isAbort(err: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true || (err as { name?: unknown })?.name === "AbortError";
}

/** The runtime's error chain as one line: codes and messages, e.g. `fetch failed: UNABLE_TO_VERIFY_LEAF_SIGNATURE unable to verify…`. */
function describeCause(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    const msg = (e as { message?: unknown }).message;
    const m = typeof msg === "string" ? msg : String(e);
    const text = (typeof code === "string" && !m.includes(code) ? `${code} ${m}` : m).trim();
    if (text !== "" && !parts.some((p) => p.includes(text))) parts.push(text);
    e = (e as { cause?: unknown }).cause;
  }
  return parts.join(": ");
}

/**
 * undici's own `fetch` (Node) answers with undici's `Response` class, not the
 * global one; rewrap so callers can rely on `instanceof Response`. The body
 * stream is the same object, so cancelling still reaches the socket.
 */
function toGlobalResponse(res: Response): Response {
  const nullBody = res.status === 204 || res.status === 205 || res.status === 304;
  return new Response(nullBody ? null : res.body, { status: res.status, statusText: res.statusText, headers: res.headers });
}

/**
 * The signals of requests that came with a caller's signal, so `close()` can
 * abort them too. Not `AbortSignal.any([caller, lifetime])`: Node 20 keeps a
 * WeakRef per dependent signal in the long-lived signal forever (one per
 * request, seen growing in the soak); here entries leave once collected.
 */
function createLinkedSignals(): { link(caller: AbortSignal): AbortSignal; abortAll(reason: unknown): void } {
  const live = new Set<WeakRef<AbortController>>();
  const registry = new FinalizationRegistry<WeakRef<AbortController>>((ref) => live.delete(ref));
  return {
    link(caller) {
      const c = new AbortController();
      const ref = new WeakRef(c);
      live.add(ref);
      registry.register(c, ref);
      if (caller.aborted) c.abort(caller.reason);
      else caller.addEventListener("abort", () => c.abort(caller.reason), { once: true });
      return c.signal;
    },
    abortAll(reason) {
      for (const ref of live) ref.deref()?.abort(reason);
      live.clear();
    },
  };
}

const TLS_PATTERN = /certificate|cert_|self[ -]signed|issuer|tls|ssl|x509|verify|altname|handshake/i;
/**
 * A TLS client that got something other than a TLS record back: OpenSSL
 * (Node) `wrong version number` / `packet length too long`, BoringSSL (Bun)
 * `EPROTO … Does the server speak TLS on this port?`, rustls (Deno)
 * `received corrupt message of type InvalidContentType`.
 */
const NOT_TLS_PATTERN = /wrong version number|packet length too long|does the server speak TLS|InvalidContentType/i;

/** Builds a client over `options.fetch` or the runtime's fetch. */
export function createKubeClient(options: KubeClientOptions): KubeClient {
  const config = options.config;
  const encoding = options.encoding ?? "json";
  checkEncoding(encoding, "createKubeClient");
  const secret = configInternals(config);
  const clock = options.clock ?? systemClock;
  const tokens = createTokenSource(secret.auth, { clock, host: secret.host });
  const serverUrl = new URL(config.server);
  const plainRemote = serverUrl.protocol === "http:" && !isLoopbackHost(serverUrl.hostname);
  const userAgent = `kratos-kube/${KRATOS_KUBE_VERSION} (${runtimeLabel()})`;
  let owned: RuntimeFetch | undefined;
  let ownedCert: string | undefined;
  let closed = false;
  // Aborted by close(): ends every in-flight request and open watch on every
  // runtime (Bun's and Deno's pooled fetch cannot be closed from outside).
  const lifetime = new AbortController();
  const linked = createLinkedSignals();
  const closedError = (): Error => new Error("the Kubernetes client is closed");
  const doFetch: FetchLike =
    options.fetch ??
    ((req) => {
      // An exec plugin may hand out a client certificate; a new one means new
      // connections (client-go's connrotation closes the old ones likewise).
      const cert = tokens.clientCertificate?.();
      const key = cert?.certPem;
      if (owned !== undefined && key !== ownedCert) {
        void owned.close();
        owned = undefined;
      }
      owned ??= createRuntimeFetch(cert === undefined ? secret.tls : { ...secret.tls, ...cert });
      ownedCert = key;
      return owned.fetch(req);
    });

  function url(path: string, query: QueryValues | undefined): string {
    let s = config.server + (path.startsWith("/") ? path : `/${path}`);
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) q.append(k, String(v));
    const qs = q.toString();
    if (qs !== "") s += (s.includes("?") ? "&" : "?") + qs;
    return s;
  }

  async function send(method: string, target: string, o: KubeRequestOptions, body: BodyInit | undefined, token: string | undefined): Promise<Response> {
    const headers = new Headers({ Accept: o.accept ?? "application/json", "User-Agent": userAgent });
    if (body !== undefined) headers.set("Content-Type", o.contentType ?? "application/json");
    if (token !== undefined) {
      if (plainRemote) {
        throw new KubeConfigError(
          `refusing to send a bearer token over plain http to ${serverUrl.host}; use https (plain http is allowed only to loopback)`,
        );
      }
      // Headers.set would throw a TypeError quoting the whole value (the token) for a line break or NUL.
      if (/[^\t\x20-\x7e\x80-\xff]/.test(token)) {
        throw new KubeConfigError("the bearer token contains a line break or another character not allowed in an HTTP header (check the token file or credential plugin output; the token is not shown)");
      }
      headers.set("Authorization", `Bearer ${token}`);
    }
    // Never follow redirects: the apiserver does not send them, and following one
    // would carry the bearer token wherever a proxy points.
    const init: RequestInit = { method, headers, redirect: "manual" };
    if (body !== undefined) init.body = body;
    if (o.signal?.aborted) throw o.signal.reason;
    if (lifetime.signal.aborted) throw closedError();
    init.signal = o.signal === undefined ? lifetime.signal : linked.link(o.signal);
    const req = new Request(target, init);
    try {
      return await doFetch(req);
    } catch (err) {
      if (o.signal?.aborted) throw o.signal.reason;
      if (lifetime.signal.aborted) throw closedError();
      if (isAbort(err, undefined)) throw err;
      if (err instanceof KubeApiError || err instanceof KubeConfigError) throw err;
      const detail = describeCause(err);
      const notTls = serverUrl.protocol === "https:" && NOT_TLS_PATTERN.test(detail);
      const tls = !notTls && serverUrl.protocol === "https:" && TLS_PATTERN.test(detail);
      const what = notTls
        ? `the Kubernetes API server URL ${serverUrl.origin} is https://, but the server there does not speak TLS (plain http on that port?)`
        : tls
        ? `TLS verification of the Kubernetes API server ${serverUrl.origin} failed (check the certificate authority${secret.tls.serverName ? ` and tls-server-name "${secret.tls.serverName}"` : ""})`
        : `cannot reach the Kubernetes API server ${serverUrl.origin}`;
      throw new KubeConnectionError(serverUrl.origin, `${what}: ${detail}`, { cause: err, tls, notTls });
    }
  }

  async function request(method: string, path: string, o: KubeRequestOptions = {}): Promise<Response> {
    if (closed) throw closedError();
    const target = url(path, o.query);
    let body: BodyInit | undefined;
    if (o.body !== undefined) {
      body = typeof o.body === "string" || o.body instanceof Uint8Array ? (o.body as BodyInit) : JSON.stringify(o.body);
    }
    let token = await tokens.token(o.signal);
    let res = await send(method, target, o, body, token);
    if (res.status === 401 && tokens.refreshable) {
      // client-go resets a cached token on 401; retry once with a fresh one.
      await res.body?.cancel().catch(() => {});
      tokens.invalidate();
      token = await tokens.token(o.signal);
      res = await send(method, target, o, body, token);
    }
    if (!(res instanceof Response)) res = toGlobalResponse(res);
    if (res.type === "opaqueredirect" || (res.status >= 300 && res.status <= 399)) {
      await res.body?.cancel().catch(() => {});
      const location = res.headers.get("location");
      throw new KubeApiError({
        status: res.status,
        reason: "Redirect",
        message: `${res.status || "3xx"} Redirect: the server answered ${method} ${target.slice(config.server.length)} with a redirect${location ? ` to ${location.split("?")[0]}` : ""}; kratos-kube does not follow redirects (is ${config.server} the API server?)`,
        method,
        url: target.slice(config.server.length),
      });
    }
    if (res.status < 200 || res.status > 299) {
      if (isProtobufContentType(res.headers.get("content-type"))) res = await protobufErrorAsJson(res);
      throw await KubeApiError.fromResponse(res, { method, url: target.slice(config.server.length) });
    }
    return res;
  }

  async function json<T>(res: Response, what: string, check: (v: unknown) => boolean, signal: AbortSignal | undefined): Promise<T> {
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (lifetime.signal.aborted) throw closedError();
      if (isAbort(err, undefined)) throw err;
      throw new KubeConnectionError(serverUrl.origin, `${what}: the answer from ${serverUrl.origin} broke off: ${describeCause(err)}`, {
        cause: err,
      });
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new KubeApiError({ status: res.status, reason: "InvalidBody", message: `${what}: the answer is not JSON` });
    }
    if (!check(value)) {
      throw new KubeApiError({ status: res.status, reason: "InvalidBody", message: `${what}: the answer has not the expected shape` });
    }
    return value as T;
  }

  /** A LIST answer in whichever encoding it came: protobuf through the descriptor's projection, else JSON. */
  async function list(res: Response, what: string, projection: ProtobufProjection | undefined, signal: AbortSignal | undefined): Promise<KubeObjectList> {
    if (projection === undefined || !isProtobufContentType(res.headers.get("content-type"))) return json<KubeObjectList>(res, what, isList, signal);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await res.arrayBuffer());
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (lifetime.signal.aborted) throw closedError();
      if (isAbort(err, undefined)) throw err;
      throw new KubeConnectionError(serverUrl.origin, `${what}: the answer from ${serverUrl.origin} broke off: ${describeCause(err)}`, { cause: err });
    }
    try {
      return decodeListBody(bytes, projection);
    } catch (err) {
      throw new KubeApiError({ status: res.status, reason: "InvalidBody", message: `${what}: the protobuf answer cannot be decoded: ${(err as Error).message}` });
    }
  }

  const projectionOf = (resource: ResourceType): ProtobufProjection | undefined => (resource as Partial<ResourceDescriptor>).protobuf;

  const isPod = (v: unknown): boolean => typeof v === "object" && v !== null && typeof (v as Pod).metadata === "object";
  const isList = (v: unknown): boolean =>
    typeof v === "object" && v !== null && Array.isArray((v as KubeObjectList).items) && typeof (v as KubeObjectList).metadata === "object";

  const client: KubeClient = {
    config,
    request,

    async listObjects(resource: ResourceType, o: ListOptions): Promise<KubeObjectList> {
      const res = await request("GET", resourcePath(resource, o.namespace), {
        query: {
          labelSelector: o.labelSelector,
          fieldSelector: o.fieldSelector,
          limit: o.limit,
          continue: o.continue,
          resourceVersion: o.resourceVersion,
          resourceVersionMatch: o.resourceVersionMatch,
        },
        accept: acceptHeader(encoding, projectionOf(resource)),
        signal: o.signal,
      });
      return list(res, `LIST ${resourceName(resource)}`, projectionOf(resource), o.signal);
    },

    async watchObjects(resource: ResourceType, o: WatchOptions): Promise<ReadableStream<Uint8Array>> {
      const res = await request("GET", resourcePath(resource, o.namespace), {
        query: {
          watch: true,
          labelSelector: o.labelSelector,
          fieldSelector: o.fieldSelector,
          resourceVersion: o.resourceVersion,
          resourceVersionMatch: o.resourceVersionMatch,
          timeoutSeconds: o.timeoutSeconds,
          allowWatchBookmarks: o.allowWatchBookmarks,
          sendInitialEvents: o.sendInitialEvents,
        },
        accept: watchAcceptHeader(encoding, projectionOf(resource)),
        signal: o.signal,
      });
      const body = res.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() });
      const projection = projectionOf(resource);
      if (projection !== undefined && isProtobufContentType(res.headers.get("content-type"))) markProtobufWatch(body, projection);
      return body;
    },

    async listPods(o: ListPodsOptions): Promise<PodList> {
      const res = await request("GET", podsPath(o.namespace), {
        query: {
          labelSelector: o.labelSelector,
          fieldSelector: o.fieldSelector,
          limit: o.limit,
          continue: o.continue,
          resourceVersion: o.resourceVersion,
          resourceVersionMatch: o.resourceVersionMatch,
        },
        signal: o.signal,
      });
      return json<PodList>(res, "LIST pods", isList, o.signal);
    },

    watchPods(o: WatchPodsOptions): Promise<ReadableStream<Uint8Array>> {
      return client.watchObjects(POD_RESOURCE, o);
    },

    async getPod(namespace: string, name: string, o?: { signal?: AbortSignal | undefined }): Promise<Pod> {
      const res = await request("GET", podsPath(namespace, name), { signal: o?.signal });
      return json<Pod>(res, `GET pod ${namespace}/${name}`, isPod, o?.signal);
    },

    async patchPod(namespace, name, patch, o): Promise<Pod> {
      const contentType = PATCH_CONTENT_TYPES[o.type];
      if (contentType === undefined) throw new TypeError(`unknown patch type ${JSON.stringify(o.type)}`);
      const res = await request("PATCH", podsPath(namespace, name), {
        query: { fieldManager: o.fieldManager },
        body: patch,
        contentType,
        signal: o.signal,
      });
      return json<Pod>(res, `PATCH pod ${namespace}/${name}`, isPod, o.signal);
    },

    async selfSubjectAccessReview(a, o): Promise<{ allowed: boolean; reason?: string }> {
      const resourceAttributes: Record<string, string> = { verb: a.verb, resource: a.resource };
      if (a.namespace !== undefined) resourceAttributes["namespace"] = a.namespace;
      if (a.group !== undefined) resourceAttributes["group"] = a.group;
      const res = await request("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {
        body: { apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview", spec: { resourceAttributes } },
        signal: o?.signal,
      });
      const review = await json<{ status?: { allowed?: unknown; reason?: unknown } }>(
        res,
        "SelfSubjectAccessReview",
        (v) => typeof v === "object" && v !== null,
        o?.signal,
      );
      const out: { allowed: boolean; reason?: string } = { allowed: review.status?.allowed === true };
      if (typeof review.status?.reason === "string" && review.status.reason !== "") out.reason = review.status.reason;
      return out;
    },

    async close(): Promise<void> {
      closed = true;
      const e = closedError();
      lifetime.abort(e);
      linked.abortAll(e);
      await owned?.close();
    },

    [Symbol.asyncDispose](): Promise<void> {
      return client.close();
    },
  };
  return client;
}
