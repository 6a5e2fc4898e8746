// `npx vox matrix add REPORT...`: one row for the machine the reports came from, into matrix/matrix.json
// (schema-validated; a row of the same environment is replaced); `npx vox matrix render`: MATRIX.md.
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Argv } from "yargs";
import { EXIT, InputError } from "../../lib/errors.js";
import { writeFileAtomic } from "../../lib/output.js";
import { packageRoot } from "../../lib/paths.js";
import { validateReport } from "../../lib/report.js";
import { parseMatrixText, parseReportText } from "./load.js";
import { renderMatrix } from "./render.js";
import { addRow, makeRow, type LoadedReport, type Matrix, type MatrixRow } from "./row.js";

export interface MatrixArgs {
  file: string;
}
export interface MatrixAddArgs extends MatrixArgs {
  reports: string[];
  render: boolean;
}

const defaultMatrixFile = (): string => join(packageRoot(), "matrix", "matrix.json");

function matrixFileOption<T>(y: Argv<T>): Argv<T & MatrixArgs> {
  return y.option("file", {
    type: "string",
    default: defaultMatrixFile(),
    describe: "the matrix JSON (MATRIX.md is written beside it)",
  });
}

/** Reads a report and validates it against the schema of its kind (a bad file is an input error). */
function loadReport(path: string): LoadedReport {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new InputError(
      `cannot read report ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      "Pass reports written by vox (reports/<command>-<time>.json).",
      !existsSync(path),
    );
  }
  return parseReportText(text, path, basename(path));
}

function readMatrix(file: string, mustExist = false): Matrix {
  if (!existsSync(file)) {
    if (mustExist)
      throw new InputError(
        `matrix file ${file} does not exist`,
        "Pass --file with an existing matrix.json, or create one with vox matrix add REPORT....",
        true,
      );
    return { schemaVersion: 1, rows: [] };
  }
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new InputError(
      `cannot read matrix file ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      "Pass --file with a matrix.json you can read.",
      true,
    );
  }
  return parseMatrixText(text, file);
}

function writeMarkdown(file: string, m: Matrix): string {
  const md = join(dirname(file), "MATRIX.md");
  writeFileAtomic(md, renderMatrix(m));
  return md;
}

async function runMatrixAdd(a: MatrixAddArgs): Promise<number> {
  const reports = a.reports.map(loadReport);
  const matrix = readMatrix(a.file); // a broken matrix file is found before anything is computed
  let row: MatrixRow;
  try {
    row = makeRow(reports);
  } catch (e) {
    throw new InputError(
      (e as Error).message,
      "Pass the reports of one machine: doctor, build, smoke, accuracy and bench JSON.",
    );
  }
  const m = addRow(matrix, row);
  validateReport("matrix", m);
  writeFileAtomic(a.file, `${JSON.stringify(m, null, 2)}\n`);
  console.log(`matrix: ${m.rows.length} row(s) in ${a.file}; added ${row.key}`);
  if (a.render) console.log(`matrix: wrote ${writeMarkdown(a.file, m)}`);
  return EXIT.ok;
}

async function runMatrixRender(a: MatrixArgs): Promise<number> {
  console.log(`matrix: wrote ${writeMarkdown(a.file, readMatrix(a.file, true))}`);
  return EXIT.ok;
}

/** The `matrix` command group for src/cli.ts. */
export function matrixCommands<T>(
  y: Argv<T>,
  exitWith: (prog: string, body: () => Promise<number>) => Promise<never>,
): Argv<T> {
  return y
    .command(
      "add <reports..>",
      "add (or replace) this machine's row from its reports",
      (c) =>
        matrixFileOption(c)
          .positional("reports", { type: "string", array: true, demandOption: true })
          .option("render", { type: "boolean", default: true, describe: "also rewrite MATRIX.md" }),
      (args) => exitWith("vox matrix add", () => runMatrixAdd(args as unknown as MatrixAddArgs)),
    )
    .command(
      "render",
      "write MATRIX.md from matrix.json",
      (c) => matrixFileOption(c),
      (args) => exitWith("vox matrix render", () => runMatrixRender(args)),
    )
    .demandCommand(1, "Name a matrix command: add or render.");
}
