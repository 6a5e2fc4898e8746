// matrix rows from captured reports (the bench report of a real CPU run, check verdicts from the
// report shapes of doctor/build/smoke/accuracy), replacement of an environment's row, MATRIX.md,
// and the real command writing a schema-valid matrix.json.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { renderMatrix } from "../../../src/commands/matrix/render.js";
import { addRow, makeRow, statusOf, type LoadedReport } from "../../../src/commands/matrix/row.js";
import { packageRoot } from "../../../src/lib/paths.js";
import { schemaErrors } from "../../../src/lib/report.js";
import { fixture } from "../../helpers.js";

const benchData = () =>
  JSON.parse(readFileSync(fixture("bench", "report-cpu-tiny.json"), "utf8")) as LoadedReport["data"];
const bench = (): LoadedReport => ({ name: "bench-1.json", data: benchData() });
const check = (kind: string, extra: Record<string, unknown>): LoadedReport => ({
  name: `${kind}.json`,
  data: { kind, environment: benchData().environment, ...extra },
});

describe("matrix", () => {
  it("statuses: doctor from its counts, the others from status", () => {
    assert.equal(statusOf({ kind: "doctor", summary: { failed: 1, warnings: 0 } }), "fail");
    assert.equal(statusOf({ kind: "doctor", summary: { failed: 0, warnings: 2 } }), "warn");
    assert.equal(statusOf({ kind: "doctor", summary: { failed: 0, warnings: 0 } }), "pass");
    assert.equal(statusOf({ kind: "smoke", status: "pass" }), "pass");
    assert.equal(statusOf({ kind: "accuracy", status: "error" }), "error");
  });

  it("a row from one machine's reports", () => {
    const row = makeRow(
      [
        check("doctor", { summary: { failed: 0, warnings: 1 } }),
        check("build", { status: "pass" }),
        check("smoke", { status: "fail" }),
        bench(),
      ],
      new Date("2026-01-02T03:04:05Z"),
    );
    assert.deepEqual(row.status, { doctor: "warn", build: "pass", smoke: "fail", accuracy: "not run" });
    const b = benchData() as unknown as {
      results: Array<{ clip: { seconds: number }; stats: { xRealTime: { median: number } } }>;
    };
    const longest = b.results.reduce((a, r) => (r.clip.seconds > a.clip.seconds ? r : a));
    assert.equal(row.bench!.clipSeconds, longest.clip.seconds, "no 180 s clip: the longest");
    assert.equal(row.bench!.xRealTime, longest.stats.xRealTime.median);
    assert.equal(row.bench!.model, "tiny-delay");
    assert.equal(row.addedAt, "2026-01-02T03:04:05.000Z");
    assert.deepEqual(schemaErrors("matrix", { schemaVersion: 1, rows: [row] }), []);
  });

  it("refuses reports of different machines", () => {
    const other = check("build", { status: "pass" });
    (other.data.environment as { host: string }).host = "ffffffff";
    assert.throws(() => makeRow([bench(), other]), /2 different machines/);
  });

  it("the same environment replaces its row; MATRIX.md lists rows", () => {
    const a = makeRow([bench()]);
    const m1 = addRow({ schemaVersion: 1, rows: [] }, a);
    const m2 = addRow(m1, { ...a, status: { ...a.status, build: "pass" } });
    assert.equal(m2.rows.length, 1);
    assert.equal(m2.rows[0]!.status.build, "pass");
    // a newer engine measured on the same environment replaces the row too
    const m3 = addRow(m2, { ...a, engineCommit: "0123456789ab" });
    assert.equal(m3.rows.length, 1);
    assert.equal(m3.rows[0]!.engineCommit, "0123456789ab");
    const md = renderMatrix(m2);
    assert.match(md, /\| no GPU \|/);
    assert.match(md, /✅ pass/);
    assert.match(renderMatrix({ schemaVersion: 1, rows: [] }), /No environment recorded yet/);
  });

  it("vox matrix add / render end to end", () => {
    const dir = mkdtempSync(join(tmpdir(), "vox-matrix-"));
    try {
      const file = join(dir, "matrix.json");
      const rep = join(dir, "bench-x.json");
      writeFileSync(rep, JSON.stringify(benchData()));
      const vox = join(packageRoot(), "dist", "toolkit", "src", "bin", "vox.js");
      const add = spawnSync(process.execPath, [vox, "matrix", "add", rep, "--file", file], { encoding: "utf8" });
      assert.equal(add.status, 0, add.stderr);
      const m = JSON.parse(readFileSync(file, "utf8"));
      assert.deepEqual(schemaErrors("matrix", m), []);
      assert.equal(m.rows[0].reports[0], "bench-x.json");
      assert.match(readFileSync(join(dir, "MATRIX.md"), "utf8"), /tiny-delay/);
      const bad = spawnSync(
        process.execPath,
        [vox, "matrix", "add", join(packageRoot(), "package.json"), "--file", file],
        { encoding: "utf8" },
      );
      assert.equal(bad.status, 65);
      assert.match(bad.stderr, /not a vox report/);
      rmSync(join(dir, "MATRIX.md"));
      const render = spawnSync(process.execPath, [vox, "matrix", "render", "--file", file], { encoding: "utf8" });
      assert.equal(render.status, 0, render.stderr);
      assert.match(readFileSync(join(dir, "MATRIX.md"), "utf8"), /Tested environments/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("per check the newest report by createdAt decides, whatever the order given", () => {
    const at = (kind: string, status: string, createdAt: string) => check(kind, { status, createdAt });
    const newFail = at("accuracy", "fail", "2026-11-02T00:00:00Z");
    const oldPass = at("accuracy", "pass", "2026-11-01T00:00:00Z");
    for (const order of [
      [newFail, oldPass],
      [oldPass, newFail],
    ]) {
      const row = makeRow([bench(), at("smoke", "pass", "2026-11-01T00:00:00Z"), ...order]);
      assert.equal(row.status.accuracy, "fail", "the stale pass must not win");
      assert.equal(row.status.smoke, "pass");
      assert.equal(row.statusAt!.accuracy, "2026-11-02T00:00:00.000Z");
    }
    const doctorNew = check("doctor", { generatedAt: "2026-11-03T00:00:00Z", summary: { failed: 0, warnings: 0 } });
    const doctorOld = check("doctor", { generatedAt: "2026-11-01T00:00:00Z", summary: { failed: 2, warnings: 0 } });
    assert.equal(makeRow([doctorNew, doctorOld]).status.doctor, "pass", "doctor reports are dated by generatedAt");
  });

  it("a gate report carries its stages (worst per kind, skips carry nothing); newer single reports override it", () => {
    const gate = check("gate", {
      createdAt: "2026-11-05T00:00:00Z",
      stages: [
        { stage: "build", status: "skip" },
        { stage: "smoke", status: "pass" },
        { stage: "accuracy", status: "pass" },
        { stage: "accuracy", status: "fail" },
      ],
    });
    const row = makeRow([gate]);
    assert.deepEqual(row.status, { doctor: "not run", build: "not run", smoke: "pass", accuracy: "fail" });
    const later = makeRow([gate, check("accuracy", { status: "pass", createdAt: "2026-11-06T00:00:00Z" })]);
    assert.equal(later.status.accuracy, "pass");
  });

  it("a partial report set updates only what it carries; an older report does not replace a newer status", () => {
    const full = makeRow([
      bench(),
      check("doctor", { generatedAt: "2026-11-01T00:00:00Z", summary: { failed: 0, warnings: 0 } }),
      check("build", { status: "pass", createdAt: "2026-11-01T00:00:00Z" }),
      check("smoke", { status: "pass", createdAt: "2026-11-01T00:00:00Z" }),
      check("accuracy", { status: "pass", createdAt: "2026-11-01T00:00:00Z" }),
    ]);
    const m1 = addRow({ schemaVersion: 1, rows: [] }, full);
    const gateOnly = makeRow([
      check("gate", { createdAt: "2026-11-02T00:00:00Z", stages: [{ stage: "smoke", status: "fail" }] }),
    ]);
    const m2 = addRow(m1, gateOnly);
    assert.equal(m2.rows.length, 1);
    assert.deepEqual(m2.rows[0]!.status, { doctor: "pass", build: "pass", smoke: "fail", accuracy: "pass" });
    assert.notEqual(m2.rows[0]!.bench, null, "the bench stays");
    assert.deepEqual(schemaErrors("matrix", m2), []);
    const stale = makeRow([check("smoke", { status: "pass", createdAt: "2026-10-01T00:00:00Z" })]);
    assert.equal(addRow(m2, stale).rows[0]!.status.smoke, "fail", "a stale report does not undo a newer failure");
  });
});
