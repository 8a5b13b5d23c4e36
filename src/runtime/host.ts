/**
 * The host services config code needs: environment variables, files, the home
 * directory and running exec credential plugins. They go through `node:*`
 * modules, which Node, Bun and Deno all provide; they are imported lazily so
 * that merely importing `kratos-kube/kube` touches nothing.
 *
 * Config code in `src/kube/` reaches the host only through {@link Host}, so
 * tests can substitute every part of it.
 *
 * @module
 */

import type { RuntimeGlobals } from "./ambient.d.ts";

/** What an exec plugin run produced. */
export interface ExecResult {
  /** Exit code; `null` when a signal ended the process. */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Options of {@link Host.exec}. */
export interface ExecOptions {
  /** The complete environment of the child. */
  env: Record<string, string>;
  /** Working directory. */
  cwd?: string | undefined;
  /** Kills the child when aborted. */
  signal?: AbortSignal | undefined;
  /** Kills the child after this many milliseconds. */
  timeoutMs?: number | undefined;
}

/** Environment, files and processes. */
export interface Host {
  /** A snapshot of the environment. */
  env(): Record<string, string | undefined>;
  /** Reads a UTF-8 file. Rejects with the runtime's error (with `code`, e.g. `ENOENT`). */
  readFile(path: string): Promise<string>;
  /** The user's home directory, if known. */
  homeDir(): string | undefined;
  /** Resolves `path` against `base` (a directory); absolute paths are returned as they are. */
  resolvePath(base: string, path: string): string;
  /** The directory part of `path`. */
  dirname(path: string): string;
  /** The separator of `KUBECONFIG` lists (`:`, or `;` on Windows). */
  readonly pathListSeparator: string;
  /**
   * Runs `command` with `args` (no shell), stdin closed. Rejects with an
   * error whose `code` is `ENOENT` when the command does not exist.
   */
  exec(command: string, args: readonly string[], options: ExecOptions): Promise<ExecResult>;
}

const isWindows = (): boolean => globalThis.process?.platform === "win32";

function env(): Record<string, string | undefined> {
  const deno = (globalThis as RuntimeGlobals).Deno;
  if (deno !== undefined) {
    try {
      return deno.env.toObject();
    } catch {
      return {}; // no --allow-env: behave as an empty environment
    }
  }
  return { ...(globalThis.process?.env ?? {}) };
}

function isAbsolute(path: string): boolean {
  return path.startsWith("/") || (isWindows() && /^(?:[a-zA-Z]:[\\/]|\\\\)/.test(path));
}

function resolvePath(base: string, path: string): string {
  if (isAbsolute(path) || base === "") return path;
  const sep = isWindows() ? "\\" : "/";
  return base.endsWith("/") || base.endsWith("\\") ? base + path : base + sep + path;
}

function dirname(path: string): string {
  const i = Math.max(path.lastIndexOf("/"), isWindows() ? path.lastIndexOf("\\") : -1);
  if (i < 0) return ".";
  return i === 0 ? "/" : path.slice(0, i);
}

async function readFile(path: string): Promise<string> {
  const fs = await import("node:fs/promises");
  return fs.readFile(path, "utf8");
}

function homeDir(): string | undefined {
  const e = env();
  return e["HOME"] || e["USERPROFILE"] || undefined;
}

async function exec(command: string, args: readonly string[], options: ExecOptions): Promise<ExecResult> {
  const cp = await import("node:child_process");
  return new Promise((resolve, reject) => {
    const child = cp.spawn(command, [...args], {
      env: options.env,
      cwd: options.cwd,
      stdio: ["ignore", "pipe", "pipe"],
      windowsHide: true,
    });
    let stdout = "";
    let stderr = "";
    let timer: ReturnType<typeof setTimeout> | undefined;
    const kill = (): void => {
      child.kill("SIGKILL");
    };
    if (options.timeoutMs !== undefined) timer = setTimeout(kill, options.timeoutMs);
    options.signal?.addEventListener("abort", kill, { once: true });
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const done = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      options.signal?.removeEventListener("abort", kill);
    };
    child.on("error", (err) => {
      done();
      reject(err);
    });
    child.on("close", (code) => {
      done();
      resolve({ code, stdout, stderr });
    });
  });
}

/** The host of the current runtime. */
export const host: Host = {
  env,
  readFile,
  homeDir,
  resolvePath,
  dirname,
  get pathListSeparator(): string {
    return isWindows() ? ";" : ":";
  },
  exec,
};

/**
 * The caller's zone from the `KRATOS_KUBE_ZONE` environment variable (the
 * transport's `zone.local` default), or undefined when it is unset or empty.
 * The Pod's node's `topology.kubernetes.io/zone` label is what to put there.
 */
export function envZone(): string | undefined {
  const z = env()["KRATOS_KUBE_ZONE"]?.trim();
  return z === undefined || z === "" ? undefined : z;
}
