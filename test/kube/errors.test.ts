import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { KubeApiError, KubeConfigError, KubeConnectionError, WatchError } from "../../src/kube/errors.ts";
import type { Status } from "../../src/kube/wire.ts";

const status = (code: number, reason: string, message: string, details?: Status["details"]): Status => ({
  kind: "Status",
  apiVersion: "v1",
  metadata: {},
  status: "Failure",
  message,
  reason,
  code,
  ...(details ? { details } : {}),
});

const respond = (body: string, init: { status: number; type?: string; retryAfter?: string }): Response => {
  const headers: Record<string, string> = {};
  if (init.type) headers["content-type"] = init.type;
  if (init.retryAfter) headers["retry-after"] = init.retryAfter;
  return new Response(body, { status: init.status, headers });
};

describe("KubeApiError.fromStatus", () => {
  it("keeps code, reason, message and details", () => {
    const e = KubeApiError.fromStatus(
      status(409, "Conflict", 'Operation cannot be fulfilled on pods "a"', { name: "a", kind: "pods" }),
    );
    assert.equal(e.code, "KUBE_API_ERROR");
    assert.equal(e.status, 409);
    assert.equal(e.reason, "Conflict");
    assert.deepEqual(e.details, { name: "a", kind: "pods" });
    assert.match(e.message, /409 Conflict: Operation cannot be fulfilled on pods "a"/);
    assert.ok(e.isConflict());
    assert.ok(!e.isGone());
  });

  it("recognises an expired resourceVersion (410 Expired) and Gone", () => {
    const expired = KubeApiError.fromStatus(status(410, "Expired", "too old resource version: 1 (5)"));
    assert.ok(expired.isGone());
    assert.ok(expired.isExpired());
    const gone = KubeApiError.fromStatus(status(410, "Gone", "gone"));
    assert.ok(gone.isGone());
    assert.ok(!gone.isExpired());
  });

  it("takes Retry-After from the header before details.retryAfterSeconds", () => {
    const s = status(429, "TooManyRequests", "slow down", { retryAfterSeconds: 7 });
    assert.equal(KubeApiError.fromStatus(s).retryAfterSeconds, 7);
    assert.equal(KubeApiError.fromStatus(s, "2").retryAfterSeconds, 2);
    assert.equal(KubeApiError.fromStatus(s, "soon").retryAfterSeconds, 7);
    assert.ok(KubeApiError.fromStatus(s).isTooManyRequests());
  });

  it("recognises 'Too large resource version' (504 with cause ResourceVersionTooLarge)", () => {
    const e = KubeApiError.fromStatus(
      status(504, "Timeout", "Too large resource version: 99, current: 5", {
        causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }],
        retryAfterSeconds: 1,
      }),
    );
    assert.ok(e.isTooLargeResourceVersion());
    assert.equal(e.retryAfterSeconds, 1);
    assert.ok(!KubeApiError.fromStatus(status(504, "Timeout", "timeout")).isTooLargeResourceVersion());
  });

  it("has predicates for 401, 403 and 404", () => {
    assert.ok(KubeApiError.fromStatus(status(401, "Unauthorized", "Unauthorized")).isUnauthorized());
    assert.ok(KubeApiError.fromStatus(status(403, "Forbidden", "no")).isForbidden());
    assert.ok(KubeApiError.fromStatus(status(404, "NotFound", 'pods "x" not found')).isNotFound());
  });
});

describe("KubeApiError.fromResponse", () => {
  it("keeps the apiserver's RBAC message (verb, resource, namespace, user)", async () => {
    const msg =
      'pods is forbidden: User "system:serviceaccount:shop:api" cannot watch resource "pods" in API group "" in the namespace "shop"';
    const res = respond(JSON.stringify(status(403, "Forbidden", msg, { kind: "pods" })), {
      status: 403,
      type: "application/json",
    });
    const e = await KubeApiError.fromResponse(res, { method: "GET", url: "/api/v1/namespaces/shop/pods?watch=true" });
    assert.ok(e.isForbidden());
    assert.ok(e.message.includes(msg), e.message);
    assert.ok(e.message.includes("GET /api/v1/namespaces/shop/pods?watch=true"));
    assert.equal(e.body?.reason, "Forbidden");
    assert.equal(e.method, "GET");
  });

  it("handles the text/plain 429 of priority-and-fairness with Retry-After", async () => {
    const res = respond("Too many requests, please try again later.\n", {
      status: 429,
      type: "text/plain; charset=utf-8",
      retryAfter: "1",
    });
    const e = await KubeApiError.fromResponse(res);
    assert.equal(e.status, 429);
    assert.equal(e.reason, "TooManyRequests");
    assert.ok(e.isTooManyRequests());
    assert.equal(e.retryAfterSeconds, 1);
    assert.match(e.message, /^429 TooManyRequests: Too many requests, please try again later\.$/);
    assert.equal(e.body, undefined);
  });

  it("describes a proxy's HTML 502 without dumping the HTML", async () => {
    const html =
      "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>";
    const e = await KubeApiError.fromResponse(respond(html, { status: 502, type: "text/html" }));
    assert.equal(e.status, 502);
    assert.match(e.message, /HTML page/);
    assert.match(e.message, /"502 Bad Gateway"/);
    assert.ok(!e.message.includes("<"), e.message);
  });

  it("says so when the body is JSON but not a Status", async () => {
    const e = await KubeApiError.fromResponse(
      respond(JSON.stringify({ kind: "PodList", items: [] }), { status: 500, type: "application/json" }),
    );
    assert.equal(e.status, 500);
    assert.match(e.message, /JSON but not a Status \(kind "PodList"\)/);
  });

  it("handles an empty body and truncates long text bodies", async () => {
    const empty = await KubeApiError.fromResponse(respond("", { status: 503 }));
    assert.match(empty.message, /^503 ServiceUnavailable: empty body$/);
    const long = await KubeApiError.fromResponse(respond("x".repeat(5000), { status: 500, type: "text/plain" }));
    assert.ok(long.message.length < 300, String(long.message.length));
  });

  it("uses the HTTP status over the Status code when they differ", async () => {
    const res = respond(JSON.stringify(status(500, "", "")), { status: 503, type: "application/json" });
    const e = await KubeApiError.fromResponse(res);
    assert.equal(e.status, 503);
    assert.equal(e.reason, "ServiceUnavailable");
  });
});

describe("error classes", () => {
  it("WatchError has a kind, a cause and a stable code", () => {
    const cause = KubeApiError.fromStatus(status(410, "Expired", "old"));
    const e = new WatchError("watch-event", "watch ended with 410", { cause });
    assert.equal(e.code, "WATCH_ERROR");
    assert.equal(e.kind, "watch-event");
    assert.equal(e.cause, cause);
    assert.ok(e instanceof Error);
  });

  it("instanceof works on objects branded by another copy of the package", () => {
    const foreign = Object.assign(new Error("x"), { [Symbol.for("kratos-kube.KubeApiError")]: true });
    assert.ok(foreign instanceof KubeApiError);
    assert.ok(!(new Error("y") instanceof KubeApiError));
    assert.ok(!(new KubeConfigError("z") instanceof KubeApiError));
    assert.ok(new KubeConfigError("z") instanceof KubeConfigError);
    const c = new KubeConnectionError("https://a:1", "down", { tls: true });
    assert.ok(c instanceof KubeConnectionError);
    assert.equal(c.tls, true);
    assert.equal(c.server, "https://a:1");
  });
});
