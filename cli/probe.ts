/**
 * Reachability of one gRPC endpoint, as `doctor` checks it: a TCP connect,
 * then a `grpc.health.v1.Health/Check` over h2c, each with a short deadline.
 * Results are values with a verdict an operator can act on; nothing throws.
 *
 * @module
 */
import { connect as tcpConnect } from "node:net";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { Health } from "../proto/gen/health_pb.ts";

/** grpc.health.v1 ServingStatus values (grpc-proto health.proto). */
const STATUS_NAMES: Readonly<Record<number, string>> = { 0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN" };

/** The outcome of probing one endpoint. */
export interface ProbeResult {
  readonly endpoint: string;
  readonly ok: boolean;
  /** `tcp` when the connect failed, `health` when the health check failed, `ok` otherwise (also when the server has no health service). */
  readonly stage: "tcp" | "health" | "ok";
  /** What happened, e.g. `SERVING in 3 ms` or `connection refused`. */
  readonly detail: string;
  /** What to do about it (failures only). */
  readonly fix: string | undefined;
}

/** Splits `grpc://host:port` (IPv6 in brackets) into host and port, or returns an error string. */
export function parseEndpoint(endpoint: string): { scheme: string; host: string; port: number } | string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return `not a URL: ${endpoint}`;
  }
  const port = Number(url.port);
  if (!url.port || !Number.isInteger(port)) return `no port in ${endpoint}`;
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  return { scheme: url.protocol.replace(/:$/, ""), host, port };
}

function tcpCheck(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port });
    const done = (problem: string | undefined): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(problem);
    };
    const timer = setTimeout(() => done(`no TCP answer within ${timeoutMs} ms`), timeoutMs);
    socket.once("connect", () => done(undefined));
    socket.once("error", (e: NodeJS.ErrnoException) => done(e.code === "ECONNREFUSED" ? "connection refused" : `${e.code ?? "error"}: ${e.message}`));
  });
}

/** Probes `endpoint` (`grpc://ip:port`): TCP connect, then Health/Check (service ""), each within `timeoutMs`. */
export async function probeEndpoint(endpoint: string, timeoutMs = 1000): Promise<ProbeResult> {
  const parsed = parseEndpoint(endpoint);
  if (typeof parsed === "string") return { endpoint, ok: false, stage: "tcp", detail: parsed, fix: "fix the pod's ports and kratos-service-protocols annotation" };
  const { host, port } = parsed;
  const tcp = await tcpCheck(host, port, timeoutMs);
  if (tcp !== undefined) {
    const fix = tcp === "connection refused"
      ? `nothing listens on ${host}:${port}: make the server bind 0.0.0.0 (not 127.0.0.1) on the containerPort the pod declares`
      : `the pod IP is not reachable from here: run doctor inside the cluster network (e.g. from a Pod), and check NetworkPolicies and the CNI`;
    return { endpoint, ok: false, stage: "tcp", detail: tcp, fix };
  }
  const base = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  const sessionManager = new Http2SessionManager(base);
  const started = performance.now();
  try {
    const client = createClient(Health, createGrpcTransport({ baseUrl: base, sessionManager }));
    const res = await client.check({ service: "" }, { timeoutMs });
    const name = STATUS_NAMES[res.status] ?? String(res.status);
    const ms = Math.round(performance.now() - started);
    if (name === "SERVING") return { endpoint, ok: true, stage: "ok", detail: `SERVING in ${ms} ms`, fix: undefined };
    return { endpoint, ok: false, stage: "health", detail: `health status ${name}`, fix: "the server reports it is not serving (starting or shutting down); check its logs" };
  } catch (error) {
    const e = ConnectError.from(error);
    if (e.code === Code.Unimplemented) {
      // The transport's health probe counts any answer as alive (a server
      // without grpc.health.v1 still serves calls); so does doctor.
      const ms = Math.round(performance.now() - started);
      return {
        endpoint,
        ok: true,
        stage: "ok",
        detail: `reachable in ${ms} ms, no health service (Check answered Unimplemented${/^HTTP \d+/.test(e.rawMessage) ? `: ${e.rawMessage}` : ""}); the transport treats it as up`,
        fix: undefined,
      };
    }
    const httpOnly = /^HTTP \d+|content type/i.test(e.rawMessage);
    const fix = httpOnly
      ? `something answers HTTP on ${host}:${port} but not as a gRPC server (${e.rawMessage}): check the port, or a proxy between here and the pod network (run doctor from inside the cluster)`
      : e.code === Code.DeadlineExceeded
        ? "the port accepts TCP but does not answer gRPC: is it the gRPC port, speaking h2c (not TLS or HTTP/1.1)?"
        : "the port does not speak gRPC over h2c: check the scheme in kratos-service-protocols and the server's protocol";
    return { endpoint, ok: false, stage: "health", detail: `health check failed: ${e.message}`, fix };
  } finally {
    sessionManager.abort();
  }
}
