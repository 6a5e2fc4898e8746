// `vox build`: the doctor's checks for the chosen backend (stop with their fixes on failure), then
// make (output streamed to stderr), then engine/build/build-info.json and reports/build-<time>.json.
import { execa } from "execa";
import { writeFileSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";
import type { Argv } from "yargs";
import { collectEnvironment } from "../../lib/environment.js";
import { EXIT } from "../../lib/errors.js";
import { engineBinary, packageRoot } from "../../lib/paths.js";
import { SCHEMA_VERSION, validateReport, writeReport } from "../../lib/report.js";
import { CHECKS, runChecks } from "../doctor/checks/index.js";
import { collectFacts, collectors } from "../doctor/collect.js";
import { gpus } from "../doctor/derive.js";
import { parseNvccVersion } from "../doctor/parse.js";
import { blocking, makeSteps, missingArchs, parseArchs, precheckIds, type BuildBackend, type PrecheckVerdict } from "./plan.js";

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
    .option("backend", { choices: ["cpu", "cuda", "all"] as const, default: "cpu" as BuildBackend, describe: "cpu: make; cuda/all: also compile the kernels into the embedded fatbin" })
    .option("arch", { type: "string", default: "native", describe: "GPU architectures for the kernels: native (this machine's GPUs) or a list like 80,86,89,90" })
    .option("cuda-home", { type: "string", describe: "CUDA toolkit folder (default $CUDA_HOME, else nvcc on PATH, else /usr/local/cuda)" })
    .option("json", { type: "boolean", default: false, describe: "print the build report as JSON" })
    .option("csv", { type: "boolean", default: false, describe: "also write a CSV of the steps" })
    .option("out-dir", { type: "string", describe: "report folder (default $VOX_REPORTS_DIR or ./reports)" }) as unknown as Argv<T & BuildArgs>;
}

interface StepRecord {
  name: string;
  command: string;
  exitCode: number | null;
  durationMs: number;
  status: "pass" | "fail" | "skip";
  outputTail: string;
}

function tail(text: string, lines = 30): string {
  return text.split("\n").slice(-lines).join("\n").trim();
}

async function runMake(name: string, args: string[], env: NodeJS.ProcessEnv): Promise<StepRecord> {
  const command = `make ${args.join(" ")}`;
  process.stderr.write(`> ${command}\n`);
  const r = await execa("make", args, { reject: false, env, extendEnv: false, all: true, stdout: ["pipe", "inherit"], stderr: ["pipe", "inherit"], encoding: "utf8", stdin: "ignore" });
  const all = typeof r.all === "string" ? r.all : "";
  const failed = r.exitCode !== 0;
  const why = r.signal ? `killed by ${r.signal}` : r.exitCode === undefined ? ((r as { code?: string }).code ?? r.shortMessage) : null;
  return { name, command, exitCode: r.exitCode ?? null, durationMs: Math.round(r.durationMs), status: failed ? "fail" : "pass", outputTail: why ? `${tail(all)}\n${why}`.trim() : tail(all) };
}

/** The environment make runs in: --cuda-home becomes CUDA_HOME and its bin/ goes first on PATH. */
function buildEnv(cudaHome: string | undefined): NodeJS.ProcessEnv {
  if (!cudaHome) return { ...process.env };
  const home = resolve(cudaHome);
  return { ...process.env, CUDA_HOME: home, PATH: `${join(home, "bin")}${delimiter}${process.env.PATH ?? ""}` };
}

export async function runBuild(a: BuildArgs): Promise<number> {
  const env = buildEnv(a["cuda-home"]);
  const root = packageRoot();
  const engineDir = join(root, "engine");
  const only = Object.fromEntries(["platform", "cpuBuild", "libraries", "nvcc", "gpu", "engine"].map((n) => [n, collectors[n]!]));
  const facts = await collectFacts({ modelDir: root, env }, only);
  const ids = precheckIds(a.backend);
  const prechecks: PrecheckVerdict[] = runChecks(facts, a.backend === "cpu" ? "cpu" : "cuda", CHECKS.filter((c) => ids.includes(c.id))).map((c) => ({ id: c.id, status: c.status, detail: c.detail, fix: c.fix }));
  const steps: StepRecord[] = [];
  let error: string | null = null;
  let archs: string[] = [];
  let buildInfo = null;

  const stops = blocking(prechecks, a.backend);
  if (stops.length > 0) {
    error = `pre-checks failed: ${stops.map((s) => `${s.id}: ${s.detail.split("\n")[0]}`).join("; ")}. Fix: ${stops.map((s) => s.fix).filter((f) => f).join(" ")}`;
  } else {
    if (a.backend !== "cpu") archs = parseArchs(a.arch, gpus(facts).map((g) => g.cc));
    for (const s of makeSteps(a.backend, archs, engineDir)) {
      const rec = await runMake(s.name, s.args, env);
      steps.push(rec);
      if (rec.status === "fail") {
        error = `${rec.command} failed (exit ${rec.exitCode ?? "none"}); its last lines are in the report and above`;
        break;
      }
    }
  }
  // Collected after make, so the engine facts describe the new binary.
  const environment = await collectEnvironment(engineBinary(env));
  if (!error) {
    const info = environment.engine;
    if (!info.available) error = `the engine was built but voxtral --info failed: ${info.error}`;
    else {
      const lacking = missingArchs(archs, info.cudaArchs);
      if (lacking.length) error = `the engine does not embed kernels for ${lacking.join(", ")} (it has: ${info.cudaArchs.join(", ") || "none"}). Check the ARCH handling of engine/Makefile's cuda target`;
      const flags = await execa("make", ["-s", "-C", engineDir, "info"], { reject: false, env, extendEnv: false, encoding: "utf8", stdin: "ignore" });
      buildInfo = {
        schemaVersion: SCHEMA_VERSION,
        kind: "build-info" as const,
        builtAt: new Date().toISOString(),
        backend: a.backend,
        commit: environment.toolkit.commit ?? info.commit,
        compiler: facts.cc.version?.stdout.split("\n")[0]?.trim() || null,
        nvcc: facts.nvcc.version ? parseNvccVersion(facts.nvcc.version.stdout) : null,
        cudaHome: env.CUDA_HOME ?? null,
        archsRequested: archs,
        archsEmbedded: info.cudaArchs,
        backends: info.backends,
        blas: info.blas,
        make: steps.map((s) => ({ command: s.command, durationMs: s.durationMs })),
        flags: flags.exitCode === 0 && typeof flags.stdout === "string" ? flags.stdout.trim() : null,
      };
      validateReport("build-info", buildInfo);
      writeFileSync(join(engineDir, "build", "build-info.json"), `${JSON.stringify(buildInfo, null, 2)}\n`);
    }
  }
  const report = {
    schemaVersion: SCHEMA_VERSION,
    kind: "build" as const,
    createdAt: new Date().toISOString(),
    environment,
    backend: a.backend,
    archs,
    prechecks,
    steps,
    buildInfo,
    status: error ? ("fail" as const) : ("pass" as const),
    error,
  };
  const written = writeReport("build", report, { command: "build", outDir: a["out-dir"], csv: a.csv, rows: (r) => r.steps.map((s) => ({ name: s.name, command: s.command, status: s.status, exit_code: s.exitCode, duration_ms: s.durationMs })) });
  if (a.json) console.log(JSON.stringify(report, null, 2));
  else {
    for (const p of prechecks) console.log(`${p.status === "pass" ? "✔" : p.status === "skip" ? "-" : p.status === "warn" ? "!" : "✖"} ${p.id}: ${p.detail.split("\n")[0]}${p.fix && p.status !== "pass" ? `\n    fix: ${p.fix}` : ""}`);
    for (const s of steps) console.log(`${s.status === "pass" ? "✔" : "✖"} ${s.command} (${(s.durationMs / 1000).toFixed(1)} s)`);
    if (buildInfo) console.log(`engine: backends ${buildInfo.backends.join(", ")}; kernels ${buildInfo.archsEmbedded.join(", ") || "none"}; build-info: ${join(engineDir, "build", "build-info.json")}`);
    console.log(error ? `build failed: ${error}` : "build passed");
    console.log(`report: ${written.json}`);
  }
  return error ? EXIT.failed : EXIT.ok;
}
