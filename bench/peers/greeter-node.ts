/**
 * Fallback Greeter server when no Go toolchain is available: connect-node's
 * handler on a node:http2 h2c server, with the Echo/Repeat server stream of
 * the streaming benchmark. Prints `LISTEN host:port`.
 *
 * @module
 */
import * as http2 from "node:http2";
import process from "node:process";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Echo } from "../../proto/gen/echo_pb.ts";
import { Greeter } from "../../proto/gen/helloworld_pb.ts";

const server = http2.createServer(
  connectNodeAdapter({
    routes: (r) => {
      r.service(Greeter, { sayHello: (req) => ({ message: `Hello ${req.name}` }) });
      r.service(Echo, {
        async *repeat(req) {
          for (let i = 0; i < req.count; i++) yield { text: req.text, server: "" };
        },
      });
    },
  }),
);
server.listen(0, "127.0.0.1", () => {
  const a = server.address();
  if (a !== null && typeof a === "object") process.stdout.write(`LISTEN 127.0.0.1:${a.port}\n`);
});
