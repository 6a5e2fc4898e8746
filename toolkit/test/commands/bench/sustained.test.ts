// Quarters of a long run from polls and per-step times (pure part of --sustained).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseComputeApps, quarters } from "../../../src/commands/bench/sustained.js";

describe("bench sustained", () => {
  it("splits polls after load into four time quarters and steps into four runs", () => {
    const polls = [0, 50, 100, 150, 200, 250, 300, 350, 400, 450].map((t, i) => ({
      t,
      rssMb: 100 + i,
      gpuMemMb: t >= 100 ? 1000 : null,
    }));
    const steps = [1, 1, 1, 1, 2, 2, 2, 2];
    const q = quarters(polls, 100, 500, steps);
    assert.deepEqual(
      q.quarters.map((x) => x.polls),
      [2, 2, 2, 2],
    );
    assert.deepEqual(
      q.quarters.map((x) => x.rssMb),
      [103, 105, 107, 109],
    );
    assert.deepEqual(
      q.quarters.map((x) => x.msPerStep),
      [1, 1, 2, 2],
    );
    assert.ok(Math.abs(q.growthPct.rssMb! - (100 * 6) / 103) < 1e-9);
    assert.equal(q.growthPct.msPerStep, 100);
    assert.equal(q.growthPct.gpuMemMb, 0);
    assert.equal(q.flat, false);
  });

  it("flat when nothing grows; not judged without measurements", () => {
    const polls = [5, 15, 25, 35].map((t) => ({ t, rssMb: 500, gpuMemMb: null }));
    const q = quarters(polls, 0, 40, null);
    assert.equal(q.flat, true);
    assert.equal(q.quarters[0]!.msPerStep, null);
    assert.equal(quarters([], 0, 1, null).flat, null);
  });

  it("reads the process's GPU memory from nvidia-smi compute apps", () => {
    assert.equal(parseComputeApps("1234, 8123\n99, 10\n", 1234), 8123);
    assert.equal(parseComputeApps("", 1), null);
  });
});
