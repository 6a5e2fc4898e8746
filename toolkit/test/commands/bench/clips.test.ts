// Clips cut and looped from speech; WAV round trip; --seconds parsing.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { clipName, findSpeech, makeClip, parseSeconds, writeClips } from "../../../src/commands/bench/clips.js";
import { fixturesDir } from "../../../src/lib/paths.js";
import { encodeWav, parseWav, readWav } from "../../../src/lib/wav.js";

const src = (path: string, n: number, v: number) => ({
  path,
  pcm: { sampleRate: 16000, samples: new Int16Array(n).fill(v) },
});

describe("bench clips", () => {
  it("parses --seconds and names clips", () => {
    assert.deepEqual(parseSeconds("3.6, 11,180"), [3.6, 11, 180]);
    assert.throws(() => parseSeconds("3,x"), /--seconds/);
    assert.throws(() => parseSeconds("0"), /--seconds/);
    assert.equal(clipName(3.6), "3.6s");
    assert.equal(clipName(180), "180s");
  });

  it("joins the longest source first and loops to the exact length", () => {
    const { pcm, used } = makeClip([src("short", 16000, 1), src("long", 32000, 2)], 5);
    assert.equal(pcm.samples.length, 80000);
    assert.deepEqual(used, ["long", "short"]);
    // long (2 s) + short (1 s) + long (2 s)
    assert.deepEqual([pcm.samples[0], pcm.samples[32000], pcm.samples[48000], pcm.samples[79999]], [2, 1, 2, 2]);
    const cut = makeClip([src("long", 32000, 2)], 0.5);
    assert.deepEqual([cut.pcm.samples.length, cut.used], [8000, ["long"]]);
  });

  it("WAV round trip, stereo mixed down, bad input named", () => {
    const samples = Int16Array.from([0, 1000, -1000, 32767, -32768]);
    assert.deepEqual([...parseWav(encodeWav({ sampleRate: 16000, samples })).samples], [...samples]);
    const stereo = encodeWav({ sampleRate: 8000, samples: Int16Array.from([100, 300, -50, 50]) });
    stereo.writeUInt16LE(2, 22); // same bytes read as 2 channels: (100,300) and (-50,50)
    const p = parseWav(stereo);
    assert.deepEqual([p.sampleRate, ...p.samples], [8000, 200, 0]);
    assert.throws(() => parseWav(Buffer.from("not a wav at all")), /not a RIFF\/WAVE/);
  });

  it("makes real clips from the fixture speech", () => {
    const sources = findSpeech([fixturesDir(), "/nonexistent"]);
    assert.ok(sources.length > 0, "checks/fixtures holds speech WAVs");
    const dir = mkdtempSync(join(tmpdir(), "vox-clips-"));
    try {
      const [c] = writeClips([2.5], sources, dir);
      assert.equal(c!.clip.name, "2.5s");
      assert.equal(readWav(c!.path).samples.length, 40000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.throws(() => findSpeech(["/nonexistent"]), /no 16 kHz speech WAV/);
  });
});
