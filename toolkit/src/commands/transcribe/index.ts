// `vox transcribe [AUDIO] [--model DIR]`: the main job — speech in, text out — through the engine.
// With no arguments it runs the bundled tiny test model on its own audio, so a fresh checkout can
// show the whole pipeline working; the engine is built first (once) when it is missing.
import { join } from "node:path";
import type { Argv } from "yargs";
import { ensureEngineBuilt } from "../../lib/build-lock.js";
import { runEngine } from "../../lib/engine.js";
import { EXIT, InputError } from "../../lib/errors.js";
import { isFixture, readFixture } from "../../lib/fixture.js";
import { checkAudioFile, checkModelDir } from "../../lib/inputs.js";
import { fixturesDir } from "../../lib/paths.js";

/** The bundled model used when --model is not given (a tiny random model: its text is meaningless). */
export const DEFAULT_MODEL = "tiny-delay";

export interface TranscribeArgs {
  audio?: string;
  model?: string;
  backend: "auto" | "cpu" | "cuda";
  "delay-ms"?: number;
  json: boolean;
  timeout: number;
}

export function transcribeOptions<T>(y: Argv<T>): Argv<T & TranscribeArgs> {
  return y
    .positional("audio", { type: "string", describe: "audio file (WAV; default: the bundled model's clip)" })
    .option("model", { type: "string", describe: `model folder (default: the bundled test model checks/fixtures/${DEFAULT_MODEL})` })
    .option("backend", { choices: ["auto", "cpu", "cuda"] as const, default: "auto" as const, describe: "engine backend" })
    .option("delay-ms", { type: "number", describe: "transcription delay, 80..2400 ms (default: the fixture's, else 480)" })
    .option("json", { type: "boolean", default: false, describe: "print the engine's JSON result (text, tokens, timings)" })
    .option("timeout", { type: "number", default: 3600, describe: "seconds before the engine is stopped" }) as unknown as Argv<T & TranscribeArgs>;
}

/** Model folder, audio file and delay: explicit arguments first, then the bundled fixture's. */
function resolveTranscribeInputs(a: Pick<TranscribeArgs, "audio" | "model" | "delay-ms">): { model: string; audio: string; delayMs?: number; bundled: boolean } {
  const model = checkModelDir(a.model ?? join(fixturesDir(), DEFAULT_MODEL));
  const fx = isFixture(model) ? readFixture(model) : null;
  const audio = a.audio ?? fx?.audio;
  if (!audio) throw new InputError(`no audio file given for ${model}`, "Pass the audio file: vox transcribe FILE.wav --model DIR.", true);
  checkAudioFile(audio);
  return { model, audio, delayMs: a["delay-ms"] ?? fx?.delayMs, bundled: a.model === undefined };
}

export async function runTranscribe(a: TranscribeArgs): Promise<number> {
  const input = resolveTranscribeInputs(a);
  await ensureEngineBuilt({ note: (l) => console.error(l) });
  const args = ["-d", input.model, "-i", input.audio, "--backend", a.backend];
  if (input.delayMs !== undefined) args.push("--delay-ms", String(input.delayMs));
  if (a.json) args.push("--json");
  const run = await runEngine(args, { timeoutMs: a.timeout * 1000 });
  process.stderr.write(run.stderr);
  if (run.failure) {
    console.error(`vox transcribe: ${run.failure}`);
    // The engine's own exit code when it ran; 69 when it could not be started (as every vox command).
    if (run.failureKind === "spawn") return EXIT.engineUnavailable;
    return run.exitCode && run.exitCode > 0 ? run.exitCode : EXIT.failed;
  }
  process.stdout.write(run.stdout.endsWith("\n") ? run.stdout : `${run.stdout}\n`);
  if (input.bundled && !a.json) {
    console.error(`vox: note: that was the bundled tiny random model (${DEFAULT_MODEL}): its text is meaningless by design; the pipeline ran end to end. Use --model DIR for the real model.`);
  }
  return EXIT.ok;
}
