import { defineConfig } from "tsup";

export default defineConfig({
  entry: {
    index: "src/index.ts",
    "kube/index": "src/kube/index.ts",
    "connect/index": "src/connect/index.ts",
    "app/index": "src/app/index.ts",
    "testing/index": "src/testing/index.ts",
    "cli/main": "cli/main.ts",
  },
  format: ["esm"],
  target: "node20",
  platform: "node",
  dts: { entry: ["src/index.ts", "src/kube/index.ts", "src/connect/index.ts", "src/app/index.ts", "src/testing/index.ts"] },
  splitting: true,
  clean: true,
  sourcemap: true,
  treeshake: true,
  outDir: "dist",
});
