// Pure: one baseline run and one candidate run (text, token ids, optional logits) -> one report case
// with its metrics and verdicts under a tolerance. Logits are compared up to the first token
// difference (see lib/logits.ts); WER/CER carry their alignment only when they are not 0.
import type { AccuracySchema, Case, CaseStatus, Rate, Run } from "../../generated/schemas.js";
import { compareLogits, type LogitsComparison, type LogitsMatrix } from "../../lib/logits.js";
import { diffTokens, formatTokenDiff } from "../../lib/tokendiff.js";
import { evaluate, type Tolerance } from "../../lib/tolerance.js";
import { charErrorRate, formatAlignment, wordErrorRate, type ErrorRate } from "../../lib/wer.js";

export type RunRecord = Run;

export type RateRecord = Rate;

export type CaseRecord = Case;

function rateRecord(r: ErrorRate, sep: string): RateRecord {
  return {
    rate: r.rate,
    substitutions: r.substitutions,
    deletions: r.deletions,
    insertions: r.insertions,
    referenceLength: r.referenceLength,
    alignment: r.rate === 0 ? null : formatAlignment(r.alignment, sep),
  };
}

/** A case that could not be measured: the reason in words, no metrics. */
export function errorCase(
  audio: string,
  error: string,
  baseline: RunRecord | null = null,
  candidate: RunRecord | null = null,
): CaseRecord {
  return {
    audio,
    status: "error",
    error,
    baseline,
    candidate,
    tokens: null,
    wer: null,
    cer: null,
    logits: null,
    verdicts: [],
  };
}

export function compareCase(
  audio: string,
  baseline: RunRecord,
  candidate: RunRecord,
  tolerance: Tolerance,
  logits: { baseline: LogitsMatrix; candidate: LogitsMatrix; maxSteps: number } | null,
): CaseRecord {
  const td = diffTokens(baseline.tokens, candidate.tokens);
  const wer = wordErrorRate(baseline.text, candidate.text);
  const cer = charErrorRate(baseline.text, candidate.text);
  let lc: LogitsComparison | null = null;
  if (logits) {
    try {
      lc = compareLogits(logits.baseline, logits.candidate, {
        maxSteps: logits.maxSteps,
        firstTokenDifference: td.firstDifference,
      });
    } catch (e) {
      return errorCase(audio, (e as Error).message, baseline, candidate);
    }
  }
  const { pass, verdicts } = evaluate(
    {
      tokenDiff: td.fraction,
      wer: wer.rate,
      cer: cer.rate,
      top1: lc?.top1Agreement ?? null,
      maxKl: lc?.maxKl ?? null,
      maxRelErr: lc?.maxRelErr ?? null,
    },
    tolerance,
  );
  return {
    audio,
    status: pass ? "pass" : "fail",
    error: null,
    baseline,
    candidate,
    tokens: {
      baselineLength: td.baselineLength,
      candidateLength: td.candidateLength,
      differing: td.differing,
      fraction: td.fraction,
      firstDifference: td.firstDifference,
      diff: formatTokenDiff(baseline.tokens, td),
    },
    wer: rateRecord(wer, " "),
    cer: rateRecord(cer, ""),
    logits: lc,
    verdicts,
  };
}

export function summarize(cases: readonly CaseRecord[]): {
  summary: AccuracySchema["summary"];
  status: CaseStatus;
} {
  const count = (s: CaseRecord["status"]) => cases.filter((c) => c.status === s).length;
  const summary = { cases: cases.length, passed: count("pass"), failed: count("fail"), errors: count("error") };
  const status = summary.errors > 0 ? "error" : summary.failed > 0 || cases.length === 0 ? "fail" : "pass";
  return { summary, status };
}
