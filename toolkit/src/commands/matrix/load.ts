// Reading what `vox matrix` is given, from text (pure, so the parsers can be fuzzed): a report of a
// kind the matrix knows, validated against its schema, and the matrix file itself. Every bad input is
// an InputError (exit 65) naming the file; nothing else is thrown.
import { InputError } from "../../lib/errors.js";
import { schemaErrors } from "../../lib/report.js";
import type { LoadedReport, Matrix } from "./row.js";

/** Report kinds a matrix row is made from. */
export const REPORT_KINDS = ["doctor", "build", "smoke", "accuracy", "bench", "gate"] as const;

export function parseReportText(text: string, path: string, name = path): LoadedReport {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new InputError(
      `cannot read ${path} as JSON (${(e as Error).message})`,
      "Pass reports written by vox (reports/<command>-<time>.json).",
    );
  }
  const kind =
    typeof data === "object" && data !== null && !Array.isArray(data) ? (data as { kind?: unknown }).kind : undefined;
  if (!REPORT_KINDS.some((k) => k === kind)) {
    throw new InputError(
      `${path} is not a vox report (kind ${JSON.stringify(kind) ?? "missing"})`,
      `Pass ${REPORT_KINDS.join(", ")} reports.`,
    );
  }
  const errors = schemaErrors(kind as string, data);
  if (errors.length > 0)
    throw new InputError(
      `${path} does not match ${kind}.schema.json: ${errors.slice(0, 3).join("; ")}`,
      "Re-run the command with this vox version to get a valid report.",
    );
  return { name, data: data as LoadedReport["data"] };
}

export function parseMatrixText(text: string, file: string): Matrix {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch (e) {
    throw new InputError(
      `matrix file ${file} is not valid JSON (${(e as Error).message}); it may be empty or cut short`,
      "Restore it (git checkout matrix/matrix.json) or remove it to start a new matrix.",
    );
  }
  const errors = schemaErrors("matrix", m);
  if (errors.length > 0)
    throw new InputError(
      `${file} does not match matrix.schema.json: ${errors.slice(0, 3).join("; ")}`,
      "Fix or remove the broken row by hand (git diff shows what changed).",
    );
  return m as Matrix;
}
