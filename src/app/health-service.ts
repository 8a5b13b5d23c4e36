/**
 * `grpc.health.v1.Health` (Check and Watch) over the App's {@link HealthState},
 * as grpc-go's `health.Server` answers: `""` is the whole server, the names
 * of the services a server serves are known too, any other name is
 * NOT_FOUND for Check and SERVICE_UNKNOWN for Watch. Watch sends the status
 * at once and then every change; once the App drains, open watches end
 * (after they were told NOT_SERVING) and new ones answer once and end, so
 * they never hold the drain.
 *
 * See https://github.com/grpc/grpc/blob/master/doc/health-checking.md
 *
 * @module
 */
import { Code, ConnectError, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { Health, HealthCheckResponseSchema, type HealthCheckRequest, type HealthCheckResponse } from "../connect/gen/health_pb.ts";
import { ServingStatus, type HealthState } from "./health.ts";

/** The `grpc.health.v1.Health` service descriptor (generated from grpc/grpc-proto `health.proto`). */
export { Health };

/**
 * Registers `grpc.health.v1.Health` on `router`, answering from `health`;
 * `services` are the service names it knows besides `""`.
 */
export function registerHealthService(router: ConnectRouter, health: HealthState, services: ReadonlySet<string>): void {
  const statusOf = (service: string): ServingStatus | undefined => (service === "" || services.has(service) ? health.status : undefined);
  router.service(Health, {
    check(req: HealthCheckRequest): HealthCheckResponse {
      const status = statusOf(req.service);
      if (status === undefined) throw new ConnectError(`unknown service ${JSON.stringify(req.service)}`, Code.NotFound);
      return create(HealthCheckResponseSchema, { status });
    },
    async *watch(req: HealthCheckRequest, ctx: HandlerContext): AsyncGenerator<HealthCheckResponse> {
      let wake: (() => void) | undefined;
      const poke = (): void => {
        const w = wake;
        wake = undefined;
        w?.();
      };
      const unsubscribe = health.subscribe(poke);
      ctx.signal.addEventListener("abort", poke, { once: true });
      try {
        let last: ServingStatus | undefined;
        for (;;) {
          const seen = health.version;
          const status = statusOf(req.service) ?? ServingStatus.SERVICE_UNKNOWN;
          if (status !== last) {
            last = status;
            yield create(HealthCheckResponseSchema, { status });
          }
          if (health.watchesEnded || ctx.signal.aborted) return;
          // A change while the message was being sent is not lost: the version moved.
          if (health.version !== seen) continue;
          await new Promise<void>((resolve) => (wake = resolve));
        }
      } finally {
        unsubscribe();
        ctx.signal.removeEventListener("abort", poke);
      }
    },
  });
}
