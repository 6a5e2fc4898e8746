// `vox transcribe [AUDIO] [--model DIR]`: the main job — speech in, text out — through the engine.
// With no arguments it runs the bundled tiny test model on its own audio, so a fresh checkout can
// show the whole pipeline working; the engine is built first (once) when it is missing.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Argv } from "yargs";
import { runEngine } from "../../lib/engine.js";
import { EngineUnavailableError, EXIT, InputError } from "../../lib/errors.js";
import { runCommand } from "../../lib/exec.js";
import { isFixture, readFixture } from "../../lib/fixture.js";
import { engineBinary, fixturesDir, packageRoot } from "../../lib/paths.js";
import type { BackendChoice } from "../../lib/backend.js";

/** The bundled model used when --model is not given (a tiny random model: its text is meaningless). */
export const DEFAULT_MODEL = "tiny-delay";

export interface TranscribeArgs {
  audio?: string;
  model?: string;
  backend: BackendChoice;
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
  const model = a.model ?? join(fixturesDir(), DEFAULT_MODEL);
  if (!existsSync(model)) {
    throw new InputError(`model folder ${model} does not exist`, "Pass --model DIR: a folder with params.json, consolidated.safetensors and tekken.json (see README, 'The real model').", true);
  }
  const fx = isFixture(model) ? readFixture(model) : null;
  const audio = a.audio ?? fx?.audio;
  if (!audio) throw new InputError(`no audio file given for ${model}`, "Pass the audio file: vox transcribe FILE.wav --model DIR.", true);
  return { model, audio, delayMs: a["delay-ms"] ?? fx?.delayMs, bundled: a.model === undefined };
}

/** Builds the CPU engine once when the binary is missing (says so; make's output on failure). */
async function ensureEngine(): Promise<void> {
  if (existsSync(engineBinary()) || process.env.VOX_ENGINE) return;
  console.error("vox: note: the engine is not built yet; building it now with make -C engine (once).");
  const make = await runCommand("make", ["-C", join(packageRoot(), "engine")], { timeoutMs: 15 * 60_000 });
  if (make.exitCode !== 0) {
    process.stderr.write(make.stderr.split("\n").slice(-15).join("\n"));
    throw new EngineUnavailableError(
      `make -C engine failed${make.error ? ` (${make.error})` : ""}`,
      "Run npx vox-doctor --backend cpu: it names what is missing (usually: sudo apt-get install -y build-essential libopenblas-dev).",
    );
  }
}

export async function runTranscribe(a: TranscribeArgs): Promise<number> {
  const input = resolveTranscribeInputs(a);
  await ensureEngine();
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
