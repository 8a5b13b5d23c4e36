/**
 * Message (de)serialisation of a method with `@bufbuild/protobuf`: binary
 * protobuf, or JSON (unknown fields ignored, as connect does). The pair is
 * built once per method and codec and cached on the method descriptor.
 * Errors are `ConnectError`s with connect's codes (parse/serialise binary:
 * Internal; parse JSON: InvalidArgument). Pure.
 *
 * @module
 */
import { Code, ConnectError } from "@connectrpc/connect";
import {
  create,
  fromBinary,
  fromJsonString,
  isMessage,
  toBinary,
  toJsonString,
  type DescMessage,
  type DescMethod,
  type JsonReadOptions,
  type JsonWriteOptions,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";

/** Serialises requests and parses responses of one method. */
export interface MethodCodec<I extends DescMessage = DescMessage, O extends DescMessage = DescMessage> {
  /** A request (a message or its init shape) as bytes. */
  serialize(input: MessageInitShape<I> | MessageShape<I>): Uint8Array;
  /** A response from bytes. */
  parse(data: Uint8Array): MessageShape<O>;
}

const binaryCache = new WeakMap<DescMethod, MethodCodec>();
const jsonCache = new WeakMap<DescMethod, MethodCodec>();
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Options of JSON messages (`registry` resolves `google.protobuf.Any` fields). */
export type JsonCodecOptions = Partial<JsonReadOptions & JsonWriteOptions>;

/**
 * The codec of `method` for protobuf (`binary`) or JSON messages; cached per
 * method unless JSON options are given.
 */
export function methodCodec<I extends DescMessage, O extends DescMessage>(
  method: DescMethod & { input: I; output: O },
  binary: boolean,
  jsonOptions?: JsonCodecOptions,
): MethodCodec<I, O> {
  if (!binary && jsonOptions !== undefined) return jsonCodec(method.input, method.output, jsonOptions) as MethodCodec<I, O>;
  const cache = binary ? binaryCache : jsonCache;
  let c = cache.get(method);
  if (c === undefined) {
    c = binary ? binaryCodec(method.input, method.output) : jsonCodec(method.input, method.output, undefined);
    cache.set(method, c);
  }
  return c as MethodCodec<I, O>;
}

/** `input` as a message of `schema` (connect's `normalize`: init shapes are created, messages kept). */
export function toMessage<I extends DescMessage>(schema: I, input: MessageInitShape<I> | MessageShape<I>): MessageShape<I> {
  return isMessage(input, schema) ? (input as MessageShape<I>) : create(schema, input as MessageInitShape<I>);
}

function binaryCodec(input: DescMessage, output: DescMessage): MethodCodec {
  return {
    serialize(m) {
      try {
        return toBinary(input, toMessage(input, m));
      } catch (e) {
        throw new ConnectError(`serialize binary: ${messageOf(e)}`, Code.Internal, undefined, undefined, e);
      }
    },
    parse(data) {
      try {
        return fromBinary(output, data);
      } catch (e) {
        throw new ConnectError(`parse binary: ${messageOf(e)}`, Code.Internal, undefined, undefined, e);
      }
    },
  };
}

function jsonCodec(input: DescMessage, output: DescMessage, options: JsonCodecOptions | undefined): MethodCodec {
  const read = { ...options, ignoreUnknownFields: options?.ignoreUnknownFields ?? true };
  return {
    serialize(m) {
      try {
        return encoder.encode(toJsonString(input, toMessage(input, m), options));
      } catch (e) {
        throw new ConnectError(`serialize JSON: ${messageOf(e)}`, Code.Internal, undefined, undefined, e);
      }
    },
    parse(data) {
      try {
        return fromJsonString(output, decoder.decode(data), read);
      } catch (e) {
        throw new ConnectError(`parse JSON: ${messageOf(e)}`, Code.InvalidArgument, undefined, undefined, e);
      }
    },
  };
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
