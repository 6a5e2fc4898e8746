// `vox build` as a function: pre-checks (the doctor's checks for the backend), make, then
// engine/build/build-info.json. Returns the schema-shaped report; make's output streams to stderr.
import { execa } from "execa";
import { delimiter, join, resolve } from "node:path";
import { collectEnvironment } from "../../lib/environment.js";
import { engineBinary, packageRoot } from "../../lib/paths.js";
import { reportHeader, validateReport } from "../../lib/report.js";
import { CHECKS, runChecks } from "../doctor/checks/index.js";
import { collectFacts, collectors } from "../doctor/collect.js";
import { gpus } from "../doctor/derive.js";
import { parseNvccVersion } from "../doctor/parse.js";
import {
  blocking,
  makeSteps,
  missingArchs,
  parseArchs,
  precheckIds,
  type BuildBackend,
  type PrecheckVerdict,
} from "./plan.js";
import { writeFileAtomic } from "../../lib/output.js";
import type { BuildInfoSchema, BuildSchema, StepStatus } from "../../generated/schemas.js";

export interface BuildOptions {
  backend: BuildBackend;
  arch: string;
  cudaHome?: string;
}

export interface StepRecord {
  name: string;
  command: string;
  exitCode: number | null;
  durationMs: number;
  status: StepStatus;
  outputTail: string;
}

export type BuildInfo = BuildInfoSchema;

/** Generated from checks/schemas (the schema is the authority). */
export type BuildReport = BuildSchema;

function tail(text: string, lines = 30): string {
  return text.split("\n").slice(-lines).join("\n").trim();
}

async function runMake(name: string, args: string[], env: NodeJS.ProcessEnv): Promise<StepRecord> {
  const command = `make ${args.join(" ")}`;
  process.stderr.write(`> ${command}\n`);
  const r = await execa("make", args, {
    reject: false,
    env,
    extendEnv: false,
    all: true,
    stdout: ["pipe", process.stderr],
    stderr: ["pipe", process.stderr],
    encoding: "utf8",
    stdin: "ignore",
  });
  const all = typeof r.all === "string" ? r.all : "";
  const why = r.signal
    ? `killed by ${r.signal}`
    : r.exitCode === undefined
      ? ((r as { code?: string }).code ?? r.shortMessage)
      : null;
  return {
    name,
    command,
    exitCode: r.exitCode ?? null,
    durationMs: Math.round(r.durationMs),
    status: r.exitCode === 0 ? "pass" : "fail",
    outputTail: why ? `${tail(all)}\n${why}`.trim() : tail(all),
  };
}

/** The environment make runs in: --cuda-home becomes CUDA_HOME and its bin/ goes first on PATH. */
function buildEnv(cudaHome: string | undefined, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (!cudaHome) return { ...base };
  const home = resolve(cudaHome);
  return { ...base, CUDA_HOME: home, PATH: `${join(home, "bin")}${delimiter}${base.PATH ?? ""}` };
}

export async function buildReport(o: BuildOptions): Promise<BuildReport> {
  const env = buildEnv(o.cudaHome);
  const root = packageRoot();
  const engineDir = join(root, "engine");
  const only = Object.fromEntries(
    ["platform", "cpuBuild", "libraries", "nvcc", "gpu", "engine"].map((n) => [n, collectors[n]!]),
  );
  const facts = await collectFacts({ modelDir: root, env }, only);
  const ids = precheckIds(o.backend);
  const prechecks: PrecheckVerdict[] = runChecks(
    facts,
    o.backend === "cpu" ? "cpu" : "cuda",
    CHECKS.filter((c) => ids.includes(c.id)),
  ).map((c) => ({ id: c.id, status: c.status, detail: c.detail, fix: c.fix }));
  const steps: StepRecord[] = [];
  let error: string | null = null;
  let archs: string[] = [];
  const stops = blocking(prechecks, o.backend);
  if (stops.length > 0) {
    error = `pre-checks failed: ${stops.map((s) => `${s.id}: ${s.detail.split("\n")[0]}`).join("; ")}. Fix: ${stops
      .map((s) => s.fix)
      .filter((f) => f)
      .join(" ")}`;
  } else {
    if (o.backend !== "cpu")
      archs = parseArchs(
        o.arch,
        gpus(facts).map((g) => g.cc),
      );
    for (const s of makeSteps(o.backend, archs, engineDir)) {
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
  let buildInfo: BuildInfo | null = null;
  if (!error) {
    const info = environment.engine;
    if (!info.available) error = `the engine was built but voxtral --info failed: ${info.error}`;
    else {
      const lacking = missingArchs(archs, info.cudaArchs);
      if (lacking.length)
        error = `the engine does not embed kernels for ${lacking.join(", ")} (it has: ${info.cudaArchs.join(", ") || "none"}); check the ARCH handling of the cuda target in engine/`;
      const flags = await execa("make", ["-s", "-C", engineDir, "info"], {
        reject: false,
        env,
        extendEnv: false,
        encoding: "utf8",
        stdin: "ignore",
      });
      buildInfo = {
        ...reportHeader("build-info", null, { timeKey: "builtAt" }),
        backend: o.backend,
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
      writeFileAtomic(join(engineDir, "build", "build-info.json"), `${JSON.stringify(buildInfo, null, 2)}\n`);
    }
  }
  return {
    ...reportHeader("build", environment),
    backend: o.backend,
    archs,
    prechecks,
    steps,
    buildInfo,
    status: error ? "fail" : "pass",
    error,
  };
}
