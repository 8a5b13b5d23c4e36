/**
 * A `core/v1` Pod read from protobuf (`k8s.io/api/core/v1/generated.proto`),
 * keeping only what {@link projectPod} reads: identity, labels, the kept
 * annotations, the deletion mark, container ports, phase, the `Ready`
 * condition and the pod IPs. The result is a small {@link Pod} that the
 * descriptor's JSON projection turns into the same record as the JSON path.
 *
 * @module
 */
import type { Container, ContainerPort, Pod, PodCondition } from "../wire.ts";
import type { MetaKeys } from "./meta.ts";
import type { WireReader } from "./reader.ts";
import { readObjectMeta } from "./meta.ts";
import { messageEnd, nextTag, ProtobufDecodeError, readField1String, readSharedString, readString, skipField } from "./reader.ts";

const READY = Uint8Array.of(0x52, 0x65, 0x61, 0x64, 0x79); // "Ready"

function readPort(r: WireReader, end: number): ContainerPort {
  const e = messageEnd(r, end);
  const p: ContainerPort = { containerPort: 0 };
  let has = false;
  while (r.pos < e) {
    const t = nextTag(r);
    if (t === 10) p.name = readSharedString(r, e);
    else if (t === 24) {
      p.containerPort = r.int32();
      has = true;
    } else if (t === 34) p.protocol = readSharedString(r, e);
    else skipField(r, t, e);
  }
  if (!has) delete (p as Partial<ContainerPort>).containerPort;
  return p;
}

/** `Container`: only `ports` = 6. */
function readContainer(r: WireReader, end: number): Container {
  const e = messageEnd(r, end);
  let ports: ContainerPort[] | undefined;
  while (r.pos < e) {
    const t = nextTag(r);
    if (t === 50) (ports ??= []).push(readPort(r, e));
    else skipField(r, t, e);
  }
  return (ports === undefined ? {} : { ports }) as Container;
}

/** `PodSpec`: only `containers` = 2. */
function readSpec(r: WireReader, end: number): NonNullable<Pod["spec"]> {
  const e = messageEnd(r, end);
  const containers: Container[] = [];
  while (r.pos < e) {
    const t = nextTag(r);
    if (t === 18) containers.push(readContainer(r, e));
    else skipField(r, t, e);
  }
  return { containers };
}

/** A `PodCondition` of type `Ready` (`type` = 1, `status` = 2), or undefined for any other type, compared without decoding it. */
function readReadyCondition(r: WireReader, buf: Uint8Array, end: number): PodCondition | undefined {
  const e = messageEnd(r, end);
  let ready = false;
  let status: string | undefined;
  while (r.pos < e) {
    const t = nextTag(r);
    if (t === 10) {
      const len = r.uint32();
      ready = len === READY.length && buf[r.pos] === READY[0] && buf[r.pos + 1] === READY[1] && buf[r.pos + 2] === READY[2] &&
        buf[r.pos + 3] === READY[3] && buf[r.pos + 4] === READY[4];
      r.pos += len;
      if (r.pos > e) throw new ProtobufDecodeError("a condition type runs past its end");
    } else if (t === 18) status = readSharedString(r, e);
    else skipField(r, t, e);
  }
  return ready ? { type: "Ready", status: status ?? "" } : undefined;
}

/** `PodStatus`: `phase` = 1, `conditions` = 2, `podIP` = 6, `podIPs` = 12 {`ip` = 1}. */
function readStatus(r: WireReader, buf: Uint8Array, end: number): NonNullable<Pod["status"]> {
  const e = messageEnd(r, end);
  const status: NonNullable<Pod["status"]> = {};
  let conditions: PodCondition[] | undefined;
  let ips: { ip: string }[] | undefined;
  while (r.pos < e) {
    const t = nextTag(r);
    if (t === 10) status.phase = readSharedString(r, e);
    else if (t === 18) {
      const c = readReadyCondition(r, buf, e);
      if (c !== undefined) (conditions ??= []).push(c);
    } else if (t === 50) status.podIP = readString(r, e);
    else if (t === 98) (ips ??= []).push({ ip: readField1String(r, e) });
    else skipField(r, t, e);
  }
  if (conditions !== undefined) status.conditions = conditions;
  if (ips !== undefined) status.podIPs = ips;
  return status;
}

/**
 * Reads the `Pod` message from `r.pos` to `end` (`metadata` = 1, `spec` = 2,
 * `status` = 3), keeping the labels and annotations `keys` names.
 */
export function readPod(r: WireReader, buf: Uint8Array, end: number, keys: MetaKeys): Pod {
  const pod = { metadata: {} } as Pod;
  while (r.pos < end) {
    const t = nextTag(r);
    if (t === 10) pod.metadata = readObjectMeta(r, buf, end, keys);
    else if (t === 18) pod.spec = readSpec(r, end);
    else if (t === 26) pod.status = readStatus(r, buf, end);
    else skipField(r, t, end);
  }
  return pod;
}
