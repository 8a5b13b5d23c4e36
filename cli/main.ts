#!/usr/bin/env node
/**
 * The `kratos-kube` command. Each subcommand lives in its own file under
 * `cli/` and exports `run(argv: string[]): Promise<number>` (the exit code).
 * The CLI is the composition root: unlike `src/`, it may use `src/testing/`.
 */
const commands: Record<string, { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> }> = {
  demo: { summary: "run the demo on the embedded fake API server", load: () => import("./demo.ts") },
  instances: { summary: "list the instances of a service", load: () => import("./instances.ts") },
  watch: { summary: "follow the instances of a service live", load: () => import("./watch.ts") },
  doctor: { summary: "check why a service cannot be discovered", load: () => import("./doctor.ts") },
  "fake-apiserver": { summary: "serve an in-memory Kubernetes API server", load: () => import("./fake-apiserver.ts") },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((k) => k.length));
  return [
    "usage: kratos-kube <command> [options]",
    "",
    "commands:",
    ...Object.entries(commands).map(([k, v]) => `  ${k.padEnd(width)}  ${v.summary}`),
    "",
    "Run `kratos-kube <command> --help` for a command's options, `kratos-kube --version` for the version.",
  ].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  // `kratos-kube --version` and `kratos-kube <command> --version` alike.
  if (name === "--version" || name === "version" || (name !== undefined && Object.hasOwn(commands, name) && rest.includes("--version"))) {
    const { packageVersion } = await import("./version.ts");
    console.log(`kratos-kube ${await packageVersion()}`);
    return 0;
  }
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    console.error(`kratos-kube: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const mod = await command.load();
  return mod.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`kratos-kube: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
