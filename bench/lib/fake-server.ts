/**
 * Starts {@link ./fake-server-process.ts} and waits for its URL.
 *
 * @module
 */
import { startLineProcess, type LineProcess } from "./child.ts";

/** A fake API server running in a child process. */
export interface FakeServerProcess {
  readonly url: string;
  /** The resourceVersion the LISTs are pinned to (before the events). */
  readonly resourceVersion: string;
  readonly proc: LineProcess;
  /** Request counts by kind (`GET list`, `GET list-page`, `GET watch`). */
  requests(): Promise<{ counts: Record<string, number>; byClient: Record<string, number>; total: number }>;
  /** The server process's CPU time so far (user + system, µs). */
  cpuUs(): Promise<number>;
  close(): Promise<void>;
}

/** Starts a fake API server process with `pods` pods over `apps` services; `events` MODIFIED events are pre-generated and every LIST is pinned before them (see the process file). */
export async function startFakeServer(o: { pods: number; apps?: number; events?: number; bookmarkMs?: number; scale?: number; inService?: number; kratos?: boolean }): Promise<FakeServerProcess> {
  const args = [`--pods=${o.pods}`, `--apps=${o.apps ?? 10}`, `--events=${o.events ?? 0}`];
  if (o.bookmarkMs !== undefined) args.push(`--bookmark-ms=${o.bookmarkMs}`);
  if (o.scale !== undefined) args.push(`--scale=${o.scale}`);
  if (o.inService !== undefined) args.push(`--in-service=${o.inService}`);
  if (o.kratos === true) args.push("--kratos=1");
  const proc = startLineProcess("bench/lib/fake-server-process.ts", args);
  const first = await proc.next();
  return {
    url: String(first["url"]),
    resourceVersion: String(first["resourceVersion"]),
    proc,
    requests: async () => {
      proc.send({ cmd: "requests" });
      return (await proc.next()) as { counts: Record<string, number>; byClient: Record<string, number>; total: number };
    },
    cpuUs: async () => {
      proc.send({ cmd: "cpu" });
      return Number((await proc.next())["cpuUs"]);
    },
    close: () => proc.close(),
  };
}
