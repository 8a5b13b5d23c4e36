/**
 * The floor of the transport benchmark: a hand-rolled unary gRPC call over
 * `node:http2` with no framework. One stream per call, the 5-byte envelope
 * and the message written once, the status read from the trailers (or a
 * trailers-only response), round robin over one session per server. It
 * serialises and parses with @bufbuild/protobuf, as every client here does.
 * What no client that does the same work can go below.
 *
 * @module
 */
import * as http2 from "node:http2";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { HelloReplySchema, HelloRequestSchema } from "../../proto/gen/helloworld_pb.ts";

/** Calls SayHello round robin over one session per address. */
export function createFloorClient(addrs: readonly string[]): { call(): Promise<unknown>; close(): Promise<void> } {
  const sessions = addrs.map((a) => {
    const s = http2.connect(`http://${a}`);
    s.on("error", () => {});
    return s;
  });
  const headers = { ":method": "POST", ":path": "/helloworld.Greeter/SayHello", "content-type": "application/grpc", te: "trailers" };
  let next = 0;
  const call = (): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const msg = toBinary(HelloRequestSchema, create(HelloRequestSchema, { name: "world" }));
      const body = new Uint8Array(5 + msg.byteLength);
      new DataView(body.buffer).setUint32(1, msg.byteLength);
      body.set(msg, 5);
      const session = sessions[next]!;
      next = next + 1 === sessions.length ? 0 : next + 1;
      const stream = session.request(headers, { endStream: false });
      let data: Buffer | undefined;
      let status: string | undefined;
      stream.on("response", (h) => {
        if (h["grpc-status"] !== undefined) status = String(h["grpc-status"]);
      });
      stream.on("data", (c: Buffer) => (data = data === undefined ? c : Buffer.concat([data, c])));
      stream.on("trailers", (t) => (status = String(t["grpc-status"])));
      stream.on("error", reject);
      stream.on("close", () => {
        if (status !== "0" || data === undefined || data.byteLength < 5) return reject(new Error(`grpc-status ${status}`));
        resolve(fromBinary(HelloReplySchema, data.subarray(5, 5 + data.readUInt32BE(1))));
      });
      stream.end(body);
    });
  return {
    call,
    close: async () => {
      for (const s of sessions) s.close();
    },
  };
}
