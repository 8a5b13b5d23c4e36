/**
 * The small slice of the Deno and Bun globals that `src/runtime/` uses, declared
 * here (as Hono's `adapter/deno/deno.d.ts` does) instead of depending on the
 * full `@types/bun` or Deno's lib files. Imported with `import type`, and the
 * globals are reached through `globalThis` casts behind feature detection
 * (`detect.ts`), so type checking works the same under tsc and `deno check`.
 */

/** `Deno.HttpClient` (stable without a flag since Deno 2.0). */
export interface DenoHttpClient {
  close(): void;
}

/** The parts of the `Deno` namespace kratos-kube uses. */
export interface DenoNamespace {
  readonly version: { readonly deno: string };
  createHttpClient(options: { caCerts?: string[]; cert?: string; key?: string }): DenoHttpClient;
  env: { toObject(): Record<string, string> };
}

/** The `tls` option of Bun's `fetch`. */
export interface BunFetchTls {
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized?: boolean;
  serverName?: string;
}

/** The parts of the `Bun` global kratos-kube uses. */
export interface BunNamespace {
  readonly version: string;
}

/** `globalThis` as seen on any of the runtimes. */
export interface RuntimeGlobals {
  Deno?: DenoNamespace;
  Bun?: BunNamespace;
}
