// GATE.md's tier table states the same limits as the code (lib/tolerance.ts).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { packageRoot } from "../../../src/lib/paths.js";
import { TIERS, type TierName } from "../../../src/lib/tolerance.js";

test("GATE.md tier table = TIERS", () => {
  const md = readFileSync(join(packageRoot(), "toolkit", "GATE.md"), "utf8");
  for (const name of Object.keys(TIERS) as TierName[]) {
    const row = md.split("\n").find((l) => l.startsWith(`| \`${name}\` |`));
    assert.ok(row, `GATE.md has a row for ${name}`);
    const cells = row
      .split("|")
      .slice(2, 8)
      .map((c) => Number(c.trim()));
    const t = TIERS[name].tolerance;
    assert.deepEqual(cells, [t.maxTokenDiff, t.maxWer, t.maxCer, t.minTop1, t.maxKl, t.maxRelErr], name);
  }
});
