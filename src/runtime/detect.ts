/**
 * Runtime detection by feature, not by user agent: `Deno.version.deno`,
 * `Bun.version`, then `process.versions.node` (Bun and Deno also define
 * `process`, so the order matters).
 *
 * @module
 */

/** The runtimes kratos-kube knows. */
export type RuntimeName = "node" | "bun" | "deno" | "unknown";

/** Which runtime this code runs on. */
export function detectRuntime(): RuntimeName {
  const g = globalThis as { Deno?: { version?: { deno?: unknown } }; Bun?: { version?: unknown } };
  if (typeof g.Deno?.version?.deno === "string") return "deno";
  if (typeof g.Bun?.version === "string") return "bun";
  if (typeof globalThis.process?.versions?.node === "string") return "node";
  return "unknown";
}

/** `name/version` of the runtime, e.g. `node/20.20.2`, `bun/1.4.5`, `deno/2.9.6`. */
export function runtimeLabel(): string {
  const name = detectRuntime();
  switch (name) {
    case "deno":
      return `deno/${(globalThis as { Deno?: { version: { deno: string } } }).Deno?.version.deno ?? "?"}`;
    case "bun":
      return `bun/${(globalThis as { Bun?: { version: string } }).Bun?.version ?? "?"}`;
    case "node":
      return `node/${globalThis.process.versions.node}`;
    default:
      return "unknown";
  }
}
