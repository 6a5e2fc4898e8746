// `vox-doctor` / `vox doctor`: is this machine ready to run the engine, and if not, what to fix.
// I/O only: collect facts (or load a saved fact set), build the validated report, print it.
import { existsSync, readFileSync } from "node:fs";

import type { Argv } from "yargs";
import { dirname, resolve } from "node:path";
import { ensureWritableDir, writeFileAtomic } from "../../lib/output.js";
import { toolkitIdentity } from "../../lib/environment.js";
import { InputError, UsageError } from "../../lib/errors.js";
import { collectFacts } from "./collect.js";
import type { Facts } from "./facts.js";
import { renderMarkdown, renderTable } from "./render.js";
import { buildReport } from "./report.js";
import type { BackendChoice } from "../../lib/backend.js";

export interface DoctorArgs {
  model: string;
  json: boolean;
  markdown: boolean;
  strict: boolean;
  backend: BackendChoice;
  facts?: string;
  saveFacts?: string;
}

export function doctorOptions<T>(y: Argv<T>): Argv<T & DoctorArgs> {
  return y
    .option("model", { type: "string", default: "./voxtral-model", describe: "model folder to validate" })
    .option("json", { type: "boolean", default: false, describe: "print the report as JSON (schema-validated)" })
    .option("markdown", {
      type: "boolean",
      default: false,
      describe: "print Markdown for a bug report (host names, GPU UUIDs removed)",
    })
    .option("strict", { type: "boolean", default: false, describe: "exit 1 when there are warnings" })
    .option("backend", {
      choices: ["auto", "cpu", "cuda"] as const,
      default: "auto" as BackendChoice,
      describe: "the backend to get ready; cpu skips the GPU checks",
    })
    .option("save-facts", {
      type: "string",
      describe: "also write the collected raw facts to this JSON file (for bug reports and tests)",
    })
    .option("facts", { type: "string", describe: "judge a saved fact set instead of this machine" }) as unknown as Argv<
    T & DoctorArgs
  >;
}

/** The parts of a fact set every check reads (always objects in what --save-facts writes). */
const FACT_OBJECTS = [
  "platform",
  "env",
  "libDirs",
  "ldSoConf",
  "cudaProbe",
  "nvcc",
  "cc",
  "make",
  "openblas",
  "ffmpeg",
  "engine",
  "model",
  "collectorErrors",
];

function loadFacts(path: string): Facts {
  let f: Facts;
  try {
    f = JSON.parse(readFileSync(path, "utf8")) as Facts;
  } catch (e) {
    throw new InputError(
      `cannot read fact set ${path}: ${(e as Error).message}`,
      "Pass a file written by vox-doctor --save-facts.",
      !existsSync(path),
    );
  }
  if (typeof f !== "object" || f === null || f.factsVersion !== 1)
    throw new InputError(
      `${path} is not a vox-doctor fact set (factsVersion ${String(f?.factsVersion)})`,
      "Pass a file written by vox-doctor --save-facts.",
    );
  const missing = FACT_OBJECTS.filter(
    (k) =>
      typeof (f as unknown as Record<string, unknown>)[k] !== "object" ||
      (f as unknown as Record<string, unknown>)[k] === null,
  );
  if (missing.length)
    throw new InputError(
      `${path} is not a complete fact set: ${missing.join(", ")} missing or not objects`,
      "Pass a file written by vox-doctor --save-facts, unedited.",
    );
  return f;
}

export async function runDoctor(args: DoctorArgs): Promise<number> {
  if (args.json && args.markdown)
    throw new UsageError("--json and --markdown cannot be combined", "Pick one output format.");
  // The fact file's folder is checked before the facts are collected (that takes seconds).
  const save = args.saveFacts ? resolve(args.saveFacts) : null;
  if (save) ensureWritableDir(dirname(save), "--save-facts folder", false);
  const facts = args.facts ? loadFacts(args.facts) : await collectFacts({ modelDir: args.model });
  if (save) writeFileAtomic(save, `${JSON.stringify(facts, null, 2)}\n`);
  const report = buildReport(facts, { backend: args.backend, strict: args.strict, toolkit: toolkitIdentity() });
  if (args.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else if (args.markdown) process.stdout.write(renderMarkdown(report, facts.platform.hostname));
  else process.stdout.write(`${renderTable(report)}\n`);
  return report.exitCode;
}
