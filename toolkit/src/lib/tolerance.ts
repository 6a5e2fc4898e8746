// Tolerance tiers for comparing a candidate run with a baseline, and the pass/fail verdicts.
// Every limit lives in checks/tolerances.json (read here, once); a tier is a named set of limits and a gate
// entry may override single limits. Metrics that could not
// be measured (no logit dumps) are "skip", never a silent pass of a missing number.
import { readFileSync } from "node:fs";
import type { StepStatus, TierLimits, TolerancesSchema } from "../generated/schemas.js";
import { tolerancesPath } from "./paths.js";
import { validateReport } from "./report.js";

export type TierName = "exact" | "strict" | "relaxed";

/** A tier's limits (checks/tolerances.json, `tiers.<name>.limits`). */
export type Tolerance = TierLimits;
/** checks/tolerances.json: every limit the checks apply. */
export type Tolerances = TolerancesSchema;

/** checks/tolerances.json, validated against its schema (a vox bug, exit 70, when it does not match). */
export function loadTolerances(path = tolerancesPath()): Tolerances {
  const data = JSON.parse(readFileSync(path, "utf8")) as unknown;
  validateReport("tolerances", data);
  return data as Tolerances;
}

export const TOLERANCES: Readonly<Tolerances> = loadTolerances();

export const TIERS: Readonly<Record<TierName, { tolerance: Tolerance; meaning: string }>> = {
  exact: { tolerance: TOLERANCES.tiers.exact.limits, meaning: TOLERANCES.tiers.exact.meaning },
  strict: { tolerance: TOLERANCES.tiers.strict.limits, meaning: TOLERANCES.tiers.strict.meaning },
  relaxed: { tolerance: TOLERANCES.tiers.relaxed.limits, meaning: TOLERANCES.tiers.relaxed.meaning },
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
  maxRelErr: number | null;
}

export interface MetricVerdict {
  metric: keyof Measured;
  value: number | null;
  limit: number;
  /** value must be `op` limit */
  op: "<=" | ">=";
  status: StepStatus;
}

const RULES: ReadonlyArray<[keyof Measured, keyof Tolerance, "<=" | ">="]> = [
  ["tokenDiff", "maxTokenDiff", "<="],
  ["wer", "maxWer", "<="],
  ["cer", "maxCer", "<="],
  ["top1", "minTop1", ">="],
  ["maxKl", "maxKl", "<="],
  ["maxRelErr", "maxRelErr", "<="],
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
