// Pure verdicts of `vox smoke`: a transcription outcome against what was asked (backend, a
// reference run to agree with), and the expected backend for a request.
import type { EngineTranscript, TranscribeOutcome } from "../../lib/transcribe.js";
import type { Backend } from "../../lib/backend.js";
import type { Counts, ReportStatus, StepStatus } from "../../generated/schemas.js";
export { expectedBackend } from "../../lib/transcribe.js";

export type SmokeStatus = StepStatus;

export interface SmokeCheck {
  id: string;
  title: string;
  status: SmokeStatus;
  detail: string;
  fix: string | null;
  durationMs: number;
  command: string | null;
  text: string | null;
  backend: string | null;
  timingsMs: Record<string, number | null> | null;
}

const FIX_ENGINE =
  "Run the command shown by hand to see the engine's full output; rebuild with npx vox build; if it persists, report it with the smoke report attached.";

/** Judges one --json transcription: ran, followed the contract, produced tokens, used the expected
 *  backend, and (when a reference is given) produced the same token ids as the reference. */
export function judgeTranscript(
  id: string,
  title: string,
  out: TranscribeOutcome,
  expected: Backend,
  reference: EngineTranscript | null,
): SmokeCheck {
  const base = { id, title, durationMs: Math.round(out.run.durationMs), command: out.run.command };
  const t = out.transcript;
  const fields = { text: t?.text ?? null, backend: t?.backend ?? null, timingsMs: t ? { ...t.timings_ms } : null };
  const fail = (detail: string, fix = FIX_ENGINE): SmokeCheck => ({ ...base, ...fields, status: "fail", detail, fix });
  if (!t) return fail(out.error ?? "no transcript");
  if (t.tokens.length === 0 || t.n_steps <= 0)
    return fail(`the engine decoded nothing (${t.tokens.length} tokens, n_steps ${t.n_steps})`);
  if (t.backend !== expected) {
    return fail(
      `asked for backend ${expected}, the engine reported ${t.backend} (device ${t.device})`,
      "Run npx vox-doctor --backend cuda to see why the CUDA backend is unavailable.",
    );
  }
  if (
    reference &&
    (t.tokens.length !== reference.tokens.length || t.tokens.some((x, i) => x !== reference.tokens[i]))
  ) {
    const i = t.tokens.findIndex((x, k) => x !== reference.tokens[k]);
    return fail(
      `token ids differ from the file transcription at index ${i < 0 ? Math.min(t.tokens.length, reference.tokens.length) : i} (${t.tokens.length} vs ${reference.tokens.length} tokens)`,
    );
  }
  const same = reference ? "; same tokens as the file run" : "";
  return {
    ...base,
    ...fields,
    status: "pass",
    detail: `${t.tokens.length} tokens on ${t.backend} (${t.device}), ${t.audio_seconds.toFixed(2)} s audio, wall ${t.timings_ms.wall.toFixed(0)} ms${same}`,
    fix: null,
  };
}

export function skipped(id: string, title: string, why: string): SmokeCheck {
  return {
    id,
    title,
    status: "skip",
    detail: why,
    fix: null,
    durationMs: 0,
    command: null,
    text: null,
    backend: null,
    timingsMs: null,
  };
}

export function summarizeChecks(checks: readonly SmokeCheck[]): {
  summary: Counts;
  status: ReportStatus;
} {
  const n = (s: SmokeStatus) => checks.filter((c) => c.status === s).length;
  const summary = { passed: n("pass"), failed: n("fail"), skipped: n("skip") };
  return { summary, status: summary.failed > 0 || summary.passed === 0 ? "fail" : "pass" };
}
