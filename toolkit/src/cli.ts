// The `vox` command line: declares the commands only; each lives in src/commands/<name>/.
// To add a command: create src/commands/<name>/index.ts exporting an options builder and a
// `run...(args): Promise<number>` returning the exit code, then add one `.command(...)` below.
import yargs from "yargs";
import { accuracyOptions, runAccuracy } from "./commands/accuracy/index.js";
import { buildOptions, runBuild } from "./commands/build/index.js";
import { doctorOptions, runDoctor } from "./commands/doctor/index.js";
import { gateOptions, runGate } from "./commands/gate/index.js";
import { matrixCommands } from "./commands/matrix/index.js";
import { runServe, serveOptions } from "./commands/serve/index.js";
import { runSmoke, smokeOptions } from "./commands/smoke/index.js";
import { STDIN_ARG } from "./commands/transcribe/inputs.js";
import { runTranscribe, transcribeOptions } from "./commands/transcribe/index.js";
import { exitWith, usageFailure } from "./lib/errors.js";

export async function main(argv: string[]): Promise<void> {
  // yargs drops a bare "-" (stdin, for vox transcribe): it is passed on under a name yargs keeps.
  await yargs(argv.map((x) => (x === "-" ? STDIN_ARG : x)))
    .scriptName("vox")
    .command("doctor", "check that this machine can run the engine; print what to fix", doctorOptions, (a) =>
      exitWith("vox doctor", () => runDoctor(a)),
    )
    .command(
      "transcribe [audio..]",
      "speech to text as it is decided: files (any format ffmpeg reads), - for stdin, or --mic; txt, json, verbose_json, srt, vtt",
      transcribeOptions,
      (a) => exitWith("vox transcribe", () => runTranscribe(a)),
    )
    .command(
      "serve",
      "live server: realtime WebSocket (vLLM protocol), OpenAI transcriptions, the microphone page",
      serveOptions,
      (a) => exitWith("vox serve", () => runServe(a)),
    )
    .command(
      "build",
      "doctor pre-checks, make (CPU, or CUDA kernels for chosen architectures), build-info.json",
      buildOptions,
      (a) => exitWith("vox build", () => runBuild(a)),
    )
    .command(
      "smoke",
      "run the engine through every input path on a model (file, stdin PCM/WAV, ffmpeg, concurrent)",
      smokeOptions,
      (a) => exitWith("vox smoke", () => runSmoke(a)),
    )
    .command(
      "accuracy",
      "compare a backend with a baseline (cpu, golden, or a report): token diff, WER/CER, logits",
      accuracyOptions,
      (a) => exitWith("vox accuracy", () => runAccuracy(a)),
    )
    .command("gate", "build + smoke + accuracy with the tolerances in ci/gate.json (for CI)", gateOptions, (a) =>
      exitWith("vox gate", () => runGate(a)),
    )
    .command("matrix", "the tested-environments matrix: add REPORT... | render", (y) => matrixCommands(y, exitWith))
    .demandCommand(1, "Name a command (see --help).")
    .strict()
    .fail(usageFailure("vox"))
    .help()
    .parseAsync();
}
