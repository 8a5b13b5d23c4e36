/**
 * Pure: the demo's timeline. Given the duration and replica count, when to
 * scale up, roll, kill and scale down. Steps run in order; a step that
 * starts late (earlier ones took longer) runs at once.
 *
 * @module
 */

/** One scripted action. */
export type DemoStep =
  | { readonly at: number; readonly kind: "scale-up"; readonly to: number }
  | { readonly at: number; readonly kind: "rolling-restart"; readonly spacingMs: number }
  | { readonly at: number; readonly kind: "kill" }
  | { readonly at: number; readonly kind: "scale-down"; readonly to: number }
  | { readonly at: number; readonly kind: "end" };

/** Demo settings the plan depends on. */
export interface PlanOptions {
  readonly durationMs: number;
  readonly replicas: number;
}

/**
 * The plan, as fractions of the duration: scale up by 2 at 15 %, roll every
 * pod one at a time from 30 % to 60 %, kill one abruptly at 65 % (its
 * ReplicaSet replaces it), scale back down at 80 %, stop calling at 100 %.
 */
export function planScenario(o: PlanOptions): DemoStep[] {
  const d = o.durationMs;
  const up = o.replicas + 2;
  return [
    { at: Math.round(d * 0.15), kind: "scale-up", to: up },
    { at: Math.round(d * 0.3), kind: "rolling-restart", spacingMs: Math.max(0, Math.round((d * 0.3) / up)) },
    { at: Math.round(d * 0.65), kind: "kill" },
    { at: Math.round(d * 0.8), kind: "scale-down", to: o.replicas },
    { at: d, kind: "end" },
  ];
}

/** A short label of a step for logs. */
export function describeStep(s: DemoStep): string {
  switch (s.kind) {
    case "scale-up":
      return `scale up to ${s.to} replicas`;
    case "rolling-restart":
      return "rolling restart (surge 1, graceful termination)";
    case "kill":
      return "kill one server abruptly (like a crash or OOM kill)";
    case "scale-down":
      return `scale down to ${s.to} replicas (graceful termination)`;
    case "end":
      return "stop calling";
  }
}
