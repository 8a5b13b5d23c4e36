/**
 * The protobuf writing helpers of the fake API server's encoder: Go's
 * presence rules for strings, numbers, messages, times and maps, over
 * `@bufbuild/protobuf`'s `BinaryWriter`.
 *
 * @module
 */
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";

export { BinaryWriter };

export type J = Record<string, unknown>;
export type W = BinaryWriter;
export const LEN: WireType = WireType.LengthDelimited;
export const VARINT: WireType = WireType.Varint;

export const obj = (v: unknown): J | undefined => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as J) : undefined);
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
/** Go's protobuf writes every non-pointer string, empty ones included; so does this. */
export const str = (w: W, f: number, v: unknown): W => w.tag(f, LEN).string(typeof v === "string" ? v : "");
export const optStr = (w: W, f: number, v: unknown): W => (typeof v === "string" ? str(w, f, v) : w);
export const int = (w: W, f: number, v: unknown): W => (typeof v === "number" ? w.tag(f, VARINT).int64(v) : w);
/** A non-pointer int32/int64: written even when 0, as Go's generated marshalers do (0 when `v` is not a number). */
export const num = (w: W, f: number, v: unknown): W => w.tag(f, VARINT).int64(typeof v === "number" ? v : 0);
export const bool = (w: W, f: number, v: unknown): W => (typeof v === "boolean" ? w.tag(f, VARINT).bool(v) : w);
export const msg = (w: W, f: number, body: (w: W) => void): W => {
  w.tag(f, LEN).fork();
  body(w);
  return w.join();
};
/**
 * A `metav1.Time` (`seconds` = 1, `nanos` = 2; RFC 3339 text has whole
 * seconds). A zero time (`null` in JSON) is an empty message, as
 * apimachinery's `Time.MarshalToSizedBuffer` writes it.
 */
export const timeValue = (w: W, f: number, v: unknown): W => {
  const ms = typeof v === "string" ? Date.parse(v) : Number.NaN;
  return msg(w, f, (t) => {
    if (!Number.isNaN(ms)) t.tag(1, VARINT).int64(Math.floor(ms / 1000)).tag(2, VARINT).int32(0);
  });
};
/** A `*metav1.Time`: left out when absent. */
export const time = (w: W, f: number, v: unknown): W => (typeof v === "string" ? timeValue(w, f, v) : w);
/** A Go map field: one entry message per key (`key` = 1, `value` = 2 written by `value`), sorted by key as Go writes them. */
export const map = (w: W, f: number, v: unknown, value: (w: W, f: number, v: unknown) => W = str): W => {
  for (const [k, val] of Object.entries(obj(v) ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) msg(w, f, (e) => value(str(e, 1, k), 2, val));
  return w;
};
