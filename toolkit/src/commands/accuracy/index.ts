// `vox accuracy`: compare a candidate backend with a baseline (CPU run, golden fixture outputs or an
// earlier report); print a table, write reports/accuracy-<time>.{json,md} (+ .csv), exit 2 over tolerance.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Argv } from "yargs";
import { rmTracked, trackedTempDir } from "../../lib/cleanup.js";
import { collectEnvironment } from "../../lib/environment.js";
import { EXIT, InputError, UsageError } from "../../lib/errors.js";
import { checkAudioFile, checkModelDir, checkPositive } from "../../lib/inputs.js";
import { isFixture } from "../../lib/fixture.js";
import { prepareReportsDir, reportsDir, writeReport } from "../../lib/report.js";
import { isTier, TIERS, type TierName } from "../../lib/tolerance.js";
import { accuracyMarkdown, accuracyRows, accuracyTable, caseDetails } from "./render.js";
import { readManifest, referencePairs } from "./reference.js";
import { accuracyReport, forgetDumps, type AccuracyReport } from "./run.js";
import type { BackendChoice } from "../../lib/backend.js";

export interface AccuracyArgs {
  model: string;
  audio?: string[];
  baseline?: string;
  candidate: string;
  tier: string;
  "delay-ms"?: number;
  "logit-steps": number;
  timeout: number;
  "keep-dumps": boolean;
  "out-dir"?: string;
  csv: boolean;
  json: boolean;
  reference?: string[];
  manifest?: string;
  "max-wer"?: number;
}

export function accuracyOptions<T>(y: Argv<T>): Argv<T & AccuracyArgs> {
  return y
    .option("model", {
      type: "string",
      demandOption: true,
      describe: "model folder (a checks/fixtures/<name> folder enables --baseline golden)",
    })
    .option("audio", {
      type: "string",
      array: true,
      describe: "WAV files to transcribe (default: the fixture's own audio)",
    })
    .option("baseline", {
      type: "string",
      describe: "cpu | golden | PATH of an earlier accuracy report (default: golden for a fixture, else cpu)",
    })
    .option("candidate", {
      type: "string",
      default: "auto",
      choices: ["cpu", "cuda", "auto"],
      describe: "backend under test",
    })
    .option("tier", {
      type: "string",
      default: "strict",
      choices: Object.keys(TIERS),
      describe: "tolerance tier (see GATE.md)",
    })
    .option("delay-ms", { type: "number", describe: "transcription delay (default: the fixture's, else the engine's)" })
    .option("logit-steps", { type: "number", default: 64, describe: "compare logits over the first N decoder steps" })
    .option("timeout", { type: "number", default: 600, describe: "seconds before an engine run is killed" })
    .option("keep-dumps", {
      type: "boolean",
      default: false,
      describe: "keep the engine's --dump folders next to the report",
    })
    .option("out-dir", { type: "string", describe: "report folder (default $VOX_REPORTS_DIR or ./reports)" })
    .option("csv", { type: "boolean", default: false, describe: "also write a CSV" })
    .option("json", { type: "boolean", default: false, describe: "print the report JSON instead of the table" })
    .option("reference", {
      type: "string",
      array: true,
      describe: "human transcript (text file) of each --audio file, in order: WER/CER against it",
    })
    .option("manifest", {
      type: "string",
      describe: 'JSONL of {"audio": "a.wav", "text": "..."} per line: WER/CER against each text',
    })
    .option("max-wer", {
      type: "number",
      describe: "with --reference/--manifest: the highest pooled WER that passes (exit 2 above)",
    }) as unknown as Argv<T & AccuracyArgs>;
}

export async function runAccuracy(a: AccuracyArgs): Promise<number> {
  if (!isTier(a.tier)) throw new UsageError(`unknown tier ${a.tier}`);
  if (!Number.isInteger(a["logit-steps"]) || a["logit-steps"] < 1)
    throw new UsageError("--logit-steps must be a positive integer");
  checkPositive("--timeout", a.timeout);
  // Inputs and the report folder before any engine run: a typo costs a second and writes nothing.
  checkModelDir(a.model);
  const referenceMode = a.reference !== undefined || a.manifest !== undefined;
  if (referenceMode && a.baseline !== undefined)
    throw new UsageError("--reference/--manifest compare with human transcripts: drop --baseline");
  if (a.manifest !== undefined && (a.reference !== undefined || a.audio !== undefined))
    throw new UsageError("--manifest names the audio and texts itself: drop --audio/--reference");
  if (a["max-wer"] !== undefined && !referenceMode) throw new UsageError("--max-wer needs --reference or --manifest");
  if (a["max-wer"] !== undefined && !(a["max-wer"] >= 0))
    throw new UsageError("--max-wer must be a number >= 0 (0.1 = 10 %)");
  const references =
    a.reference !== undefined
      ? referencePairs(a.audio ?? [], a.reference)
      : a.manifest !== undefined
        ? readManifest(a.manifest)
        : undefined;
  for (const f of a.audio ?? []) checkAudioFile(f, "--audio");
  const b = a.baseline;
  if (b !== undefined && b !== "cpu" && b !== "golden" && !existsSync(b)) {
    throw new InputError(
      `--baseline ${b} is neither cpu, golden nor an existing report file`,
      "Pass --baseline cpu, golden, or the path of an accuracy report JSON.",
      true,
    );
  }
  prepareReportsDir(a["out-dir"]);
  const stamp = new Date();
  const keep = a["keep-dumps"];
  const dumpRoot = keep
    ? join(reportsDir(a["out-dir"]), `accuracy-dumps-${stamp.getTime()}`)
    : trackedTempDir("vox-accuracy-");
  let report: AccuracyReport;
  try {
    const full = await accuracyReport({
      model: a.model,
      audio: a.audio ?? [],
      baseline: a.baseline ?? (isFixture(a.model) ? "golden" : "cpu"),
      candidate: a.candidate as BackendChoice,
      tier: a.tier as TierName,
      delayMs: a["delay-ms"],
      logitSteps: a["logit-steps"],
      timeoutMs: a.timeout * 1000,
      dumpRoot,
      environment: await collectEnvironment(),
      references,
      manifest: a.manifest,
      maxWer: a["max-wer"] ?? null,
    });
    report = keep ? full : forgetDumps(full);
  } finally {
    if (!keep) rmTracked(dumpRoot);
  }
  const written = writeReport("accuracy", report, {
    command: "accuracy",
    outDir: a["out-dir"],
    csv: a.csv,
    rows: accuracyRows,
    extra: { md: accuracyMarkdown },
    now: stamp,
  });
  if (a.json) console.log(JSON.stringify(report, null, 2));
  else {
    console.log(accuracyTable(report));
    for (const c of report.cases) for (const l of caseDetails(c)) console.log(l);
    if (report.pooled) {
      const p = report.pooled;
      for (const c of report.cases)
        if (c.wer?.alignment && c.wer.rate > 0) console.log(`${c.audio}:\n${c.wer.alignment}`);
      const judged = p.maxWer === null ? "not judged (no --max-wer)" : `limit ${p.maxWer}: ${p.status}`;
      console.log(
        `pooled WER ${(100 * p.words.rate).toFixed(2)} % (${p.words.errors} errors / ${p.words.referenceLength} reference words), CER ${(100 * p.chars.rate).toFixed(2)} %; ${judged}; report: ${written.json}`,
      );
    } else
      console.log(
        `${report.summary.passed} passed, ${report.summary.failed} failed, ${report.summary.errors} errors (tier ${report.tier}); report: ${written.json}`,
      );
  }
  return report.status === "pass" ? EXIT.ok : EXIT.failed;
}
