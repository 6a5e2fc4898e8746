// `vox-bench compare BASE.json NEW.json`: for every backend x clip present in both reports and each
// timing metric, the ratio of medians and Welch's t-test on the repetitions. A change is a regression
// or an improvement only when it is beyond the practical threshold (default 5 %) AND significant:
// its p-value passes Holm's step-down correction at alpha over every test of the comparison (ten
// metrics x clips at once would otherwise flag one in ten by chance). A change beyond the threshold
// that fails the test, or cannot be tested (fewer than two repetitions on a side), is noise.
import Table from "cli-table3";
import { UsageError } from "../../lib/errors.js";
import { reportHeader } from "../../lib/report.js";
import { median, welch } from "../../lib/stats.js";
import type { BenchReport, Result, Sample } from "./types.js";
import type { CompareSchema } from "../../generated/schemas.js";

const COMPARED = ["wallMs", "msPerStep", "encoderAdapterMs", "prefillMs", "firstTokenMs"] as const;
type Metric = (typeof COMPARED)[number];
type Verdict = "regression" | "improvement" | "noise" | "same";

export interface CompareRow {
  backend: string;
  clip: string;
  metric: Metric;
  baseMedian: number;
  newMedian: number;
  ratio: number | null;
  changePct: number | null;
  nBase: number;
  nNew: number;
  t: number | null;
  df: number | null;
  p: number | null;
  verdict: Verdict;
}

/** Generated from checks/schemas (the schema is the authority). */
export type CompareReport = CompareSchema;

interface Side {
  path: string;
  createdAt: string;
  engineCommit: string | null;
  gpu: string | null;
}

/** "5%" -> 0.05, "0.05" -> 0.05. */
export function parseThreshold(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(s);
  const v = m ? Number(m[1]) / (m[2] ? 100 : 1) : NaN;
  if (!m || !(v >= 0 && v < 1))
    throw new UsageError(`--threshold wants a percentage like 5% or a fraction below 1 like 0.05, got "${s}"`);
  return v;
}

const key = (r: Result) => `${r.backend}\u0000${r.clip.name}`;

/** Holm–Bonferroni: which of the p-values (null = untested) are significant at family-wise `alpha`. */
export function holmSignificant(ps: ReadonlyArray<number | null>, alpha: number): boolean[] {
  const tested = ps
    .map((p, i) => ({ p, i }))
    .filter((x): x is { p: number; i: number } => x.p !== null)
    .sort((a, b) => a.p - b.p);
  const out = ps.map(() => false);
  for (const [k, x] of tested.entries()) {
    if (!(x.p < alpha / (tested.length - k))) break;
    out[x.i] = true;
  }
  return out;
}

function verdictOf(ratio: number | null, significant: boolean, threshold: number): Verdict {
  if (ratio === null || Math.abs(ratio - 1) <= threshold) return "same";
  if (!significant) return "noise";
  return ratio > 1 ? "regression" : "improvement";
}

function side(path: string, r: BenchReport): Side {
  return {
    path,
    createdAt: r.createdAt,
    engineCommit: r.environment.engine.commit,
    gpu: r.environment.gpus[0]?.name ?? null,
  };
}

export function compareReports(
  base: { path: string; report: BenchReport },
  next: { path: string; report: BenchReport },
  opts: { threshold: number; alpha: number; now?: Date },
): CompareReport {
  const baseBy = new Map(base.report.results.filter((r) => r.samples.length > 0).map((r) => [key(r), r]));
  const newBy = new Map(next.report.results.filter((r) => r.samples.length > 0).map((r) => [key(r), r]));
  const rows: CompareRow[] = [];
  for (const [k, b] of baseBy) {
    const n = newBy.get(k);
    if (!n) continue;
    for (const metric of COMPARED) {
      const xs = b.samples.map((s: Sample) => s[metric]);
      const ys = n.samples.map((s: Sample) => s[metric]);
      const bm = median(xs);
      const nm = median(ys);
      const ratio = bm > 0 ? nm / bm : null;
      const w = welch(xs, ys);
      rows.push({
        backend: b.backend,
        clip: b.clip.name,
        metric,
        baseMedian: bm,
        newMedian: nm,
        ratio,
        changePct: ratio === null ? null : 100 * (ratio - 1),
        nBase: xs.length,
        nNew: ys.length,
        t: w && Number.isFinite(w.t) ? w.t : null,
        df: w?.df ?? null,
        p: w?.p ?? null,
        verdict: "same",
      });
    }
  }
  const significant = holmSignificant(
    rows.map((r) => r.p),
    opts.alpha,
  );
  for (const [i, r] of rows.entries()) r.verdict = verdictOf(r.ratio, significant[i]!, opts.threshold);
  const unmatched = [
    ...[...baseBy.values()]
      .filter((r) => !newBy.has(key(r)))
      .map((r) => ({ backend: r.backend, clip: r.clip.name, onlyIn: "base" as const })),
    ...[...newBy.values()]
      .filter((r) => !baseBy.has(key(r)))
      .map((r) => ({ backend: r.backend, clip: r.clip.name, onlyIn: "new" as const })),
  ];
  return {
    ...reportHeader("compare", null, { now: opts.now }),
    base: side(base.path, base.report),
    new: side(next.path, next.report),
    threshold: opts.threshold,
    alpha: opts.alpha,
    rows,
    unmatched,
    regressions: rows.filter((r) => r.verdict === "regression").length,
    improvements: rows.filter((r) => r.verdict === "improvement").length,
  };
}

export function renderCompare(c: CompareReport): string {
  const t = new Table({
    head: ["backend", "clip", "metric", "base", "new", "change", "p (Welch)", "verdict"],
    style: { head: [], border: [] },
  });
  for (const r of c.rows) {
    t.push([
      r.backend,
      r.clip,
      r.metric,
      r.baseMedian.toFixed(2),
      r.newMedian.toFixed(2),
      r.changePct === null ? "–" : `${r.changePct >= 0 ? "+" : ""}${r.changePct.toFixed(1)}%`,
      r.p === null ? `– (n ${r.nBase}/${r.nNew})` : r.p < 1e-4 ? r.p.toExponential(1) : r.p.toFixed(4),
      r.verdict === "regression" ? "REGRESSION" : r.verdict,
    ]);
  }
  const lines = [
    `base ${c.base.path} (engine ${c.base.engineCommit?.slice(0, 10) ?? "?"}, ${c.base.gpu ?? "no GPU"})`,
    `new  ${c.new.path} (engine ${c.new.engineCommit?.slice(0, 10) ?? "?"}, ${c.new.gpu ?? "no GPU"})`,
    t.toString(),
  ];
  for (const u of c.unmatched) lines.push(`only in ${u.onlyIn}: ${u.backend} ${u.clip}`);
  const pct = `${(100 * c.threshold).toFixed(1)}%`;
  if (c.rows.length > 0 && c.regressions === 0 && c.improvements === 0) {
    lines.push(
      `no change: no median moved beyond ${pct} with significance (Holm-corrected p < ${c.alpha} over ${c.rows.length} tests)`,
    );
  }
  lines.push(
    `${c.regressions} regression(s), ${c.improvements} improvement(s) beyond ${pct} at Holm-corrected p < ${c.alpha}`,
  );
  return `${lines.join("\n")}\n`;
}
