/**
 * Fallback Greeter server when no Go toolchain is available: connect-node's
 * handler on a node:http2 h2c server. Prints `LISTEN host:port`.
 *
 * @module
 */
import * as http2 from "node:http2";
import process from "node:process";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Greeter } from "../../proto/gen/helloworld_pb.ts";

const server = http2.createServer(connectNodeAdapter({ routes: (r) => r.service(Greeter, { sayHello: (req) => ({ message: `Hello ${req.name}` }) }) }));
server.listen(0, "127.0.0.1", () => {
  const a = server.address();
  if (a !== null && typeof a === "object") process.stdout.write(`LISTEN 127.0.0.1:${a.port}\n`);
});
