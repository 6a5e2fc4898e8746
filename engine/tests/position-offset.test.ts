// Always-on streams: RoPE is relative, so a stream that has already run for N positions must give
// the same tokens and (up to float noise) the same logits as a fresh one; the only risk is the
// precision of the rotation angle at large positions (an f32 `pos * inv_freq` has an ulp of 8 rad at
// 10^8). `--position-offset N` (test-only) adds N to every RoPE position; on every fixture (CPU),
// N = 10^6 (22 hours of audio) and 10^8 (three months) must give the N = 0 tokens and per-step logits
// within 1e-4 relative (||a - b|| / ||b|| of each row).
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { parseEngineJson, runEngine } from "../../toolkit/src/lib/engine.js";
import { readNpyF32 } from "../../toolkit/src/lib/npy.js";
import { fixturesDir } from "../../toolkit/src/lib/paths.js";

const REL_MAX = 1e-4;
const OFFSETS = [1_000_000, 100_000_000];
const work = mkdtempSync(join(tmpdir(), "vox-position-offset-"));
after(() => rmSync(work, { recursive: true, force: true }));

async function run(dir: string, audio: string, delayMs: number, offset: number) {
  const dump = join(work, `${dir.split("/").at(-1)}-${offset}`);
  const r = await runEngine([
    "-d",
    dir,
    "-i",
    audio,
    "--delay-ms",
    String(delayMs),
    "--backend",
    "cpu",
    "--json",
    "--dump",
    dump,
    "--position-offset",
    String(offset),
  ]);
  assert.equal(r.failure, null, `${r.command}\n${r.stderr}`);
  return { tokens: parseEngineJson<{ tokens: number[] }>(r).tokens, logits: readNpyF32(join(dump, "logits.npy")) };
}

/** Largest per-row relative error ||a - b|| / ||b||. */
function maxRowRel(a: Float32Array, b: Float32Array, cols: number): number {
  let worst = 0;
  for (let r = 0; r * cols < b.length; r++) {
    let d = 0;
    let n = 0;
    for (let c = r * cols; c < (r + 1) * cols; c++) {
      d += (a[c]! - b[c]!) ** 2;
      n += b[c]! ** 2;
    }
    worst = Math.max(worst, Math.sqrt(d / n));
  }
  return worst;
}

for (const name of readdirSync(fixturesDir()).sort()) {
  const dir = join(fixturesDir(), name);
  const fx = JSON.parse(readFileSync(join(dir, "fixture.json"), "utf8")) as { audio: string; delay_ms: number };
  test(`${name}: --position-offset 1e6 and 1e8 give the tokens and logits of offset 0`, async () => {
    const ref = await run(dir, join(dir, fx.audio), fx.delay_ms, 0);
    for (const n of OFFSETS) {
      const got = await run(dir, join(dir, fx.audio), fx.delay_ms, n);
      assert.deepEqual(got.tokens, ref.tokens, `tokens at offset ${n}`);
      assert.deepEqual(got.logits.shape, ref.logits.shape);
      const rel = maxRowRel(got.logits.data, ref.logits.data, ref.logits.shape[1]!);
      console.log(
        `${name}: offset ${n}: ${got.tokens.length} tokens equal, logits max row rel. error ${rel.toExponential(2)}`,
      );
      assert.ok(rel <= REL_MAX, `logits at offset ${n}: relative error ${rel} > ${REL_MAX}`);
    }
  });
}

test("--position-offset outside 0..10^12 is a usage error", async () => {
  const dir = join(fixturesDir(), "tiny-delay");
  const r = await runEngine(["-d", dir, "-i", join(dir, "jfk.wav"), "--position-offset", "-5"]);
  assert.equal(r.exitCode, 2);
  assert.match(r.stderr, /^voxtral: error: --position-offset needs an integer from 0 to 1000000000000, got '-5'\. /);
});
