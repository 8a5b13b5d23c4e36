/**
 * API-server-load client: kratos-kube's pod cache with a clock `--scale`×
 * faster than real time (watch timeouts, idle watchdog, backoff), running
 * until its stdin closes.
 *
 * @module
 */
import process from "node:process";
import { createKubeClient, KubeConfig } from "../../src/kube/index.ts";
import { createPodCache } from "../../src/index.ts";
import { arg, numArg } from "../lib/proc.ts";
import { scaledClock } from "../lib/scaled-clock.ts";

// Keep the process alive (the clocks' timers are unref'd) until stdin closes.
process.stdin.resume();
const clock = scaledClock(numArg("scale", 1));
const client = createKubeClient({ config: KubeConfig.fromOptions({ server: arg("url", ""), namespace: "bench" }), clock });
const cache = createPodCache({ api: client, namespaces: ["bench"], clock, onError: (e) => process.stderr.write(`kratos-kube: ${e.message}\n`) });
cache.start();
await cache.ready();
process.stdout.write(`${JSON.stringify({ synced: cache.size })}\n`);
process.stdin.on("end", () => {
  void cache.close().then(() => client.close()).then(() => process.exit(0));
});
