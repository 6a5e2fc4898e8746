// The accuracy comparison as a function: options in, a schema-shaped report out (not yet written).
// `vox accuracy` prints and writes it; `vox gate` calls it once per configured entry.
import { mkdirSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import type { Environment } from "../../lib/environment.js";
import { UsageError } from "../../lib/errors.js";
import { isFixture, readFixture, type Fixture } from "../../lib/fixture.js";
import { reportHeader } from "../../lib/report.js";
import { expectedBackend } from "../../lib/transcribe.js";
import { TIERS, toleranceFor, type TierName, type Tolerance } from "../../lib/tolerance.js";
import { compareCase, errorCase, summarize, type CaseRecord } from "./compare.js";
import { pooled, readManifest, referenceCase, type ReferencePair } from "./reference.js";
import { engineSide, goldenSide, reportSide, type Obtained } from "./sources.js";
import type { BackendChoice } from "../../lib/backend.js";
import type { AccuracySchema } from "../../generated/schemas.js";

export interface AccuracyOptions {
  model: string;
  /** empty: the fixture's own audio (fixture models only) */
  audio: string[];
  /** "cpu", "golden" or the path of an earlier accuracy report */
  baseline: string;
  candidate: BackendChoice;
  tier: TierName;
  overrides?: Partial<Tolerance>;
  delayMs?: number;
  logitSteps: number;
  timeoutMs: number;
  /** folder for the engine's --dump output (one sub-folder per audio and side) */
  dumpRoot: string;
  environment: Environment;
  /** against human transcripts instead of a baseline run: these pairs, or the pairs of a manifest */
  references?: ReferencePair[];
  manifest?: string;
  /** limit on the pooled WER against the references (null/absent: reported, not judged) */
  maxWer?: number | null;
}

/** Generated from checks/schemas/accuracy.schema.json. */
export type AccuracyReport = AccuracySchema;

function baselineKind(b: string): "cpu" | "golden" | "report" {
  return b === "cpu" || b === "golden" ? b : "report";
}

/** Audio list and delay, checked against the model kind (golden needs a fixture and its own audio). */
function resolveInputs(o: Pick<AccuracyOptions, "model" | "audio" | "baseline" | "delayMs">): {
  fixture: Fixture | null;
  audio: string[];
  delayMs?: number;
} {
  const fixture = isFixture(o.model) ? readFixture(o.model) : null;
  if (baselineKind(o.baseline) === "golden" && !fixture) {
    throw new UsageError(
      `--baseline golden needs a fixture folder (fixture.json + golden/), and ${o.model} is not one`,
      "Use --baseline cpu, or point --model at checks/fixtures/<name>.",
    );
  }
  const audio = o.audio.length > 0 ? o.audio.map((a) => resolve(a)) : fixture ? [fixture.audio] : [];
  if (audio.length === 0) throw new UsageError("no audio to compare", "Pass --audio FILE... (WAV files).");
  if (baselineKind(o.baseline) === "golden" && fixture && audio.some((a) => a !== fixture.audio)) {
    throw new UsageError(
      `golden outputs exist only for the fixture's own audio (${basename(fixture.audio)})`,
      "Drop --audio, or use --baseline cpu for other files.",
    );
  }
  return { fixture, audio, delayMs: o.delayMs ?? fixture?.delayMs };
}

async function oneCase(
  o: AccuracyOptions,
  fixture: Fixture | null,
  audio: string,
  index: number,
  delayMs?: number,
): Promise<CaseRecord> {
  const dir = (side: string) => {
    const d = join(o.dumpRoot, `${index}-${basename(audio).replace(/\.[^.]+$/, "")}`, side);
    mkdirSync(d, { recursive: true });
    return d;
  };
  const side = { model: o.model, audio, delayMs, logitSteps: o.logitSteps, timeoutMs: o.timeoutMs };
  const kind = baselineKind(o.baseline);
  const base: Obtained =
    kind === "golden"
      ? goldenSide(fixture!)
      : kind === "cpu"
        ? await engineSide({ ...side, backend: "cpu", expect: "cpu", dumpDir: dir("baseline") })
        : reportSide(o.baseline, audio);
  if (!base.run) return errorCase(audio, `baseline: ${base.error}`);
  const expect = expectedBackend(o.candidate, o.environment.cuda.available);
  const cand = await engineSide({ ...side, backend: o.candidate, expect, dumpDir: dir("candidate") });
  if (!cand.run) return errorCase(audio, `candidate: ${cand.error}`, base.run);
  const logits =
    base.logits && cand.logits ? { baseline: base.logits, candidate: cand.logits, maxSteps: o.logitSteps } : null;
  return compareCase(audio, base.run, cand.run, toleranceFor(o.tier, o.overrides), logits);
}

/** Reference mode: the candidate backend on each file, its text against the human transcript. */
async function referenceReport(o: AccuracyOptions): Promise<AccuracyReport> {
  const pairs = o.references ?? readManifest(o.manifest!);
  const fixture = isFixture(o.model) ? readFixture(o.model) : null;
  const delayMs = o.delayMs ?? fixture?.delayMs;
  const expect = expectedBackend(o.candidate, o.environment.cuda.available);
  const cases: CaseRecord[] = [];
  for (const [i, p] of pairs.entries()) {
    const dumpDir = join(o.dumpRoot, `${i}-${basename(p.audio).replace(/\.[^.]+$/, "")}`);
    mkdirSync(dumpDir, { recursive: true });
    const side = { model: o.model, audio: p.audio, delayMs, logitSteps: 1, timeoutMs: o.timeoutMs, dumpDir };
    const cand = await engineSide({ ...side, backend: o.candidate, expect });
    cases.push(cand.run ? referenceCase(p.audio, p.text, cand.run) : errorCase(p.audio, `candidate: ${cand.error}`));
  }
  const pool = pooled(cases, o.maxWer ?? null);
  const { summary, status } = summarize(cases);
  return {
    ...reportHeader("accuracy", o.environment),
    model: resolve(o.model),
    baseline: { kind: "reference", source: o.manifest ? resolve(o.manifest) : "--reference" },
    candidate: { backend: o.candidate },
    tier: o.tier,
    tierMeaning: TIERS[o.tier].meaning,
    tolerance: toleranceFor(o.tier, o.overrides),
    cases,
    summary,
    status: status === "error" ? "error" : pool.status === "fail" ? "fail" : "pass",
    pooled: pool,
  };
}

/** Runs both sides for every audio file and compares them (or, with references, the candidate against
 *  human transcripts). Throws only for bad options (UsageError). */
export async function accuracyReport(o: AccuracyOptions): Promise<AccuracyReport> {
  if (o.references || o.manifest) return referenceReport(o);
  const { fixture, audio, delayMs } = resolveInputs(o);
  const cases: CaseRecord[] = [];
  for (const [i, a] of audio.entries()) cases.push(await oneCase(o, fixture, a, i, delayMs));
  const kind = baselineKind(o.baseline);
  return {
    ...reportHeader("accuracy", o.environment),
    model: resolve(o.model),
    baseline: {
      kind,
      source: kind === "golden" ? fixture!.golden.dir : kind === "cpu" ? "engine --backend cpu" : resolve(o.baseline),
    },
    candidate: { backend: o.candidate },
    tier: o.tier,
    tierMeaning: TIERS[o.tier].meaning,
    tolerance: toleranceFor(o.tier, o.overrides),
    cases,
    ...summarize(cases),
  };
}

/** Drops the engine runs' dump paths (temporary dumps deleted after the run); golden paths stay. */
export function forgetDumps(r: AccuracyReport): AccuracyReport {
  const drop = <X extends { dumpDir: string | null; backend: string | null } | null>(run: X): X =>
    run && run.backend !== null ? { ...run, dumpDir: null } : run;
  return { ...r, cases: r.cases.map((c) => ({ ...c, baseline: drop(c.baseline), candidate: drop(c.candidate) })) };
}
