// The doctor's report (checks/schemas/doctor.schema.json): checks + environment + summary + exit code.
import { buildEnvironment, type RawFacts } from "../../lib/environment.js";
import { reportHeader, validateReport } from "../../lib/report.js";
import { runChecks } from "./checks/index.js";
import { engineInfo } from "./derive.js";
import { environmentSmiCsv } from "../../lib/nvidia-smi.js";
import type { Facts } from "./facts.js";
import { parseNvccVersion } from "./parse.js";
import type { BackendChoice } from "../../lib/backend.js";
import type { DoctorSchema } from "../../generated/schemas.js";

/** Generated from checks/schemas (the schema is the authority). */
export type DoctorReport = DoctorSchema;

/** The shared environment block (lib/environment.ts) from the doctor's facts, without asking the
 *  machine again. */
function rawFactsOf(f: Facts, toolkit: { version: string; commit: string | null }): RawFacts {
  let info: RawFacts["info"] = null;
  let infoError: string | null = f.engine.exists
    ? (f.engine.info?.error ?? null)
    : `engine not built (${f.engine.path} does not exist)`;
  try {
    info = engineInfo(f);
  } catch (e) {
    infoError = (e as Error).message;
  }
  const smiCsv = environmentSmiCsv(f.nvidiaSmi); // unparsable output is the gpu check's to report
  return {
    info,
    infoError,
    enginePath: f.engine.path,
    smiCsv,
    smiBanner: f.nvidiaSmiBanner?.exitCode === 0 ? f.nvidiaSmiBanner.stdout : null,
    nvccVersion: f.nvcc.version ? parseNvccVersion(f.nvcc.version.stdout) : null,
    toolkitVersion: toolkit.version,
    toolkitCommit: toolkit.commit,
    procVersion: f.platform.procVersion,
    osRelease: f.platform.osRelease,
  };
}

/** 2 when anything fails; 1 for warnings under --strict; else 0. */
function exitCodeFor(s: DoctorReport["summary"], strict: boolean): 0 | 1 | 2 {
  if (s.failed > 0) return 2;
  return strict && s.warnings > 0 ? 1 : 0;
}

/** Runs the checks over the facts and builds the report, validated against its schema. */
export function buildReport(
  f: Facts,
  opts: { backend: BackendChoice; strict: boolean; toolkit: { version: string; commit: string | null } },
): DoctorReport {
  const checks = runChecks(f, opts.backend);
  const count = (s: string) => checks.filter((c) => c.status === s).length;
  const summary = { passed: count("pass"), warnings: count("warn"), failed: count("fail"), skipped: count("skip") };
  const report: DoctorReport = {
    ...reportHeader("doctor", buildEnvironment(rawFactsOf(f, opts.toolkit)), { timeKey: "generatedAt" }),
    options: { model: f.model.dir, backend: opts.backend, strict: opts.strict },
    checks,
    ...(Object.keys(f.collectorErrors).length ? { collectorErrors: f.collectorErrors } : {}),
    summary,
    exitCode: exitCodeFor(summary, opts.strict),
  };
  validateReport("doctor", report);
  return report;
}
