/**
 * The logger hook of kratos-kube: structured records (a level, a fixed
 * message, fields), silent unless a {@link Logger} is given. Fields carry
 * addresses, names, states and error texts, never credentials; values under
 * keys that name a credential are replaced before a record leaves the
 * library, as a second line of defence.
 *
 * @module
 */

/** Severity of a {@link LogRecord}, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** One log record. */
export interface LogRecord {
  /** `debug` (every state change), `info` (what was skipped and why, reconnects), `warn` (ejections, failing loops), `error`. */
  readonly level: LogLevel;
  /** A fixed text, e.g. `"endpoint ejected"`: group and alert on it. */
  readonly message: string;
  /** Structured context: `service`, `address`, `state`, `reason`, `error` (a text), … */
  readonly fields: Readonly<Record<string, unknown>>;
}

/**
 * Receives kratos-kube's log records (`logger` option of the transport and
 * of the registry). Exceptions it throws are ignored. Adapt any logger, e.g.
 * pino: `(r) => log[r.level](r.fields, r.message)`.
 */
export type Logger = (record: LogRecord) => void;

const RANK: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3 };
const SECRET_KEY = /token|authorization|password|secret|credential|cookie/i;

/**
 * A {@link Logger} that writes records at `level` (default `"info"`) and
 * above to the console as one line each: `kratos-kube <level> <message>
 * <fields as JSON>`. `consoleLogger()` is the one option that tells what was
 * skipped and why.
 */
export function consoleLogger(o: { readonly level?: LogLevel; readonly write?: (line: string) => void } = {}): Logger {
  const min = RANK[o.level ?? "info"];
  if (min === undefined) throw new TypeError(`consoleLogger: unknown level ${JSON.stringify(o.level)} (debug, info, warn, error)`);
  const write = o.write ?? ((line: string) => console.error(line));
  return (r) => {
    if (RANK[r.level] < min) return;
    write(`kratos-kube ${r.level} ${r.message} ${JSON.stringify(r.fields)}`);
  };
}

/**
 * Advanced: a logger that only forwards records at `level` and above to
 * `logger` (e.g. a structured logger without levels of its own).
 */
export function filterLevel(logger: Logger, level: LogLevel): Logger {
  const min = RANK[level];
  return (r) => {
    if (RANK[r.level] >= min) logger(r);
  };
}

/** Throws a TypeError naming `where` when `logger` is given but is not a function. */
export function checkLogger(logger: unknown, where: string): void {
  if (logger !== undefined && typeof logger !== "function") {
    throw new TypeError(`${where}: logger must be a function (record) => void, e.g. consoleLogger(); got ${typeof logger}`);
  }
}

/** An error as log text (message and code; never a stack or a cause's secrets). */
export function errorText(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return typeof code === "string" ? `${e.message} (${code})` : e.message;
  }
  return String(e);
}

/**
 * Internal: sends one record to `logger` (when set), credential-named fields
 * redacted and errors turned into text; a throwing logger is ignored.
 */
export function emit(logger: Logger | undefined, level: LogLevel, message: string, fields: Record<string, unknown>): void {
  if (logger === undefined) return;
  const clean: Record<string, unknown> = {};
  for (const k of Object.keys(fields)) {
    const v = fields[k];
    if (v === undefined) continue;
    clean[k] = SECRET_KEY.test(k) ? "[redacted]" : v instanceof Error ? errorText(v) : v;
  }
  try {
    logger({ level, message, fields: clean });
  } catch {
    // a throwing logger must not break the caller
  }
}
