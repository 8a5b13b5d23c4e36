/**
 * The phases every watch-bench client reports: time to first sync, then the
 * MODIFIED-event phase (first to last event, wall and CPU), then retained
 * heap per pod and peak RSS.
 *
 * @module
 */
import process from "node:process";
import { cpuMicros, heapUsed, peakRssMiB, report } from "../lib/proc.ts";

/** Collects the measurements of one client run. */
export interface WatchMeter {
  /** Call when the first full sync is done. */
  synced(): void;
  /** Call once per applied MODIFIED event; resolves {@link WatchMeter.done} at the expected count. */
  event(): void;
  /**
   * For clients that cannot see each event (a `watch()` consumer sees only
   * changed sets): the event phase starts now, and {@link WatchMeter.eventsDone}
   * ends it after all expected events.
   */
  eventsStart(): void;
  /** Ends the phase {@link WatchMeter.eventsStart} began; resolves {@link WatchMeter.done}. */
  eventsDone(): void;
  /** Resolves when all expected events were applied. */
  readonly done: Promise<void>;
  /** Reports the RESULT line (heap measured now, after GC). */
  finish(pods: number, extra?: Record<string, unknown>): void;
}

/** Starts measuring now (baseline heap after GC, CPU, clock). */
export function startMeter(expectedEvents: number): WatchMeter {
  const heap0 = heapUsed();
  const cpu0 = cpuMicros();
  const t0 = performance.now();
  let syncMs = Number.NaN;
  let syncCpuMs = Number.NaN;
  let n = 0;
  let tFirst = 0;
  let cpuFirst = 0;
  let tLast = 0;
  let cpuLast = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  if (expectedEvents === 0) resolveDone();
  return {
    synced() {
      syncMs = performance.now() - t0;
      syncCpuMs = (cpuMicros() - cpu0) / 1000;
    },
    event() {
      n++;
      if (n === 1) {
        tFirst = performance.now();
        cpuFirst = cpuMicros();
      }
      if (n === expectedEvents) {
        tLast = performance.now();
        cpuLast = cpuMicros();
        resolveDone();
      }
    },
    eventsStart() {
      tFirst = performance.now();
      cpuFirst = cpuMicros();
    },
    eventsDone() {
      tLast = performance.now();
      cpuLast = cpuMicros();
      n = expectedEvents + 1; // the whole phase counts: every event, not every event after the first
      resolveDone();
    },
    done,
    finish(pods, extra = {}) {
      const heap = heapUsed() - heap0;
      const counted = n > expectedEvents ? expectedEvents : Math.max(0, expectedEvents - 1);
      const wallS = (tLast - tFirst) / 1000;
      const cpuS = (cpuLast - cpuFirst) / 1e6;
      report({
        syncMs,
        syncCpuMs,
        eventsPerSec: counted > 0 ? counted / wallS : Number.NaN,
        cpuUsPerEvent: counted > 0 ? (cpuS * 1e6) / counted : Number.NaN,
        eventsPerCpuSec: counted > 0 ? counted / cpuS : Number.NaN,
        heapPerPodBytes: heap / pods,
        heapMiB: heap / 2 ** 20,
        peakRssMiB: peakRssMiB(),
        totalCpuS: cpuMicros() / 1e6,
        ...extra,
      });
      process.exitCode = 0;
    },
  };
}
