/**
 * A unary call on one HTTP/2 stream: the request is serialised, framed and
 * written once with END_STREAM; the response is collected by the
 * {@link ResponseReader} without async iterators; the promise settles as
 * soon as the status is known.
 *
 * @module
 */
import { ConnectError } from "@connectrpc/connect";
import type { Connection } from "../channel/connection.ts";
import { encodeEnvelope, FLAG_COMPRESSED } from "../protocol/envelope.ts";
import type { RawHeaders } from "../protocol/headers.ts";
import type { Attempt } from "./attempt.ts";
import { CallBase, type CallTarget } from "./call-base.ts";
import type { MethodPlan } from "./call-config.ts";
import { LazyUnaryResponse } from "./response.ts";

/** The arguments of one unary attempt. */
export interface UnaryArgs {
  readonly signal: AbortSignal | undefined;
  /** Time left for this attempt (undefined = no deadline). */
  readonly timeoutMs: number | undefined;
  readonly header: HeadersInit | undefined;
  /** A message or its init shape. */
  readonly input: unknown;
}

/** Runs a unary call on `conn`; resolves with the response, rejects with a `ConnectError`. */
export function unaryCall(target: CallTarget, conn: Connection, plan: MethodPlan, att: Attempt, args: UnaryArgs): Promise<LazyUnaryResponse> {
  return new Promise<LazyUnaryResponse>((resolve, reject) => {
    new UnaryCall(target, plan, att, resolve, reject).start(conn, args);
  });
}

class UnaryCall extends CallBase {
  #resolve: (r: LazyUnaryResponse) => void;
  #reject: (e: ConnectError) => void;
  #header: RawHeaders | undefined;
  #message: unknown;

  constructor(target: CallTarget, plan: MethodPlan, att: Attempt, resolve: (r: LazyUnaryResponse) => void, reject: (e: ConnectError) => void) {
    super(target, plan, att);
    this.#resolve = resolve;
    this.#reject = reject;
  }

  start(conn: Connection, args: UnaryArgs): void {
    const config = this.target.config;
    const plan = this.plan;
    let body: Uint8Array;
    let compressed: boolean;
    try {
      ({ data: body, compressed } = config.encode(plan, args.input));
    } catch (e) {
      return this.fail(ConnectError.from(e));
    }
    let headers = config.headers(plan, args.timeoutMs, args.header);
    if (plan.framing.enveloped) body = encodeEnvelope(compressed ? FLAG_COMPRESSED : 0, body);
    else if (!compressed && config.settings.sendCompression !== undefined) {
      // Connect unary: the encoding header describes the whole body.
      headers = { ...headers };
      delete headers[plan.framing.encodingHeader];
    }
    if (!this.open(conn, headers, args.signal, args.timeoutMs)) return;
    this.stream!.end(body);
  }

  headers(h: RawHeaders): void {
    this.#header = h;
  }

  message(data: Uint8Array): void {
    try {
      this.#message = this.plan.codec.parse(data);
    } catch (e) {
      this.fail(ConnectError.from(e));
    }
  }

  protected settle(error: ConnectError | undefined, trailers: RawHeaders | Headers | undefined): void {
    if (this.settled) return;
    this.cleanup(error);
    if (error !== undefined) this.#reject(error);
    else this.#resolve(new LazyUnaryResponse(this.plan.method, this.#header, trailers, this.#message));
  }
}
