// lib/cleanup.ts: tracked temporary folders go on exit and on Ctrl-C (exit 130); a command with its
// own SIGINT handler keeps control of the shutdown, and the folders still go when it exits.
import assert from "node:assert/strict";
import { execa } from "execa";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { packageRoot } from "../../src/lib/paths.js";
import { tempDir } from "../commands/vox-cli.js";

const lib = JSON.stringify(join(packageRoot(), "dist", "toolkit", "src", "lib", "cleanup.js"));

async function run(body: string): Promise<{ code: number | undefined; out: string; tmp: string }> {
  const work = tempDir("vox-cleanup-");
  const tmp = join(work, "tmp");
  const script = join(work, "s.mjs");
  writeFileSync(script, `import { trackedTempDir } from ${lib};\nimport { mkdirSync } from "node:fs";\nmkdirSync(process.env.TMPDIR);\nconst d = trackedTempDir("x-");\n${body}\n`);
  const child = execa(process.execPath, [script], { reject: false, env: { TMPDIR: tmp } });
  let out = "";
  child.stdout!.on("data", (b: Buffer) => {
    out += b.toString();
    if (out.includes("ready")) child.kill("SIGINT");
  });
  const r = await child;
  return { code: r.exitCode, out: `${out}${r.stderr}`, tmp };
}

test("Ctrl-C removes the tracked folder and exits 130", async () => {
  const r = await run('console.log("ready"); setInterval(() => {}, 1000);');
  assert.equal(r.code, 130, r.out);
  assert.deepEqual(readdirSync(r.tmp), []);
});

test("a command's own SIGINT handler decides; the folder goes when it exits", async () => {
  const r = await run('process.on("SIGINT", () => { console.log("graceful " + (require_exists(d) ? "kept" : "gone")); process.exit(0); });\nfunction require_exists(p) { return existsSync(p); }\nimport { existsSync } from "node:fs";\nconsole.log("ready"); setInterval(() => {}, 1000);');
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /graceful kept/, "the folder is there while the command shuts down");
  assert.deepEqual(readdirSync(r.tmp), [], "and removed at exit");
  assert.equal(existsSync(join(r.tmp, "x-")), false);
});
