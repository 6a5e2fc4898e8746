// `npx vox matrix add REPORT...`: one row for the machine the reports came from, into matrix/matrix.json
// (schema-validated; a row of the same environment is replaced); `npx vox matrix render`: MATRIX.md.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Argv } from "yargs";
import { EXIT, InputError } from "../../lib/errors.js";
import { packageRoot, schemaPath } from "../../lib/paths.js";
import { schemaErrors, validateReport } from "../../lib/report.js";
import { renderMatrix } from "./render.js";
import { addRow, makeRow, type LoadedReport, type Matrix, type MatrixRow } from "./row.js";

export interface MatrixArgs { file: string }
export interface MatrixAddArgs extends MatrixArgs { reports: string[]; render: boolean }

const defaultMatrixFile = (): string => join(packageRoot(), "matrix", "matrix.json");

function matrixFileOption<T>(y: Argv<T>): Argv<T & MatrixArgs> {
  return y.option("file", { type: "string", default: defaultMatrixFile(), describe: "the matrix JSON (MATRIX.md is written beside it)" });
}

/** Reads a report and validates it against the schema of its kind (a bad file is an input error). */
function loadReport(path: string): LoadedReport {
  let data: LoadedReport["data"];
  try {
    data = JSON.parse(readFileSync(path, "utf8")) as LoadedReport["data"];
  } catch (e) {
    throw new InputError(`cannot read ${path} as JSON (${(e as Error).message})`, "Pass reports written by vox (reports/<command>-<time>.json).", !existsSync(path));
  }
  const kind = typeof data.kind === "string" ? data.kind : null;
  if (!kind || !existsSync(schemaPath(kind))) throw new InputError(`${path} is not a vox report (kind ${JSON.stringify(data.kind)})`, "Pass doctor, build, smoke, accuracy or bench reports.");
  const errors = schemaErrors(kind, data);
  if (errors.length > 0) throw new InputError(`${path} does not match ${kind}.schema.json: ${errors.slice(0, 3).join("; ")}`, "Re-run the command with this vox version to get a valid report.");
  return { name: basename(path), data };
}

function readMatrix(file: string): Matrix {
  if (!existsSync(file)) return { schemaVersion: 1, rows: [] };
  const m = JSON.parse(readFileSync(file, "utf8")) as Matrix;
  const errors = schemaErrors("matrix", m);
  if (errors.length > 0) throw new InputError(`${file} does not match matrix.schema.json: ${errors.slice(0, 3).join("; ")}`, "Fix or remove the broken row by hand (git diff shows what changed).");
  return m;
}

function writeMarkdown(file: string, m: Matrix): string {
  const md = join(dirname(file), "MATRIX.md");
  writeFileSync(md, renderMatrix(m));
  return md;
}

async function runMatrixAdd(a: MatrixAddArgs): Promise<number> {
  const reports = a.reports.map(loadReport);
  let row: MatrixRow;
  try {
    row = makeRow(reports);
  } catch (e) {
    throw new InputError((e as Error).message, "Pass the reports of one machine: doctor, build, smoke, accuracy and bench JSON.");
  }
  const m = addRow(readMatrix(a.file), row);
  validateReport("matrix", m);
  writeFileSync(a.file, `${JSON.stringify(m, null, 2)}\n`);
  console.log(`matrix: ${m.rows.length} row(s) in ${a.file}; added ${row.key}`);
  if (a.render) console.log(`matrix: wrote ${writeMarkdown(a.file, m)}`);
  return EXIT.ok;
}

async function runMatrixRender(a: MatrixArgs): Promise<number> {
  console.log(`matrix: wrote ${writeMarkdown(a.file, readMatrix(a.file))}`);
  return EXIT.ok;
}

/** The `matrix` command group for src/cli.ts. */
export function matrixCommands<T>(y: Argv<T>, exitWith: (prog: string, body: () => Promise<number>) => Promise<never>): Argv<T> {
  return y
    .command(
      "add <reports..>",
      "add (or replace) this machine's row from its reports",
      (c) => matrixFileOption(c).positional("reports", { type: "string", array: true, demandOption: true }).option("render", { type: "boolean", default: true, describe: "also rewrite MATRIX.md" }),
      (args) => exitWith("vox matrix add", () => runMatrixAdd(args as unknown as MatrixAddArgs)),
    )
    .command("render", "write MATRIX.md from matrix.json", (c) => matrixFileOption(c), (args) => exitWith("vox matrix render", () => runMatrixRender(args)))
    .demandCommand(1, "Name a matrix command: add or render.");
}
