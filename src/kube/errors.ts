/**
 * The errors of `kratos-kube/kube`. Each has a stable string `code`, and a
 * `Symbol.for` brand so `instanceof` keeps working when two copies of the
 * package are loaded (as undici's `lib/core/errors.js` does).
 *
 * @module
 */
import type { Status } from "./wire.ts";

const KUBE_API_BRAND: unique symbol = Symbol.for("kratos-kube.KubeApiError") as never;
const WATCH_BRAND: unique symbol = Symbol.for("kratos-kube.WatchError") as never;
const CONFIG_BRAND: unique symbol = Symbol.for("kratos-kube.KubeConfigError") as never;
const CONN_BRAND: unique symbol = Symbol.for("kratos-kube.KubeConnectionError") as never;

function branded(value: unknown, brand: symbol): boolean {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[brand] === true;
}

/** Longest excerpt of a non-JSON error body kept in a message. */
const MAX_EXCERPT = 200;

/**
 * The `reason` given to an answer whose body is not a Status: the apiserver's
 * own `metav1.StatusReason` for that code (apimachinery
 * `pkg/apis/meta/v1/types.go`, `pkg/api/errors/errors.go` `NewGenericServerResponse`),
 * and RFC 9110 phrases for codes the apiserver never uses itself (502).
 */
const REASONS: Readonly<Record<number, string>> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  409: "Conflict",
  410: "Gone",
  413: "RequestEntityTooLarge",
  415: "UnsupportedMediaType",
  422: "Invalid",
  429: "TooManyRequests",
  500: "InternalError",
  502: "BadGateway",
  503: "ServiceUnavailable",
  504: "Timeout",
};

/** Parses a `Retry-After` header given in seconds (the apiserver never sends dates). */
function parseRetryAfter(header: string | null | undefined): number | undefined {
  if (header === null || header === undefined) return undefined;
  const n = Number(header.trim());
  return Number.isFinite(n) && n >= 0 && header.trim() !== "" ? n : undefined;
}

function isStatus(value: unknown): value is Status {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return v["kind"] === "Status" && typeof v["code"] === "number";
}

/** Options of the {@link KubeApiError} constructor. */
export interface KubeApiErrorInit {
  status: number;
  reason: string;
  message: string;
  details?: Status["details"] | undefined;
  retryAfterSeconds?: number | undefined;
  body?: Status | undefined;
  method?: string | undefined;
  url?: string | undefined;
}

/**
 * A non-2xx answer of the Kubernetes API (or an `ERROR` event in a watch).
 *
 * The message is the apiserver's own (for RBAC 403s it names the verb,
 * resource, namespace and user), prefixed with the HTTP status. Bodies that are
 * not a `Status` (a text/plain 429 from priority-and-fairness, a proxy's HTML
 * 502) give a short description, never the raw HTML.
 */
export class KubeApiError extends Error {
  /** Stable error code. */
  readonly code: "KUBE_API_ERROR" = "KUBE_API_ERROR";
  /** HTTP status (or the Status `code`). */
  readonly status: number;
  /** `Status.reason`, e.g. `Expired`, `Forbidden`; a reason phrase when the body was not a Status. */
  readonly reason: string;
  /** `Status.details`. */
  readonly details?: Status["details"];
  /** From the `Retry-After` header, else `details.retryAfterSeconds`. */
  readonly retryAfterSeconds?: number;
  /** The Status body, when there was one. */
  readonly body?: Status;
  /** The request method, when known. */
  readonly method?: string;
  /** The request URL (path and query; never credentials), when known. */
  readonly url?: string;

  /** Prefer {@link KubeApiError.fromStatus} or {@link KubeApiError.fromResponse}. */
  constructor(init: KubeApiErrorInit) {
    super(init.message);
    this.name = "KubeApiError";
    this.status = init.status;
    this.reason = init.reason;
    if (init.details !== undefined) this.details = init.details;
    if (init.retryAfterSeconds !== undefined) this.retryAfterSeconds = init.retryAfterSeconds;
    if (init.body !== undefined) this.body = init.body;
    if (init.method !== undefined) this.method = init.method;
    if (init.url !== undefined) this.url = init.url;
    Object.defineProperty(this, KUBE_API_BRAND, { value: true });
  }

  /** `instanceof` across package copies. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return branded(value, KUBE_API_BRAND);
  }

  /** From a `metav1.Status` (a response body or a watch `ERROR` event's object). */
  static fromStatus(s: Status, retryAfterHeader?: string | null): KubeApiError {
    const retry = parseRetryAfter(retryAfterHeader) ?? s.details?.retryAfterSeconds;
    const reason = typeof s.reason === "string" && s.reason !== "" ? s.reason : (REASONS[s.code] ?? "Unknown");
    const text = typeof s.message === "string" && s.message !== "" ? s.message : reason;
    return new KubeApiError({
      status: s.code,
      reason,
      message: `${s.code} ${reason}: ${text}`,
      details: s.details,
      retryAfterSeconds: retry,
      body: s,
    });
  }

  /**
   * From a non-2xx response; reads (and so consumes) its body. Never throws:
   * a body that cannot be read or parsed still gives a `KubeApiError`.
   */
  static async fromResponse(res: Response, request?: { method?: string; url?: string }): Promise<KubeApiError> {
    let text = "";
    try {
      text = await res.text();
    } catch {
      // The body broke off; the status line is still worth reporting.
    }
    const retry = parseRetryAfter(res.headers.get("retry-after"));
    const where = request?.method && request.url ? ` (${request.method} ${request.url})` : "";
    const type = (res.headers.get("content-type") ?? "").toLowerCase();
    const phrase = REASONS[res.status] ?? (res.statusText || "Error");
    let parsed: unknown;
    let jsonOk = false;
    if (text.trimStart().startsWith("{")) {
      try {
        parsed = JSON.parse(text);
        jsonOk = true;
      } catch {
        // Falls through to the text handling below.
      }
    }
    const extra = { method: request?.method, url: request?.url };
    if (jsonOk && isStatus(parsed)) {
      const e = KubeApiError.fromStatus({ ...parsed, code: res.status }, res.headers.get("retry-after"));
      return new KubeApiError({
        status: res.status,
        reason: e.reason,
        message: e.message + where,
        details: e.details,
        retryAfterSeconds: e.retryAfterSeconds,
        body: parsed,
        ...extra,
      });
    }
    let message: string;
    if (jsonOk) {
      const kind = typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>)["kind"] : undefined;
      message = `${res.status} ${phrase}: the body is JSON but not a Status (kind ${JSON.stringify(kind ?? null)})`;
    } else if (type.includes("html") || /^\s*<(?:!doctype|html)/i.test(text)) {
      const title = /<title[^>]*>([^<]*)<\/title>/i.exec(text)?.[1]?.trim();
      message = `${res.status} ${phrase}: an HTML page answered instead of the Kubernetes API (a proxy or load balancer in between?)${title ? `; its title: "${title.slice(0, MAX_EXCERPT)}"` : ""}`;
    } else if (text.trim() === "") {
      message = `${res.status} ${phrase}: empty body`;
    } else {
      const oneLine = text.replace(/\s+/g, " ").trim();
      message = `${res.status} ${phrase}: ${oneLine.length > MAX_EXCERPT ? `${oneLine.slice(0, MAX_EXCERPT)}…` : oneLine}`;
    }
    return new KubeApiError({ status: res.status, reason: phrase, message: message + where, retryAfterSeconds: retry, ...extra });
  }

  /** 410, or reason `Expired`/`Gone`: the resourceVersion is too old, relist. */
  isGone(): boolean {
    return this.status === 410 || this.reason === "Expired" || this.reason === "Gone";
  }
  /** Reason `Expired` (an expired resourceVersion or continue token). */
  isExpired(): boolean {
    return this.reason === "Expired" || (this.status === 410 && this.reason !== "Gone");
  }
  /** 403. */
  isForbidden(): boolean {
    return this.status === 403;
  }
  /** 401. */
  isUnauthorized(): boolean {
    return this.status === 401;
  }
  /** 429. */
  isTooManyRequests(): boolean {
    return this.status === 429 || this.reason === "TooManyRequests";
  }
  /** 409. */
  isConflict(): boolean {
    return this.status === 409;
  }
  /** 404. */
  isNotFound(): boolean {
    return this.status === 404;
  }
  /**
   * 504 with cause `ResourceVersionTooLarge` ("Too large resource version";
   * client-go `apimachinery/pkg/api/errors` `IsTooLargeResourceVersion`).
   */
  isTooLargeResourceVersion(): boolean {
    if (this.status !== 504 && this.reason !== "Timeout") return false;
    const causes = this.details?.causes ?? [];
    return causes.some((c) => c.reason === "ResourceVersionTooLarge") || /too large resource version/i.test(this.message);
  }
}

/** Which phase of a list-and-watch loop failed (after kube-rs `watcher::Error`). */
export type WatchErrorKind =
  | "list"
  | "watch-start"
  | "watch-event"
  | "stream"
  | "decode"
  | "no-resource-version"
  | "idle-timeout";

/** A failure in a list-and-watch loop. Always retryable; reported to hooks, never thrown out of the loop. */
export class WatchError extends Error {
  /** Stable error code. */
  readonly code: "WATCH_ERROR" = "WATCH_ERROR";
  /** The phase that failed. */
  readonly kind: WatchErrorKind;
  /** The underlying error (often a {@link KubeApiError}). */
  declare readonly cause?: unknown;

  /** A watch error of `kind`. */
  constructor(kind: WatchErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = "WatchError";
    this.kind = kind;
    Object.defineProperty(this, WATCH_BRAND, { value: true });
  }

  /** `instanceof` across package copies. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return branded(value, WATCH_BRAND);
  }
}

/**
 * A configuration that cannot be used: a missing or malformed kubeconfig, a
 * missing service-account file, an exec plugin that cannot run, a token that
 * would go over plain http. The message names what was wrong, never a secret.
 */
export class KubeConfigError extends Error {
  /** Stable error code. */
  readonly code: "KUBE_CONFIG_ERROR" = "KUBE_CONFIG_ERROR";

  /** A configuration error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = "KubeConfigError";
    Object.defineProperty(this, CONFIG_BRAND, { value: true });
  }

  /** `instanceof` across package copies. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return branded(value, CONFIG_BRAND);
  }
}

/**
 * The request never got an HTTP answer: connection refused, DNS, TLS
 * verification. The message names the server; `cause` is the runtime's error.
 * Aborts are not wrapped: they reject with the signal's reason.
 */
export class KubeConnectionError extends Error {
  /** Stable error code. */
  readonly code: "KUBE_CONNECTION_ERROR" = "KUBE_CONNECTION_ERROR";
  /** The server (origin) that could not be reached. */
  readonly server: string;
  /** Looks like a TLS verification failure (unknown CA, wrong host name). */
  readonly tls: boolean;
  /**
   * The server URL is `https://`, but what answered the TLS handshake does not
   * speak TLS: usually a plain-HTTP port (a local apiserver's insecure port, a
   * proxy). Not a certificate problem; `tls` is false then.
   */
  readonly notTls: boolean;

  /** A connection error to `server`. */
  constructor(server: string, message: string, options: { cause?: unknown; tls?: boolean; notTls?: boolean }) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = "KubeConnectionError";
    this.server = server;
    this.notTls = options.notTls ?? false;
    this.tls = !this.notTls && (options.tls ?? false);
    Object.defineProperty(this, CONN_BRAND, { value: true });
  }

  /** `instanceof` across package copies. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return branded(value, CONN_BRAND);
  }
}
