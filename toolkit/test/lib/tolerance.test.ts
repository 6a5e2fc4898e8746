// Tiers and verdicts: limits are inclusive, missing metrics skip, overrides apply per entry.
import assert from "node:assert/strict";
import { test } from "node:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SchemaError } from "../../src/lib/errors.js";
import { tolerancesPath } from "../../src/lib/paths.js";
import { evaluate, isTier, loadTolerances, TIERS, TOLERANCES, toleranceFor } from "../../src/lib/tolerance.js";

const perfect = { tokenDiff: 0, wer: 0, cer: 0, top1: 1, maxKl: 0, maxRelErr: 0 };

test("tiers get looser from exact to relaxed and each says what it means", () => {
  const [e, s, r] = (["exact", "strict", "relaxed"] as const).map((t) => TIERS[t].tolerance);
  assert.ok(e!.maxKl <= s!.maxKl && s!.maxKl <= r!.maxKl);
  assert.ok(e!.minTop1 >= s!.minTop1 && s!.minTop1 >= r!.minTop1);
  for (const t of Object.values(TIERS)) assert.ok(t.meaning.length > 40);
  assert.ok(isTier("strict") && !isTier("loose"));
});

test("a perfect match passes every tier; one differing token fails strict, passes relaxed at 1 %", () => {
  for (const t of ["exact", "strict", "relaxed"] as const) assert.equal(evaluate(perfect, toleranceFor(t)).pass, true);
  const m = { ...perfect, tokenDiff: 0.01 };
  const strict = evaluate(m, toleranceFor("strict"));
  assert.equal(strict.pass, false);
  assert.deepEqual(
    strict.verdicts.find((v) => v.metric === "tokenDiff"),
    { metric: "tokenDiff", value: 0.01, limit: 0, op: "<=", status: "fail" },
  );
  assert.equal(evaluate(m, toleranceFor("relaxed")).pass, true);
  assert.equal(evaluate({ ...m, tokenDiff: 0.02 }, toleranceFor("relaxed")).pass, true, "limits are inclusive");
});

test("missing logits skip their metrics; overrides replace single limits", () => {
  const v = evaluate({ ...perfect, top1: null, maxKl: null, maxRelErr: null }, toleranceFor("exact"));
  assert.equal(v.pass, true);
  assert.deepEqual(
    v.verdicts.filter((x) => x.status === "skip").map((x) => x.metric),
    ["top1", "maxKl", "maxRelErr"],
  );
  assert.equal(toleranceFor("strict", { maxTokenDiff: 0.1 }).maxTokenDiff, 0.1);
  assert.equal(evaluate({ ...perfect, tokenDiff: 0.05 }, toleranceFor("strict", { maxTokenDiff: 0.1 })).pass, true);
});

test("checks/tolerances.json is the one source: it validates, and a file breaking its schema is refused", () => {
  const file = JSON.parse(readFileSync(tolerancesPath(), "utf8")) as {
    tiers: Record<string, { limits: Record<string, number> }>;
  };
  assert.deepEqual(TIERS.strict.tolerance, file.tiers.strict!.limits);
  assert.deepEqual(loadTolerances().golden, TOLERANCES.golden);
  const dir = mkdtempSync(join(tmpdir(), "vox-tolerances-"));
  try {
    const bad = join(dir, "tolerances.json");
    delete file.tiers.strict!.limits.maxRelErr;
    writeFileSync(bad, JSON.stringify(file));
    assert.throws(
      () => loadTolerances(bad),
      (e: unknown) => e instanceof SchemaError && /maxRelErr/.test(String(e)),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
