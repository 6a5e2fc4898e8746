// `vox gate` as a function: build, then every smoke and accuracy entry of the config, each writing
// its own report; the gate report lists the stages with their verdicts and worst metrics.
// A failed build skips the rest (there is no engine to test); any failing stage fails the gate.
// Each stage records the backend asked for and the one it really ran on: building for CUDA (config
// build.backend or --backend cuda) asks the "auto" smoke and accuracy entries for cuda, so a machine
// where CUDA cannot run fails the gate instead of passing on the CPU.
import { rmTracked, trackedTempDir } from "../../lib/cleanup.js";
import { collectEnvironment, type Environment } from "../../lib/environment.js";
import { reportHeader, writeReport, type ReportOptions } from "../../lib/report.js";
import { accuracyMarkdown, accuracyRows } from "../accuracy/render.js";
import { accuracyReport, forgetDumps, type AccuracyReport } from "../accuracy/run.js";
import { buildRows } from "../build/index.js";
import { buildReport } from "../build/run.js";
import { defaultOgg, resolveSmokeInputs, smokeRows } from "../smoke/index.js";
import { smokeReport } from "../smoke/run.js";
import type { GateConfig } from "./config.js";
import type { BackendChoice, BuildBackend } from "../../lib/backend.js";
import type { GateSchema } from "../../generated/schemas.js";

/** One stage of the verdict (the schema's stage entry). */
export type Stage = GateSchema["stages"][number];

/** The verdict over the stages: pass only when no stage failed or errored and at least one passed. */
export function gateVerdict(stages: readonly Stage[]): {
  summary: GateReport["summary"];
  status: GateReport["status"];
  failing: string[];
} {
  const n = (pred: (s: Stage) => boolean) => stages.filter(pred).length;
  const bad = stages.filter((s) => s.status === "fail" || s.status === "error");
  const summary = { passed: n((s) => s.status === "pass"), failed: bad.length, skipped: n((s) => s.status === "skip") };
  return {
    summary,
    status: summary.failed === 0 && summary.passed > 0 ? "pass" : "fail",
    failing: bad.map((s) => `${s.stage} ${s.name}`),
  };
}

/** "ran on cpu", "ran on cpu, asked for cuda: <why>" for a stage's detail. */
function backendNote(asked: string, ranOn: string[], env: Environment): string {
  const ran = ranOn.length ? `ran on ${ranOn.join(", ")}` : "ran on nothing";
  if (asked === "auto" || (ranOn.length > 0 && ranOn.every((b) => b === asked))) return ran;
  const why =
    asked === "cuda" && !env.cuda.available
      ? `: the engine cannot use CUDA here (${env.cuda.reason ?? "no CUDA device"})`
      : "";
  return `${ran}, asked for ${asked}${why}`;
}

/** Generated from checks/schemas (the schema is the authority). */
export type GateReport = GateSchema;

export interface GateOptions {
  config: GateConfig;
  /** replaces every smoke backend and accuracy candidate (e.g. cuda on a GPU runner) */
  candidate?: BackendChoice;
  /** replaces the config's build backend; skipBuild wins over both */
  buildBackend?: BuildBackend;
  arch?: string;
  skipBuild?: boolean;
  outDir?: string;
  csv?: boolean;
  /** progress lines (stderr in the CLI) */
  log?: (line: string) => void;
}

/** Worst values over the cases: what a reader of the gate report wants first. */
function worstMetrics(r: AccuracyReport): Record<string, number | null> {
  const max = (xs: Array<number | null | undefined>) => {
    const v = xs.filter((x): x is number => typeof x === "number");
    return v.length ? Math.max(...v) : null;
  };
  const min = (xs: Array<number | null | undefined>) => {
    const v = xs.filter((x): x is number => typeof x === "number");
    return v.length ? Math.min(...v) : null;
  };
  return {
    tokenDiff: max(r.cases.map((c) => c.tokens?.fraction)),
    wer: max(r.cases.map((c) => c.wer?.rate)),
    cer: max(r.cases.map((c) => c.cer?.rate)),
    top1: min(r.cases.map((c) => c.logits?.top1Agreement)),
    maxKl: max(r.cases.map((c) => c.logits?.maxKl)),
    maxRelErr: max(r.cases.map((c) => c.logits?.maxRelErr)),
  };
}

function accuracyDetail(r: AccuracyReport): string {
  if (r.pooled) {
    const p = r.pooled;
    const limit = p.maxWer === null ? "not judged" : `limit ${p.maxWer}`;
    return `pooled WER ${p.words.rate.toFixed(4)} (${p.words.errors}/${p.words.referenceLength} words, ${limit}) over ${r.summary.cases} files against references; ${r.summary.errors} errors`;
  }
  const failing = r.cases.filter((c) => c.status !== "pass");
  const head = `${r.summary.passed}/${r.summary.cases} cases within ${r.tier} (baseline ${r.baseline.kind}, candidate ${r.candidate.backend})`;
  if (!failing.length) return head;
  return `${head}; ${failing
    .map(
      (c) =>
        c.error ??
        c.verdicts
          .filter((v) => v.status === "fail")
          .map((v) => `${v.metric} ${v.value} > limit ${v.limit}`.replace(">", v.op === ">=" ? "<" : ">"))
          .join(", "),
    )
    .join("; ")}`;
}

/** A stage that did not run, with why. */
const skipped = (stage: Stage["stage"], name: string, detail: string): Stage => ({
  stage,
  name,
  status: "skip",
  detail,
  report: null,
  metrics: null,
});

/** A stage whose run threw: error, with the message. */
const errored = (stage: Stage["stage"], name: string, asked: string, e: unknown): Stage => ({
  stage,
  name,
  status: "error",
  detail: (e as Error).message,
  report: null,
  metrics: null,
  asked,
  ranOn: [],
});

export async function gateReport(o: GateOptions): Promise<GateReport> {
  const c = o.config;
  const log = o.log ?? (() => undefined);
  const timeoutMs = c.timeoutSeconds * 1000;
  const stages: Stage[] = [];
  const write = <T>(schema: string, command: string, data: T, views: Pick<ReportOptions<T>, "rows" | "extra">) =>
    writeReport(schema, data, { command, outDir: o.outDir, csv: o.csv, ...views }).json;

  let buildOk = true;
  if (o.skipBuild || c.build.skip) {
    stages.push(skipped("build", "build", "skipped: using the engine as built"));
  } else {
    const backend = o.buildBackend ?? c.build.backend;
    log(`gate: build (${backend})`);
    const b = await buildReport({ backend, arch: o.arch ?? c.build.arch });
    buildOk = b.status === "pass";
    stages.push({
      stage: "build",
      name: `build ${backend}`,
      status: b.status,
      detail:
        b.error ??
        `built: backends ${b.buildInfo?.backends.join(", ")}; kernels ${b.buildInfo?.archsEmbedded.join(", ") || "none"}`,
      report: write("build", "build", b, { rows: buildRows }),
      metrics: null,
      asked: backend,
      ranOn: b.buildInfo?.backends ?? [],
    });
  }
  const environment = await collectEnvironment();
  // The backend built for is the one under test, unless an entry or --candidate names one.
  const builtFor = o.skipBuild || c.build.skip ? o.buildBackend : (o.buildBackend ?? c.build.backend);
  const askFor = (entry: BackendChoice): BackendChoice =>
    o.candidate ?? (entry === "auto" && builtFor === "cuda" ? "cuda" : entry);

  for (const s of c.smoke) {
    const backend = askFor(s.backend);
    const name = `smoke ${s.model.split("/").at(-1)} (${backend})`;
    if (!buildOk) {
      stages.push(skipped("smoke", name, "skipped: the build failed"));
      continue;
    }
    log(`gate: ${name}`);
    try {
      const r = await smokeReport({
        ...resolveSmokeInputs(s),
        backend,
        ffmpegAudio: defaultOgg(),
        timeoutMs,
        environment,
      });
      const failed = r.checks.filter((x) => x.status === "fail");
      const ranOn = [...new Set(r.checks.flatMap((x) => (x.backend ? [x.backend] : [])))].sort();
      const head = failed.length
        ? failed.map((x) => `${x.id}: ${x.detail}`).join("; ")
        : `${r.summary.passed} checks passed, ${r.summary.skipped} skipped`;
      const detail = `${head} (${backendNote(backend, ranOn, environment)})`;
      stages.push({
        stage: "smoke",
        name,
        status: r.status,
        detail,
        report: write("smoke", "smoke", r, { rows: smokeRows }),
        metrics: null,
        asked: backend,
        ranOn,
      });
    } catch (e) {
      stages.push(errored("smoke", name, backend, e));
    }
  }

  for (const a of c.accuracy) {
    const candidate = askFor(a.candidate);
    const name = `${a.name} (${a.baseline === "cpu" || a.baseline === "golden" || a.baseline === "reference" ? a.baseline : "report"} vs ${candidate}, ${a.tier})`;
    if (!buildOk) {
      stages.push(skipped("accuracy", name, "skipped: the build failed"));
      continue;
    }
    log(`gate: accuracy ${name}`);
    const dumpRoot = trackedTempDir("vox-gate-");
    try {
      const r = forgetDumps(
        await accuracyReport({ ...a, overrides: a.tolerance, candidate, timeoutMs, dumpRoot, environment }),
      );
      const report = write("accuracy", `accuracy-${a.name}`, r, {
        rows: accuracyRows,
        extra: { md: accuracyMarkdown },
      });
      const ranOn = [...new Set(r.cases.flatMap((x) => (x.candidate?.backend ? [x.candidate.backend] : [])))].sort();
      const detail = `${accuracyDetail(r)} (candidate ${backendNote(candidate, ranOn, environment)})`;
      stages.push({
        stage: "accuracy",
        name,
        status: r.status,
        detail,
        report,
        metrics: worstMetrics(r),
        asked: candidate,
        ranOn,
      });
    } catch (e) {
      stages.push(errored("accuracy", name, candidate, e));
    } finally {
      rmTracked(dumpRoot);
    }
  }

  const { summary, status } = gateVerdict(stages);
  return {
    ...reportHeader("gate", environment),
    config: c.path,
    candidateOverride: o.candidate ?? null,
    stages,
    summary,
    status,
  };
}
