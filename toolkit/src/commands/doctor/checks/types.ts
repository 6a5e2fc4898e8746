// The shape of a doctor check: a pure function over the collected facts.
import type { Facts } from "../facts.js";
import type { CheckStatus, DoctorSchema } from "../../../generated/schemas.js";
import type { BackendChoice } from "../../../lib/backend.js";

export type Status = CheckStatus;

export interface Verdict {
  status: Status;
  /** What was found, with the numbers; may span lines. */
  detail: string;
  /** For warn/fail: the command to run, the variable to set, or the README section. null on pass/skip. */
  fix: string | null;
  /** Each warning or failure behind the verdict, with its own severity and fix (set by combine). */
  findings?: Array<{ status: "warn" | "fail"; detail: string; fix: string }>;
}

/** Which backend the user wants ready: cpu skips the CUDA checks. */

/** A check's id, as checks/schemas/doctor.schema.json lists them. */
export type CheckId = DoctorSchema["checks"][number]["id"];

export interface Check {
  id: CheckId;
  title: string;
  /** Which backend needs this check; "any" always runs. */
  needs: "any" | "cpu" | "cuda";
  run(f: Facts, backend: BackendChoice): Verdict;
}

export const pass = (detail: string): Verdict => ({ status: "pass", detail, fix: null });
export const warn = (detail: string, fix: string): Verdict => ({ status: "warn", detail, fix });
export const fail = (detail: string, fix: string): Verdict => ({ status: "fail", detail, fix });
export const skip = (detail: string): Verdict => ({ status: "skip", detail, fix: null });

const RANK: Record<Status, number> = { skip: 0, pass: 1, warn: 2, fail: 3 };

/** Combines findings into one verdict: the worst status; details joined by line, fixes likewise. */
export function combine(findings: Verdict[], passDetail: string): Verdict {
  const worst = findings.reduce<Status>((s, v) => (RANK[v.status] > RANK[s] ? v.status : s), "pass");
  const bad = findings.filter((v) => v.status === "warn" || v.status === "fail");
  if (bad.length === 0) return pass([passDetail, ...findings.map((v) => v.detail)].filter((d) => d).join("\n"));
  const ordered = [...bad].sort((a, b) => RANK[b.status] - RANK[a.status]);
  return {
    status: worst,
    detail: [...ordered.map((v) => v.detail), passDetail].filter((d) => d).join("\n"),
    fix: [...new Set(ordered.map((v) => v.fix).filter((x): x is string => !!x))].join("\n"),
    findings: ordered.map((v) => ({ status: v.status as "warn" | "fail", detail: v.detail, fix: v.fix ?? "" })),
  };
}

/** First non-empty line of a command's output (its error message, usually). */
export function firstLine(s: string): string {
  return (
    s
      .split("\n")
      .map((l) => l.trim())
      .find((l) => l.length > 0) ?? ""
  );
}

export const MIB = 1024 * 1024;
export const mib = (bytes: number): string => `${Math.round(bytes / MIB)} MiB`;
