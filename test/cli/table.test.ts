import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { renderTable, sanitize } from "../../cli/table.ts";

describe("cli/table", () => {
  it("aligns columns, right-aligns numbers and trims the last column", () => {
    const lines = renderTable(
      [
        { header: "POD", cell: (r: { pod: string; calls: number; why: string }) => r.pod },
        { header: "CALLS", cell: (r) => String(r.calls), right: true },
        { header: "WHY", cell: (r) => r.why },
      ],
      [
        { pod: "sayhello-1", calls: 5, why: "" },
        { pod: "s-2", calls: 1234, why: "not Ready" },
      ],
    );
    assert.deepEqual(lines, ["POD         CALLS  WHY", "sayhello-1      5", "s-2          1234  not Ready"]);
  });

  it("truncates long cells and strips control characters", () => {
    const lines = renderTable([{ header: "X", cell: (r: string) => r, max: 5 }], ["abcdefgh", "a\x1b\nc"]);
    assert.deepEqual(lines, ["X", "abcd…", "a  c"]);
    assert.equal(sanitize("ok\tno"), "ok no");
  });
});
