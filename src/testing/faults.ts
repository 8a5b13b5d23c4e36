/**
 * Injected failures of the fake apiserver: the next N matching requests fail
 * with a given status and body, the way an overloaded or flaky apiserver (or a
 * proxy in front of it) answers.
 *
 * @module
 */
import type { Status } from "../kube/wire.ts";
import { failure, jsonResponse } from "./status.ts";

/** What `failNext` answers. */
export interface FailSpec {
  status: number;
  /** The body; default a JSON Status for `status`. */
  body?: string;
  /** Default `application/json` (or `text/plain` when `body` is not JSON). */
  contentType?: string;
  /** Sets a `Retry-After` header (seconds). */
  retryAfter?: number;
  /** Only requests matching all given fields fail (and count). */
  match?: { method?: string; watch?: boolean; path?: RegExp };
}

/** A request as fault matching sees it. */
export interface FaultRequest {
  method: string;
  path: string;
  watch: boolean;
}

const REASONS: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  409: "Conflict",
  410: "Expired",
  422: "Invalid",
  429: "TooManyRequests",
  500: "InternalError",
  503: "ServiceUnavailable",
  504: "Timeout",
};

/** The text/plain body of the priority-and-fairness 429 (apiserver `server/filters/priority-and-fairness.go`). */
export const TOO_MANY_REQUESTS_TEXT = "Too many requests, please try again later.\n";

/** A pending `failNext` rule. */
export class FailRule {
  remaining: number;
  readonly spec: FailSpec;
  constructor(n: number, spec: FailSpec) {
    this.remaining = n;
    this.spec = spec;
  }

  /** Whether this rule applies to `r`. */
  matches(r: FaultRequest): boolean {
    const m = this.spec.match;
    if (this.remaining <= 0) return false;
    if (m === undefined) return true;
    if (m.method !== undefined && m.method.toUpperCase() !== r.method) return false;
    if (m.watch !== undefined && m.watch !== r.watch) return false;
    if (m.path !== undefined && !m.path.test(r.path)) return false;
    return true;
  }

  /** Builds the failure response and counts it. */
  respond(): Response {
    this.remaining--;
    const s = this.spec;
    const headers: Record<string, string> = {};
    if (s.retryAfter !== undefined) headers["retry-after"] = String(s.retryAfter);
    if (s.body === undefined) {
      const details: Status["details"] = s.retryAfter !== undefined ? { retryAfterSeconds: s.retryAfter } : undefined;
      const st = failure(s.status, REASONS[s.status] ?? "", `injected failure (HTTP ${s.status})`, details);
      if (s.contentType !== undefined) headers["content-type"] = s.contentType;
      return jsonResponse(s.status, st, headers);
    }
    let type = s.contentType;
    if (type === undefined) {
      try {
        JSON.parse(s.body);
        type = "application/json";
      } catch {
        type = "text/plain; charset=utf-8";
      }
    }
    headers["content-type"] = type;
    return new Response(s.body, { status: s.status, headers });
  }
}
