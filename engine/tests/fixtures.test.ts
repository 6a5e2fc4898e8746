// Engine vs. golden fixtures: for every checks/fixtures/<name>/ (made by checks/reference/make_fixtures.py
// with the Hugging Face port), run the CPU engine offline with --dump and compare:
//   mel max abs error <= 1e-4; audio embeddings and per-step logits relative error ||a-b||/||b|| <= 1e-3;
//   greedy tokens identical (and the --json tokens equal the dumped ones).
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { parseEngineJson, runEngine } from "../../toolkit/src/lib/engine.js";
import { readNpyF32, type NpyArray } from "../../toolkit/src/lib/npy.js";
import { fixturesDir } from "../../toolkit/src/lib/paths.js";

const MEL_MAX_ABS = 1e-4;
const REL = 1e-3;

interface FixtureJson { name: string; audio: string; delay_ms: number }
interface EngineJson { text: string; tokens: number[]; n_audio: number; n_steps: number; backend: string }

/** The --json contract (engine/README.md, "Command line"): every key present with its type. */
function assertJsonContract(o: Record<string, unknown>): void {
  const types: Record<string, string> = {
    text: "string", n_audio: "number", audio_seconds: "number", backend: "string", device: "string",
    delay_ms: "number", threads: "number", n_steps: "number", peak_rss_mb: "number",
  };
  for (const [k, t] of Object.entries(types)) assert.equal(typeof o[k], t, `--json key ${k} should be a ${t}`);
  assert.ok(Array.isArray(o.tokens), "--json tokens should be an array");
  const steps = o.step_ms as unknown[];
  assert.ok(Array.isArray(steps) && steps.length === (o.tokens as unknown[]).length, "--json step_ms has one entry per token");
  assert.ok(steps.every((x) => typeof x === "number" && x >= 0), "--json step_ms entries are non-negative numbers");
  const sum = (steps as number[]).reduce((a, b) => a + b, 0);
  assert.ok(sum <= (o.timings_ms as { decode: number }).decode + 1, "--json step_ms sum fits inside timings_ms.decode");
  assert.ok(o.gpu_mem_mb === null || typeof o.gpu_mem_mb === "number", "--json gpu_mem_mb should be a number or null");
  const t = o.timings_ms as Record<string, unknown>;
  for (const k of ["load", "mel", "encoder", "adapter", "prefill", "decode", "decode_per_step", "first_token", "wall"])
    assert.equal(typeof t[k], "number", `--json timings_ms.${k} should be a number`);
}

function maxAbs(a: NpyArray<Float32Array>, b: NpyArray<Float32Array>): number {
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i]! - b.data[i]!));
  return m;
}

function relErr(a: NpyArray<Float32Array>, b: NpyArray<Float32Array>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = a.data[i]! - b.data[i]!;
    num += d * d;
    den += b.data[i]! * b.data[i]!;
  }
  return Math.sqrt(num) / Math.sqrt(den);
}

const root = fixturesDir();
const names = existsSync(root)
  ? readdirSync(root).filter((n) => existsSync(join(root, n, "fixture.json"))).sort()
  : [];
const tmp = mkdtempSync(join(tmpdir(), "vox-fixtures-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

test("at least three golden fixtures are present", () => {
  assert.ok(names.length >= 3, `expected >= 3 fixtures under ${root}, found ${names.join(", ") || "none"}`);
});

for (const name of names) {
  describe(`fixture ${name}`, () => {
    const dir = join(root, name);
    const fx = JSON.parse(readFileSync(join(dir, "fixture.json"), "utf8")) as FixtureJson;
    const dump = join(tmp, name);
    let out: EngineJson;

    test("engine runs offline with --dump --json", async () => {
      const r = await runEngine(["-d", dir, "-i", join(dir, fx.audio), "--delay-ms", String(fx.delay_ms),
        "--backend", "cpu", "--json", "--dump", dump]);
      assert.equal(r.failure, null, `${r.command}\n${r.stderr}`);
      out = parseEngineJson<EngineJson>(r);
      assertJsonContract(out as unknown as Record<string, unknown>);
      assert.equal(out.backend, "cpu");
      assert.equal((out as unknown as { delay_ms: number }).delay_ms, fx.delay_ms);
    });

    for (const [file, kind] of [["mel", "maxabs"], ["audio_embeds", "rel"], ["logits", "rel"]] as const) {
      test(`${file}.npy matches the golden array (${kind === "maxabs" ? `max abs <= ${MEL_MAX_ABS}` : `rel <= ${REL}`})`, () => {
        const a = readNpyF32(join(dump, `${file}.npy`));
        const b = readNpyF32(join(dir, "golden", `${file}.npy`));
        assert.deepEqual(a.shape, b.shape, `${file}: engine shape ${a.shape} vs golden ${b.shape}`);
        if (kind === "maxabs") {
          const e = maxAbs(a, b);
          assert.ok(e <= MEL_MAX_ABS, `${file}: max abs error ${e.toExponential(3)} > ${MEL_MAX_ABS}`);
        } else {
          const e = relErr(a, b);
          assert.ok(e <= REL, `${file}: relative error ${e.toExponential(3)} > ${REL}`);
        }
      });
    }

    test("greedy tokens are identical", () => {
      const golden = (JSON.parse(readFileSync(join(dir, "golden", "tokens.json"), "utf8")) as { tokens: number[] }).tokens;
      const dumped = (JSON.parse(readFileSync(join(dump, "tokens.json"), "utf8")) as { tokens: number[] }).tokens;
      assert.deepEqual(dumped, golden);
      assert.deepEqual(out.tokens, golden);
      assert.equal(out.n_steps, golden.length);
    });
  });
}
