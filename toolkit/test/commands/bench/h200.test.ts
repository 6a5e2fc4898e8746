// The bench report captured on the GPU machine (NVIDIA H200, synthetic full model, 180 s, cuda,
// 3 repetitions) and the committed matrix: both valid, the derived numbers follow from the samples,
// and MATRIX.md is what `vox matrix render` makes from matrix.json.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { compareReports } from "../../../src/commands/bench/compare.js";
import type { BenchReport } from "../../../src/commands/bench/types.js";
import { renderMatrix } from "../../../src/commands/matrix/render.js";
import type { Matrix } from "../../../src/commands/matrix/row.js";
import { packageRoot } from "../../../src/lib/paths.js";
import { schemaErrors } from "../../../src/lib/report.js";
import { engineTensors } from "../../../src/lib/tensors.js";
import { decoderTensorBytes, fixture } from "../../helpers.js";

const h200 = (): BenchReport =>
  JSON.parse(readFileSync(fixture("bench", "report-h200-full.json"), "utf8")) as BenchReport;

describe("captured H200 report and the committed matrix", () => {
  it("validates and its derived numbers follow from the samples", async () => {
    const r = h200();
    assert.deepEqual(schemaErrors("bench", r), []);
    assert.equal(r.model.decoderBytesPerStep, decoderTensorBytes(await engineTensors({ size: "full" })));
    const [res] = r.results;
    assert.equal(res!.backend, "cuda");
    const ms = res!.stats!.msPerStep.median;
    assert.ok(Math.abs(res!.derived!.decoderGBps! - r.model.decoderBytesPerStep / (ms * 1e-3) / 1e9) < 1e-6);
    assert.ok(
      Math.abs(res!.derived!.floorMsPerStep! - (r.model.decoderBytesPerStep / (r.bandwidth[0]!.gbps! * 1e9)) * 1e3) <
        1e-9,
    );
    assert.ok(res!.stats!.xRealTime.median > 1, "faster than real time");
    assert.equal(r.sustained[0]!.flat, true);
  });

  it("compare: the same report is unchanged; a CPU report shares nothing with it", () => {
    const same = compareReports(
      { path: "a", report: h200() },
      { path: "b", report: h200() },
      { threshold: 0.05, alpha: 0.05 },
    );
    assert.equal(same.regressions, 0);
    assert.equal(same.rows.length, 5);
    const cpu = JSON.parse(readFileSync(fixture("bench", "report-cpu-tiny.json"), "utf8")) as BenchReport;
    const none = compareReports(
      { path: "a", report: h200() },
      { path: "b", report: cpu },
      { threshold: 0.05, alpha: 0.05 },
    );
    assert.equal(none.rows.length, 0);
    assert.equal(none.unmatched.length, 3);
  });

  it("matrix/matrix.json validates and MATRIX.md is rendered from it", () => {
    const m = JSON.parse(readFileSync(join(packageRoot(), "matrix", "matrix.json"), "utf8")) as Matrix;
    assert.deepEqual(schemaErrors("matrix", m), []);
    assert.ok(m.rows.length >= 1);
    assert.equal(
      readFileSync(join(packageRoot(), "matrix", "MATRIX.md"), "utf8"),
      renderMatrix(m),
      "run npx vox matrix render",
    );
  });
});
