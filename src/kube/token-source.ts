/**
 * Where the bearer token of each request comes from: a fixed string, a file
 * re-read periodically (service-account tokens rotate), or an exec plugin.
 * Each client builds its own source from the config's {@link AuthSpec}, with
 * the client's clock.
 *
 * @module
 */
import type { Host } from "../runtime/host.ts";
import type { Clock } from "./clock.ts";
import { KubeConfigError } from "./errors.ts";
import type { ExecCredentialResult, ExecPluginConfig } from "./exec-credential.ts";
import { runExecPlugin } from "./exec-credential.ts";

/**
 * A token file is re-read when the cached copy is older than 1 min minus a
 * 10 s leeway (client-go `transport/token_source.go`: `NewCachedFileTokenSource`
 * with a 1 min period inside `cachingTokenSource`, leeway 10 s).
 */
export const TOKEN_FILE_REFRESH_MS = 50_000;

/**
 * An exec credential is renewed this long before its expirationTimestamp, so
 * a request never leaves with a token about to expire (client-go's exec
 * authenticator compares against `now`; the margin is kratos-kube's).
 */
export const EXEC_EXPIRY_MARGIN_MS = 10_000;

/** How a config authenticates, without secrets exposed anywhere printable. */
export type AuthSpec =
  | { type: "none" }
  | { type: "token"; token: string }
  | { type: "file"; path: string; initial?: string | undefined }
  | { type: "exec"; exec: ExecPluginConfig };

/** A per-client token provider. */
export interface TokenSource {
  /** The token to send now, or undefined for none. */
  token(signal?: AbortSignal): Promise<string | undefined>;
  /** Forget the cached token (after a 401); the next `token()` fetches a new one. */
  invalidate(): void;
  /** Whether `invalidate()` can produce a different token (file or exec). */
  readonly refreshable: boolean;
  /**
   * The client certificate of the last credential (exec plugins may return
   * one instead of, or with, a token). Read after `token()`.
   */
  clientCertificate?(): { certPem: string; keyPem: string } | undefined;
}

/** Builds the token source of `auth`. */
export function createTokenSource(auth: AuthSpec, o: { clock: Clock; host: Host }): TokenSource {
  switch (auth.type) {
    case "none":
      return { token: () => Promise.resolve(undefined), invalidate: () => {}, refreshable: false };
    case "token": {
      const t = auth.token;
      return { token: () => Promise.resolve(t), invalidate: () => {}, refreshable: false };
    }
    case "file":
      return fileTokenSource(auth.path, auth.initial, o);
    case "exec":
      return execTokenSource(auth.exec, o);
  }
}

function fileTokenSource(path: string, initial: string | undefined, o: { clock: Clock; host: Host }): TokenSource {
  let last = initial;
  let readAt = initial === undefined ? -Infinity : o.clock.now();
  let inflight: Promise<string | undefined> | undefined;
  const refresh = async (): Promise<string | undefined> => {
    try {
      const text = (await o.host.readFile(path)).trim();
      if (text === "") throw new Error("the file is empty");
      last = text;
    } catch (err) {
      // client-go keeps the last good token when a re-read fails.
      if (last === undefined) {
        throw new KubeConfigError(`cannot read the token file ${path}: ${(err as Error).message}`, { cause: err });
      }
    }
    readAt = o.clock.now();
    return last;
  };
  return {
    refreshable: true,
    token(): Promise<string | undefined> {
      if (last !== undefined && o.clock.now() - readAt < TOKEN_FILE_REFRESH_MS) return Promise.resolve(last);
      inflight ??= refresh().finally(() => (inflight = undefined));
      return inflight;
    },
    invalidate(): void {
      readAt = -Infinity;
    },
  };
}

function execTokenSource(exec: ExecPluginConfig, o: { clock: Clock; host: Host }): TokenSource {
  let cached: { token: string | undefined; validUntil: number } | undefined;
  let cert: { certPem: string; keyPem: string } | undefined;
  let inflight: Promise<ExecCredentialResult> | undefined;
  return {
    refreshable: true,
    async token(signal?: AbortSignal): Promise<string | undefined> {
      if (cached !== undefined && o.clock.now() < cached.validUntil) return cached.token;
      inflight ??= runExecPlugin(exec, o.host, signal).finally(() => (inflight = undefined));
      const r = await inflight;
      // Wall-clock expiry mapped onto the injected clock.
      const validUntil =
        r.expiresAt === undefined ? Infinity : o.clock.now() + (r.expiresAt - Date.now()) - EXEC_EXPIRY_MARGIN_MS;
      cached = { token: r.token, validUntil };
      cert = r.certPem !== undefined && r.keyPem !== undefined ? { certPem: r.certPem, keyPem: r.keyPem } : undefined;
      return r.token;
    },
    clientCertificate: () => cert,
    invalidate(): void {
      cached = undefined;
    },
  };
}
