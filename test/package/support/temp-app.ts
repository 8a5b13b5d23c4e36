/**
 * Temporary apps that install the packed tarball as a user would, set up once
 * per tarball and README and reused by every runtime of a test run:
 *
 * - `readme`: the README's install command (the tarball in place of
 *   `kratos-kube`), its `buf.gen.yaml` and generate command, its examples as
 *   files, compiled with `tsc` (strict, nodenext, and type-checked again with
 *   bundler resolution), and its esbuild command.
 * - `minors`: the tarball with other minors of the peers than the repository
 *   tests (`@bufbuild/protobuf` at the floor of its range, the newest connect).
 *
 * The apps live in the OS temp directory, outside the repository, so nothing
 * resolves from the repository's node_modules by accident. Setting them up
 * needs the npm registry (or a warm npm cache); buf, protoc-gen-es, tsc and
 * esbuild are the repository's own dev dependencies.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { ensureBuilt, packTarball, repoRoot } from "./package-build.ts";
import { readmeBlocks, repositoryReadme, shellCommands, type ReadmeBlock } from "./readme.ts";

/** Peer versions of the `minors` app. */
export const MINOR_PEERS = {
  "@bufbuild/protobuf": "2.7.0",
  "@connectrpc/connect": "2.3.0",
  "@connectrpc/connect-node": "2.3.0",
} as const;

/** Example blocks the README must have, written to `<name>.ts` in the app. */
export const EXAMPLES = ["server", "client", "testing", "app"] as const;

/** Bumped when the recipe below changes, so cached apps are rebuilt. */
const RECIPE = 5;

export interface TempApps {
  tarball: string;
  readmeApp: string;
  minorsApp: string;
  blocks: Map<string, ReadmeBlock>;
  /** What happened while setting up (build reason, cache hit), for the test log. */
  log: string[];
}

const bin = (name: string): string => join(repoRoot, "node_modules", ".bin", name);

function run(cmd: string, args: string[], cwd: string, what: string): string {
  const env = { ...process.env, PATH: `${join(repoRoot, "node_modules", ".bin")}${delimiter}${process.env["PATH"] ?? ""}` };
  const r = spawnSync(cmd, args, { cwd, env, encoding: "utf8", timeout: 240_000 });
  if (r.status !== 0) {
    throw new Error(`${what}: \`${[cmd, ...args].join(" ")}\` failed (exit ${r.status}${r.error ? `, ${r.error.message}` : ""}):\n${r.stdout}\n${r.stderr}`.slice(-6000));
  }
  return r.stdout;
}

function block(blocks: Map<string, ReadmeBlock>, name: string, lang: string): ReadmeBlock {
  const b = blocks.get(name);
  if (!b) throw new Error(`README: no block marked <!-- readme-test: ${name} --> (marked: ${[...blocks.keys()].join(", ")})`);
  if (b.lang !== lang) throw new Error(`README line ${b.line}: block ${name} is \`${b.lang}\`, expected \`${lang}\``);
  return b;
}

/** The single command of a README `sh` block, checked to start with `expected`. */
export function readmeCommand(blocks: Map<string, ReadmeBlock>, name: string, expected: string[]): string[] {
  const b = block(blocks, name, "sh");
  const commands = shellCommands(b.code);
  if (commands.length !== 1) throw new Error(`README line ${b.line}: block ${name} should hold one command, has ${commands.length}`);
  const cmd = commands[0]!;
  if (expected.some((w, i) => cmd[i] !== w)) throw new Error(`README line ${b.line}: block ${name} should start with \`${expected.join(" ")}\`: ${cmd.join(" ")}`);
  return cmd;
}

const TSCONFIG = {
  compilerOptions: {
    strict: true,
    target: "es2022",
    module: "nodenext",
    moduleResolution: "nodenext",
    rewriteRelativeImportExtensions: true,
    outDir: "out",
    types: ["node"],
    typeRoots: [join(repoRoot, "node_modules", "@types")],
    skipLibCheck: false,
  },
  include: [...EXAMPLES.map((e) => `${e}.ts`), "gen/**/*.ts"],
};

const TSCONFIG_BUNDLER = {
  extends: "./tsconfig.json",
  compilerOptions: { module: "esnext", moduleResolution: "bundler", allowImportingTsExtensions: true, noEmit: true },
};

function setUpReadmeApp(dir: string, tarball: string, blocks: Map<string, ReadmeBlock>): void {
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "readme-app", private: true, type: "module" }, null, 2));
  const install = readmeCommand(blocks, "install", ["npm", "i", "kratos-kube"]);
  run("npm", [...install.slice(1).map((w) => (w === "kratos-kube" ? tarball : w)), "--no-audit", "--no-fund"], dir, "README install");

  // The README's generate step, with the repository's buf and protoc-gen-es on PATH.
  mkdirSync(join(dir, "proto"));
  cpSync(join(repoRoot, "proto", "helloworld.proto"), join(dir, "proto", "helloworld.proto"));
  writeFileSync(join(dir, "buf.gen.yaml"), block(blocks, "buf.gen.yaml", "yaml").code + "\n");
  const generate = readmeCommand(blocks, "generate", ["npx", "buf", "generate"]);
  run(bin("buf"), generate.slice(2), dir, "README generate");
  if (!existsSync(join(dir, "gen", "helloworld_pb.ts"))) throw new Error("README generate: gen/helloworld_pb.ts was not written");

  for (const name of EXAMPLES) writeFileSync(join(dir, `${name}.ts`), block(blocks, name, "ts").code + "\n");
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(TSCONFIG, null, 2));
  writeFileSync(join(dir, "tsconfig.bundler.json"), JSON.stringify(TSCONFIG_BUNDLER, null, 2));
  const tsc = join(repoRoot, "node_modules", "typescript", "bin", "tsc");
  run("node", [tsc, "-p", "tsconfig.json"], dir, "tsc (nodenext) of the README examples");
  run("node", [tsc, "-p", "tsconfig.bundler.json"], dir, "tsc (bundler) of the README examples");

  // The README's esbuild command for the client example, and the same without
  // the banner for the testing example (which never loads undici): that one
  // shows yaml bundles as ESM.
  const bundle = readmeCommand(blocks, "bundle", ["npx", "esbuild", "client.ts"]);
  run(bin("esbuild"), bundle.slice(2), dir, "README bundle");
  const plain = bundle.slice(2).filter((w) => !w.startsWith("--banner")).map((w) =>
    w === "client.ts" ? "testing.ts" : w.replace(/client\.mjs$/, "testing.mjs"));
  run(bin("esbuild"), plain, dir, "bundle of the testing example without a banner");
}

function setUpMinorsApp(dir: string, tarball: string, readmeApp: string): void {
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "minors-app", private: true, type: "module" }, null, 2));
  const peers = Object.entries(MINOR_PEERS).map(([name, v]) => `${name}@${v}`);
  run("npm", ["i", tarball, ...peers, "--no-audit", "--no-fund"], dir, "install with other peer minors");
  cpSync(join(readmeApp, "gen"), join(dir, "gen"), { recursive: true });
  cpSync(join(readmeApp, "client.ts"), join(dir, "client.ts"));
}

let cached: TempApps | undefined;

/**
 * Builds (if stale) and packs the package, then returns the apps for this
 * tarball and README, setting them up unless a previous runtime of this run
 * (or an earlier run) already did.
 */
export function tempApps(): TempApps {
  if (cached) return cached;
  const log: string[] = [];
  const built = ensureBuilt();
  if (built) log.push(`built dist/ (${built})`);
  const root = join(tmpdir(), "kratos-kube-package-test");
  const packDir = join(root, `pack-${process.pid}`);
  const tar = packTarball(packDir);
  const readme = repositoryReadme();
  const blocks = readmeBlocks(readme);
  const key = createHash("sha256")
    .update(`${RECIPE}\n${tar.sha256}\n`)
    .update(JSON.stringify([...blocks.values()]))
    .update(JSON.stringify(MINOR_PEERS))
    .digest("hex")
    .slice(0, 16);
  const dir = join(root, key);
  if (existsSync(join(dir, "ready"))) {
    log.push(`reused ${dir}`);
  } else {
    // Set up in a private directory and rename it into place, so a run in
    // parallel never sees a half-made app; apps made over a day ago are removed.
    for (const e of readdirSync(root)) {
      const p = join(root, e);
      if (p !== packDir && Date.now() - statSync(p).mtimeMs > 86_400_000) rmSync(p, { recursive: true, force: true });
    }
    const staging = `${dir}.${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(join(staging, "readme-app"), { recursive: true });
    mkdirSync(join(staging, "minors-app"), { recursive: true });
    const t0 = Date.now();
    try {
      const tarball = join(staging, "kratos-kube.tgz");
      cpSync(tar.path, tarball);
      setUpReadmeApp(join(staging, "readme-app"), tarball, blocks);
      setUpMinorsApp(join(staging, "minors-app"), tarball, join(staging, "readme-app"));
      writeFileSync(join(staging, "ready"), new Date().toISOString());
      if (!existsSync(join(dir, "ready"))) {
        rmSync(dir, { recursive: true, force: true });
        renameSync(staging, dir);
      }
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
    log.push(`set up ${dir} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  rmSync(packDir, { recursive: true, force: true });
  cached = { tarball: join(dir, "kratos-kube.tgz"), readmeApp: join(dir, "readme-app"), minorsApp: join(dir, "minors-app"), blocks, log };
  return cached;
}

/** Every installed copy of `pkg` under `dir/node_modules`: path → version. */
export function installedCopies(dir: string, pkg: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (nm: string): void => {
    if (!existsSync(nm)) return;
    const here = join(nm, ...pkg.split("/"), "package.json");
    if (existsSync(here)) out.set(here, (JSON.parse(readFileSync(here, "utf8")) as { version: string }).version);
    for (const e of readdirSync(nm)) {
      if (e.startsWith(".")) continue;
      if (e.startsWith("@")) {
        for (const s of readdirSync(join(nm, e))) walk(join(nm, e, s, "node_modules"));
      } else {
        walk(join(nm, e, "node_modules"));
      }
    }
  };
  walk(join(dir, "node_modules"));
  return out;
}
