/**
 * A live view for `watch` and `demo`: the caller renders its state to lines
 * (pure) and hands them to a {@link LiveScreen}. On a terminal the frame is
 * redrawn in place with ANSI escapes and log lines scroll above it; otherwise
 * frames are not drawn and log lines are printed as plain lines, so piped
 * output stays greppable.
 *
 * @module
 */
import type { OutStream } from "./io.ts";

/** ANSI control sequences used by the live view (ECMA-48). */
const ESC = "\x1b[";
const HIDE_CURSOR = `${ESC}?25l`;
const SHOW_CURSOR = `${ESC}?25h`;
const CLEAR_LINE = `${ESC}2K`;
const CLEAR_BELOW = `${ESC}J`;
const up = (n: number): string => (n > 0 ? `${ESC}${n}A` : "");

/** A frame plus a scrolling log. */
export interface LiveScreen {
  /** True when frames are redrawn in place (stdout is a terminal). */
  readonly live: boolean;
  /** Replaces the frame (terminal only; a no-op otherwise). */
  render(lines: readonly string[]): void;
  /** Prints one line: above the frame on a terminal, as a plain line otherwise. */
  log(line: string): void;
  /** Leaves the last frame on screen and restores the cursor. Idempotent. */
  close(): void;
}

/**
 * Builds the escape sequence that replaces a frame of `previous` lines with
 * `next` (pure; exported for tests). Lines are cut to `columns` so a wrapped
 * line never breaks the line count.
 */
export function redraw(previous: number, next: readonly string[], columns: number | undefined, logLines: readonly string[] = []): string {
  const cut = (s: string): string => (columns !== undefined && columns > 1 && s.length > columns - 1 ? s.slice(0, columns - 1) : s);
  let out = previous > 0 ? `\r${up(previous)}` : "";
  for (const l of logLines) out += `${CLEAR_LINE}${l}\n`;
  for (const l of next) out += `${CLEAR_LINE}${cut(l)}\n`;
  return `${out}${CLEAR_BELOW}`;
}

/** Creates a {@link LiveScreen} writing to `out`; `live` defaults to `out.isTTY`. */
export function createLiveScreen(out: OutStream, o: { live?: boolean } = {}): LiveScreen {
  const live = o.live ?? out.isTTY === true;
  let frame: readonly string[] = [];
  let closed = false;
  let started = false;
  return {
    live,
    render(lines) {
      if (!live || closed) return;
      if (!started) {
        out.write(HIDE_CURSOR);
        started = true;
      }
      out.write(redraw(frame.length, lines, out.columns));
      frame = [...lines];
    },
    log(line) {
      if (closed) return;
      if (!live) {
        out.write(`${line}\n`);
        return;
      }
      out.write(redraw(frame.length, frame, out.columns, [line]));
    },
    close() {
      if (closed) return;
      closed = true;
      if (live && started) out.write(SHOW_CURSOR);
    },
  };
}
