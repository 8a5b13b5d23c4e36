/**
 * The small slice of the Deno and Bun globals that `src/runtime/` uses, declared
 * here (as Hono's `adapter/deno/deno.d.ts` does) instead of depending on the
 * full `@types/bun` or Deno's lib files. Both globals are `undefined` on other
 * runtimes, so every use is behind feature detection (`detect.ts`).
 */

/** `Deno.HttpClient` (Deno ≥ 1.x; stable without a flag since Deno 2.0). */
interface KratosKubeDenoHttpClient {
  close(): void;
}

/** The parts of the `Deno` namespace kratos-kube uses. */
interface KratosKubeDeno {
  readonly version: { readonly deno: string };
  createHttpClient(options: { caCerts?: string[]; cert?: string; key?: string }): KratosKubeDenoHttpClient;
  env: { toObject(): Record<string, string> };
}

/** The `tls` option of Bun's `fetch`. */
interface KratosKubeBunTls {
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized?: boolean;
  serverName?: string;
}

/** The parts of the `Bun` global kratos-kube uses. */
interface KratosKubeBun {
  readonly version: string;
}

// eslint-disable-next-line no-var
declare var Deno: KratosKubeDeno | undefined;
// eslint-disable-next-line no-var
declare var Bun: KratosKubeBun | undefined;
