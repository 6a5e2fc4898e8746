// `vox-doctor` / `vox doctor`: is this machine ready to run the engine, and if not, what to fix.
import type { Argv } from "yargs";
import { EXIT } from "../../lib/errors.js";

export interface DoctorArgs {
  model: string;
  json: boolean;
  markdown: boolean;
  strict: boolean;
}

export function doctorOptions<T>(y: Argv<T>): Argv<T & DoctorArgs> {
  return y
    .option("model", { type: "string", default: "./voxtral-model", describe: "model folder to validate" })
    .option("json", { type: "boolean", default: false, describe: "print the report as JSON (schema-validated)" })
    .option("markdown", { type: "boolean", default: false, describe: "print a Markdown report for bug reports (host names and GPU UUIDs removed)" })
    .option("strict", { type: "boolean", default: false, describe: "exit 1 when there are warnings" });
}

export async function runDoctor(_args: DoctorArgs): Promise<number> {
  console.error("vox-doctor: error: not implemented yet. Track issue 3.");
  return EXIT.usage;
}
