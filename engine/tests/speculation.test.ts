// Exact speculation (engine/README.md, "Speculation"): on every fixture, CPU backend, the tokens of
// --speculate K for K in {2, 4, 8} equal --no-speculation's, with a guess the model often emits (the
// fixture's most frequent token: blocks are accepted) and with one it never emits (every block is
// rejected after its first row); the tiny random models never emit STREAMING_PAD, the default guess.
// The CPU backend computes the rows of a forward of <= 8 rows independently (GEMV and attention), so
// the logits of every decided position are asserted bitwise equal to the single-step ones, with
// --dump writing exactly one logits row per decided position. The --json "speculation" counts must
// add up, and the KV rings hold whole 256-position blocks up to their capacity ("kv_mb").
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { parseEngineJson, runEngine } from "../../toolkit/src/lib/engine.js";
import { readNpyF32 } from "../../toolkit/src/lib/npy.js";
import { fixturesDir } from "../../toolkit/src/lib/paths.js";
import { fixtureNames, fixtureRunArgs, readFixture } from "./golden.js";

interface Spec {
  k: number;
  guess: number;
  forwards: number;
  decided: number;
  rows: number;
  accepted: number[];
  pad_rate: number;
}
interface Out {
  tokens: number[];
  n_audio: number;
  speculation: Spec;
  kv_mb: number;
  step_ms: number[];
}
interface Params {
  n_layers: number;
  n_kv_heads: number;
  head_dim: number;
  sliding_window: number;
}

const root = fixturesDir();
const names = fixtureNames(root);
const tmp = mkdtempSync(join(tmpdir(), "vox-spec-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

for (const name of names) {
  describe(`speculation on ${name}`, () => {
    const dir = join(root, name);
    const fx = readFixture(dir);
    const base = fixtureRunArgs(dir, fx);
    let ref: Out;
    let refLogits: Buffer;

    async function run(tag: string, extra: string[]): Promise<Out> {
      const r = await runEngine([...base, "--dump", join(tmp, `${name}-${tag}`), ...extra]);
      assert.equal(r.failure, null, `${r.command}\n${r.stderr}`);
      return parseEngineJson<Out>(r);
    }

    test("--no-speculation decides one position per forward", async () => {
      ref = await run("ref", ["--no-speculation"]);
      refLogits = readFileSync(join(tmp, `${name}-ref`, "logits.npy"));
      assert.equal(ref.speculation.k, 1);
      assert.equal(ref.speculation.forwards, ref.tokens.length);
      assert.deepEqual(ref.speculation.accepted, [ref.tokens.length]);
    });

    test("the default run speculates 8 rows and gives the same tokens", async () => {
      const out = await run("default", []);
      assert.equal(out.speculation.k, 8);
      assert.deepEqual(out.tokens, ref.tokens);
    });

    for (const kind of ["often", "never"] as const) {
      for (const K of [2, 4, 8, 16]) {
        test(`--speculate ${K}, a guess accepted ${kind}: same tokens, bitwise the same logits`, async () => {
          const counts = new Map<number, number>();
          for (const t of ref.tokens) counts.set(t, (counts.get(t) ?? 0) + 1);
          const frequent = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]![0];
          let absent = 1;
          while (counts.has(absent)) absent++;
          const guess = kind === "often" ? frequent : absent;
          const tag = `k${K}-${kind}`;
          const out = await run(tag, ["--speculate", String(K), "--spec-guess", String(guess)]);
          assert.deepEqual(out.tokens, ref.tokens, `tokens differ from --no-speculation (${tag})`);
          const s = out.speculation;
          assert.equal(s.k, K);
          assert.equal(s.guess, guess);
          assert.equal(s.decided, ref.tokens.length);
          assert.equal(s.accepted.length, K);
          assert.equal(
            s.accepted.reduce((a, b) => a + b, 0),
            s.forwards,
            "accepted[] counts every forward",
          );
          assert.equal(
            s.accepted.reduce((a, b, i) => a + b * (i + 1), 0),
            s.decided,
            "accepted[] adds up to the positions",
          );
          if (kind === "often") assert.ok(s.forwards < s.decided, `no block was accepted (${s.forwards} forwards)`);
          else {
            assert.equal(s.forwards, s.decided, "a guess the model never emits must never be accepted");
            // halved after every failed forward: fewer than K + K/2 + ... + 2 rows computed in vain, then
            // single steps (a fixed K would compute K rows per position)
            assert.ok(s.rows < s.decided + 2 * K, `rows computed: ${s.rows} for ${s.decided} positions`);
          }
          assert.equal(out.step_ms.length, out.tokens.length);
          const logits = readNpyF32(join(tmp, `${name}-${tag}`, "logits.npy"));
          assert.equal(logits.shape[0], out.tokens.length, "--dump keeps one logits row per decided position");
          assert.ok(
            readFileSync(join(tmp, `${name}-${tag}`, "logits.npy")).equals(refLogits),
            "logits of the decided positions differ from single steps (bitwise)",
          );
        });
      }
    }

    test("kv_mb: whole 256-position blocks up to the ring's capacity", async () => {
      const out = await run("kv", ["--ignore-eos", "--dump-steps", "0"]);
      const p = JSON.parse(readFileSync(join(dir, "params.json"), "utf8")) as Params;
      const cap = p.sliding_window + 32 + fx.delay_ms / 80;
      const slots = Math.min(cap, Math.ceil(out.n_audio / 256) * 256);
      const bytes = slots * p.n_kv_heads * p.head_dim * 4 * 2 * p.n_layers;
      assert.equal(out.kv_mb.toFixed(3), (bytes / 1048576).toFixed(3));
    });
  });
}

test("bad speculation options are usage errors (exit 2)", async () => {
  const dir = join(root, names[0]!);
  const fx = readFixture(dir);
  const r1 = await runEngine(["-d", dir, "-i", join(dir, fx.audio), "--backend", "cpu", "--speculate", "17"]);
  assert.equal(r1.exitCode, 2);
  assert.match(
    r1.stderr,
    /^voxtral: error: --speculate needs an integer from 1 to 16, got '17'\. Run voxtral --help$/m,
  );
  const r2 = await runEngine(["-d", dir, "-i", join(dir, fx.audio), "--backend", "cpu", "--spec-guess", "99999999"]);
  assert.equal(r2.exitCode, 2);
  assert.match(r2.stderr, /^voxtral: error: the speculation guess 99999999 is not a token of this model/m);
});
