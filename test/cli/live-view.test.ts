import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createLiveScreen, redraw } from "../../cli/live-view.ts";

function sink(isTTY: boolean) {
  let text = "";
  return { write: (s: string) => (text += s), isTTY, columns: 20, text: () => text };
}

describe("cli/live-view", () => {
  it("redraw moves up over the previous frame, clears each line and below", () => {
    assert.equal(redraw(0, ["a", "b"], 80), "\x1b[2Ka\n\x1b[2Kb\n\x1b[J");
    assert.equal(redraw(2, ["c"], 80, ["log"]), "\r\x1b[2A\x1b[2Klog\n\x1b[2Kc\n\x1b[J");
    assert.equal(redraw(0, ["0123456789"], 5), "\x1b[2K0123\n\x1b[J");
  });

  it("on a terminal, frames redraw in place and logs scroll above them", () => {
    const out = sink(true);
    const screen = createLiveScreen(out);
    assert.equal(screen.live, true);
    screen.render(["one", "two"]);
    screen.log("event");
    screen.render(["three"]);
    screen.close();
    screen.close();
    assert.equal(
      out.text(),
      "\x1b[?25l" + "\x1b[2Kone\n\x1b[2Ktwo\n\x1b[J" + "\r\x1b[2A\x1b[2Kevent\n\x1b[2Kone\n\x1b[2Ktwo\n\x1b[J" + "\r\x1b[2A\x1b[2Kthree\n\x1b[J" + "\x1b[?25h",
    );
  });

  it("without a terminal, frames are skipped and logs are plain lines", () => {
    const out = sink(false);
    const screen = createLiveScreen(out);
    screen.render(["frame"]);
    screen.log("event 1");
    screen.log("event 2");
    screen.close();
    assert.equal(out.text(), "event 1\nevent 2\n");
  });
});
