// grpc.health.v1, generated once into src/connect/gen/ (the balancing transport
// probes endpoints with it, and src/connect imports nothing outside itself);
// re-exported here for the demo, the examples and the tests.
export * from "../../src/connect/gen/health_pb.ts";
