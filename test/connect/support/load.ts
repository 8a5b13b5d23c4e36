/**
 * Watchdog bound of every network test in test/connect (node:test `timeout`,
 * honoured by Node, Bun and Deno): a hung test fails with a message instead
 * of hanging CI. A healthy test takes under a second on an idle machine and
 * up to ~15 s with both cores saturated (load average 14).
 */
export const TEST_TIMEOUT_MS = 60_000;

/** The node:test options of a network test: `it(name, watchdog, fn)`. */
export const watchdog: { timeout: number } = { timeout: TEST_TIMEOUT_MS };

/**
 * Bound on any single wait on an event in a test (`until`, `completed`),
 * below {@link TEST_TIMEOUT_MS} so the wait rejects first, naming what it
 * waited for, and the test's `finally` still closes servers and transports
 * (a test stopped by the runner's timeout alone would leave them open and
 * the process would not exit).
 */
export const WAIT_LIMIT_MS = 45_000;

/** Rejects `p` after `ms` (an unref'd real timer: a failure bound, never a synchronisation). */
export function within<T>(p: Promise<T>, ms: number, what: () => string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const h = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what()}`)), ms);
    (h as { unref?: () => void }).unref?.();
    p.then(
      (v) => {
        clearTimeout(h);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(h);
        reject(e);
      },
    );
  });
}

/** Runs calls continuously with fixed concurrency until stopped, counting outcomes. */
export interface Load {
  readonly ok: number;
  readonly failed: number;
  readonly errors: unknown[];
  /** Resolves once `n` more calls completed (ok or failed) than when called. */
  completed(n: number): Promise<void>;
  /** Stops starting calls and waits for the running ones. */
  stop(): Promise<void>;
  /** Stops starting calls without waiting (for `finally`: a closed transport fails calls at once). */
  halt(): void;
}

export function startLoad(call: (i: number) => Promise<unknown>, concurrency: number): Load {
  let ok = 0;
  let failed = 0;
  const errors: unknown[] = [];
  let stopped = false;
  let i = 0;
  let waiters: { at: number; resolve: () => void }[] = [];
  const tick = (): void => {
    const done = ok + failed;
    waiters = waiters.filter((w) => {
      if (done >= w.at) {
        w.resolve();
        return false;
      }
      return true;
    });
  };
  const worker = async (): Promise<void> => {
    while (!stopped) {
      try {
        await call(i++);
        ok++;
      } catch (e) {
        failed++;
        errors.push(e);
      }
      tick();
    }
  };
  const workers = Array.from({ length: concurrency }, () => worker());
  return {
    get ok() {
      return ok;
    },
    get failed() {
      return failed;
    },
    errors,
    completed(n) {
      const at = ok + failed + n;
      const p = new Promise<void>((resolve) => {
        waiters.push({ at, resolve });
        tick();
      });
      return within(p, WAIT_LIMIT_MS, () => `${n} more calls (${ok} ok, ${failed} failed so far, target ${at})`);
    },
    halt() {
      stopped = true;
    },
    async stop() {
      stopped = true;
      await Promise.all(workers);
    },
  };
}

/** mulberry32, the same seeded PRNG the fake API server re-chunks watch output with. */
export { seededRandom } from "../../../src/testing/watch-stream.ts";

/**
 * Resolves when `pred()` holds, re-checked whenever `notify()` is called;
 * rejects after {@link WAIT_LIMIT_MS} with `pred`'s source and `dump()`.
 */
export function createWaiter(dump: () => string = () => ""): { notify(): void; until(pred: () => boolean): Promise<void> } {
  let list: { pred: () => boolean; resolve: () => void }[] = [];
  return {
    notify() {
      list = list.filter((w) => {
        if (w.pred()) {
          w.resolve();
          return false;
        }
        return true;
      });
    },
    until(pred) {
      if (pred()) return Promise.resolve();
      const p = new Promise<void>((resolve) => list.push({ pred, resolve }));
      return within(p, WAIT_LIMIT_MS, () => `${pred.toString()} (${dump()})`);
    },
  };
}

/**
 * Deno's node:http2 client (2.9) fails calls whose response headers already
 * arrived with ERR_STREAM_PREMATURE_CLOSE when the server closes the
 * connection right after a graceful GOAWAY drain; a plain connect-node
 * transport without our balancer shows the same failures there, and Node
 * and Bun do not. Those calls were processed, so retrying them is not safe;
 * on Deno alone the graceful-restart tests tolerate exactly that error.
 */
export function denoPrematureClose(e: unknown): boolean {
  if (!("Deno" in globalThis) || typeof e !== "object" || e === null) return false;
  const cause = (e as { cause?: { code?: unknown } }).cause;
  return cause?.code === "ERR_STREAM_PREMATURE_CLOSE";
}
