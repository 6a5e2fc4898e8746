// `vox transcribe` end to end: the real CLI over the real CPU engine and the bundled fixtures.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { DEFAULT_MODEL } from "../../../src/commands/transcribe/index.js";
import { readFixture } from "../../../src/lib/fixture.js";
import { fixturesDir } from "../../../src/lib/paths.js";
import { vox } from "../vox-cli.js";

test("with no arguments it transcribes the bundled model's clip and says the model is a toy", async () => {
  const r = await vox(["transcribe", "--backend", "cpu"]);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.ok(r.stdout.trim().length > 0, "some text on stdout");
  assert.match(r.stderr, /bundled tiny random model/);
});

test("--json gives the engine's result, with the golden tokens of the fixture", async () => {
  const fx = readFixture(join(fixturesDir(), DEFAULT_MODEL));
  const r = await vox(["transcribe", "--json", "--backend", "cpu"]);
  assert.equal(r.exitCode, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { tokens: number[]; backend: string };
  assert.equal(out.backend, "cpu");
  assert.deepEqual(out.tokens, fx.golden.tokens);
});

test("a missing model folder or audio file is a clear error with a non-zero exit", async () => {
  const noModel = await vox(["transcribe", "--model", "/nonexistent/model"]);
  assert.equal(noModel.exitCode, 66);
  assert.match(noModel.stderr, /model folder \/nonexistent\/model does not exist\. Pass --model DIR/);
  const noAudio = await vox(["transcribe", "/nonexistent/clip.wav", "--backend", "cpu"]);
  assert.equal(noAudio.exitCode, 66, "a missing input file is 66 in every command");
  assert.match(noAudio.stderr, /^vox transcribe: error: audio file \/nonexistent\/clip\.wav does not exist\./);
  const noEngine = await vox(["transcribe", "--backend", "cpu"], { VOX_ENGINE: "/nonexistent/voxtral" });
  assert.equal(noEngine.exitCode, 69);
  assert.match(noEngine.stderr, /engine could not be started \(\/nonexistent\/voxtral\).*set VOX_ENGINE/);
});
