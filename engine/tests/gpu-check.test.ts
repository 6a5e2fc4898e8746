// The GPU check (toolkit/scripts/gpu-check.ts) on the CPU backend, as CI runs it: every check that needs
// no GPU passes on the fixtures (and two live sessions through vox serve) and the CUDA-only ones are
// skipped with their reason; --ab (and --ab-live) with a variant that builds and one that does not; its verdicts
// (runcheck.ts) on real dumps and on altered copies of them (one metric over its limit, a token
// changed where the golden margin is wide or narrow); a usage mistake; and the PAD-rate synthetic
// writer (voxtral --synthetic-pad-rate), whose model differs from the plain one exactly where it says.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { runEngine } from "../../toolkit/src/lib/engine.js";
import { readFixture } from "../../toolkit/src/lib/fixture.js";
import { readNpyF32 } from "../../toolkit/src/lib/npy.js";
import { fixturesDir, packageRoot } from "../../toolkit/src/lib/paths.js";
import { judgeGolden, judgeIdentical, type RunOutput } from "../../toolkit/src/lib/runcheck.js";
import { readSafetensorsHeader, validateSafetensors } from "../../toolkit/src/lib/safetensors.js";

const root = packageRoot();
const script = join(root, "dist", "toolkit", "scripts", "gpu-check.js");
const tmp = mkdtempSync(join(tmpdir(), "vox-gpu-check-test-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Log {
  backend: string;
  checks: { name: string; status: string; detail: string }[];
}

test("gpu-check --backend cpu: every CPU check passes on the fixtures, CUDA-only ones skip with a reason", () => {
  const out = join(tmp, "cpu");
  // without --build the script uses the helper binaries as built: build the two it runs on the CPU, and
  // link the two GPU-only tools too (their host code is plain C), so a GPU run does not find them broken
  const tools = ["two_streams", "batch_streams", "opcheck", "rowbench"];
  const make = spawnSync("make", ["-s", "-C", join(root, "engine"), ...tools], { encoding: "utf8" });
  assert.equal(make.status, 0, `make -C engine ${tools.join(" ")} failed:\n${make.stdout}${make.stderr}`);
  const r = spawnSync(process.execPath, [script, "--backend", "cpu", "--live", "2", "--out", out], {
    encoding: "utf8",
    timeout: 300_000,
  });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  const log = JSON.parse(readFileSync(join(out, "gpu-check.json"), "utf8")) as Log;
  assert.equal(log.backend, "cpu");
  const failed = log.checks.filter((c) => c.status === "FAIL");
  assert.deepEqual(failed, []);
  const fixtures = ["tiny-delay", "tiny-real-windows", "tiny-small-windows"];
  for (const name of [
    "golden",
    "streaming",
    "2streams",
    "2procs",
    "speculate",
    "spec-gold",
    "batched",
    "prefills",
    "serve",
  ]) {
    const passed = log.checks.filter((c) => c.name === name && c.status === "PASS").map((c) => c.detail);
    for (const fx of fixtures)
      assert.ok(
        passed.some((d) => d.startsWith(fx)),
        `${name} PASS on ${fx}: ${passed.join(" | ")}`,
      );
  }
  const live = log.checks.filter((c) => c.name === "live");
  assert.equal(live.length, 1);
  assert.equal(live[0]!.status, "PASS");
  assert.match(
    live[0]!.detail,
    /^2 session\(s\) through vox serve on tiny-delay: delta latency p50 \/ p95 \d+ \/ \d+ ms/,
  );
  assert.match(
    live[0]!.detail,
    / 0 session\(s\) with errors or no delta; seconds of audio over the goal at p95: (none|\d+ \(\d+\)(, \d+ \(\d+\))*)$/,
  );
  const skipped = log.checks.filter((c) => c.status === "SKIP");
  assert.deepEqual(skipped.map((c) => c.name).sort(), ["opcheck", "sanitizer"]);
  for (const c of skipped) assert.match(c.detail, /needs --backend cuda|need --backend cuda/);
  const summary = readFileSync(join(out, "summary.txt"), "utf8").trim().split("\n");
  assert.match(summary.at(-1)!, /^gpu-check: \d+ checks, 0 failed, 2 skipped$/);
  assert.equal(summary.length, log.checks.length + 1);
});

test("gpu-check --ab: a variant that builds runs in turn with the default and passes on identical tokens, and live with --ab-live; one whose build fails is a FAIL and exit 1", () => {
  const out = join(tmp, "ab");
  // the switch of the batched encoder passes: the same tokens (the CPU keeps rows exact), other live timing
  const variants = "noenc=-DVOX_BATCH_ENCODER=0;broken=-include /nonexistent/vox-ab.h";
  const r = spawnSync(
    process.execPath,
    [
      script,
      "--backend",
      "cpu",
      "--fixtures",
      "tiny-delay",
      "--ab",
      variants,
      "--ab-rounds",
      "2",
      "--ab-live",
      "2",
      "--out",
      out,
    ],
    { encoding: "utf8", timeout: 300_000 },
  );
  assert.equal(r.status, 1, r.stdout + r.stderr);
  const log = JSON.parse(readFileSync(join(out, "gpu-check.json"), "utf8")) as Log;
  const ab = log.checks.filter((c) => c.name === "ab");
  assert.deepEqual(
    ab.map((c) => c.status),
    ["PASS", "FAIL"],
  );
  assert.match(
    ab[0]!.detail,
    /^noenc \(-DVOX_BATCH_ENCODER=0\) against the default, 2 round\(s\) on tiny-delay: decoder \d+\.\d{3} \/ \d+\.\d{3} ms\/step against \d+\.\d{3} \/ \d+\.\d{3} \(median [+-]\d+\.\d{3} ms, Welch p [\d.]+\); load .*; tokens: 2 run\(s\) vs 149 reference tokens, all identical$/,
  );
  assert.match(ab[1]!.detail, /^broken \(-include \/nonexistent\/vox-ab\.h\) .*: build failed \(exit 2/);
  // the variant was built with its flags into its own folder, and says the same commit as the default
  const info = (bin: string) =>
    JSON.parse(spawnSync(bin, ["--info"], { encoding: "utf8" }).stdout) as { commit: string };
  assert.equal(info(join(out, "ab-noenc", "voxtral")).commit, info(join(root, "engine", "build", "voxtral")).commit);
  // --ab-live: the variant that built, live through vox serve beside the default (ABBA); none for the broken one
  const live = log.checks.filter((c) => c.name === "ab-live");
  assert.deepEqual(
    live.map((c) => c.status),
    ["PASS"],
  );
  assert.match(
    live[0]!.detail,
    /^noenc against the default, --live 2: delta latency p50 \/ p95 \d+ \/ \d+ ms, \d+ \/ \d+ ms against the default's \d+ \/ \d+ ms, \d+ \/ \d+ ms$/,
  );
  // the rest of the run is the usual CPU run of one fixture: its other checks pass
  assert.ok(log.checks.filter((c) => c.name !== "ab" && c.status === "FAIL").length === 0);
});

test("gpu-check: a usage mistake is one line and exit 2", () => {
  const r = spawnSync(process.execPath, [script, "--backend", "tpu"], { encoding: "utf8" });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^gpu-check: error: --backend is 'tpu'; use cpu or cuda\. usage: gpu-check/);
  assert.equal(r.stderr.trim().split("\n").length, 1);
  // a variant without its name; the same after a space, which the option parser takes for an option
  const ab = spawnSync(process.execPath, [script, "--backend", "cpu", "--ab=-DVOX_CUDA_PDL=0"], { encoding: "utf8" });
  assert.equal(ab.status, 2);
  assert.match(ab.stderr, /^gpu-check: error: --ab variant '-DVOX_CUDA_PDL=0' has no name; write NAME=CFLAGS/);
  const dash = spawnSync(process.execPath, [script, "--backend", "cpu", "--ab", "-DVOX_CUDA_PDL=0"], {
    encoding: "utf8",
  });
  assert.equal(dash.status, 2);
  assert.match(dash.stderr, /^gpu-check: error: Option '--ab' argument is ambiguous\. .*'--ab=-XYZ'\. usage: /);
  assert.equal(dash.stderr.trim().split("\n").length, 1);
});

/** A real CPU dump of tiny-small-windows, read as the check reads it. */
async function cpuDump(): Promise<{ golden: RunOutput; got: RunOutput }> {
  const fx = readFixture(join(fixturesDir(), "tiny-small-windows"));
  const dump = join(tmp, "dump");
  const r = await runEngine([
    "-d",
    fx.dir,
    "-i",
    fx.audio,
    "--delay-ms",
    String(fx.delayMs),
    "--backend",
    "cpu",
    "--dump",
    dump,
  ]);
  assert.equal(r.failure, null, r.stderr);
  const npy = (p: string) => readNpyF32(p);
  const logits = (p: string) => {
    const a = npy(p);
    return { steps: a.shape[0]!, vocab: a.shape[1]!, data: a.data };
  };
  const got: RunOutput = {
    tokens: (JSON.parse(readFileSync(join(dump, "tokens.json"), "utf8")) as { tokens: number[] }).tokens,
    logits: logits(join(dump, "logits.npy")),
    audioEmbeds: npy(join(dump, "audio_embeds.npy")).data,
  };
  const golden: RunOutput = {
    tokens: fx.golden.tokens,
    logits: logits(fx.golden.logits!),
    audioEmbeds: npy(join(fx.golden.dir, "audio_embeds.npy")).data,
  };
  return { golden, got };
}

test("judgeGolden: dump passes; a row 1 % off or a wide-margin token change fails; a near-tie is listed", async () => {
  const { golden, got } = await cpuDump();
  assert.equal(judgeGolden("real", golden, got, "cpu").status, "PASS");
  assert.equal(judgeGolden("real", golden, got, "cuda").status, "PASS");

  const V = got.logits!.vocab;
  const scaled = new Float32Array(got.logits!.data);
  for (let i = 10 * V; i < 11 * V; i++) scaled[i]! *= 1.01; // row 10: normRelErr 1e-2
  const r1 = judgeGolden("row 10 scaled", golden, { ...got, logits: { ...got.logits!, data: scaled } }, "cpu");
  assert.equal(r1.status, "FAIL");
  assert.match(r1.detail, /logits normRelErr 1\.00e-2 > 0\.00005/);
  assert.equal(
    judgeGolden("row 10 scaled", golden, { ...got, logits: { ...got.logits!, data: scaled } }, "cuda").status,
    "PASS",
  );

  const step = 20;
  const tokens = [...got.tokens];
  tokens[step] = tokens[step] === 5 ? 6 : 5;
  const r2 = judgeGolden("token changed", golden, { ...got, tokens }, "cuda");
  assert.equal(r2.status, "FAIL");
  assert.match(r2.detail, /tokens differ from step 20/);

  // The golden row at that step made a near-tie (top-2 margin 1e-3 < tokenMargin), the same change in the
  // candidate's row so the logits still agree: CUDA's rule lists the changed token, the CPU's fails it.
  const tied = new Float32Array(golden.logits!.data);
  const mine = new Float32Array(got.logits!.data);
  const row = tied.subarray(step * V, (step + 1) * V);
  let best = 0;
  for (let i = 1; i < V; i++) if (row[i]! > row[best]!) best = i;
  let second = best === 0 ? 1 : 0;
  for (let i = 0; i < V; i++) if (i !== best && row[i]! > row[second]!) second = i;
  row[best] = row[second]! + 1e-3;
  mine[step * V + best] = row[best]!;
  const narrow = { ...golden, logits: { ...golden.logits!, data: tied } };
  const r3 = judgeGolden("near-tie", narrow, { ...got, tokens, logits: { ...got.logits!, data: mine } }, "cuda");
  assert.equal(r3.status, "PASS", r3.detail);
  assert.match(r3.detail, /golden top-2 margin below 0\.01: allowed/);
  assert.equal(
    judgeGolden("near-tie", narrow, { ...got, tokens, logits: { ...got.logits!, data: mine } }, "cpu").status,
    "FAIL",
  );
});

test("judgeIdentical: one identical run and one that differs at step 3 fail, naming the second", () => {
  const ref = [1, 2, 3, 4, 5];
  assert.equal(judgeIdentical("x", "same", ref, [[1, 2, 3, 4, 5]]).status, "PASS");
  const r = judgeIdentical("x", "mixed", ref, [
    [1, 2, 3, 4, 5],
    [1, 2, 3, 9, 5],
  ]);
  assert.equal(r.status, "FAIL");
  assert.match(r.detail, /run 1: 1 differ, first at 3/);
  assert.equal(judgeIdentical("x", "none", ref, []).status, "FAIL");
});

/** BF16 values of a tensor, as float32. */
function tensor(dir: string, name: string): Float32Array {
  const path = join(dir, "consolidated.safetensors");
  const v = validateSafetensors(readSafetensorsHeader(path));
  const t = v.tensors.get(name);
  assert.ok(t, `${name} in ${path}`);
  const buf = readFileSync(path);
  const start = 8 + readSafetensorsHeader(path).headerLength!;
  const raw = buf.subarray(start + t.begin, start + t.end);
  const out = new Float32Array(raw.length / 2);
  const u = new Uint32Array(out.buffer);
  for (let i = 0; i < out.length; i++) u[i] = raw.readUInt16LE(2 * i) << 16;
  return out;
}

test("--synthetic-pad-rate: differs from the plain model only in embeddings column 0 and norm.weight[0]", async () => {
  const plain = join(tmp, "plain");
  const pad = join(tmp, "pad");
  for (const [dir, extra] of [
    [plain, []],
    [pad, ["--synthetic-pad-rate", "0.75"]],
  ] as const) {
    const r = await runEngine(["--write-synthetic", dir, "--synthetic-size", "tiny", "--seed", "3", ...extra]);
    assert.equal(r.failure, null, r.stderr);
  }
  const plan = JSON.parse(readFileSync(join(pad, "synthetic-pad.json"), "utf8")) as {
    pad_id: number;
    constant: number;
    pad_extra: number;
    final_norm_at_column: number;
  };
  assert.equal(plan.pad_id, 32);
  const emb = "mm_streams_embeddings.embedding_module.tok_embeddings.weight";
  const a = tensor(plain, emb);
  const b = tensor(pad, emb);
  const dim = 64;
  let changedOff = 0;
  for (let i = 0; i < a.length; i++) {
    if (i % dim === 0) assert.equal(b[i], Math.floor(i / dim) === 32 ? plan.constant + plan.pad_extra : plan.constant);
    else if (a[i] !== b[i]) changedOff++;
  }
  assert.equal(changedOff, 0, "values outside column 0 are the plain model's");
  const na = tensor(plain, "norm.weight");
  const nb = tensor(pad, "norm.weight");
  assert.equal(nb[0], plan.final_norm_at_column);
  assert.deepEqual(nb.subarray(1), na.subarray(1));
  assert.deepEqual(tensor(pad, "layers.0.attention.wq.weight"), tensor(plain, "layers.0.attention.wq.weight"));
});

test("--synthetic-pad-rate: out-of-range values, use without --write-synthetic: usage errors (exit 2)", async () => {
  for (const args of [
    ["--write-synthetic", join(tmp, "x"), "--synthetic-pad-rate", "1"],
    ["--write-synthetic", join(tmp, "x"), "--synthetic-pad-rate", "abc"],
  ]) {
    const r = await runEngine(args);
    assert.equal(r.exitCode, 2);
    assert.match(
      r.stderr,
      /voxtral: error: --synthetic-pad-rate needs a number from 0 to below 1, got '.*'\. Use e\.g\. 0\.75/,
    );
  }
  const r = await runEngine(["-d", join(tmp, "plain"), "--synthetic-pad-rate", "0.5"]);
  assert.equal(r.exitCode, 2);
  assert.match(r.stderr, /--synthetic-pad-rate shapes a synthetic model\. Use it with --write-synthetic DIR/);
});
