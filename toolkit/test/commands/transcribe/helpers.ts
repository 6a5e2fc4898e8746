// Shared by the vox transcribe tests: start the real CLI as a live process (to read its stdout while
// it runs, write its stdin, send it Ctrl-C), a private name for the engine binary (so a test can see
// whether an engine process of its own is still running), and audio made from the fixtures.
import { execa, type ResultPromise } from "execa";
import { readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { engineBinary, fixturesDir, packageRoot } from "../../../src/lib/paths.js";
import { encodeWav, readWav } from "../../../src/lib/wav.js";
import { tempDir } from "../vox-cli.js";

export const VOX_JS = join(packageRoot(), "dist", "toolkit", "src", "bin", "vox.js");
export const REAL_WINDOWS = join(fixturesDir(), "tiny-real-windows");
export const TINY_DELAY = join(fixturesDir(), "tiny-delay");
export const JFK = join(TINY_DELAY, "jfk.wav");

/** The engine under a name of this test's own (a symlink in a temp folder), for VOX_ENGINE. */
export function privateEngine(): { path: string; dir: string } {
  const dir = tempDir("vox-engine-link-");
  const path = join(dir, "voxtral");
  symlinkSync(engineBinary({}), path);
  return { path, dir };
}

/** Processes whose command line contains `needle` (read from /proc). */
export function processesWith(needle: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, "utf8").includes(needle)) pids.push(Number(d));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/** `vox transcribe INPUT... --model tiny-delay --backend cpu --output-dir DIR --format F...`. */
export function transcribeToDir(inputs: string[], outputDir: string, formats: string[]): string[] {
  return [
    "transcribe",
    ...inputs,
    "--model",
    TINY_DELAY,
    "--backend",
    "cpu",
    "--output-dir",
    outputDir,
    ...formats.flatMap((f) => ["--format", f]),
  ];
}

export function startVox(
  args: string[],
  env: Record<string, string> = {},
  cwd = packageRoot(),
): ResultPromise<{ reject: false; buffer: true; stdin: "pipe"; timeout: number }> {
  return execa(process.execPath, [VOX_JS, ...args], {
    reject: false,
    env,
    cwd,
    stdin: "pipe",
    timeout: 300_000,
  }) as never;
}

/** Resolves with the stdout text so far once it satisfies `ok` (rejects if the process ends first). */
export function stdoutUntil(p: ResultPromise, ok: (text: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const onData = (b: Buffer) => {
      text += b.toString("utf8");
      if (ok(text)) {
        p.stdout!.off("data", onData);
        resolve(text);
      }
    };
    p.stdout!.on("data", onData);
    void p.then((r) =>
      reject(
        new Error(
          `vox ended (exit ${r.exitCode}) before the expected output; stdout ${JSON.stringify(text)}; stderr ${String(r.stderr)}`,
        ),
      ),
    );
  });
}

/** A 16 kHz mono WAV of `fixtureWav` repeated to `seconds`. */
export function repeatedWav(fixtureWav: string, seconds: number): Buffer {
  const pcm = readWav(fixtureWav);
  const n = Math.round(seconds * pcm.sampleRate);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = pcm.samples[i % pcm.samples.length]!;
  return encodeWav({ sampleRate: pcm.sampleRate, samples: out });
}

export function cleanup(...dirs: string[]): void {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
