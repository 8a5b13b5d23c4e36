/**
 * The `watch` check of `doctor`: does a pod watch actually stream? Discovery
 * lives on its watch; a proxy or load balancer between the client and the
 * API server that buffers responses delivers nothing until the watch ends
 * (minutes later), so changes arrive in bursts or not at all.
 *
 * The check opens the watch discovery opens (the service's label selector,
 * bookmarks allowed, `timeoutSeconds` well past the deadline) without a
 * resourceVersion, so the server starts it with an ADDED event per current
 * pod at once. The first event must arrive within the deadline while the
 * response is still open; nothing by then means the stream is held back.
 *
 * @module
 */
import type { Clock, KubeClient } from "../src/kube/index.ts";
import type { Check } from "./doctor-pod-checks.ts";

/** Inputs of {@link watchStreamsCheck}. */
export interface WatchCheckInput {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly labelSelector: string;
  /** How long the first event may take. */
  readonly deadlineMs: number;
  readonly clock: Clock;
  readonly signal?: AbortSignal | undefined;
  /** Explains a request error in one line (the CLI's `explainError`). */
  readonly explain: (error: unknown) => string;
}

const EVENT_TYPES = new Set(["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]);

/**
 * Opens the watch and waits for its first complete event line. PASS when it
 * arrives within `deadlineMs`, FAIL when nothing (or no complete line) does,
 * when the stream ends at once, or when the first line is not a watch event.
 * The deadline timer is armed before the first await, so a manual clock can
 * drive it.
 */
export async function watchStreamsCheck(input: WatchCheckInput): Promise<Check> {
  const { deadlineMs } = input;
  const started = input.clock.now();
  const ac = new AbortController();
  let timedOut = false;
  const timer = input.clock.setTimeout(() => {
    timedOut = true;
    ac.abort(new Error(`no watch event within ${deadlineMs} ms`));
  }, deadlineMs);
  const onAbort = (): void => ac.abort(input.signal?.reason);
  input.signal?.addEventListener("abort", onAbort, { once: true });
  const timeoutSeconds = Math.max(10, Math.ceil(deadlineMs / 1000) * 3);
  const path = `/api/v1/namespaces/${encodeURIComponent(input.namespace)}/pods`;
  let text = "";
  try {
    const res = await input.client.request("GET", path, {
      query: { watch: "true", labelSelector: input.labelSelector, allowWatchBookmarks: "true", timeoutSeconds: String(timeoutSeconds) },
      signal: ac.signal,
    });
    const reader = res.body?.getReader();
    if (reader === undefined) return fail("the watch response has no body", "");
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          return fail(
            `the watch response ended ${text === "" ? "without an event" : "before its first event line was complete"} right after it opened (timeoutSeconds was ${timeoutSeconds})`,
            "something between here and the API server does not pass streaming responses through: check the proxy or load balancer in front of the API server",
          );
        }
        text += decoder.decode(value, { stream: true });
        const nl = text.indexOf("\n");
        if (nl === -1) continue;
        const line = text.slice(0, nl);
        let type: unknown;
        try {
          type = (JSON.parse(line) as { type?: unknown }).type;
        } catch {
          type = undefined;
        }
        if (typeof type !== "string" || !EVENT_TYPES.has(type)) {
          return fail(
            `the first line of the watch is not a watch event: ${JSON.stringify(line.slice(0, 120))}`,
            "the answer does not come from the Kubernetes API server as sent: check the proxy in front of it",
          );
        }
        const ms = Math.round(input.clock.now() - started);
        return { name: "watch", verdict: "PASS", detail: `a pod watch streams: the first event (${type}) arrived after ${ms} ms while the response stayed open` };
      }
    } finally {
      await reader.cancel().catch(() => {});
    }
  } catch (error) {
    if (timedOut) {
      return fail(
        `no watch event within ${deadlineMs} ms, although pods match ${input.labelSelector}${text !== "" ? ` (${text.length} bytes of an incomplete line arrived)` : ""}`,
        "a proxy or load balancer between here and the API server buffers streaming responses, so discovery sees changes late or never: turn off response buffering for the API server (e.g. nginx proxy_buffering off), or connect to the API server directly",
      );
    }
    if (input.signal?.aborted) throw error;
    return { name: "watch", verdict: "FAIL", detail: input.explain(error) };
  } finally {
    timer.cancel();
    input.signal?.removeEventListener("abort", onAbort);
  }
}

function fail(detail: string, fix: string): Check {
  return { name: "watch", verdict: "FAIL", detail, fix: fix || undefined };
}
