// Schemas pinned: a change to bench/compare/matrix.schema.json, or to the common.schema.json parts
// they refer to, must be deliberate (update the hash here and bump schemaVersion when old reports stop
// validating). The captured report validates.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { schemaPath } from "../../../src/lib/paths.js";
import { schemaErrors } from "../../../src/lib/report.js";
import { fixture } from "../../helpers.js";

const PINNED: Record<string, string> = {
  bench: "ab62c102480ab2d7",
  compare: "4b379e706ca676d1",
  matrix: "fef30ba46d273b24",
  common: "82d122e4a0201b90",
};

describe("bench schemas", () => {
  for (const [name, hash] of Object.entries(PINNED)) {
    it(`${name}.schema.json is pinned`, () => {
      const got = createHash("sha256")
        .update(readFileSync(schemaPath(name)))
        .digest("hex")
        .slice(0, 16);
      assert.equal(
        got,
        hash,
        `${name}.schema.json changed: if on purpose, pin ${got} (and bump schemaVersion if old reports break)`,
      );
    });
  }

  it("the captured report validates; a broken one is rejected with the path", () => {
    const r = JSON.parse(readFileSync(fixture("bench", "report-cpu-tiny.json"), "utf8"));
    assert.deepEqual(schemaErrors("bench", r), []);
    delete r.results[0].samples[0].msPerStep;
    r.results[0].stats.wallMs.outliers = ["x"];
    const errs = schemaErrors("bench", r);
    assert.ok(
      errs.some((e) => e.includes("/results/0/samples/0")),
      errs.join("\n"),
    );
  });
});
