// `vox build`: pre-checks with their fixes, make, build-info.json; prints a summary and writes
// reports/build-<time>.json (+ .csv). Exit 2 when a pre-check or make fails.
import Table from "cli-table3";
import type { Argv } from "yargs";
import { EXIT } from "../../lib/errors.js";
import { prepareReportsDir, writeReport } from "../../lib/report.js";
import { parseArchs, type BuildBackend } from "./plan.js";
import { buildReport, type BuildReport } from "./run.js";

export interface BuildArgs {
  backend: BuildBackend;
  arch: string;
  "cuda-home"?: string;
  json: boolean;
  csv: boolean;
  "out-dir"?: string;
}

export function buildOptions<T>(y: Argv<T>): Argv<T & BuildArgs> {
  return y
    .option("backend", {
      choices: ["cpu", "cuda", "all"] as const,
      default: "cpu" as BuildBackend,
      describe: "cpu: make; cuda/all: also compile the kernels into the embedded fatbin",
    })
    .option("arch", {
      type: "string",
      default: "native",
      describe: "GPU architectures for the kernels: native (this machine's GPUs) or a list like 80,86,89,90",
    })
    .option("cuda-home", {
      type: "string",
      describe: "CUDA toolkit folder (default $CUDA_HOME, else nvcc on PATH, else /usr/local/cuda)",
    })
    .option("json", { type: "boolean", default: false, describe: "print the build report as JSON" })
    .option("csv", { type: "boolean", default: false, describe: "also write a CSV of the steps" })
    .option("out-dir", {
      type: "string",
      describe: "report folder (default $VOX_REPORTS_DIR or ./reports)",
    }) as unknown as Argv<T & BuildArgs>;
}

const SYM = { pass: "✔ pass", warn: "! warn", fail: "✖ fail", skip: "- skip" } as const;

/** One table row per pre-check and make step (fixes under failing checks), then the verdict. */
function buildSummary(r: BuildReport): string {
  const t = new Table({
    head: ["step", "result", "detail"],
    colWidths: [12, 8, 100],
    wordWrap: true,
    style: { head: [], border: [] },
  });
  for (const p of r.prechecks)
    t.push([p.id, SYM[p.status], p.fix && p.status !== "pass" ? `${p.detail}\nfix: ${p.fix}` : p.detail]);
  for (const s of r.steps)
    t.push([
      "make",
      SYM[s.status],
      `${s.command} (${(s.durationMs / 1000).toFixed(1)} s)${s.status === "fail" ? `\n${s.outputTail.split("\n").slice(-8).join("\n")}` : ""}`,
    ]);
  const info = r.buildInfo;
  const tail = info
    ? `engine: backends ${info.backends.join(", ")}; kernels ${info.archsEmbedded.join(", ") || "none"}; build-info: engine/build/build-info.json\n`
    : "";
  return `${t.toString()}\n${tail}${r.error ? `build failed: ${r.error}` : "build passed"}`;
}

export function buildRows(r: BuildReport): Array<Record<string, string | number | null>> {
  return r.steps.map((s) => ({
    name: s.name,
    command: s.command,
    status: s.status,
    exit_code: s.exitCode,
    duration_ms: s.durationMs,
  }));
}

export async function runBuild(a: BuildArgs): Promise<number> {
  // Flags and the report folder before the pre-checks and make (minutes with the CUDA kernels).
  if (a.backend !== "cpu" && a.arch !== "native") parseArchs(a.arch, []);
  prepareReportsDir(a["out-dir"]);
  const report = await buildReport({ backend: a.backend, arch: a.arch, cudaHome: a["cuda-home"] });
  const written = writeReport("build", report, { command: "build", outDir: a["out-dir"], csv: a.csv, rows: buildRows });
  if (a.json) console.log(JSON.stringify(report, null, 2));
  else console.log(`${buildSummary(report)}\nreport: ${written.json}`);
  return report.status === "pass" ? EXIT.ok : EXIT.failed;
}
