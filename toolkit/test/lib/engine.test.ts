// engine.ts against real processes: small shell scripts stand in for the engine so every exit path
// (success, each engine exit code, a signal, a hang, a missing binary, stdin) is exercised for real.
import assert from "node:assert/strict";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { describeFailure, engineErrorLine, runEngine, startEngine } from "../../src/lib/engine.js";
import { engineBinary } from "../../src/lib/paths.js";
import { trackedTempDir } from "../../src/lib/cleanup.js";

const dir = trackedTempDir("vox-engine-");
function script(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

test("success: stdout, stderr, args, env and duration come back", async () => {
  const bin = script("ok.sh", 'echo "args=$*"; echo "env=$VOX_TEST_VAR" ; echo "voxtral: note: cpu" >&2');
  const r = await runEngine(["--info", "x"], { binary: bin, env: { VOX_TEST_VAR: "42" } });
  assert.equal(r.exitCode, 0);
  assert.equal(r.failure, null);
  assert.equal(r.stdout, "args=--info x\nenv=42\n");
  assert.equal(r.stderr, "voxtral: note: cpu\n");
  assert.ok(r.durationMs >= 0);
  assert.equal(r.command, `${bin} --info x`);
});

test("each engine exit code becomes words, with the engine's error line", async () => {
  const cases: Array<[number, RegExp, string]> = [
    [2, /usage error \(exit 2\)/, "usage"],
    [3, /model files error \(exit 3\): voxtral: error: params.json missing/, "model"],
    [4, /audio input error \(exit 4\)/, "audio"],
    [5, /backend\/device error \(exit 5\)/, "backend"],
    [6, /out of memory error \(exit 6\)/, "oom"],
    [9, /unexpected exit code 9/, "exit"],
  ];
  for (const [code, re, kind] of cases) {
    const bin = script(
      `exit${code}.sh`,
      `echo "noise" >&2; echo "voxtral: error: params.json missing. Download it." >&2; exit ${code}`,
    );
    const r = await runEngine([], { binary: bin });
    assert.equal(r.exitCode, code);
    assert.match(r.failure ?? "", re);
    assert.equal(r.failureKind, kind);
  }
});

test("a crash by signal is named", async () => {
  const r = await runEngine([], { binary: script("segv.sh", "kill -SEGV $$") });
  assert.equal(r.exitCode, null);
  assert.equal(r.signal, "SIGSEGV");
  assert.equal(r.failureKind, "signal");
  assert.match(r.failure ?? "", /segmentation fault \(SIGSEGV, signal 11\)/);
});

test("a hang is killed at the timeout and reported", async () => {
  const r = await runEngine([], { binary: script("hang.sh", "exec sleep 30"), timeoutMs: 300 });
  assert.equal(r.timedOut, true);
  assert.equal(r.failureKind, "timeout");
  assert.match(r.failure ?? "", /timed out after 300 ms/);
  assert.ok(r.durationMs < 10000);
});

test("a missing binary is a spawn failure that says how to build it", async () => {
  const r = await runEngine(["--info"], { binary: join(dir, "nope") });
  assert.equal(r.failureKind, "spawn");
  assert.match(r.failure ?? "", /ENOENT.*make -C engine or set VOX_ENGINE/);
});

test("stdin: input bytes, input file, and a live pipe", async () => {
  const cat = script("cat.sh", "exec cat");
  assert.equal((await runEngine([], { binary: cat, input: "RIFF..." })).stdout, "RIFF...");
  const f = join(dir, "in.raw");
  writeFileSync(f, Buffer.from([65, 66, 67]));
  assert.equal((await runEngine([], { binary: cat, inputFile: f })).stdout, "ABC");
  const live = startEngine([], { binary: cat, stdinPipe: true });
  live.process.stdin?.end("streamed");
  assert.equal((await live.result).stdout, "streamed");
});

test("pure helpers: error line choice and VOX_ENGINE override", () => {
  assert.equal(engineErrorLine("a\nvoxtral: error: x. y\nb\n"), "voxtral: error: x. y");
  assert.equal(engineErrorLine("first\nlast\n"), "last");
  assert.equal(engineErrorLine(""), null);
  assert.deepEqual(describeFailure({ exitCode: 0, signal: null, timedOut: false, stderr: "" }), {
    failure: null,
    failureKind: null,
  });
  assert.equal(engineBinary({ VOX_ENGINE: "/opt/vox/voxtral" }), "/opt/vox/voxtral");
  assert.match(engineBinary({}), /engine\/build\/voxtral$/);
});
