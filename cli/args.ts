/**
 * Option parsing shared by the `kratos-kube` commands (node:util parseArgs),
 * with `--help` text per command and one-line errors that say how to fix the
 * call.
 *
 * @module
 */
import { parseArgs } from "node:util";

/** One option of a command. */
export interface OptionSpec {
  readonly type: "string" | "boolean";
  readonly short?: string;
  /** Placeholder shown in help, e.g. `FILE`. */
  readonly value?: string;
  readonly help: string;
  readonly default?: string | boolean;
  /** Allowed values of a string option. */
  readonly choices?: readonly string[];
  /** The option may be given several times; every value is in {@link ParsedArgs.lists}. */
  readonly multiple?: boolean;
}

/** A command's name, usage line, description and options. */
export interface CommandSpec {
  readonly name: string;
  /** Positional arguments in the usage line, e.g. `<service>`. */
  readonly positionals: readonly string[];
  readonly summary: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Extra help paragraphs (examples, exit codes). */
  readonly details?: string;
}

/** The options every cluster-facing command takes. */
export const clusterOptions: Readonly<Record<string, OptionSpec>> = {
  kubeconfig: { type: "string", value: "FILE", help: "kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)" },
  context: { type: "string", value: "NAME", help: "kubeconfig context (default: current-context)" },
  namespace: { type: "string", short: "n", value: "NS", help: "namespace to look in (default: the context's namespace)" },
  output: { type: "string", short: "o", value: "FORMAT", help: "output format", default: "table", choices: ["table", "json"] },
};

const helpOption: OptionSpec = { type: "boolean", short: "h", help: "show this help" };

/** A usage error: printed as one line with the fix, exit code 2. */
export class UsageError extends Error {
  readonly code = "USAGE";
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The parsed command line. */
export interface ParsedArgs {
  /** Each option's value (the last one when given several times). */
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  /** Every value of each `multiple` string option, in order (empty when not given). */
  readonly lists: Readonly<Record<string, readonly string[]>>;
  readonly positionals: readonly string[];
  readonly help: boolean;
}

/** Renders `--help` for a command. */
export function helpText(spec: CommandSpec): string {
  const all: [string, OptionSpec][] = [...Object.entries(spec.options), ["help", helpOption]];
  const left = all.map(([name, o]) => `${o.short ? `-${o.short}, ` : "    "}--${name}${o.value ? ` ${o.value}` : ""}`);
  const width = Math.max(...left.map((l) => l.length));
  const lines = [
    `usage: kratos-kube ${spec.name}${spec.positionals.length ? ` ${spec.positionals.join(" ")}` : ""} [options]`,
    "",
    spec.summary,
    "",
    "options:",
    ...all.map(([, o], i) => {
      const extra = [o.choices ? `one of ${o.choices.join(", ")}` : "", o.default !== undefined ? `default ${String(o.default)}` : "", o.multiple ? "repeatable" : ""].filter(Boolean);
      return `  ${(left[i] ?? "").padEnd(width)}  ${o.help}${extra.length ? ` (${extra.join("; ")})` : ""}`;
    }),
  ];
  if (spec.details) lines.push("", spec.details);
  return lines.join("\n") + "\n";
}

/**
 * Parses `argv` for `spec`. Throws {@link UsageError} with a one-line message
 * naming the problem and the fix (unknown option, missing value, bad choice,
 * wrong number of positionals). `--help` short-circuits every check.
 */
export function parseCommandArgs(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = { help: { type: "boolean", short: "h" } };
  for (const [name, o] of Object.entries(spec.options)) {
    options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  }
  const hint = `see \`kratos-kube ${spec.name} --help\``;
  // parseArgs refuses "--pods -1" as ambiguous; a negative number after a
  // string option is its value, so the range check can name the problem.
  const stringFlags = new Set<string>();
  for (const [name, o] of Object.entries(spec.options)) {
    if (o.type !== "string") continue;
    stringFlags.add(`--${name}`);
    if (o.short) stringFlags.add(`-${o.short}`);
  }
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? "";
    const next = argv[i + 1];
    if (stringFlags.has(a) && next !== undefined && /^-\d/.test(next)) {
      joined.push(a.startsWith("--") ? `${a}=${next}` : `${a}${next}`);
      i++;
    } else joined.push(a);
  }
  let parsed: { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: joined, options, allowPositionals: true, strict: true });
  } catch (error) {
    const msg = error instanceof Error ? error.message : String(error);
    throw new UsageError(`${oneLine(msg)}; ${hint}`);
  }
  const values: Record<string, string | boolean | undefined> = {};
  const lists: Record<string, string[]> = {};
  for (const [name, o] of Object.entries(spec.options)) if (o.multiple) lists[name] = [];
  for (const [k, v] of Object.entries(parsed.values)) {
    values[k] = Array.isArray(v) ? v[v.length - 1] : v;
    if (Array.isArray(v) && lists[k] !== undefined) lists[k] = v.filter((x): x is string => typeof x === "string");
  }
  if (values.help === true) return { values, lists, positionals: parsed.positionals, help: true };
  for (const [name, o] of Object.entries(spec.options)) {
    if (values[name] === undefined && o.default !== undefined) values[name] = o.default;
    const v = values[name];
    if (o.choices && typeof v === "string" && !o.choices.includes(v)) {
      throw new UsageError(`--${name} must be one of ${o.choices.join(", ")}, not "${v}"; ${hint}`);
    }
  }
  const want = spec.positionals.filter((p) => p.startsWith("<")).length;
  const max = spec.positionals.length;
  if (parsed.positionals.length < want) {
    throw new UsageError(`missing ${spec.positionals.slice(parsed.positionals.length, want).join(" ")}: run \`kratos-kube ${spec.name} ${spec.positionals.join(" ")}\`, e.g. \`kratos-kube ${spec.name} sayhello.service\``);
  }
  if (parsed.positionals.length > max) {
    throw new UsageError(`unexpected argument "${parsed.positionals[max]}"; ${hint}`);
  }
  return { values, lists, positionals: parsed.positionals, help: false };
}

/** Reads a numeric option; throws {@link UsageError} naming the option when it is not a number in range. */
export function numberOption(args: ParsedArgs, name: string, fallback: number, range: { min: number; max: number }, command: string): number {
  const raw = args.values[name];
  if (raw === undefined || raw === true || raw === false) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < range.min || n > range.max) {
    throw new UsageError(`--${name} must be a number from ${range.min} to ${range.max}, not "${raw}"; see \`kratos-kube ${command} --help\``);
  }
  return n;
}

/** Reads a string option's value, or undefined. */
export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === "string" ? v : undefined;
}

/** Collapses a message to one line. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}
