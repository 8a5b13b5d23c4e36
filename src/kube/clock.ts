/**
 * The library's clock, as `kratos-kube/kube` exports it (defined in
 * `src/runtime/clock.ts`, shared with the transport).
 *
 * @module
 */
export { sleep, systemClock } from "../runtime/clock.ts";
export type { Clock, TimerHandle } from "../runtime/clock.ts";
