// Benchmark clips of chosen lengths, made from real speech: the recordings are joined longest first
// and looped until the length is reached, then cut to the exact sample count (16 kHz mono WAV).
// Sources: WAVs under checks/fixtures/ and the shared samples folder ($VOX_SAMPLES_DIR, else
// ../shared/samples next to the package), so a 180 s clip is three different speakers, not one loop.
import { existsSync, readdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { InputError, UsageError } from "../../lib/errors.js";
import { fixturesDir, packageRoot } from "../../lib/paths.js";
import { readWav, writeWav, type Pcm } from "../../lib/wav.js";
import type { Clip } from "./types.js";

const SAMPLE_RATE = 16000;

export interface SpeechSource {
  path: string;
  pcm: Pcm;
}

/** "3.6,11,180" -> [3.6, 11, 180]; throws UsageError on anything else. */
export function parseSeconds(list: string): number[] {
  const out = list
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (out.length === 0 || out.some((x) => !Number.isFinite(x) || x <= 0 || x > 24 * 3600)) {
    throw new UsageError(
      `--seconds wants a comma-separated list of positive lengths in seconds, got "${list}"`,
      "Example: --seconds 3.6,11,180",
    );
  }
  return out;
}

/** Clip name used in reports and tables: "180s", "3.6s". */
export function clipName(seconds: number): string {
  return `${Number(seconds.toFixed(2))}s`;
}

/** Joins sources (longest first) and loops them into exactly `seconds` of audio. Pure. */
export function makeClip(sources: readonly SpeechSource[], seconds: number): { pcm: Pcm; used: string[] } {
  if (sources.length === 0) throw new Error("makeClip: no speech sources");
  const ordered = [...sources].sort(
    (a, b) => b.pcm.samples.length - a.pcm.samples.length || a.path.localeCompare(b.path),
  );
  const want = Math.round(seconds * SAMPLE_RATE);
  const out = new Int16Array(want);
  const used: string[] = [];
  let filled = 0;
  for (let i = 0; filled < want; i = (i + 1) % ordered.length) {
    const src = ordered[i]!.pcm.samples;
    const n = Math.min(src.length, want - filled);
    out.set(src.subarray(0, n), filled);
    filled += n;
    if (!used.includes(ordered[i]!.path)) used.push(ordered[i]!.path);
  }
  return { pcm: { sampleRate: SAMPLE_RATE, samples: out }, used };
}

function wavsIn(dir: string, recursive: boolean): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.toLowerCase().endsWith(".wav"))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** The speech folders searched, in order. */
function speechDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  return [fixturesDir(), env.VOX_SAMPLES_DIR ?? join(dirname(packageRoot()), "shared", "samples")];
}

/** Loads every 16 kHz speech WAV found (others are skipped: the engine would resample them, the clip
 *  maker does not). Throws InputError when there is none. */
export function findSpeech(dirs: readonly string[] = speechDirs()): SpeechSource[] {
  const found: SpeechSource[] = [];
  for (const [i, dir] of dirs.entries()) {
    for (const path of wavsIn(dir, i === 0)) {
      const pcm = readWav(path);
      if (pcm.sampleRate === SAMPLE_RATE && pcm.samples.length >= SAMPLE_RATE) found.push({ path, pcm });
    }
  }
  if (found.length === 0) {
    throw new InputError(
      `no 16 kHz speech WAV (1 s or longer) found in ${dirs.join(" or ")}`,
      "Pass recordings with --audio FILE..., or point VOX_SAMPLES_DIR at a folder of 16 kHz WAVs.",
      true,
    );
  }
  return found;
}

/** Writes one WAV per length into `dir`; returns the clips with their paths. */
export function writeClips(
  secondsList: readonly number[],
  sources: readonly SpeechSource[],
  dir: string,
): Array<{ clip: Clip; path: string }> {
  return secondsList.map((seconds) => {
    const { pcm, used } = makeClip(sources, seconds);
    const path = join(dir, `clip-${clipName(seconds)}.wav`);
    writeWav(path, pcm);
    return { clip: { name: clipName(seconds), seconds, sources: used.map((p) => basename(p)) }, path };
  });
}

/** --audio FILE...: the files as they are (WAV, for its length). */
export function audioClips(files: readonly string[]): Array<{ clip: Clip; path: string }> {
  return files.map((path) => {
    if (!existsSync(path))
      throw new InputError(`audio file ${path} does not exist`, "Check the path given to --audio.", true);
    let pcm: Pcm;
    try {
      pcm = readWav(path);
    } catch (e) {
      throw new InputError(
        `${(e as Error).message}`,
        "vox-bench reads 16-bit PCM WAV; convert with: ffmpeg -i IN -ar 16000 -ac 1 OUT.wav",
      );
    }
    const seconds = pcm.samples.length / pcm.sampleRate;
    return { clip: { name: basename(path), seconds, sources: [basename(path)] }, path };
  });
}
