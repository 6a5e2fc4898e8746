// Word and character error rates after normalisation, with the alignment that explains them.
// Alignment: Levenshtein over words (or characters) with unit costs; on ties the backtrace prefers
// a match/substitution, then a deletion, then an insertion, so results are deterministic.
// WER = (S + D + I) / N, N = number of reference words (as jiwer); CER the same over characters,
// spaces included. An empty reference gives 0 when the hypothesis is empty too, else 1.

/** NFKC, lower case, typographic quotes folded, punctuation dropped (apostrophes inside words kept),
 *  whitespace collapsed. Enough to make "Hello, world!" equal "hello world" without language rules. */
export function normalizeText(s: string): string {
  return s
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[\u2018\u2019\u02bc]/g, "'")
    .replace(/[^\p{L}\p{N}\s']/gu, " ")
    .replace(/(^|\s)'+|'+(?=\s|$)/g, "$1")
    .replace(/\s+/g, " ")
    .trim();
}

export type EditOp = "equal" | "substitute" | "delete" | "insert";

export interface AlignStep<T = string> {
  op: EditOp;
  /** null for insertions */
  ref: T | null;
  /** null for deletions */
  hyp: T | null;
}

export interface ErrorRate {
  /** (S + D + I) / N */
  rate: number;
  substitutions: number;
  deletions: number;
  insertions: number;
  hits: number;
  /** N: reference length in units */
  referenceLength: number;
  alignment: AlignStep[];
}

/** Minimal-edit alignment of two sequences (items compared with ===). O(n·m) time and memory
 *  (fine for transcripts: 2,000 × 2,000 tokens is 16 MB). */
export function align<T>(ref: readonly T[], hyp: readonly T[]): AlignStep<T>[] {
  const n = ref.length;
  const m = hyp.length;
  const w = m + 1;
  const d = new Uint32Array((n + 1) * w);
  for (let i = 0; i <= n; i++) d[i * w] = i;
  for (let j = 0; j <= m; j++) d[j] = j;
  for (let i = 1; i <= n; i++) {
    for (let j = 1; j <= m; j++) {
      const sub = d[(i - 1) * w + j - 1]! + (ref[i - 1] === hyp[j - 1] ? 0 : 1);
      const del = d[(i - 1) * w + j]! + 1;
      const ins = d[i * w + j - 1]! + 1;
      d[i * w + j] = Math.min(sub, del, ins);
    }
  }
  const steps: AlignStep<T>[] = [];
  let i = n;
  let j = m;
  while (i > 0 || j > 0) {
    const here = d[i * w + j]!;
    if (i > 0 && j > 0 && here === d[(i - 1) * w + j - 1]! + (ref[i - 1] === hyp[j - 1] ? 0 : 1)) {
      steps.push({ op: ref[i - 1] === hyp[j - 1] ? "equal" : "substitute", ref: ref[i - 1]!, hyp: hyp[j - 1]! });
      i--;
      j--;
    } else if (i > 0 && here === d[(i - 1) * w + j]! + 1) {
      steps.push({ op: "delete", ref: ref[i - 1]!, hyp: null });
      i--;
    } else {
      steps.push({ op: "insert", ref: null, hyp: hyp[j - 1]! });
      j--;
    }
  }
  return steps.reverse();
}

function rateOf(ref: readonly string[], hyp: readonly string[]): ErrorRate {
  const alignment = align(ref, hyp);
  const count = (op: EditOp) => alignment.filter((s) => s.op === op).length;
  const substitutions = count("substitute");
  const deletions = count("delete");
  const insertions = count("insert");
  const errors = substitutions + deletions + insertions;
  return {
    rate: ref.length === 0 ? (errors > 0 ? 1 : 0) : errors / ref.length,
    substitutions,
    deletions,
    insertions,
    hits: count("equal"),
    referenceLength: ref.length,
    alignment,
  };
}

export function words(s: string): string[] {
  const n = normalizeText(s);
  return n.length === 0 ? [] : n.split(" ");
}

/** Word error rate of `hyp` against `ref`, both normalised first. */
export function wordErrorRate(ref: string, hyp: string): ErrorRate {
  return rateOf(words(ref), words(hyp));
}

/** Character error rate over the normalised texts (spaces count as characters). */
export function charErrorRate(ref: string, hyp: string): ErrorRate {
  return rateOf([...normalizeText(ref)], [...normalizeText(hyp)]);
}

/** jiwer-style three lines: REF, HYP, and S/D/I markers under each column; `*` fills gaps. */
export function formatAlignment(steps: readonly AlignStep[], sep = " "): string {
  const mark: Record<EditOp, string> = { equal: "", substitute: "S", delete: "D", insert: "I" };
  const refCols: string[] = [];
  const hypCols: string[] = [];
  const opCols: string[] = [];
  for (const s of steps) {
    const width = Math.max(s.ref?.length ?? 0, s.hyp?.length ?? 0, 1);
    refCols.push((s.ref ?? "*".repeat(width)).padEnd(width));
    hypCols.push((s.hyp ?? "*".repeat(width)).padEnd(width));
    opCols.push(mark[s.op].padEnd(width));
  }
  return [`REF: ${refCols.join(sep)}`, `HYP: ${hypCols.join(sep)}`, `     ${opCols.join(sep)}`]
    .map((l) => l.trimEnd())
    .join("\n");
}
