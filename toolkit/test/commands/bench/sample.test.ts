// The engine's --json (captured from the real CPU engine on a fixture) -> a sample.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parseEngineRun, toSample } from "../../../src/commands/bench/sample.js";
import { fixture } from "../../helpers.js";

describe("bench sample", () => {
  it("maps a captured engine run", () => {
    const text = readFileSync(fixture("bench", "engine-run-cpu.json"), "utf8");
    const run = parseEngineRun(text);
    const s = toSample(run);
    const t = run.timings_ms;
    assert.equal(s.encoderAdapterMs, t.encoder + t.adapter);
    assert.equal(s.msPerStep, t.decode_per_step);
    assert.ok(Math.abs(s.xRealTime - run.audio_seconds / (t.wall / 1000)) < 1e-12);
    assert.equal(s.gpuMemMb, null);
    assert.equal(s.nSteps, run.n_steps);
  });

  it("names what breaks the contract", () => {
    assert.throws(() => parseEngineRun("voxtral: error: x"), /no JSON object/);
    const j = JSON.parse(readFileSync(fixture("bench", "engine-run-cpu.json"), "utf8"));
    delete j.timings_ms.decode_per_step;
    assert.throws(() => parseEngineRun(JSON.stringify(j)), /timings_ms.decode_per_step/);
    j.timings_ms.decode_per_step = 1;
    j.step_ms = "fast";
    assert.throws(() => parseEngineRun(JSON.stringify(j)), /step_ms/);
  });
});
