/**
 * The streams, environment and cancellation a CLI command runs with. Commands
 * take an optional {@link CliIo} so tests run them in-process with captured
 * output; `defaultIo()` wires the real process.
 *
 * @module
 */

/** A text sink: `process.stdout` or a test capture. */
export interface OutStream {
  write(text: string): unknown;
  /** True when this is a terminal (live views redraw in place only then). */
  readonly isTTY?: boolean | undefined;
  /** Terminal width in columns, when known. */
  readonly columns?: number | undefined;
}

/** What a command needs from its surroundings. */
export interface CliIo {
  readonly stdout: OutStream;
  readonly stderr: OutStream;
  readonly env: Record<string, string | undefined>;
  /** Aborted on Ctrl-C (SIGINT) or SIGTERM; long-running commands stop on it. */
  readonly signal: AbortSignal;
}

/** The real process: its stdout/stderr, `process.env`, and SIGINT/SIGTERM as an abort signal. */
export function defaultIo(): CliIo {
  const controller = new AbortController();
  const stop = (): void => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort(new Error("interrupted"));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: controller.signal };
}

/** A capture for tests: everything written, as one string each. */
export interface CapturedIo extends CliIo {
  out(): string;
  err(): string;
  /** Resolves once stdout matches `re` (checked on every write, so tests need no sleeps). */
  waitForOut(re: RegExp): Promise<void>;
}

/** Creates a {@link CapturedIo}; `tty` makes stdout claim to be a terminal. */
export function captureIo(o: { env?: Record<string, string | undefined>; signal?: AbortSignal; tty?: boolean } = {}): CapturedIo {
  let out = "";
  let err = "";
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  const check = (): void => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i];
      if (w && w.re.test(out)) {
        waiters.splice(i, 1);
        w.resolve();
      }
    }
  };
  return {
    stdout: {
      write: (s: string) => {
        out += s;
        check();
        return true;
      },
      isTTY: o.tty ?? false,
      columns: 120,
    },
    stderr: { write: (s: string) => (err += s), isTTY: false },
    env: o.env ?? {},
    signal: o.signal ?? new AbortController().signal,
    out: () => out,
    err: () => err,
    waitForOut: (re) =>
      new Promise<void>((resolve) => {
        waiters.push({ re, resolve });
        check();
      }),
  };
}
