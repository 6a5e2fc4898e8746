// Work counts: about 19 TFLOP of encoder work for 180 s of audio (the decoder's bytes per step come from
// the engine: test/lib/engine-info.test.ts).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { REAL_MODEL } from "../../../src/lib/model.js";
import { derive, encoderFlops, windowedPairs } from "../../../src/commands/bench/derive.js";
import { summarize } from "../../../src/lib/stats.js";

describe("bench derive", () => {
  it("windowed attention pairs", () => {
    assert.equal(windowedPairs(3, 10), 6); // 1+2+3
    assert.equal(windowedPairs(5, 2), 1 + 2 + 2 + 2 + 2);
  });

  it("encoder work for 180 s is about 19 TFLOP", () => {
    const nAudio = 32 + 180 / 0.08 + 17; // left pad + audio + right pad (delay 6 + 1 + 10)
    const tflop = encoderFlops(REAL_MODEL, nAudio, 750) / 1e12;
    assert.ok(tflop > 18 && tflop < 21, `${tflop}`);
  });

  it("throughput from medians: GB/s, % of copy, floor, TFLOP/s", () => {
    const s = (xs: number[]) => summarize(xs);
    const d = derive({
      params: REAL_MODEL,
      encoderWindow: 750,
      bytesPerStep: 6e9,
      copyGBps: 3000,
      samples: [{ nAudio: 100 } as never],
      msPerStep: s([3, 3, 3.1]),
      encoderAdapterMs: s([10, 10, 12]),
    });
    assert.ok(Math.abs(d.decoderGBps! - 2000) < 1e-9);
    assert.ok(Math.abs(d.pctOfCopy! - 66.6666666667) < 1e-6);
    assert.ok(Math.abs(d.floorMsPerStep! - (6e9 / 3e12) * 1e3) < 1e-12);
    assert.ok(Math.abs(d.encoderTflops! - d.encoderTflop / 0.01) < 1e-9);
    const none = derive({
      params: REAL_MODEL,
      encoderWindow: 750,
      bytesPerStep: 1,
      copyGBps: null,
      samples: [],
      msPerStep: s([1]),
      encoderAdapterMs: s([0]),
    });
    assert.deepEqual(
      [none.copyGBps, none.pctOfCopy, none.floorMsPerStep, none.encoderTflops],
      [null, null, null, null],
    );
  });
});
