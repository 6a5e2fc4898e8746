// The checks every command makes on its input paths before any work, so one mistake gets one
// message and one exit code in all of them (transcribe, smoke, accuracy, bench, gate):
//   missing audio file / model folder / model files ........ InputError, exit 66 (missing input)
//   a folder given as audio, a file given as model folder ... InputError, exit 65 (bad input)
//   an empty or unreadable WAV (when the command reads it) .. InputError, exit 65
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { InputError, UsageError } from "./errors.js";
import { MODEL_FILES } from "./model.js";
import { readWav, WavError, type Pcm } from "./wav.js";

const MODEL_FIX =
  "Pass --model DIR: a folder with params.json, consolidated.safetensors and tekken.json (README: The real model).";

function kindOf(path: string): "file" | "dir" | "other" | null {
  try {
    const st = statSync(path);
    return st.isFile() ? "file" : st.isDirectory() ? "dir" : "other";
  } catch {
    return null;
  }
}

/** An audio path that exists and is a non-empty file. `flag` names the option (e.g. "--audio"). */
export function checkAudioFile(path: string, flag = "audio file"): string {
  const k = kindOf(path);
  if (k === null) throw new InputError(`${flag} ${path} does not exist`, "Check the path of the audio file.", true);
  if (k !== "file")
    throw new InputError(
      `${flag} ${path} is a ${k === "dir" ? "folder" : "special file"}, not an audio file`,
      "Pass a WAV file.",
    );
  if (statSync(path).size === 0)
    throw new InputError(`${flag} ${path} is empty (0 bytes)`, "Pass a WAV file with audio in it.");
  return path;
}

/** Reads a 16-bit PCM WAV that the toolkit itself needs (smoke, bench clips); bad content is exit 65. */
export function readAudioWav(path: string, flag = "audio file"): Pcm {
  checkAudioFile(path, flag);
  try {
    const pcm = readWav(path);
    if (pcm.samples.length === 0) throw new WavError(`${path}: the WAV holds no samples`);
    return pcm;
  } catch (e) {
    if (!(e instanceof WavError)) throw e;
    throw new InputError(
      `${flag} ${path} cannot be used: ${e.message.replace(`${path}: `, "")}`,
      "Pass a 16-bit PCM WAV; convert with: ffmpeg -i IN -ar 16000 -ac 1 OUT.wav",
    );
  }
}

/** A model folder that exists and holds the three model files (their content is the engine's and
 *  vox-doctor's to judge). Missing folder or files: exit 66; a file instead of a folder: 65. */
export function checkModelDir(dir: string, flag = "--model"): string {
  const k = kindOf(dir);
  if (k === null) throw new InputError(`model folder ${dir} does not exist`, MODEL_FIX, true);
  if (k !== "dir") throw new InputError(`${flag} ${dir} is a file, not a model folder`, MODEL_FIX);
  const present = new Set(readdirSync(dir));
  const absent = MODEL_FILES.filter((f) => !present.has(f) || kindOf(join(dir, f)) !== "file");
  if (absent.length > 0) {
    throw new InputError(
      `model folder ${dir} lacks ${absent.join(", ")}`,
      `${MODEL_FIX} npx vox-doctor --model ${dir} checks a folder.`,
      true,
    );
  }
  return dir;
}

/** A numeric flag yargs parsed (it gives NaN for "abc"): must be finite and > 0 (integer when asked). */
export function checkPositive(flag: string, v: number | undefined, integer = false): void {
  if (v === undefined) return;
  if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
    throw new UsageError(
      `${flag} must be a positive ${integer ? "integer" : "number"}, got ${Number.isNaN(v) ? "a non-number" : v}`,
    );
  }
}
