// Writing reports: validate against checks/schemas/<name>.schema.json with ajv (draft 2020-12, the
// shared common.schema.json and environment.schema.json preloaded so reports can $ref them), then write
// <outDir>/<command>-<time>.json and, on request, a CSV built from the validated JSON (csv-stringify)
// and any extra text files (Markdown). Nothing is written when validation fails: a SchemaError is thrown.
// Every file goes through writeFileAtomic (temporary name, then rename); commands call
// prepareReportsDir() before any work, so an unwritable folder is found in a second, not after the run.
//
//   const paths = writeReport("smoke", report, { command: "smoke", csv: args.csv, rows: smokeRows });
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import { stringify } from "csv-stringify/sync";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Environment } from "./environment.js";
import { SchemaError } from "./errors.js";
import { ensureWritableDir, writeFileAtomic } from "./output.js";
import { schemaPath } from "./paths.js";

/** Version of the report layout; bump when a schema changes incompatibly. */
export const SCHEMA_VERSION = 1 as const;

/** What a report names its time (common.schema.json#/$defs/timestamp): createdAt, except the doctor's
 *  generatedAt and build-info's builtAt (their schemas' names, which vox matrix and users' tools read). */
export type TimeKey = "createdAt" | "generatedAt" | "builtAt";

export interface HeaderOptions<T extends TimeKey> {
  /** the report's time; default now */
  now?: Date;
  /** default createdAt */
  timeKey?: T;
}

/** The header's first three fields: layout version, kind, time. */
export type ReportStamp<K extends string, T extends TimeKey = "createdAt"> = {
  schemaVersion: typeof SCHEMA_VERSION;
  kind: K;
} & { [P in T]: string };

/** The header every report opens with: layout version, kind, its time and where it was made. A report
 *  without an environment block (compare, build-info) or with it later (live) passes null and gets the
 *  first three fields only. */
export function reportHeader<K extends string, T extends TimeKey = "createdAt">(
  kind: K,
  environment: Environment,
  opts?: HeaderOptions<T>,
): ReportStamp<K, T> & { environment: Environment };
export function reportHeader<K extends string, T extends TimeKey = "createdAt">(
  kind: K,
  environment: null,
  opts?: HeaderOptions<T>,
): ReportStamp<K, T>;
export function reportHeader<K extends string, T extends TimeKey>(
  kind: K,
  environment: Environment | null,
  opts: HeaderOptions<T> = {},
) {
  const stamp = {
    schemaVersion: SCHEMA_VERSION,
    kind,
    [opts.timeKey ?? "createdAt"]: (opts.now ?? new Date()).toISOString(),
  };
  return environment === null ? stamp : { ...stamp, environment };
}

/** Schemas other reports may $ref by file name. */
const SHARED_SCHEMAS = ["common", "environment", "build-info", "tolerances"];

let ajv: Ajv2020 | undefined;
const compiled = new Map<string, ValidateFunction>();

function loadSchema(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(schemaPath(name), "utf8")) as Record<string, unknown>;
}

function validator(name: string): ValidateFunction {
  const hit = compiled.get(name);
  if (hit) return hit;
  if (!ajv) {
    ajv = new Ajv2020({ allErrors: true, strict: true });
    for (const s of SHARED_SCHEMAS) ajv.addSchema(loadSchema(s));
  }
  const schema = loadSchema(name);
  const fn = SHARED_SCHEMAS.includes(name) ? ajv.getSchema(String(schema.$id))! : ajv.compile(schema);
  compiled.set(name, fn);
  return fn;
}

/** Errors of `data` against checks/schemas/<name>.schema.json, as "path: message" lines (empty = valid). */
export function schemaErrors(name: string, data: unknown): string[] {
  const fn = validator(name);
  if (fn(data)) return [];
  return (fn.errors ?? []).map(
    (e) => `${e.instancePath || "/"}: ${e.message ?? "invalid"}${e.params ? ` ${JSON.stringify(e.params)}` : ""}`,
  );
}

/** Throws SchemaError (exit 70: a vox bug) when `data` does not match the schema. */
export function validateReport(name: string, data: unknown): void {
  const errors = schemaErrors(name, data);
  if (errors.length > 0) throw new SchemaError(`${name}.schema.json`, errors);
}

export interface ReportOptions<T> {
  /** File name prefix: reports/<command>-<time>.json. */
  command: string;
  /** Folder; default $VOX_REPORTS_DIR or ./reports. */
  outDir?: string;
  /** Also write a CSV made by `rows` from the validated report. */
  csv?: boolean;
  rows?: (report: T) => Array<Record<string, string | number | boolean | null>>;
  /** Extra files next to the JSON: extension (e.g. "md") -> content built from the validated report. */
  extra?: Record<string, (report: T) => string>;
  /** Time in the file name; default now. */
  now?: Date;
}

export interface WrittenReport {
  json: string;
  csv: string | null;
  extra: Record<string, string>;
}

/** `2026-11-21T22-43-43Z`: sortable and valid on every file system. */
export function fileStamp(d: Date): string {
  return d
    .toISOString()
    .replace(/\.\d+Z$/, "Z")
    .replace(/:/g, "-");
}

export function reportsDir(outDir?: string): string {
  return resolve(outDir ?? process.env.VOX_REPORTS_DIR ?? "reports");
}

/** Where the option comes from, for messages: --out-dir DIR, $VOX_REPORTS_DIR, or ./reports. */
function reportsDirSource(outDir?: string, flag = "--out-dir"): string {
  return outDir !== undefined
    ? `report folder (${flag})`
    : process.env.VOX_REPORTS_DIR
      ? "report folder ($VOX_REPORTS_DIR)"
      : "report folder";
}

/** Creates the report folder and checks it is writable, before a command does any work.
 *  Throws OutputError (exit 73). `flag` names the option in the message (vox-bench: --out). */
export function prepareReportsDir(outDir?: string, flag = "--out-dir"): string {
  return ensureWritableDir(reportsDir(outDir), reportsDirSource(outDir, flag));
}

/** Validates, then writes the report (and CSV / extras). Returns the paths written. */
export function writeReport<T>(schemaName: string, data: T, opts: ReportOptions<T>): WrittenReport {
  validateReport(schemaName, data);
  const dir = prepareReportsDir(opts.outDir);
  // Two reports of one command in the same second get -2, -3, ... rather than overwriting each other.
  const stem = join(dir, `${opts.command}-${fileStamp(opts.now ?? new Date())}`);
  let base = stem;
  for (let n = 2; existsSync(`${base}.json`); n++) base = `${stem}-${n}`;
  const json = `${base}.json`;
  writeFileAtomic(json, `${JSON.stringify(data, null, 2)}\n`);
  let csv: string | null = null;
  if (opts.csv) {
    if (!opts.rows) throw new Error(`writeReport(${schemaName}): csv requested but no rows() given`);
    const rows = opts.rows(data);
    csv = `${base}.csv`;
    writeFileAtomic(
      csv,
      stringify(rows, { header: true, columns: rows.length > 0 ? Object.keys(rows[0]!) : undefined }),
    );
  }
  const extra: Record<string, string> = {};
  for (const [ext, make] of Object.entries(opts.extra ?? {})) {
    extra[ext] = `${base}.${ext}`;
    writeFileAtomic(extra[ext]!, make(data));
  }
  return { json, csv, extra };
}
