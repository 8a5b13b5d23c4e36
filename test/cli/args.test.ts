import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { clusterOptions, helpText, numberOption, parseCommandArgs, UsageError, type CommandSpec } from "../../cli/args.ts";

const spec: CommandSpec = {
  name: "instances",
  positionals: ["<service>"],
  summary: "List the instances of a service.",
  options: { ...clusterOptions, timeout: { type: "string", value: "SECONDS", help: "how long to wait" } },
};

describe("cli/args", () => {
  it("parses the cluster options, short forms and the positional", () => {
    const a = parseCommandArgs(spec, ["sayhello.service", "-n", "shop", "--kubeconfig", "/tmp/k", "--context=dev", "-o", "json"]);
    assert.deepEqual(a.positionals, ["sayhello.service"]);
    assert.equal(a.values.namespace, "shop");
    assert.equal(a.values.kubeconfig, "/tmp/k");
    assert.equal(a.values.context, "dev");
    assert.equal(a.values.output, "json");
    assert.equal(a.help, false);
  });

  it("fills defaults", () => {
    assert.equal(parseCommandArgs(spec, ["x"]).values.output, "table");
  });

  it("--help short-circuits the checks", () => {
    assert.equal(parseCommandArgs(spec, ["--help"]).help, true);
    assert.equal(parseCommandArgs(spec, ["-h", "-o", "yaml"]).help, true);
  });

  it("errors are one line and say how to fix the call", () => {
    const cases: [string[], RegExp][] = [
      [[], /^missing <service>: run `kratos-kube instances <service>`/],
      [["x", "--bogus"], /bogus.*see `kratos-kube instances --help`/],
      [["x", "-o", "yaml"], /^--output must be one of table, json, not "yaml"/],
      [["x", "y"], /^unexpected argument "y"/],
      [["x", "--namespace"], /namespace.*see `kratos-kube instances --help`/],
    ];
    for (const [argv, re] of cases) {
      assert.throws(() => parseCommandArgs(spec, argv), (e: unknown) => {
        assert.ok(e instanceof UsageError);
        assert.match(e.message, re);
        assert.ok(!e.message.includes("\n"), e.message);
        return true;
      });
    }
  });

  it("numberOption validates the range and names the option", () => {
    const a = parseCommandArgs(spec, ["x", "--timeout", "abc"]);
    assert.throws(() => numberOption(a, "timeout", 5, { min: 0, max: 60 }, "instances"), /--timeout must be a number from 0 to 60, not "abc"/);
    assert.equal(numberOption(parseCommandArgs(spec, ["x", "--timeout", "7"]), "timeout", 5, { min: 0, max: 60 }, "instances"), 7);
    assert.equal(numberOption(parseCommandArgs(spec, ["x"]), "timeout", 5, { min: 0, max: 60 }, "instances"), 5);
  });

  it("help lists every option with its default and choices", () => {
    const text = helpText(spec);
    assert.match(text, /^usage: kratos-kube instances <service> \[options\]/);
    for (const o of ["--kubeconfig FILE", "--context NAME", "-n, --namespace NS", "-o, --output FORMAT", "--timeout SECONDS", "-h, --help"]) {
      assert.ok(text.includes(o), o);
    }
    assert.match(text, /one of table, json; default table/);
  });
});

describe("cli/args negative numbers", () => {
  it("takes a negative number after a string option as its value, so the range check names it", () => {
    const a = parseCommandArgs(spec, ["x", "--timeout", "-1"]);
    assert.equal(a.values.timeout, "-1");
    assert.throws(() => numberOption(a, "timeout", 5, { min: 0, max: 60 }, "instances"), /--timeout must be a number from 0 to 60, not "-1"/);
  });
});
