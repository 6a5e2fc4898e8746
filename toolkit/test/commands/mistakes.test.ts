// Every user mistake is one line `<prog>: error: <problem>. <fix>` with the exit code of its kind
// (lib/errors.ts EXIT, the same in every command), no stack trace, no report written, and found
// before any work: the engine behind VOX_ENGINE here only records that it was started.
import assert from "node:assert/strict";
import { execa } from "execa";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { EXIT } from "../../src/lib/errors.js";
import { fixturesDir, packageRoot } from "../../src/lib/paths.js";
import { fixture } from "../helpers.js";
import { fakeEngine, tempDir } from "./vox-cli.js";

const work = tempDir("vox-mistakes-");
const marker = join(work, "engine-started");
/** Answers --info like the real engine (so commands get past their environment facts), records any other start. */
const engine = fakeEngine(`touch "${marker}"; exit 1`);
const tiny = join(fixturesDir(), "tiny-real-windows");
const emptyModel = join(work, "empty-model");
mkdirSync(emptyModel);
const emptyWav = join(work, "empty.wav");
writeFileSync(emptyWav, "");
const readme = join(packageRoot(), "README.md");
const bin = (name: string) => join(packageRoot(), "dist", "toolkit", "src", "bin", `${name}.js`);

interface Mistake {
  prog: "vox" | "vox-doctor" | "vox-bench";
  args: string[];
  code: number;
  says: RegExp;
  env?: Record<string, string>;
}

async function commit(m: Mistake): Promise<{ code: number; stderr: string; reports: string[] }> {
  rmSync(marker, { force: true });
  const reports = tempDir("vox-mistake-reports-");
  const cache = tempDir("vox-mistake-cache-");
  const r = await execa(process.execPath, [bin(m.prog), ...m.args], {
    reject: false,
    cwd: packageRoot(),
    env: { VOX_ENGINE: engine, VOX_REPORTS_DIR: reports, XDG_CACHE_HOME: cache, ...m.env },
    timeout: 120_000,
  });
  assert.deepEqual(readdirSync(cache), [], "nothing written to the cache");
  return { code: r.exitCode ?? -1, stderr: String(r.stderr), reports: readdirSync(reports) };
}

const missingWav = join(work, "no-such.wav");
const badMatrix = join(work, "truncated.json");
writeFileSync(badMatrix, '{"schemaVersion":1,"rows":[{"key":');
const emptyMatrix = join(work, "empty.json");
writeFileSync(emptyMatrix, "");
const benchReport = fixture("bench", "report-cpu-tiny.json");

const nullFacts = join(work, "null-facts.json");
writeFileSync(nullFacts, "null");
const partFacts = join(work, "part-facts.json");
writeFileSync(partFacts, '{"factsVersion":1}');

const MISTAKES: Mistake[] = [
  { prog: "vox-doctor", args: ["--facts", nullFacts], code: EXIT.badInput, says: /is not a vox-doctor fact set/ },
  {
    prog: "vox-doctor",
    args: ["--facts", partFacts],
    code: EXIT.badInput,
    says: /is not a complete fact set: platform, env/,
  },
  {
    prog: "vox",
    args: ["smoke", "--audio", readme],
    code: EXIT.badInput,
    says: /--audio .*README\.md cannot be used: not a RIFF\/WAVE file\. .*ffmpeg/,
  },
  { prog: "vox", args: ["smoke", "--audio", emptyWav], code: EXIT.badInput, says: /is empty \(0 bytes\)/ },
  { prog: "vox", args: ["smoke", "--audio", work], code: EXIT.badInput, says: /is a folder, not an audio file/ },
  {
    prog: "vox-doctor",
    args: ["--save-facts", join(work, "missing", "x.json"), "--backend", "cpu"],
    code: EXIT.cannotWrite,
    says: /--save-facts folder .*missing does not exist/,
  },
  {
    prog: "vox",
    args: ["smoke", "--out-dir", `${readme}/sub`],
    code: EXIT.cannotWrite,
    says: /report folder \(--out-dir\) .*README\.md\/sub cannot be created: .*README\.md is a file, not a folder/,
  },
  {
    prog: "vox",
    args: ["accuracy", "--model", tiny],
    code: EXIT.cannotWrite,
    says: /report folder \(\$VOX_REPORTS_DIR\) .*README\.md cannot be created/,
    env: { VOX_REPORTS_DIR: readme },
  },
  {
    prog: "vox-bench",
    args: ["--model", tiny, "--seconds", "1", "--out", `${readme}/sub`],
    code: EXIT.cannotWrite,
    says: /report folder \(--out\)/,
  },
  {
    prog: "vox",
    args: ["smoke", "--out-dir", "/proc/vox-nope"],
    code: EXIT.cannotWrite,
    says: /\/proc\/vox-nope cannot be created/,
  },
  {
    prog: "vox",
    args: ["matrix", "add", "--file", badMatrix, benchReport],
    code: EXIT.badInput,
    says: /matrix file .*truncated\.json is not valid JSON .*cut short/,
  },
  {
    prog: "vox",
    args: ["matrix", "render", "--file", emptyMatrix],
    code: EXIT.badInput,
    says: /matrix file .*empty\.json is not valid JSON/,
  },
  {
    prog: "vox",
    args: ["matrix", "render", "--file", join(work, "none.json")],
    code: EXIT.missingInput,
    says: /matrix file .* does not exist/,
  },
  {
    prog: "vox",
    args: ["accuracy", "--model", "nope"],
    code: EXIT.missingInput,
    says: /model folder nope does not exist/,
  },
  {
    prog: "vox-bench",
    args: ["--synthetic", "full", "--seconds", "abc"],
    code: EXIT.usage,
    says: /--seconds wants a comma-separated list/,
  },
  {
    prog: "vox-bench",
    args: ["--model", tiny, "--timeout", "abc"],
    code: EXIT.usage,
    says: /--timeout must be a positive number/,
  },
  {
    prog: "vox",
    args: ["transcribe", "--timeout", "abc"],
    code: EXIT.usage,
    says: /--timeout must be a positive number/,
  },
  { prog: "vox", args: ["transcribe", "--delay-ms", "abc"], code: EXIT.usage, says: /--delay-ms must be a number/ },
  {
    prog: "vox",
    args: ["transcribe", "--output-dir", `${readme}/sub`],
    code: EXIT.cannotWrite,
    says: /--output-dir .*README\.md is a file, not a folder/,
  },
  {
    prog: "vox",
    args: ["gate", "--arch", "9x", "--skip-build"],
    code: EXIT.usage,
    says: /--arch: "9x" is not an architecture/,
  },
  {
    prog: "vox",
    args: ["accuracy", "--model", tiny, "--baseline", join(work, "old.json")],
    code: EXIT.missingInput,
    says: /--baseline .*old\.json is neither cpu, golden nor an existing report/,
  },
  // The same mistake, the same code in every command: a missing audio file, an empty model folder.
  ...(
    [
      ["transcribe", missingWav, "--model", tiny],
      ["smoke", "--audio", missingWav],
      ["accuracy", "--model", tiny, "--audio", missingWav],
    ] as const
  ).map(
    (args): Mistake => ({ prog: "vox", args: [...args], code: EXIT.missingInput, says: /no-such\.wav does not exist/ }),
  ),
  {
    prog: "vox-bench",
    args: ["--model", tiny, "--audio", missingWav],
    code: EXIT.missingInput,
    says: /no-such\.wav does not exist/,
  },
  ...(
    [
      ["transcribe", join(tiny, "test_speech.wav"), "--model", emptyModel],
      ["smoke", "--model", emptyModel, "--audio", join(tiny, "test_speech.wav")],
      ["accuracy", "--model", emptyModel],
    ] as const
  ).map(
    (args): Mistake => ({
      prog: "vox",
      args: [...args],
      code: EXIT.missingInput,
      says: /empty-model lacks params\.json, consolidated\.safetensors, tekken\.json/,
    }),
  ),
  { prog: "vox-bench", args: ["--model", emptyModel], code: EXIT.missingInput, says: /empty-model lacks params\.json/ },
];

describe("user mistakes: one line, the kind's exit code, nothing written, no engine run", () => {
  for (const m of MISTAKES) {
    it(`${m.prog} ${m.args.map((a) => a.replace(work, "W").replace(packageRoot(), ".")).join(" ")} -> ${m.code}`, async () => {
      const r = await commit(m);
      assert.equal(r.code, m.code, r.stderr);
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 1, `one line, got:\n${r.stderr}`);
      const prog = m.prog === "vox" ? `vox ${m.args[0] === "matrix" ? `matrix ${m.args[1]}` : m.args[0]}` : m.prog;
      assert.ok(lines[0]!.startsWith(`${prog}: error: `), lines[0]);
      assert.match(lines[0]!, m.says);
      assert.match(lines[0]!, /\. [A-Z].+/, "a fix follows the problem");
      assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
      assert.deepEqual(r.reports, [], "no report for a mistake");
      assert.equal(existsSync(marker), false, "the mistake is found before the engine runs");
    });
  }
});

describe("vox build: flags and the report folder before any work", () => {
  it("vox build --backend cuda --arch 9x -> 64; --out-dir README.md/sub -> 73", async () => {
    const r = await commit({ prog: "vox", args: ["build", "--backend", "cuda", "--arch", "9x"], code: 64, says: /./ });
    assert.equal(r.code, EXIT.usage, r.stderr);
    assert.match(r.stderr, /^vox build: error: --arch: "9x" is not an architecture\./);
    const o = await commit({ prog: "vox", args: ["build", "--out-dir", `${readme}/sub`], code: 73, says: /./ });
    assert.equal(o.code, EXIT.cannotWrite, o.stderr);
  });
});
