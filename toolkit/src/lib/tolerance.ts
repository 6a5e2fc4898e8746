// Tolerance tiers for comparing a candidate run with a baseline, and the pass/fail verdicts.
// A tier is a named set of limits; a gate entry may override single limits. Metrics that could not
// be measured (no logit dumps) are "skip", never a silent pass of a missing number.

export type TierName = "exact" | "strict" | "relaxed";

export interface Tolerance {
  /** fraction of differing token ids (tokendiff.ts), at most */
  maxTokenDiff: number;
  maxWer: number;
  maxCer: number;
  /** top-1 agreement over the compared logit rows, at least */
  minTop1: number;
  /** KL(baseline || candidate) of any compared row, nats, at most */
  maxKl: number;
  /** max |a-b| / max |a| of any compared row, at most */
  maxRelativeError: number;
}

export const TIERS: Readonly<Record<TierName, { tolerance: Tolerance; meaning: string }>> = {
  exact: {
    tolerance: { maxTokenDiff: 0, maxWer: 0, maxCer: 0, minTop1: 1, maxKl: 1e-6, maxRelativeError: 1e-4 },
    meaning:
      "Same numbers: identical token ids and text, logits equal up to float32 rounding. For the same build and backend run again (determinism) or against its own earlier report.",
  },
  strict: {
    // Calibrated on an H200 (CUDA 13.0): CUDA against CPU on the fixtures gave identical tokens,
    // max KL 1.0e-3 nats and max relative error 1.4e-2 (BF16 tensor-core GEMMs); x5 / x3.5 headroom.
    tolerance: { maxTokenDiff: 0, maxWer: 0, maxCer: 0, minTop1: 1, maxKl: 5e-3, maxRelativeError: 5e-2 },
    meaning:
      "Same transcript: identical token ids and text, logits close (every compared argmax equal, KL at most 5e-3 nats). For a different backend or summation order: CUDA against CPU, CPU against the golden arrays.",
  },
  relaxed: {
    tolerance: { maxTokenDiff: 0.02, maxWer: 0.05, maxCer: 0.03, minTop1: 0.95, maxKl: 0.1, maxRelativeError: 0.5 },
    meaning:
      "Same meaning: up to 2 % of token ids, 5 % of words and 3 % of characters may differ, 95 % of compared argmaxes agree. For long audio where one near-tie flips and the rest follows, or reduced-precision experiments.",
  },
};

export function isTier(s: string): s is TierName {
  return Object.hasOwn(TIERS, s);
}

/** The tier's limits with per-entry overrides applied. */
export function toleranceFor(tier: TierName, overrides: Partial<Tolerance> = {}): Tolerance {
  return { ...TIERS[tier].tolerance, ...overrides };
}

export interface Measured {
  tokenDiff: number;
  wer: number;
  cer: number;
  /** null when either run has no logits dump */
  top1: number | null;
  maxKl: number | null;
  maxRelativeError: number | null;
}

export interface MetricVerdict {
  metric: keyof Measured;
  value: number | null;
  limit: number;
  /** value must be `op` limit */
  op: "<=" | ">=";
  status: "pass" | "fail" | "skip";
}

const RULES: ReadonlyArray<[keyof Measured, keyof Tolerance, "<=" | ">="]> = [
  ["tokenDiff", "maxTokenDiff", "<="],
  ["wer", "maxWer", "<="],
  ["cer", "maxCer", "<="],
  ["top1", "minTop1", ">="],
  ["maxKl", "maxKl", "<="],
  ["maxRelativeError", "maxRelativeError", "<="],
];

/** One verdict per metric; the case passes when none fails. */
export function evaluate(m: Measured, tol: Tolerance): { pass: boolean; verdicts: MetricVerdict[] } {
  const verdicts = RULES.map(([metric, limitKey, op]): MetricVerdict => {
    const value = m[metric];
    const limit = tol[limitKey];
    if (value === null) return { metric, value, limit, op, status: "skip" };
    const ok = op === "<=" ? value <= limit : value >= limit;
    return { metric, value, limit, op, status: ok ? "pass" : "fail" };
  });
  return { pass: verdicts.every((v) => v.status !== "fail"), verdicts };
}
