// The verdicts of the GPU check (toolkit/scripts/gpu-check.ts): one engine run against a reference
// run (golden arrays, or another backend's dump), judged by the toolkit's own comparators
// (tokendiff.ts for the ids, logits.ts for the per-step logits) and limits (a tier of tolerance.ts),
// and token lists that must be identical (streaming, two streams, two processes, speculation).
// Pure: no process is started here.
import { compareLogits, type LogitsMatrix } from "./logits.js";
import { diffTokens, formatTokenDiff } from "./tokendiff.js";
import { evaluate, type TierName, toleranceFor } from "./tolerance.js";

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
}

/** A candidate run against a reference run in a tolerance tier: token ids by edit distance, logits
 *  row by row up to the first token difference; every metric of the tier must pass. */
export function judgeRun(name: string, label: string, ref: RunOutput, got: RunOutput, tier: TierName): CheckResult {
  const d = diffTokens(ref.tokens, got.tokens);
  const cmp = ref.logits && got.logits ? compareLogits(ref.logits, got.logits, { firstTokenDifference: d.firstDifference }) : null;
  const { pass, verdicts } = evaluate(
    {
      tokenDiff: d.fraction,
      wer: 0,
      cer: 0,
      top1: cmp ? cmp.top1Agreement : null,
      maxKl: cmp ? cmp.maxKl : null,
      maxRelativeError: cmp ? cmp.maxRelativeError : null,
    },
    toleranceFor(tier),
  );
  const failed = verdicts.filter((v) => v.status === "fail").map((v) => `${v.metric} ${fmt(v.value)} (limit ${v.op} ${v.limit})`);
  const skipped = verdicts.filter((v) => v.status === "skip").map((v) => v.metric);
  let detail = `${label}: ${got.tokens.length} tokens vs ${ref.tokens.length}, ${d.differing} differ`;
  if (cmp) {
    detail += `, logits over ${cmp.comparedSteps} steps: maxRelErr ${fmt(cmp.maxRelativeError)}, max KL ${fmt(cmp.maxKl)}, `;
    detail += `top-1 ${(100 * cmp.top1Agreement).toFixed(1)} %`;
  }
  detail += ` (${tier} tier)`;
  if (d.firstDifference !== null) detail += `; first difference at step ${d.firstDifference}: ${formatTokenDiff(ref.tokens, d)[0] ?? ""}`;
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
      ...(cmp ? { maxRelErr: cmp.maxRelativeError, maxKl: cmp.maxKl, top1: cmp.top1Agreement, comparedSteps: cmp.comparedSteps } : {}),
    },
  };
}

/** Every run's tokens must equal the reference's exactly (streaming == offline and the like). */
export function judgeIdentical(name: string, label: string, ref: readonly number[], runs: readonly (readonly number[])[]): CheckResult {
  const bad: string[] = [];
  runs.forEach((t, i) => {
    const d = diffTokens(ref, t);
    if (d.differing > 0 || t.length !== ref.length) bad.push(`run ${i}: ${d.differing} differ, first at ${d.firstDifference}`);
  });
  if (runs.length === 0) bad.push("no run produced tokens");
  return {
    name,
    status: bad.length ? "FAIL" : "PASS",
    detail: `${label}: ${runs.length} run(s) vs ${ref.length} reference tokens, ${bad.length ? bad.join("; ") : "all identical"}`,
    values: { runs: runs.length, referenceTokens: ref.length, failures: bad },
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
