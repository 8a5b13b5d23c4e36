/**
 * Pure: the demo's live frame and final summary, from its state.
 *
 * @module
 */
import { renderTable } from "../table.ts";
import type { DemoPod } from "./fleet.ts";
import type { TrafficStats } from "./traffic.ts";

/** Everything the frame shows. */
export interface DemoState {
  readonly elapsedMs: number;
  readonly durationMs: number;
  readonly phase: string;
  readonly balancer: string;
  readonly rate: number;
  readonly pods: readonly DemoPod[];
  /** Endpoints discovery currently lists. */
  readonly discovered: ReadonlySet<string>;
  /** Client-side calls in flight per endpoint (from the transport). */
  readonly clientInflight: (endpoint: string) => number;
  readonly watchEvents: number;
  readonly stats: TrafficStats;
}

const secs = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

function totals(s: TrafficStats): string {
  const codes = [...s.byCode].map(([c, n]) => `${c} ${n}`).join(", ");
  return `calls: ${s.sent} sent, ${s.ok} ok, ${s.failed} failed${codes ? ` (${codes})` : ""}, ${s.inFlight} in flight`;
}

/** The live frame. Pods that are gone are left out except the last few. */
export function renderFrame(s: DemoState): string[] {
  const shown = s.pods.filter((p) => p.state !== "gone").concat(s.pods.filter((p) => p.state === "gone").slice(-3));
  const rows = renderTable(
    [
      { header: "POD", cell: (p: DemoPod) => p.name },
      { header: "ENDPOINT", cell: (p) => p.endpoint },
      { header: "VER", cell: (p) => p.version },
      { header: "STATE", cell: (p) => p.state },
      { header: "DISCOVERED", cell: (p) => (s.discovered.has(p.endpoint) ? "yes" : "no") },
      { header: "CALLS", cell: (p) => String(s.stats.byPod.get(p.name) ?? 0), right: true },
      { header: "IN-FLIGHT", cell: (p) => String(s.clientInflight(p.endpoint)), right: true },
    ],
    shown,
  );
  return [
    `kratos-kube demo  ${secs(s.elapsedMs)} / ${secs(s.durationMs)}  phase: ${s.phase}`,
    `micro-forge → discovery:///sayhello.service  balancer ${s.balancer}, ${s.rate} calls/s  watch events ${s.watchEvents}, discovered endpoints ${s.discovered.size}`,
    "",
    ...rows,
    "",
    totals(s.stats),
  ];
}

/** One progress line for non-terminal output. */
export function progressLine(s: DemoState): string {
  return `${s.phase}: ${s.discovered.size} endpoints discovered; ${totals(s.stats)}`;
}

/** The outcome the demo promises, and whether it held. */
export interface DemoVerdict {
  readonly held: boolean;
  readonly failed: number;
  /** Failed calls whose last attempt went to a killed server (sent before the client could know it was gone). */
  readonly onKilled: number;
  /** Calls in flight on the killed servers at the moment of the kill (client or server side, whichever saw more). */
  readonly inFlightAtKill: number;
}

/**
 * Expected result: no failed call except calls in flight on the killed
 * server. A failed call counts as in flight on a killed server when its last
 * attempt went to that server's endpoint: either it was running there at the
 * kill, or it was sent over the dead connection before the client noticed.
 * Every other failure (during graceful restarts, scale-downs, or with no
 * endpoint at all) breaks the promise.
 */
export function verdict(stats: TrafficStats, pods: readonly DemoPod[]): DemoVerdict {
  let onKilled = 0;
  let inFlightAtKill = 0;
  for (const p of pods) {
    if (p.fate !== "killed") continue;
    onKilled += stats.failedOn.get(p.endpoint.replace(/^grpc:\/\//, "")) ?? 0;
    inFlightAtKill += p.lostAtKill;
  }
  return { held: stats.failed === onKilled, failed: stats.failed, onKilled, inFlightAtKill };
}

/** The final summary table and verdict. */
export function renderSummary(s: DemoState): string[] {
  const v = verdict(s.stats, s.pods);
  const killed = s.pods.filter((p) => p.fate === "killed");
  const table = renderTable(
    [
      { header: "POD", cell: (p: DemoPod) => p.name },
      { header: "VER", cell: (p) => p.version },
      { header: "FATE", cell: (p) => p.fate },
      { header: "CALLS", cell: (p) => String(s.stats.byPod.get(p.name) ?? 0), right: true },
    ],
    s.pods,
  );
  return [
    "",
    `Summary: ${secs(s.elapsedMs)}, ${s.pods.length} pods over the run, balancer ${s.balancer}, ${s.rate} calls/s`,
    "",
    ...table,
    "",
    totals(s.stats),
    `killed: ${killed.map((p) => p.name).join(", ") || "none"}, ${v.inFlightAtKill} call(s) in flight at the kill; ${v.onKilled} failed call(s) were on it`,
    "expected: no failed call except calls in flight on the killed server",
    `result: ${v.held ? "HELD" : "NOT HELD"} (${v.failed} failed: ${v.onKilled} on the killed server, ${v.failed - v.onKilled} elsewhere)`,
    ...(v.held ? [] : s.stats.lastErrors.map((e) => `  last error: ${e}`)),
  ];
}

/** The summary as data (`demo -o json`). */
export function summaryJson(s: DemoState): {
  elapsedMs: number;
  balancer: string;
  rate: number;
  pods: { name: string; version: string; fate: string; calls: number; lostAtKill: number }[];
  calls: { sent: number; ok: number; failed: number; byCode: Record<string, number> };
  expected: string;
  failedOnKilled: number;
  inFlightAtKill: number;
  held: boolean;
} {
  const v = verdict(s.stats, s.pods);
  return {
    elapsedMs: Math.round(s.elapsedMs),
    balancer: s.balancer,
    rate: s.rate,
    pods: s.pods.map((p) => ({ name: p.name, version: p.version, fate: p.fate, calls: s.stats.byPod.get(p.name) ?? 0, lostAtKill: p.lostAtKill })),
    calls: { sent: s.stats.sent, ok: s.stats.ok, failed: s.stats.failed, byCode: Object.fromEntries(s.stats.byCode) },
    expected: "no failed call except calls in flight on the killed server",
    failedOnKilled: v.onKilled,
    inFlightAtKill: v.inFlightAtKill,
    held: v.held,
  };
}
