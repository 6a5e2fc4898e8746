// The synthetic-model cache: written by the real engine once, reused while complete, rewritten when a
// file no longer matches its stamp, and nothing left behind when the engine fails.
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { cacheRoot, ensureSynthetic, isComplete, syntheticDir } from "../../src/lib/synthetic.js";

const dir = mkdtempSync(join(tmpdir(), "vox-synth-"));
const env = { XDG_CACHE_HOME: dir };

describe("synthetic model cache", () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("cache folder from XDG_CACHE_HOME, else ~/.cache", () => {
    assert.equal(syntheticDir("full", 7, env), join(dir, "vox", "synthetic-full-7"));
    assert.match(cacheRoot({ HOME: "/home/u" }), /\.cache[/\\]vox$/);
  });

  it("writes once with progress, then reuses; a changed file forces a rewrite", async () => {
    const calls: number[] = [];
    const first = await ensureSynthetic({ size: "tiny", seed: 3, env, onProgress: (n) => calls.push(n) });
    assert.equal(first.written, true);
    assert.ok(isComplete(first.dir));
    assert.ok(calls.at(-1)! > 0, "progress reported the bytes written");
    const again = await ensureSynthetic({ size: "tiny", seed: 3, env });
    assert.deepEqual(again, { dir: first.dir, written: false });
    writeFileSync(join(first.dir, "tekken.json"), "{}"); // size no longer matches the stamp
    assert.equal(isComplete(first.dir), false);
    assert.equal((await ensureSynthetic({ size: "tiny", seed: 3, env })).written, true);
  });

  it("an engine failure says so and leaves no partial folder", async () => {
    const fake = join(dir, "fake-voxtral");
    writeFileSync(fake, "#!/bin/sh\necho 'voxtral: error: disk full. Free some space' >&2\nexit 3\n");
    chmodSync(fake, 0o755);
    await assert.rejects(ensureSynthetic({ size: "tiny", seed: 9, env, engine: fake }), /writing the synthetic tiny model failed: .*disk full/);
    assert.deepEqual(readdirSync(join(dir, "vox")).filter((f) => f.includes("-9")), []);
    assert.equal(existsSync(syntheticDir("tiny", 9, env)), false);
  });
});
