// The verdicts of the GPU check (toolkit/scripts/gpu-check.ts): one engine run against a reference
// run, judged by the toolkit's own comparators (tokendiff.ts for the ids, logits.ts for the per-step
// logits) and the limits of checks/tolerances.json (tolerance.ts): against the golden arrays the
// backend's `golden` limits (per-row logits normRelErr / maxRelErr; on CUDA a token may differ only
// where the golden top-2 margin is below tokenMargin), between two runs a tier; and token lists that
// must be identical (streaming, two streams, two processes, speculation, serve). Pure: no process here.
import { compareLogits, type LogitsMatrix, maxRelErr, normRelErr } from "./logits.js";
import { diffTokens, formatTokenDiff } from "./tokendiff.js";
import { evaluate, type TierName, TOLERANCES, toleranceFor } from "./tolerance.js";

export type CheckStatus = "PASS" | "FAIL" | "SKIP";

export interface CheckResult {
  /** short name of the check family (golden, cpu, streaming, ...) */
  name: string;
  status: CheckStatus;
  /** one line: what was compared and the numbers (or why it was skipped) */
  detail: string;
  /** measured values, for the JSON log */
  values?: Record<string, unknown>;
}

export interface RunOutput {
  tokens: number[];
  /** logits.npy of the run (rows = decoder steps); null when the run has no dump */
  logits: LogitsMatrix | null;
  /** audio_embeds.npy, flat */
  audioEmbeds?: Float32Array;
}

/** A candidate run against a reference run in a tolerance tier: token ids by edit distance, logits
 *  row by row up to the first token difference; every metric of the tier must pass. */
export function judgeRun(name: string, label: string, ref: RunOutput, got: RunOutput, tier: TierName): CheckResult {
  const d = diffTokens(ref.tokens, got.tokens);
  const cmp =
    ref.logits && got.logits
      ? compareLogits(ref.logits, got.logits, { firstTokenDifference: d.firstDifference })
      : null;
  const { pass, verdicts } = evaluate(
    {
      tokenDiff: d.fraction,
      wer: 0,
      cer: 0,
      top1: cmp ? cmp.top1Agreement : null,
      maxKl: cmp ? cmp.maxKl : null,
      maxRelErr: cmp ? cmp.maxRelErr : null,
    },
    toleranceFor(tier),
  );
  const failed = verdicts
    .filter((v) => v.status === "fail")
    .map((v) => `${v.metric} ${fmt(v.value)} (limit ${v.op} ${v.limit})`);
  const skipped = verdicts.filter((v) => v.status === "skip").map((v) => v.metric);
  let detail = `${label}: ${got.tokens.length} tokens vs ${ref.tokens.length}, ${d.differing} differ`;
  if (cmp) {
    detail += `, logits over ${cmp.comparedSteps} steps: maxRelErr ${fmt(cmp.maxRelErr)}, max KL ${fmt(cmp.maxKl)}, `;
    detail += `top-1 ${(100 * cmp.top1Agreement).toFixed(1)} %`;
  }
  detail += ` (${tier} tier)`;
  if (d.firstDifference !== null)
    detail += `; first difference at step ${d.firstDifference}: ${formatTokenDiff(ref.tokens, d)[0] ?? ""}`;
  if (skipped.length) detail += `; not measured: ${skipped.join(", ")}`;
  if (failed.length) detail += `; over the limit: ${failed.join(", ")}`;
  return {
    name,
    status: pass ? "PASS" : "FAIL",
    detail,
    values: {
      tier,
      tokens: got.tokens.length,
      referenceTokens: ref.tokens.length,
      differing: d.differing,
      firstDifference: d.firstDifference,
      ...(cmp
        ? { maxRelErr: cmp.maxRelErr, maxKl: cmp.maxKl, top1: cmp.top1Agreement, comparedSteps: cmp.comparedSteps }
        : {}),
    },
  };
}

/** A run against the fixture's golden arrays with the limits `golden.<backend>` of checks/tolerances.json:
 *  every limit given for the logits (normRelErr, maxRelErr: the worst row, over the rows up to and including
 *  the first token difference) and for the audio embeddings; tokens identical, except that a first
 *  difference at a step whose golden top-2 margin is below tokenMargin (where given) is listed, not failed. */
export function judgeGolden(label: string, golden: RunOutput, got: RunOutput, backend: "cpu" | "cuda"): CheckResult {
  const limits = TOLERANCES.golden[backend].limits as {
    logits: Partial<Record<"normRelErr" | "maxRelErr", number>>;
    audioEmbeds?: Partial<Record<"normRelErr" | "maxRelErr", number>>;
    tokenMargin?: number;
  };
  const d = diffTokens(golden.tokens, got.tokens);
  const problems: string[] = [];
  const measured: Record<string, number> = {};
  let note = `${label}: ${got.tokens.length} tokens vs ${golden.tokens.length}`;
  let lowMargin = false;
  if (golden.logits && got.logits) {
    const G = golden.logits;
    const n = Math.min(G.steps, got.logits.steps, d.firstDifference === null ? Infinity : d.firstDifference + 1);
    let norm = 0;
    let max = 0;
    for (let s = 0; s < n; s++) {
      const a = G.data.subarray(s * G.vocab, (s + 1) * G.vocab);
      const b = got.logits.data.subarray(s * G.vocab, (s + 1) * G.vocab);
      norm = Math.max(norm, normRelErr(a, b));
      max = Math.max(max, maxRelErr(a, b));
    }
    measured.logitsNormRelErr = norm;
    measured.logitsMaxRelErr = max;
    note += `, logits over ${n} steps: normRelErr ${fmt(norm)}, maxRelErr ${fmt(max)}`;
    if (limits.logits.normRelErr !== undefined && !(norm <= limits.logits.normRelErr))
      problems.push(`logits normRelErr ${fmt(norm)} > ${limits.logits.normRelErr}`);
    if (limits.logits.maxRelErr !== undefined && !(max <= limits.logits.maxRelErr))
      problems.push(`logits maxRelErr ${fmt(max)} > ${limits.logits.maxRelErr}`);
    if (d.firstDifference !== null && d.firstDifference < G.steps && limits.tokenMargin !== undefined)
      lowMargin = top2Margin(G, d.firstDifference) < limits.tokenMargin;
  } else {
    problems.push("no logits to compare");
  }
  if (golden.audioEmbeds && got.audioEmbeds) {
    const e = normRelErr(golden.audioEmbeds, got.audioEmbeds);
    const m = maxRelErr(golden.audioEmbeds, got.audioEmbeds);
    measured.audioEmbedsNormRelErr = e;
    note += `; audio embeddings normRelErr ${fmt(e)}`;
    const lim = limits.audioEmbeds;
    if (lim?.normRelErr !== undefined && !(e <= lim.normRelErr))
      problems.push(`audio embeddings normRelErr ${fmt(e)} > ${lim.normRelErr}`);
    if (lim?.maxRelErr !== undefined && !(m <= lim.maxRelErr))
      problems.push(`audio embeddings maxRelErr ${fmt(m)} > ${lim.maxRelErr}`);
  }
  if (d.firstDifference !== null) {
    const at = `tokens differ from step ${d.firstDifference}: ${formatTokenDiff(golden.tokens, d)[0] ?? ""}`;
    if (lowMargin) note += `; ${at} (golden top-2 margin below ${limits.tokenMargin}: allowed)`;
    else problems.push(at);
  } else {
    note += ", all identical";
  }
  note += ` (golden.${backend} limits)`;
  return {
    name: "golden",
    status: problems.length ? "FAIL" : "PASS",
    detail: problems.length ? `${note}; ${problems.join("; ")}` : note,
    values: { ...measured, tokens: got.tokens.length, firstDifference: d.firstDifference, lowMargin },
  };
}

/** Every run's tokens must equal the reference's exactly (streaming == offline and the like). */
/** The gap between the two largest logits of step `step`. */
export function top2Margin(m: LogitsMatrix, step: number): number {
  const row = m.data.subarray(step * m.vocab, (step + 1) * m.vocab);
  let a = -Infinity;
  let b = -Infinity;
  for (const v of row) {
    if (v > a) {
      b = a;
      a = v;
    } else if (v > b) b = v;
  }
  return a - b;
}

/** Runs that must give the reference tokens. With `nearTie` (the reference run's logits and a margin,
 *  the golden limits' tokenMargin), a run whose first difference is at a step where the reference's
 *  top-2 margin is below it is listed, not failed: a rounding difference decided a near tie. */
export function judgeIdentical(
  name: string,
  label: string,
  ref: readonly number[],
  runs: readonly (readonly number[])[],
  nearTie?: { logits: LogitsMatrix; margin: number },
): CheckResult {
  const bad: string[] = [];
  const ties: string[] = [];
  runs.forEach((t, i) => {
    const d = diffTokens(ref, t);
    if (d.differing === 0 && t.length === ref.length) return;
    const at = `run ${i}: ${d.differing} differ, first at ${d.firstDifference}`;
    const f = d.firstDifference;
    const margin = nearTie && f !== null && f < nearTie.logits.steps ? top2Margin(nearTie.logits, f) : null;
    if (margin !== null && margin < nearTie!.margin) ties.push(`${at} (reference top-2 margin ${fmt(margin)})`);
    else bad.push(at);
  });
  if (runs.length === 0) bad.push("no run produced tokens");
  const tieNote = ties.length ? `; near ties below ${nearTie!.margin}, allowed: ${ties.join("; ")}` : "";
  return {
    name,
    status: bad.length ? "FAIL" : "PASS",
    detail:
      `${label}: ${runs.length} run(s) vs ${ref.length} reference tokens, ` +
      `${bad.length ? bad.join("; ") : ties.length ? "the others identical" : "all identical"}${tieNote}`,
    values: { runs: runs.length, referenceTokens: ref.length, failures: bad, nearTies: ties },
  };
}

function fmt(v: number | null): string {
  return v === null ? "n/a" : v === 0 ? "0" : v.toExponential(2);
}

/** The summary lines `PASS name  detail` and the closing count. */
export function summaryLines(results: readonly CheckResult[]): string[] {
  const lines = results.map((r) => `${r.status.padEnd(4)} ${r.name.padEnd(11)} ${r.detail}`);
  const failed = results.filter((r) => r.status === "FAIL").length;
  const skipped = results.filter((r) => r.status === "SKIP").length;
  lines.push(`gpu-check: ${results.length} checks, ${failed} failed, ${skipped} skipped`);
  return lines;
}
