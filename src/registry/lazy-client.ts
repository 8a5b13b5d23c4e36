/**
 * The Kubernetes client of a registry or discovery: the one given, or one
 * built on first use from the given config (else `KubeConfig.load()`) and
 * closed with its owner. A failed config load is retried on the next use.
 *
 * @module
 */
import type { Clock } from "../kube/clock.ts";
import { createKubeClient, type KubeClient } from "../kube/client.ts";
import { configInternals, KubeConfig } from "../kube/config.ts";
import type { FetchLike } from "../kube/fetch-like.ts";
import { checkEncoding, type Encoding } from "../kube/protobuf/negotiation.ts";
import { RegistryError } from "./errors.ts";

/** Where the client comes from. */
export interface LazyClientOptions {
  readonly client?: KubeClient | undefined;
  readonly config?: KubeConfig | undefined;
  readonly fetch?: FetchLike | undefined;
  readonly clock: Clock;
  readonly encoding?: Encoding | undefined;
}

/** A client made on first use. */
export interface LazyClient {
  get(): Promise<KubeClient>;
  /** Closes the client if it was built here. */
  close(): Promise<void>;
}

/** Creates a {@link LazyClient}. */
export function lazyClient(o: LazyClientOptions): LazyClient {
  let client: Promise<KubeClient> | undefined;
  let owns = false;
  let closed = false;
  return {
    get() {
      if (client === undefined) {
        client = (async () => {
          if (o.client !== undefined) return o.client;
          const config = o.config ?? (await KubeConfig.load());
          if (closed) throw new RegistryError("CLOSED", "the registry was closed");
          owns = true;
          return createKubeClient({ config, fetch: o.fetch, clock: o.clock, encoding: o.encoding });
        })();
        client.catch(() => (client = undefined));
      }
      return client;
    },
    async close() {
      closed = true;
      if (owns) await (await client?.catch(() => undefined))?.close();
    },
  };
}

/** The environment of the runtime the config was loaded on (for POD_NAME, POD_NAMESPACE, HOSTNAME). */
export function envOf(config: KubeConfig): Record<string, string | undefined> {
  try {
    return configInternals(config).host.env();
  } catch {
    return {};
  }
}

/** Throws the TypeError of a bad `encoding`, or of one given beside `client` (which has its own); `where` names the class, `what` its kind in prose. */
export function checkClientEncoding(options: { readonly encoding?: unknown; readonly client?: unknown }, where: string, what: string): void {
  if (options.encoding === undefined) return;
  checkEncoding(options.encoding, where);
  if (options.client !== undefined) throw new TypeError(`${where}: encoding applies to the client the ${what} builds; for a client given, set it there (createKubeClient({ encoding }))`);
}
