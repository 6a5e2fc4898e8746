// `vox gate`: the quality gate for CI. Runs build + smoke + accuracy as configured in ci/gate.json,
// prints one line per stage and a table, writes every stage's report and reports/gate-<time>.json.
// Exit 0 when every stage passes, 2 otherwise.
import Table from "cli-table3";
import type { Argv } from "yargs";
import { EXIT } from "../../lib/errors.js";
import { prepareReportsDir, writeReport } from "../../lib/report.js";
import { parseArchs } from "../build/plan.js";
import { loadGateConfig } from "./config.js";
import { gateReport, gateVerdict, type GateReport } from "./run.js";
import type { BackendChoice, BuildBackend } from "../../lib/backend.js";

export interface GateArgs {
  config: string;
  candidate?: BackendChoice;
  backend?: BuildBackend;
  arch?: string;
  "skip-build": boolean;
  json: boolean;
  csv: boolean;
  "out-dir"?: string;
}

export function gateOptions<T>(y: Argv<T>): Argv<T & GateArgs> {
  return y
    .option("config", {
      type: "string",
      default: "ci/gate.json",
      describe: "gate config (schema: checks/schemas/gate-config.schema.json)",
    })
    .option("candidate", {
      choices: ["cpu", "cuda", "auto"] as const,
      describe: "backend under test for every smoke and accuracy entry (overrides the config)",
    })
    .option("backend", { choices: ["cpu", "cuda", "all"] as const, describe: "build backend (overrides the config)" })
    .option("arch", {
      type: "string",
      describe: "CUDA architectures to build (overrides the config): native or 80,86,89,90",
    })
    .option("skip-build", { type: "boolean", default: false, describe: "use the engine as it is" })
    .option("json", { type: "boolean", default: false, describe: "print the gate report as JSON" })
    .option("csv", { type: "boolean", default: false, describe: "also write CSVs" })
    .option("out-dir", {
      type: "string",
      describe: "report folder (default $VOX_REPORTS_DIR or ./reports)",
    }) as unknown as Argv<T & GateArgs>;
}

function gateRows(r: GateReport): Array<Record<string, string | number | null>> {
  return r.stages.map((s) => ({
    stage: s.stage,
    name: s.name,
    status: s.status,
    detail: s.detail,
    report: s.report,
    ...(s.metrics ?? {}),
  }));
}

function gateTable(r: GateReport): string {
  const t = new Table({
    head: ["stage", "name", "result", "detail"],
    colWidths: [10, 44, 9, 80],
    wordWrap: true,
    style: { head: [], border: [] },
  });
  const sym = { pass: "✔ pass", fail: "✖ fail", error: "✖ error", skip: "- skip" } as const;
  for (const s of r.stages) t.push([s.stage, s.name, sym[s.status], s.detail]);
  return t.toString();
}

export async function runGate(a: GateArgs): Promise<number> {
  if (a.arch !== undefined && a.arch !== "native") parseArchs(a.arch, []); // a typo fails now, not after the build
  const config = loadGateConfig(a.config);
  prepareReportsDir(a["out-dir"]);
  const report = await gateReport({
    config,
    candidate: a.candidate,
    buildBackend: a.backend,
    arch: a.arch,
    skipBuild: a["skip-build"],
    outDir: a["out-dir"],
    csv: a.csv,
    log: (l) => console.error(l),
  });
  const written = writeReport("gate", report, { command: "gate", outDir: a["out-dir"], csv: a.csv, rows: gateRows });
  if (a.json) console.log(JSON.stringify(report, null, 2));
  else {
    console.log(gateTable(report));
    const failing = gateVerdict(report.stages).failing;
    const which = failing.length ? ` (failed: ${failing.join("; ")})` : "";
    console.log(
      `gate ${report.status.toUpperCase()}: ${report.summary.passed} passed, ${report.summary.failed} failed${which}, ${report.summary.skipped} skipped; report: ${written.json}`,
    );
  }
  return report.status === "pass" ? EXIT.ok : EXIT.failed;
}
