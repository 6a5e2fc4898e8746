// Token-id comparison of a candidate run against a baseline. The count is the edit distance
// (substitutions + deletions + insertions, as WER counts words), fraction = differing / max(baseline
// length, 1); the hunks shown come from the `diff` package (Myers diff, a removed run followed by an
// added run forming one hunk). Myers alone would overcount: inside a run of repeated ids it may
// report one substitution as a deletion here and an insertion there.
import { diffArrays } from "diff";
import { align } from "./wer.js";

export interface TokenHunk {
  /** index in the baseline where the hunk starts */
  baselineIndex: number;
  candidateIndex: number;
  removed: number[];
  added: number[];
}

export interface TokenDiff {
  baselineLength: number;
  candidateLength: number;
  /** tokens in common (LCS length) */
  common: number;
  differing: number;
  fraction: number;
  /** first index where the sequences differ (null when identical) */
  firstDifference: number | null;
  hunks: TokenHunk[];
}

export function diffTokens(baseline: readonly number[], candidate: readonly number[]): TokenDiff {
  const changes = diffArrays([...baseline], [...candidate]);
  const hunks: TokenHunk[] = [];
  let bi = 0;
  let ci = 0;
  let common = 0;
  for (const c of changes) {
    if (!c.added && !c.removed) {
      common += c.count;
      bi += c.count;
      ci += c.count;
      continue;
    }
    const last = hunks.at(-1);
    const open =
      last && last.baselineIndex + last.removed.length === bi && last.candidateIndex + last.added.length === ci;
    const hunk = open ? last : { baselineIndex: bi, candidateIndex: ci, removed: [], added: [] };
    if (!open) hunks.push(hunk);
    if (c.removed) {
      hunk.removed.push(...c.value);
      bi += c.count;
    } else {
      hunk.added.push(...c.value);
      ci += c.count;
    }
  }
  const differing = align(baseline, candidate).filter((s) => s.op !== "equal").length;
  let firstDifference: number | null = null;
  const n = Math.min(baseline.length, candidate.length);
  for (let i = 0; i < n && firstDifference === null; i++) if (baseline[i] !== candidate[i]) firstDifference = i;
  if (firstDifference === null && baseline.length !== candidate.length) firstDifference = n;
  return {
    baselineLength: baseline.length,
    candidateLength: candidate.length,
    common,
    differing,
    fraction: differing / Math.max(baseline.length, 1),
    firstDifference,
    hunks,
  };
}

/** The diff in one line per hunk, with `context` common tokens either side:
 *  `@12  5 6 [-7 8-] {+9+} 10 11` (ids; baseline removed in [- -], candidate added in {+ +}). */
export function formatTokenDiff(baseline: readonly number[], d: TokenDiff, context = 3): string[] {
  return d.hunks.map((h) => {
    const before = baseline.slice(Math.max(0, h.baselineIndex - context), h.baselineIndex);
    const endB = h.baselineIndex + h.removed.length;
    const after = baseline.slice(endB, endB + context);
    const parts = [...before.map(String)];
    if (h.removed.length) parts.push(`[-${h.removed.join(" ")}-]`);
    if (h.added.length) parts.push(`{+${h.added.join(" ")}+}`);
    parts.push(...after.map(String));
    return `@${h.baselineIndex}  ${parts.join(" ")}`;
  });
}
