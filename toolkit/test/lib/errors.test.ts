// The bins' bad-command-line path (usageFailure): one line `<prog>: error: <problem>. Run <prog> --help.`, exit 64.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { execa } from "execa";
import { packageRoot } from "../../src/lib/paths.js";

const bin = (name: string) => join(packageRoot(), "dist", "toolkit", "src", "bin", `${name}.js`);

for (const [prog, args, problem] of [
  ["vox", ["bogus"], "Unknown argument: bogus"],
  ["vox", [], "Name a command \\(see --help\\)"],
  ["vox", ["accuracy"], "Missing required argument: model"],
  ["vox-bench", ["--bogus"], "Unknown argument: bogus"],
  [
    "vox-doctor",
    ["--backend", "gpu"],
    'Invalid values: Argument: backend, Given: "gpu", Choices: "auto", "cpu", "cuda"',
  ],
] as const) {
  test(`${prog} ${args.join(" ")}: one usage line, exit 64`, async () => {
    const r = await execa(process.execPath, [bin(prog), ...args], { reject: false });
    assert.equal(r.exitCode, 64);
    assert.match(r.stderr, new RegExp(`^${prog}: error: ${problem}\\. Run ${prog} --help\\.$`));
  });
}

test("README's exit-code table lists exactly the codes of EXIT (lib/errors.ts), each once", async () => {
  const { EXIT } = await import("../../src/lib/errors.js");
  const { readFileSync } = await import("node:fs");
  const readme = readFileSync(join(packageRoot(), "README.md"), "utf8");
  const start = readme.indexOf("Toolkit exit codes");
  const rows = readme
    .slice(start, readme.indexOf("\n\n", readme.indexOf("| code |", start)))
    .split("\n")
    .filter((l) => /^\| \d/.test(l));
  const documented = rows.flatMap((l) =>
    l
      .split("|")[1]!
      .split("/")
      .map((c) => Number(c.trim())),
  );
  assert.deepEqual(
    [...documented].sort((a, b) => a - b),
    [...new Set(Object.values(EXIT))].sort((a, b) => a - b),
  );
});
