// `vox smoke`: does the built engine work on this machine through every input path? Prints a table,
// writes reports/smoke-<time>.json (+ .csv); exit 2 when a check fails.
import Table from "cli-table3";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Argv } from "yargs";
import { collectEnvironment } from "../../lib/environment.js";
import { EXIT, InputError } from "../../lib/errors.js";
import { isFixture, readFixture } from "../../lib/fixture.js";
import { fixturesDir, packageRoot } from "../../lib/paths.js";
import { checkModelDir, checkPositive, readAudioWav } from "../../lib/inputs.js";
import { prepareReportsDir, writeReport } from "../../lib/report.js";
import { smokeReport, type SmokeReport } from "./run.js";
import type { BackendChoice } from "../../lib/backend.js";

const DEFAULT_FIXTURE = "tiny-real-windows";

export interface SmokeArgs {
  model?: string;
  audio?: string;
  backend: BackendChoice;
  ogg?: string;
  timeout: number;
  json: boolean;
  csv: boolean;
  "out-dir"?: string;
}

export function smokeOptions<T>(y: Argv<T>): Argv<T & SmokeArgs> {
  return y
    .option("model", {
      type: "string",
      describe: `model folder (default: the bundled fixture checks/fixtures/${DEFAULT_FIXTURE})`,
    })
    .option("audio", {
      type: "string",
      describe: "16 kHz WAV to transcribe (default: the fixture's audio; required for other models)",
    })
    .option("backend", {
      choices: ["cpu", "cuda", "auto"] as const,
      default: "auto" as const,
      describe: "backend to ask for; auto expects cuda when the engine finds a GPU",
    })
    .option("ogg", {
      type: "string",
      describe: "file for the ffmpeg pipe check (default: ../shared/samples/I_have_a_dream.ogg beside the repository)",
    })
    .option("timeout", { type: "number", default: 300, describe: "seconds before an engine run is killed" })
    .option("json", { type: "boolean", default: false, describe: "print the report as JSON" })
    .option("csv", { type: "boolean", default: false, describe: "also write a CSV of the checks" })
    .option("out-dir", {
      type: "string",
      describe: "report folder (default $VOX_REPORTS_DIR or ./reports)",
    }) as unknown as Argv<T & SmokeArgs>;
}

/** The .ogg sample sits in ../shared/samples beside the checkout (CI layout); null when absent. */
export function defaultOgg(): string | null {
  const p = join(packageRoot(), "..", "shared", "samples", "I_have_a_dream.ogg");
  return existsSync(p) ? p : null;
}

export function smokeRows(r: SmokeReport): Array<Record<string, string | number | null>> {
  return r.checks.map((c) => ({
    id: c.id,
    status: c.status,
    backend: c.backend,
    duration_ms: c.durationMs,
    wall_ms: c.timingsMs?.wall ?? null,
    detail: c.detail,
  }));
}

function smokeTable(r: SmokeReport): string {
  const t = new Table({
    head: ["check", "result", "detail"],
    colWidths: [14, 8, 90],
    wordWrap: true,
    style: { head: [], border: [] },
  });
  const sym = { pass: "✔ pass", fail: "✖ fail", skip: "- skip" } as const;
  for (const c of r.checks)
    t.push([c.id, sym[c.status], c.fix && c.status === "fail" ? `${c.detail}\nfix: ${c.fix}` : c.detail]);
  return t.toString();
}

/** Model and audio: the bundled fixture unless --model names another folder (then --audio is needed).
 *  Both are checked before any run (lib/inputs.ts: 66 missing, 65 unusable), the WAV read as smoke reads it. */
export function resolveSmokeInputs(a: Pick<SmokeArgs, "model" | "audio">): {
  model: string;
  audio: string;
  delayMs?: number;
} {
  const model = checkModelDir(a.model ?? join(fixturesDir(), DEFAULT_FIXTURE));
  const fx = isFixture(model) ? readFixture(model) : null;
  const audio = a.audio ?? fx?.audio;
  if (!audio)
    throw new InputError(
      `${model} is not a fixture, so there is no default audio`,
      "Pass --audio FILE.wav (16 kHz mono WAV).",
      true,
    );
  readAudioWav(audio, "--audio");
  return { model, audio, delayMs: fx?.delayMs };
}

export async function runSmoke(a: SmokeArgs): Promise<number> {
  checkPositive("--timeout", a.timeout);
  const inputs = resolveSmokeInputs(a);
  prepareReportsDir(a["out-dir"]);
  const report = await smokeReport({
    ...inputs,
    backend: a.backend,
    ffmpegAudio: a.ogg ?? defaultOgg(),
    timeoutMs: a.timeout * 1000,
    environment: await collectEnvironment(),
  });
  const written = writeReport("smoke", report, { command: "smoke", outDir: a["out-dir"], csv: a.csv, rows: smokeRows });
  if (a.json) console.log(JSON.stringify(report, null, 2));
  else {
    console.log(smokeTable(report));
    console.log(
      `${report.summary.passed} passed, ${report.summary.failed} failed, ${report.summary.skipped} skipped (backend ${report.backendExpected}); report: ${written.json}`,
    );
  }
  return report.status === "pass" ? EXIT.ok : EXIT.failed;
}
