/**
 * `metav1` messages in protobuf (`k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto`):
 * the `ObjectMeta` fields projections read, `ListMeta`, and `Status` in the
 * shape the JSON path gives ({@link Status}).
 *
 * @module
 */
import type { ListMeta, ObjectMeta, Status } from "../wire.ts";
import type { KeySet } from "./reader.ts";
import type { WireReader } from "./reader.ts";
import { messageEnd, nextTag, readMapEntry, readSharedString, readString, readTime, readTimeSeconds, skipField } from "./reader.ts";

/** Which labels and annotations an `ObjectMeta` decode keeps. */
export interface MetaKeys {
  readonly labels: KeySet;
  readonly annotations: KeySet;
}

/**
 * Reads an `ObjectMeta` (the length prefix included): `name` = 1,
 * `namespace` = 3, `uid` = 5, `resourceVersion` = 6, `deletionTimestamp` = 9,
 * `labels` = 11, `annotations` = 12, and of `managedFields` = 17 only the
 * newest `time` (kept as a one-entry `managedFields` whose `time` is epoch
 * milliseconds, a number, which the event-lag metric's `lastWrite` reads as
 * it reads the JSON path's text); ownerReferences and the rest are skipped.
 */
export function readObjectMeta(r: WireReader, buf: Uint8Array, end: number, keys: MetaKeys): ObjectMeta {
  const e = messageEnd(r, end);
  const meta: ObjectMeta = {};
  let labels: Record<string, string> | undefined;
  let annotations: Record<string, string> | undefined;
  let written = -1;
  while (r.pos < e) {
    const t = nextTag(r);
    switch (t) {
      case 138:
        written = Math.max(written, readManagedFieldsTime(r, e));
        break;
      case 10:
        meta.name = readString(r, e);
        break;
      case 26:
        meta.namespace = readSharedString(r, e);
        break;
      case 42:
        meta.uid = readString(r, e);
        break;
      case 50:
        meta.resourceVersion = readString(r, e);
        break;
      case 74:
        meta.deletionTimestamp = readTime(r, e);
        break;
      case 90:
        labels = readMapEntry(r, buf, e, keys.labels, labels);
        break;
      case 98:
        annotations = readMapEntry(r, buf, e, keys.annotations, annotations);
        break;
      default:
        skipField(r, t, e);
    }
  }
  if (labels !== undefined) meta.labels = labels;
  if (annotations !== undefined) meta.annotations = annotations;
  // Epoch milliseconds, not RFC 3339 text: most caches never read it (only
  // the event-lag metric does, through lastWrite), so no text is built per event.
  if (written >= 0) meta["managedFields"] = [{ time: written * 1000 }];
  return meta;
}

/**
 * The `time` (field 4, a `metav1.Time`: `seconds` = 1) of one
 * `ManagedFieldsEntry` in epoch seconds, -1 when it has none; its
 * `fieldsV1` and the rest are skipped.
 */
function readManagedFieldsTime(r: WireReader, end: number): number {
  const e = messageEnd(r, end);
  let seconds = -1;
  while (r.pos < e) {
    const t = nextTag(r);
    if (t === 34) seconds = readTimeSeconds(r, e);
    else skipField(r, t, e);
  }
  return seconds;
}

/** Reads a `ListMeta` (length prefix included): `resourceVersion` = 2, `continue` = 3, `remainingItemCount` = 4. */
export function readListMeta(r: WireReader, end: number): ListMeta {
  const e = messageEnd(r, end);
  const meta: ListMeta = {};
  while (r.pos < e) {
    const t = nextTag(r);
    if (t === 18) meta.resourceVersion = readString(r, e);
    else if (t === 26) meta.continue = readString(r, e);
    else if (t === 32) meta.remainingItemCount = Number(r.int64());
    else skipField(r, t, e);
  }
  // As Go's JSON encoding (omitempty) leaves them out.
  if (meta.resourceVersion === "") delete meta.resourceVersion;
  if (meta.continue === "") delete meta.continue;
  return meta;
}

type Details = NonNullable<Status["details"]>;
type Cause = NonNullable<Details["causes"]>[number];

function readCause(r: WireReader, end: number): Cause {
  const e = messageEnd(r, end);
  const c: Cause = {};
  while (r.pos < e) {
    const t = nextTag(r);
    if (t === 10) c.reason = readString(r, e);
    else if (t === 18) c.message = readString(r, e);
    else if (t === 26) c.field = readString(r, e);
    else skipField(r, t, e);
  }
  return c;
}

function readDetails(r: WireReader, end: number): Details {
  const e = messageEnd(r, end);
  const d: Details = {};
  while (r.pos < e) {
    const t = nextTag(r);
    if (t === 10) d.name = readString(r, e);
    else if (t === 18) d.group = readString(r, e);
    else if (t === 26) d.kind = readString(r, e);
    else if (t === 34) (d.causes ??= []).push(readCause(r, e));
    else if (t === 40) d.retryAfterSeconds = r.int32();
    else if (t === 50) d.uid = readString(r, e);
    else skipField(r, t, e);
  }
  // As Go's JSON encoding (omitempty) leaves them out.
  for (const k of ["name", "group", "kind", "uid"] as const) if (d[k] === "") delete d[k];
  if (d.retryAfterSeconds === 0) delete d.retryAfterSeconds;
  return d;
}

/**
 * Reads a `Status` message from `r.pos` to `end` (the `raw` of its envelope):
 * `metadata` = 1, `status` = 2, `message` = 3, `reason` = 4, `details` = 5,
 * `code` = 6. Empty values are left out, as Go's JSON encoding leaves them out.
 */
export function readStatus(r: WireReader, end: number): Status {
  let metadata: ListMeta = {};
  let status = "";
  let message = "";
  let reason = "";
  let details: Details | undefined;
  let code = 0;
  while (r.pos < end) {
    const t = nextTag(r);
    if (t === 10) metadata = readListMeta(r, end);
    else if (t === 18) status = readString(r, end);
    else if (t === 26) message = readString(r, end);
    else if (t === 34) reason = readString(r, end);
    else if (t === 42) details = readDetails(r, end);
    else if (t === 48) code = r.int32();
    else skipField(r, t, end);
  }
  const out: Status = { kind: "Status", apiVersion: "v1", metadata, status: status === "Success" ? "Success" : "Failure", code };
  if (message !== "") out.message = message;
  if (reason !== "") out.reason = reason;
  if (details !== undefined) out.details = details;
  return out;
}

/** The `metadata` (field 1, as in every Kubernetes object) of the object from `r.pos` to `end`; an empty one when absent. */
export function readMetadataOnly(r: WireReader, buf: Uint8Array, end: number, keys: MetaKeys): ObjectMeta {
  let meta: ObjectMeta = {};
  while (r.pos < end) {
    const t = nextTag(r);
    if (t === 10) meta = readObjectMeta(r, buf, end, keys);
    else skipField(r, t, end);
  }
  return meta;
}
