import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { defineConfig, type Options } from "tsup";

// yaml is bundled from its ES module build (yaml/browser): its package.json sends
// the "node" condition to a CommonJS build whose `require("process")` breaks
// apps that bundle kratos-kube to ESM with esbuild ("Dynamic require of
// "process" is not supported"). Its ISC licence text ships next to it.
const yamlDir = dirname(createRequire(join(process.cwd(), "package.json")).resolve("yaml/package.json"));
const yamlEsm: NonNullable<Options["esbuildPlugins"]>[number] = {
  name: "yaml-esm",
  setup(build) {
    build.onResolve({ filter: /^yaml$/ }, () => ({ path: join(yamlDir, "browser", "index.js") }));
  },
};

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
  // No source maps in the package: dist/ is unminified ESM that keeps names
  // and comments, so stack traces read as they are, and the maps were two
  // thirds of the tarball.
  sourcemap: false,
  treeshake: true,
  outDir: "dist",
  esbuildPlugins: [yamlEsm],
  onSuccess: async () => {
    mkdirSync("dist/licenses", { recursive: true });
    copyFileSync(join(yamlDir, "LICENSE"), "dist/licenses/yaml.LICENSE");
  },
});
