// lib/cleanup.ts: tracked temporary folders go on exit and on Ctrl-C (exit 130); once none is left
// the signal handlers are gone too, so a command's own Ctrl-C handling is untouched.
import assert from "node:assert/strict";
import { execa } from "execa";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { packageRoot } from "../../src/lib/paths.js";
import { tempDir } from "../commands/vox-cli.js";

const lib = JSON.stringify(join(packageRoot(), "dist", "toolkit", "src", "lib", "cleanup.js"));
const outLib = JSON.stringify(join(packageRoot(), "dist", "toolkit", "src", "lib", "output.js"));

async function run(body: string): Promise<{ code: number | undefined; out: string; tmp: string }> {
  const work = tempDir("vox-cleanup-");
  const tmp = join(work, "tmp");
  const script = join(work, "s.mjs");
  writeFileSync(
    script,
    `import { rmTracked, trackedTempDir } from ${lib};\nimport { writeFileAtomic } from ${outLib};\nimport { join } from "node:path";\nimport { mkdirSync } from "node:fs";\nmkdirSync(process.env.TMPDIR);\nconst d = trackedTempDir("x-");\n${body}\n`,
  );
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

test("the handlers go with the last tracked folder: a command's own Ctrl-C handling is left alone", async () => {
  const r = await run(`rmTracked(d);
const atomic = join(process.env.TMPDIR, "f.json");
writeFileAtomic(atomic, "{}");
process.on("SIGINT", () => { console.log("graceful, listeners " + process.listenerCount("SIGINT")); process.exit(0); });
console.log("ready"); setInterval(() => {}, 1000);`);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /graceful, listeners 1/, "writeFileAtomic installs no signal handler; rmTracked removed ours");
  assert.deepEqual(readdirSync(r.tmp), ["f.json"]);
});
