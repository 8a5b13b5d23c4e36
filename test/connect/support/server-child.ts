/**
 * Runs test servers (servers.ts) in a Node child process for runtimes whose
 * in-process node:http2 server misbehaves (see startServer). Protocol: JSON
 * lines; requests {seq, op, id?, arg?} on stdin, replies {seq, result} and
 * pushed {stats: {id, calls, held, refused}} on stdout.
 */
import { createInterface } from "node:readline";
import { startLocalServer, type TestServer } from "./servers.ts";

const servers = new Map<number, TestServer>();
let nextId = 1;
const send = (m: unknown): void => void process.stdout.write(`${JSON.stringify(m)}\n`);

function push(id: number): void {
  const s = servers.get(id);
  if (s !== undefined) send({ stats: { id, calls: s.calls.total, held: s.held, refused: s.refused.count } });
}

createInterface({ input: process.stdin }).on("line", (line) => {
  const { seq, op, id, arg } = JSON.parse(line) as { seq: number; op: string; id?: number; arg?: unknown };
  const s = id === undefined ? undefined : servers.get(id);
  const reply = (result: unknown): void => send({ seq, result });
  const run = async (): Promise<unknown> => {
    switch (op) {
      case "start": {
        const sid = nextId++;
        const srv = await startLocalServer({ ...(arg as object), onStats: () => push(sid) });
        servers.set(sid, srv);
        return { id: sid, address: srv.address, port: srv.port };
      }
      case "release":
        return s?.release();
      case "serving":
        if (s !== undefined) s.serving = arg as boolean;
        return null;
      case "gracefulStop":
        return s?.gracefulStop();
      case "kill":
        return s?.kill();
      case "close":
        return s?.close();
      case "exit":
        await Promise.all([...servers.values()].map((x) => x.close()));
        process.exit(0);
    }
    return null;
  };
  run().then((r) => reply(r ?? null), (e: unknown) => reply({ error: String(e) }));
});
process.stdin.on("end", () => process.exit(0));
