/**
 * What every runtime's fetch shares: the TLS options it takes and the
 * lifecycle it has. Its own file so `fetch.ts` (which picks the runtime) and
 * the per-runtime `fetch-*.ts` files import it without importing each other.
 *
 * @module
 */

/** TLS material for the connection to the API server (PEM text, never paths). */
export interface RuntimeTlsOptions {
  /** PEM bundle of trusted CAs; the runtime's default roots when absent. */
  caPem?: string | undefined;
  /** Client certificate chain (PEM), with {@link keyPem}. */
  certPem?: string | undefined;
  /** Client private key (PEM). */
  keyPem?: string | undefined;
  /** Skip server certificate verification (kubeconfig `insecure-skip-tls-verify`). */
  insecureSkipTlsVerify?: boolean | undefined;
  /** Server name for SNI and verification (kubeconfig `tls-server-name`). */
  serverName?: string | undefined;
}

/** A fetch function with a lifecycle: `close()` releases its connections. */
export interface RuntimeFetch extends AsyncDisposable {
  /** Sends `req`; aborting `req.signal` aborts the connection. */
  readonly fetch: (req: Request) => Promise<Response>;
  /** Closes pooled connections (and open streams). Idempotent. */
  close(): Promise<void>;
}

/** True when `tls` asks for anything beyond the runtime's defaults. */
export function hasTlsOptions(tls: RuntimeTlsOptions): boolean {
  return (
    tls.caPem !== undefined ||
    tls.certPem !== undefined ||
    tls.keyPem !== undefined ||
    tls.insecureSkipTlsVerify === true ||
    tls.serverName !== undefined
  );
}
