/**
 * Picker micro-benchmark: ns per pick of kratos-kube's pure pickers at 4, 16,
 * 64 and 256 endpoints (round robin, smooth WRR with weights 1–10, random,
 * and p2c pick + done with `performance.now()` as its clock). Each figure is
 * the best of 3 timed loops of `--picks` picks after a warm-up loop, so JIT
 * tiering is done; a checksum keeps the loop from being optimised away.
 *
 * @module
 */
import { createNodeStats, p2c, randomPicker, roundRobin, weightedRoundRobin, type PickerNode, type PickerPolicy } from "../../src/connect/picker.ts";
import { numArg, report } from "../lib/proc.ts";

const PICKS = numArg("picks", 2_000_000);
const clock = { now: (): number => performance.now() };

function nodes(n: number): PickerNode<number>[] {
  return Array.from({ length: n }, (_, i) => ({ key: `10.0.${i >> 8}.${i & 255}:9000`, value: i, weight: 1 + (i % 10), stats: createNodeStats(0) }));
}

function measure(policy: PickerPolicy, n: number, withDone: boolean): number {
  const picker = policy.build(nodes(n));
  let sum = 0;
  const loop = (count: number): number => {
    const t0 = performance.now();
    if (withDone) {
      for (let i = 0; i < count; i++) {
        const node = picker.pick()!;
        sum += node.value;
        picker.done(node, t0, false);
      }
    } else {
      for (let i = 0; i < count; i++) sum += picker.pick()!.value;
    }
    return ((performance.now() - t0) * 1e6) / count;
  };
  loop(PICKS >> 2);
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < 3; r++) best = Math.min(best, loop(PICKS));
  if (sum < 0) throw new Error("unreachable");
  return best;
}

const out: Record<string, number> = {};
for (const n of [4, 16, 64, 256]) {
  out[`rr@${n}`] = measure(roundRobin(), n, false);
  out[`wrr@${n}`] = measure(weightedRoundRobin(), n, false);
  out[`random@${n}`] = measure(randomPicker(), n, false);
  out[`p2c@${n}`] = measure(p2c({ clock }), n, true);
}
report(out);
