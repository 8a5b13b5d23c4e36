/**
 * A `discovery/v1` EndpointSlice read from protobuf
 * (`k8s.io/api/discovery/v1/generated.proto`), keeping what
 * {@link projectEndpointSlice} reads: identity, labels, `addressType` = 4,
 * `ports` = 3 and, per endpoint (`endpoints` = 2), the first address, the
 * conditions, hostname, nodeName, zone, hints and the target reference.
 *
 * @module
 */
import type { Endpoint, EndpointConditions, EndpointHints, EndpointPort, EndpointSlice, ObjectReference } from "../wire.ts";
import type { MetaKeys } from "./meta.ts";
import type { WireReader } from "./reader.ts";
import { readObjectMeta } from "./meta.ts";
import { messageEnd, nextTag, readField1String, readSharedString, readString, skipField } from "./reader.ts";

/** `EndpointPort`: `name` = 1, `protocol` = 2, `port` = 3, `appProtocol` = 4. */
function readPort(r: WireReader, end: number): EndpointPort {
  const e = messageEnd(r, end);
  const p: EndpointPort = {};
  while (r.pos < e) {
    const t = nextTag(r);
    if (t === 10) p.name = readSharedString(r, e);
    else if (t === 18) p.protocol = readSharedString(r, e);
    else if (t === 24) p.port = r.int32();
    else if (t === 34) p.appProtocol = readSharedString(r, e);
    else skipField(r, t, e);
  }
  return p;
}

function readConditions(r: WireReader, end: number): EndpointConditions {
  const e = messageEnd(r, end);
  const c: EndpointConditions = {};
  while (r.pos < e) {
    const t = nextTag(r);
    if (t === 8) c.ready = r.bool();
    else if (t === 16) c.serving = r.bool();
    else if (t === 24) c.terminating = r.bool();
    else skipField(r, t, e);
  }
  return c;
}

/** `ObjectReference`: `kind` = 1, `namespace` = 2, `name` = 3. */
function readRef(r: WireReader, end: number): ObjectReference {
  const e = messageEnd(r, end);
  const ref: ObjectReference = {};
  while (r.pos < e) {
    const t = nextTag(r);
    if (t === 10) ref.kind = readSharedString(r, e);
    else if (t === 18) ref.namespace = readSharedString(r, e);
    else if (t === 26) ref.name = readString(r, e);
    else skipField(r, t, e);
  }
  return ref;
}

function readHints(r: WireReader, end: number): EndpointHints {
  const e = messageEnd(r, end);
  const h: EndpointHints = {};
  while (r.pos < e) {
    const t = nextTag(r);
    if (t === 10) (h.forZones ??= []).push({ name: readField1String(r, e) });
    else if (t === 18) (h.forNodes ??= []).push({ name: readField1String(r, e) });
    else skipField(r, t, e);
  }
  return h;
}

/** `Endpoint`: the first of `addresses` = 1 (the rest skipped), then the fields the projection reads. */
function readEndpoint(r: WireReader, end: number): Endpoint {
  const e = messageEnd(r, end);
  const ep: Endpoint = { addresses: [] };
  while (r.pos < e) {
    const t = nextTag(r);
    switch (t) {
      case 10:
        if (ep.addresses.length === 0) ep.addresses.push(readString(r, e));
        else skipField(r, t, e);
        break;
      case 18:
        ep.conditions = readConditions(r, e);
        break;
      case 26:
        ep.hostname = readString(r, e);
        break;
      case 34:
        ep.targetRef = readRef(r, e);
        break;
      case 50:
        ep.nodeName = readSharedString(r, e);
        break;
      case 58:
        ep.zone = readSharedString(r, e);
        break;
      case 66:
        ep.hints = readHints(r, e);
        break;
      default:
        skipField(r, t, e);
    }
  }
  return ep;
}

/** Reads the `EndpointSlice` message from `r.pos` to `end` (`metadata` = 1). */
export function readEndpointSlice(r: WireReader, buf: Uint8Array, end: number, keys: MetaKeys): EndpointSlice {
  const slice: EndpointSlice = { metadata: {}, addressType: "", endpoints: null };
  let endpoints: Endpoint[] | undefined;
  let ports: EndpointPort[] | undefined;
  while (r.pos < end) {
    const t = nextTag(r);
    if (t === 10) slice.metadata = readObjectMeta(r, buf, end, keys);
    else if (t === 18) (endpoints ??= []).push(readEndpoint(r, end));
    else if (t === 26) (ports ??= []).push(readPort(r, end));
    else if (t === 34) slice.addressType = readSharedString(r, end);
    else skipField(r, t, end);
  }
  if (endpoints !== undefined) slice.endpoints = endpoints;
  if (ports !== undefined) slice.ports = ports;
  return slice;
}
