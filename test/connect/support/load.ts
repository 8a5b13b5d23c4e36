/** Runs calls continuously with fixed concurrency until stopped, counting outcomes. */
export interface Load {
  readonly ok: number;
  readonly failed: number;
  readonly errors: unknown[];
  /** Resolves once `n` more calls completed (ok or failed) than when called. */
  completed(n: number): Promise<void>;
  /** Stops starting calls and waits for the running ones. */
  stop(): Promise<void>;
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
      return new Promise((resolve) => {
        waiters.push({ at, resolve });
        tick();
      });
    },
    async stop() {
      stopped = true;
      await Promise.all(workers);
    },
  };
}

/** mulberry32: a small seeded PRNG for deterministic pickers. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Resolves when `pred()` holds, re-checked whenever `subscribe`'s callback fires. */
export function createWaiter(): { notify(): void; until(pred: () => boolean): Promise<void> } {
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
      return new Promise((resolve) => list.push({ pred, resolve }));
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
