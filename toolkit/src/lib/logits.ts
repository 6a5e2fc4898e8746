// Logit comparison of two runs, row by row ([n_steps, vocab] float32, row 0 = first generated token).
// Greedy decoding feeds each chosen token back, so once the token sequences differ the later rows
// answer different questions; rows are compared up to and including the first token difference,
// and at most `maxSteps` rows.
//   top-1 agreement: fraction of compared rows whose argmax is the same;
//   maxRelErr of a row: max_i |a_i - b_i| / max_i |a_i| (scale of the baseline row; the absolute
//   error when the baseline row is all zeros, so the number stays finite for JSON);
//   normRelErr: ||a - b|| / ||a|| (the other metric of checks/tolerances.json, used against golden arrays);
//   KL(P_baseline || P_candidate) of the softmaxed rows, in nats, computed in float64.

export interface LogitsMatrix {
  steps: number;
  vocab: number;
  data: Float32Array;
}

export interface LogitsComparison {
  comparedSteps: number;
  top1Agreement: number;
  /** rows whose argmax differs (indices) */
  top1Mismatches: number[];
  maxRelErr: number;
  meanKl: number;
  maxKl: number;
  /** row of the largest KL */
  maxKlStep: number;
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

/** log-softmax of a row in float64 (max-subtracted). */
function logSoftmax(row: Float32Array): Float64Array {
  let mx = -Infinity;
  for (const v of row) if (v > mx) mx = v;
  let sum = 0;
  for (const v of row) sum += Math.exp(v - mx);
  const lse = mx + Math.log(sum);
  const out = new Float64Array(row.length);
  for (let i = 0; i < row.length; i++) out[i] = row[i]! - lse;
  return out;
}

export function klDivergence(baseline: Float32Array, candidate: Float32Array): number {
  const lp = logSoftmax(baseline);
  const lq = logSoftmax(candidate);
  let kl = 0;
  for (let i = 0; i < lp.length; i++) kl += Math.exp(lp[i]!) * (lp[i]! - lq[i]!);
  return Math.max(0, kl);
}

/** ||a - b||_2 / ||a||_2, a the baseline (||a - b||_2 when the baseline is all zeros). */
export function normRelErr(baseline: Float32Array, candidate: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < baseline.length; i++) {
    const d = baseline[i]! - candidate[i]!;
    num += d * d;
    den += baseline[i]! * baseline[i]!;
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

/** max |a - b| / max |a|, a the baseline (the absolute error when the baseline is all zeros). */
export function maxRelErr(baseline: Float32Array, candidate: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < baseline.length; i++) {
    diff = Math.max(diff, Math.abs(baseline[i]! - candidate[i]!));
    scale = Math.max(scale, Math.abs(baseline[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}

/** Compares the first min(steps, maxSteps, firstTokenDifference + 1) rows. Throws on a vocab mismatch. */
export function compareLogits(
  baseline: LogitsMatrix,
  candidate: LogitsMatrix,
  opts: { maxSteps?: number; firstTokenDifference?: number | null } = {},
): LogitsComparison {
  if (baseline.vocab !== candidate.vocab) {
    throw new Error(`logits have different vocab sizes: baseline ${baseline.vocab}, candidate ${candidate.vocab}`);
  }
  let n = Math.min(baseline.steps, candidate.steps, opts.maxSteps ?? Infinity);
  if (opts.firstTokenDifference !== null && opts.firstTokenDifference !== undefined)
    n = Math.min(n, opts.firstTokenDifference + 1);
  const V = baseline.vocab;
  const mismatches: number[] = [];
  let maxRel = 0;
  let klSum = 0;
  let maxKl = 0;
  let maxKlStep = 0;
  for (let s = 0; s < n; s++) {
    const a = baseline.data.subarray(s * V, (s + 1) * V);
    const b = candidate.data.subarray(s * V, (s + 1) * V);
    if (argmax(a) !== argmax(b)) mismatches.push(s);
    maxRel = Math.max(maxRel, maxRelErr(a, b));
    const kl = klDivergence(a, b);
    klSum += kl;
    if (kl > maxKl) {
      maxKl = kl;
      maxKlStep = s;
    }
  }
  return {
    comparedSteps: n,
    top1Agreement: n === 0 ? 1 : (n - mismatches.length) / n,
    top1Mismatches: mismatches,
    maxRelErr: maxRel,
    meanKl: n === 0 ? 0 : klSum / n,
    maxKl,
    maxKlStep,
  };
}
