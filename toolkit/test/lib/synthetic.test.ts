// The synthetic-model cache: written by the real engine once, reused while complete, rewritten when a
// file no longer matches its stamp, and nothing left behind when the engine fails.
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { execa } from "execa";
import { mkdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { packageRoot } from "../../src/lib/paths.js";
import { cacheRoot, ensureSynthetic, isComplete, removeStalePartials, syntheticDir } from "../../src/lib/synthetic.js";

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
    await assert.rejects(
      ensureSynthetic({ size: "tiny", seed: 9, env, engine: fake }),
      /writing the synthetic tiny model failed: .*disk full/,
    );
    assert.deepEqual(
      readdirSync(join(dir, "vox")).filter((f) => f.includes("-9")),
      [],
    );
    assert.equal(existsSync(syntheticDir("tiny", 9, env)), false);
  });

  it("a .partial folder of a killed run is removed by the next run; a live run's is left alone", async () => {
    const dead = Number((await execa(process.execPath, ["-e", "process.stdout.write(String(process.pid))"])).stdout);
    const stale = `${syntheticDir("tiny", 4, env)}.partial-${dead}`;
    const live = `${syntheticDir("tiny", 5, env)}.partial-${process.ppid}`;
    for (const d of [stale, live]) {
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, "consolidated.safetensors"), "half");
    }
    const r = await ensureSynthetic({ size: "tiny", seed: 4, env });
    assert.equal(r.written, true);
    assert.equal(existsSync(stale), false, "stale partial removed");
    assert.equal(existsSync(live), true, "a running writer's folder is kept");
    assert.deepEqual(removeStalePartials(env), []);
    rmSync(live, { recursive: true });
  });

  it("Ctrl-C while the model is written: the engine is stopped, no .partial folder stays, exit 130", async () => {
    const work = mkdtempSync(join(dir, "sigint-"));
    const pidFile = join(work, "engine.pid");
    const fake = join(work, "fake-voxtral");
    // Writes part of the weights into the folder it is given, then hangs like a long write.
    const survived = join(work, "survived");
    writeFileSync(
      fake,
      `#!/bin/sh\necho $$ > "${pidFile}"\necho partial > "$2/consolidated.safetensors"\nsleep 20\ntouch "${survived}"\n`,
    );
    chmodSync(fake, 0o755);
    const script = join(work, "write.mjs");
    const lib = join(packageRoot(), "dist", "toolkit", "src", "lib", "synthetic.js");
    writeFileSync(
      script,
      `import { ensureSynthetic } from ${JSON.stringify(lib)};\nawait ensureSynthetic({ size: "full", seed: 1, engine: ${JSON.stringify(fake)} });\n`,
    );
    const child = execa(process.execPath, [script], { reject: false, env: { XDG_CACHE_HOME: join(work, "cache") } });
    const partial = join(work, "cache", "vox", `synthetic-full-1.partial-${child.pid}`);
    while (!existsSync(join(partial, "consolidated.safetensors"))) await sleep(50);
    child.kill("SIGINT");
    const r = await child;
    assert.equal(r.exitCode, 130, String(r.stderr));
    assert.match(String(r.stderr), /interrupted \(SIGINT\); temporary files removed/);
    assert.deepEqual(readdirSync(join(work, "cache", "vox")), [], "no partial folder");
    const pid = Number(readFileSync(pidFile, "utf8"));
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    while (alive()) await sleep(50); // gone at once when killed; after its 20 s sleep when not
    assert.equal(existsSync(survived), false, "the engine was killed, not left writing");
  });
});
