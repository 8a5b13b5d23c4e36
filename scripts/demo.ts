/**
 * `npm run demo`: the `kratos-kube demo` command, and with `--apiserver real`
 * the same demo on a real kube-apiserver + etcd started here from the built
 * control plane (scripts/k8s/build.ts), which the demo plays the kubelet for.
 *
 *   npm run demo                        on the embedded fake API server
 *   npm run demo -- --apiserver real    on kube-apiserver (built by scripts/k8s/build.ts)
 */
import { run } from "../cli/demo.ts";
import { defaultIo } from "../cli/io.ts";
import { startControlPlane } from "./k8s/control-plane.ts";
import { controlPlaneMissing } from "./k8s/paths.ts";

const argv = process.argv.slice(2);
const at = argv.findIndex((a) => a === "--apiserver" || a.startsWith("--apiserver="));
let mode = "fake";
if (at >= 0) {
  const given = argv[at]!.includes("=") ? argv[at]!.split("=")[1]! : argv[at + 1];
  argv.splice(at, argv[at]!.includes("=") ? 1 : 2);
  mode = given ?? "";
}
if (mode === "fake") {
  process.exitCode = await run(argv, defaultIo());
} else if (mode === "real") {
  const missing = controlPlaneMissing();
  if (missing !== undefined) {
    console.error(`npm run demo -- --apiserver real: ${missing}`);
    process.exitCode = 1;
  } else {
    const cp = await startControlPlane();
    try {
      console.error(`kube-apiserver ${cp.version} + etcd on ${cp.url}`);
      process.exitCode = await run([...argv, "--kubeconfig", cp.kubeconfig()], defaultIo());
    } finally {
      await cp.close();
    }
  }
} else {
  console.error(`npm run demo: --apiserver takes fake or real, not ${JSON.stringify(mode)}`);
  process.exitCode = 2;
}
