// Engine vs. golden fixtures: for every checks/fixtures/<name>/ (made by checks/reference/make_fixtures.py
// with the Hugging Face port), run the CPU engine offline with --dump and compare:
//   mel, audio embeddings and per-step logits within the CPU limits of checks/tolerances.json (both metrics:
//   maxRelErr and normRelErr; logits row by row); greedy tokens identical (and the --json tokens equal the
//   dumped ones). A model with a wrong RMSNorm epsilon must fail those limits while its tokens still match.
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { parseEngineJson, runEngine } from "../../toolkit/src/lib/engine.js";
import { maxRelErr, normRelErr } from "../../toolkit/src/lib/logits.js";
import { readNpyF32, type NpyArray } from "../../toolkit/src/lib/npy.js";
import { fixturesDir } from "../../toolkit/src/lib/paths.js";
import { TOLERANCES } from "../../toolkit/src/lib/tolerance.js";
import { type FixtureJson, fixtureNames, fixtureRunArgs, readFixture } from "./golden.js";

const LIMITS = TOLERANCES.golden.cpu.limits;
type Metric = "maxAbs" | "maxRelErr" | "normRelErr";
type ArrayName = keyof typeof LIMITS;
const FILES: ReadonlyArray<[string, ArrayName]> = [
  ["mel", "mel"],
  ["audio_embeds", "audioEmbeds"],
  ["logits", "logits"],
];

interface EngineJson {
  text: string;
  tokens: number[];
  n_audio: number;
  n_steps: number;
  backend: string;
}

/** The --json contract (engine/README.md, "Command line"): every key present with its type. */
function assertJsonContract(o: Record<string, unknown>): void {
  const types: Record<string, string> = {
    text: "string",
    n_audio: "number",
    audio_seconds: "number",
    backend: "string",
    device: "string",
    delay_ms: "number",
    threads: "number",
    n_steps: "number",
    peak_rss_mb: "number",
  };
  for (const [k, t] of Object.entries(types)) assert.equal(typeof o[k], t, `--json key ${k} should be a ${t}`);
  assert.ok(Array.isArray(o.tokens), "--json tokens should be an array");
  const steps = o.step_ms as unknown[];
  assert.ok(
    Array.isArray(steps) && steps.length === (o.tokens as unknown[]).length,
    "--json step_ms has one entry per token",
  );
  assert.ok(
    steps.every((x) => typeof x === "number" && x >= 0),
    "--json step_ms entries are non-negative numbers",
  );
  const sum = (steps as number[]).reduce((a, b) => a + b, 0);
  assert.ok(sum <= (o.timings_ms as { decode: number }).decode + 1, "--json step_ms sum fits inside timings_ms.decode");
  assert.ok(o.gpu_mem_mb === null || typeof o.gpu_mem_mb === "number", "--json gpu_mem_mb should be a number or null");
  const t = o.timings_ms as Record<string, unknown>;
  for (const k of ["load", "mel", "encoder", "adapter", "prefill", "decode", "decode_per_step", "first_token", "wall"])
    assert.equal(typeof t[k], "number", `--json timings_ms.${k} should be a number`);
}

function maxAbs(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** The metric of engine output `a` against golden `b` (the reference); logits row by row, the worst row. */
function measure(metric: Metric, name: ArrayName, a: NpyArray<Float32Array>, b: NpyArray<Float32Array>): number {
  const fn =
    metric === "maxAbs"
      ? (x: Float32Array, y: Float32Array) => maxAbs(y, x)
      : metric === "maxRelErr"
        ? maxRelErr
        : normRelErr;
  if (name !== "logits") return fn(b.data, a.data);
  const V = b.shape[b.shape.length - 1]!;
  let worst = 0;
  for (let r = 0; r * V < b.data.length; r++) {
    worst = Math.max(worst, fn(b.data.subarray(r * V, (r + 1) * V), a.data.subarray(r * V, (r + 1) * V)));
  }
  return worst;
}

/** Every limit of `name` that `dump` breaks, as "metric value > limit" strings (empty = within limits). */
function overLimits(name: ArrayName, file: string, dump: string, golden: string): string[] {
  const a = readNpyF32(join(dump, `${file}.npy`));
  const b = readNpyF32(join(golden, `${file}.npy`));
  assert.deepEqual(a.shape, b.shape, `${file}: engine shape ${a.shape} vs golden ${b.shape}`);
  const over: string[] = [];
  for (const [metric, limit] of Object.entries(LIMITS[name]) as Array<[Metric, number]>) {
    const e = measure(metric, name, a, b);
    if (!(e <= limit)) over.push(`${file} ${metric} ${e.toExponential(3)} > ${limit}`);
  }
  return over;
}

async function runDump(dir: string, fx: FixtureJson, dump: string) {
  return runEngine([...fixtureRunArgs(dir, fx), "--dump", dump]);
}

const root = fixturesDir();
const names = fixtureNames(root);
const tmp = mkdtempSync(join(tmpdir(), "vox-fixtures-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

test("at least three golden fixtures are present", () => {
  assert.ok(names.length >= 3, `expected >= 3 fixtures under ${root}, found ${names.join(", ") || "none"}`);
});

for (const name of names) {
  describe(`fixture ${name}`, () => {
    const dir = join(root, name);
    const fx = readFixture(dir);
    const dump = join(tmp, name);
    let out: EngineJson;

    test("engine runs offline with --dump --json", async () => {
      const r = await runDump(dir, fx, dump);
      assert.equal(r.failure, null, `${r.command}\n${r.stderr}`);
      out = parseEngineJson<EngineJson>(r);
      assertJsonContract(out as unknown as Record<string, unknown>);
      assert.equal(out.backend, "cpu");
      assert.equal((out as unknown as { delay_ms: number }).delay_ms, fx.delay_ms);
    });

    for (const [file, name] of FILES) {
      const limits = Object.entries(LIMITS[name])
        .map(([m, l]) => `${m} <= ${l}`)
        .join(", ");
      test(`${file}.npy matches the golden array (${limits})`, () => {
        assert.deepEqual(overLimits(name, file, dump, join(dir, "golden")), []);
      });
    }

    test("greedy tokens are identical", () => {
      const golden = (JSON.parse(readFileSync(join(dir, "golden", "tokens.json"), "utf8")) as { tokens: number[] })
        .tokens;
      const dumped = (JSON.parse(readFileSync(join(dump, "tokens.json"), "utf8")) as { tokens: number[] }).tokens;
      assert.deepEqual(dumped, golden);
      assert.deepEqual(out.tokens, golden);
      assert.equal(out.n_steps, golden.length);
    });
  });
}

// The limits have teeth: an RMSNorm epsilon of 2e-5 instead of 1e-5 (encoder and decoder) changes no token of
// this fixture, yet it must fail the embeddings and logits limits (it passed the 1e-3 that stood before).
test("a wrong RMSNorm epsilon fails the embeddings and logits limits (tokens alone would not catch it)", async () => {
  const name = "tiny-real-windows";
  const src = join(root, name);
  const dir = join(tmp, "wrong-eps");
  cpSync(src, dir, { recursive: true });
  type Params = { norm_eps: number; multimodal: { whisper_model_args: { encoder_args: { norm_eps: number } } } };
  const params = JSON.parse(readFileSync(join(dir, "params.json"), "utf8")) as Params;
  params.norm_eps *= 2;
  params.multimodal.whisper_model_args.encoder_args.norm_eps *= 2;
  writeFileSync(join(dir, "params.json"), JSON.stringify(params));
  const fx = readFixture(dir);
  const dump = join(tmp, "wrong-eps-dump");
  const r = await runDump(dir, fx, dump);
  assert.equal(r.failure, null, `${r.command}\n${r.stderr}`);
  const golden = join(src, "golden");
  assert.deepEqual(overLimits("mel", "mel", dump, golden), [], "the mel does not depend on the model");
  for (const [file, name] of FILES.slice(1)) {
    const over = overLimits(name, file, dump, golden);
    assert.equal(over.length, 2, `${file}: both metrics over their limits (${over.join("; ")})`);
  }
  const tokens = (JSON.parse(readFileSync(join(dump, "tokens.json"), "utf8")) as { tokens: number[] }).tokens;
  const goldenTokens = (JSON.parse(readFileSync(join(golden, "tokens.json"), "utf8")) as { tokens: number[] }).tokens;
  assert.deepEqual(tokens, goldenTokens);
});
