/**
 * The fake API server as a separate process, so a bench client's CPU and
 * memory are its own. Started by the orchestrators with {@link startFakeServer};
 * speaks JSON lines on stdin/stdout.
 *
 * Arguments: `--pods=N` realistic pods (≈5 KB of JSON each, `makePod`) spread
 * over `--apps=K` kratos services in namespace `bench`; `--events=M` MODIFIED
 * events generated when the first watch *from a resourceVersion* arrives
 * (after the client's LIST), so they are replayed from history as fast as the
 * client reads — the client, not the generator, sets the pace;
 * `--bookmark-ms`, `--history`.
 *
 * Commands: `{cmd:"requests"}` → counts of the request log;
 * `{cmd:"update", n}` → n MODIFIED events now; `{cmd:"quit"}`.
 *
 * @module
 */
import process from "node:process";
import { createInterface } from "node:readline";
import { FakeKubeApiServer, makePod, serve } from "../../src/testing/index.ts";
import { arg, numArg } from "./proc.ts";

const pods = numArg("pods", 10_000);
const apps = numArg("apps", 10);
const events = numArg("events", 0);
const bookmarkMs = numArg("bookmark-ms", 60_000);
const ns = arg("namespace", "bench");

const server = new FakeKubeApiServer({ historyLimit: Math.max(1000, pods + events + 100), rechunk: false, bookmarkIntervalMs: bookmarkMs });
const names: string[] = [];
for (let i = 0; i < pods; i++) {
  const name = `svc-${i % apps}-${i.toString(36).padStart(5, "0")}`;
  names.push(name);
  server.createPod(makePod({ name, namespace: ns, app: `svc-${i % apps}`, protocols: '{"9000":"grpc"}' }));
}

let gen = 0;
function update(n: number): void {
  for (let i = 0; i < n; i++) {
    const name = names[gen % names.length]!;
    const g = String(gen++);
    server.updatePod(ns, name, (p) => {
      p.metadata.annotations = { ...p.metadata.annotations, "bench.kratos-kube/generation": g };
    });
  }
}

const r0 = server.resourceVersion;
update(events);
const listening = await serve(async (req) => {
  if (events > 0) {
    const url = new URL(req.url);
    const q = url.searchParams;
    if (q.get("watch") !== "true" && q.get("sendInitialEvents") !== "true" && !q.has("continue")) {
      q.set("resourceVersion", r0);
      q.set("resourceVersionMatch", "Exact");
      return server.fetch(new Request(url, req));
    }
  }
  return server.fetch(req);
});
process.stdout.write(`${JSON.stringify({ url: listening.url, resourceVersion: r0 })}\n`);

const rl = createInterface({ input: process.stdin });
rl.on("line", (line) => {
  const msg = JSON.parse(line) as { cmd: string; n?: number };
  if (msg.cmd === "requests") {
    const counts: Record<string, number> = {};
    for (const r of server.requests) {
      const k = `${r.method} ${r.watch ? "watch" : r.query["continue"] ? "list-page" : "list"}`;
      counts[k] = (counts[k] ?? 0) + 1;
    }
    process.stdout.write(`${JSON.stringify({ counts, total: server.requests.length })}\n`);
  } else if (msg.cmd === "update") {
    update(msg.n ?? 1);
    process.stdout.write(`${JSON.stringify({ resourceVersion: server.resourceVersion })}\n`);
  } else if (msg.cmd === "quit") rl.close();
});
rl.on("close", () => {
  void (async () => {
    await server.close();
    await listening.close();
    process.exit(0);
  })();
});
