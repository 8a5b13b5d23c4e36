/**
 * Discovery of Kubernetes Services through their EndpointSlices as a
 * {@link ServiceModel}: slices are filed by their `kubernetes.io/service-name`
 * label (the one membership rule, {@link serviceOfSlice}) and merged per
 * Service by {@link createEndpointSet}.
 *
 * @module
 */
import type { Clock } from "../kube/clock.ts";
import type { EndpointSliceRecord } from "../kube/endpoint-slice-record.ts";
import { endpointSliceResource, SERVICE_NAME_LABEL } from "../kube/endpoint-slice-record.ts";
import type { ResourceDescriptor } from "../kube/resource.ts";
import type { EndpointSlice } from "../kube/wire.ts";
import { createEndpointSet, type AddressFamily } from "./endpoint-set.ts";
import { createMetadataCache } from "./endpoint-set-member.ts";
import type { ServiceModel } from "./service-hub.ts";

/** The informer index of slices by Service name. */
export const SLICE_SERVICE_INDEX = "service";

/** The Service a slice belongs to: its `kubernetes.io/service-name` label, when set and non-empty. */
export function serviceOfSlice(slice: EndpointSliceRecord): string | undefined {
  const name = slice.labels[SERVICE_NAME_LABEL];
  return name === undefined || name === "" ? undefined : name;
}

/**
 * The EndpointSlice descriptor of discovery: slices that carry
 * `kubernetes.io/service-name` (filtered on the server), indexed by it.
 */
export function serviceSliceResource(): ResourceDescriptor<EndpointSliceRecord, EndpointSlice> {
  return endpointSliceResource({ labelSelector: SERVICE_NAME_LABEL, indexes: { [SLICE_SERVICE_INDEX]: serviceOfSlice } });
}

/** Per-target options of a watched Service. */
export interface SliceTargetOptions {
  readonly port: string | undefined;
  readonly family: AddressFamily;
}

/** The EndpointSlice model; `moveGraceMs` and `clock` drive the grace window of moving endpoints. */
export function endpointSliceModel(o: { clock: Clock; moveGraceMs: number }): ServiceModel<EndpointSliceRecord, SliceTargetOptions> {
  // One metadata object per distinct traits, shared by every Service's set.
  const metadata = createMetadataCache();
  return {
    index: SLICE_SERVICE_INDEX,
    serviceOf: serviceOfSlice,
    createSet: (service, records, t, changed) =>
      createEndpointSet(service, records, { port: t.port, family: t.family, moveGraceMs: o.moveGraceMs, clock: o.clock, metadata }, changed),
  };
}
