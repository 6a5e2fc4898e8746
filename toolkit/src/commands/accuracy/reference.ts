// Accuracy against what a person wrote down: the candidate's text against a reference transcript,
// WER and CER with the alignment of each file, and the pooled rates over all files (total errors over
// total reference words or characters, as jiwer pools). Normalisation is lib/wer.ts's (NFKC, lower
// case, punctuation dropped, apostrophes inside words kept, whitespace collapsed) on both sides.
import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { InputError, UsageError } from "../../lib/errors.js";
import { checkAudioFile } from "../../lib/inputs.js";
import { charErrorRate, formatAlignment, wordErrorRate, type ErrorRate } from "../../lib/wer.js";
import type { CaseRecord, RateRecord, RunRecord } from "./compare.js";
import type { StepStatus } from "../../generated/schemas.js";

export interface ReferencePair {
  audio: string;
  text: string;
}

export interface PooledRate {
  errors: number;
  referenceLength: number;
  rate: number;
}

export interface Pooled {
  words: PooledRate;
  chars: PooledRate;
  /** the limit on the pooled WER (--max-wer, a gate entry's "maxWer"); null: reported, not judged */
  maxWer: number | null;
  status: StepStatus;
}

const MANIFEST_FIX =
  'Each line of the manifest is one JSON object {"audio": "path.wav", "text": "what was said"}; audio paths are relative to the manifest.';

/** {"audio","text"} per line (blank lines skipped); audio relative to the manifest's folder. */
export function readManifest(path: string): ReferencePair[] {
  if (!existsSync(path)) throw new InputError(`manifest ${path} does not exist`, "Check the path of --manifest.", true);
  const pairs: ReferencePair[] = [];
  for (const [i, line] of readFileSync(path, "utf8").split("\n").entries()) {
    if (line.trim() === "") continue;
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch {
      throw new InputError(`manifest ${path} line ${i + 1} is not JSON`, MANIFEST_FIX);
    }
    const r = o as { audio?: unknown; text?: unknown };
    if (typeof r?.audio !== "string" || typeof r.text !== "string")
      throw new InputError(`manifest ${path} line ${i + 1} lacks a string "audio" or "text"`, MANIFEST_FIX);
    const audio = isAbsolute(r.audio) ? r.audio : resolve(dirname(path), r.audio);
    pairs.push({ audio: checkAudioFile(audio, `manifest line ${i + 1}: audio`), text: r.text });
  }
  if (pairs.length === 0) throw new InputError(`manifest ${path} has no entries`, MANIFEST_FIX);
  return pairs;
}

/** --audio A --reference A.txt pairs, by position. */
export function referencePairs(audio: readonly string[], references: readonly string[]): ReferencePair[] {
  if (audio.length !== references.length) {
    throw new UsageError(
      `${references.length} --reference file(s) for ${audio.length} --audio file(s)`,
      "Give one --reference TEXT file per --audio file, in the same order (or use --manifest).",
    );
  }
  return audio.map((a, i) => {
    const ref = references[i]!;
    if (!existsSync(ref))
      throw new InputError(`reference transcript ${ref} does not exist`, "Check the path of --reference.", true);
    return { audio: checkAudioFile(a, "--audio"), text: readFileSync(ref, "utf8") };
  });
}

function rateRecord(r: ErrorRate, sep: string): RateRecord {
  const { rate, substitutions, deletions, insertions, referenceLength } = r;
  return { rate, substitutions, deletions, insertions, referenceLength, alignment: formatAlignment(r.alignment, sep) };
}

/** One file: the candidate's text against the reference (the alignment is always kept). */
export function referenceCase(audio: string, referenceText: string, candidate: RunRecord): CaseRecord {
  const baseline: RunRecord = { text: referenceText, tokens: [], backend: null, dumpDir: null, timingsMs: null };
  const wer = rateRecord(wordErrorRate(referenceText, candidate.text), " ");
  const cer = rateRecord(charErrorRate(referenceText, candidate.text), "");
  return {
    audio,
    status: "pass",
    error: null,
    baseline,
    candidate,
    tokens: null,
    wer,
    cer,
    logits: null,
    verdicts: [],
  };
}

function pool(rates: ReadonlyArray<RateRecord>): PooledRate {
  const errors = rates.reduce((a, r) => a + r.substitutions + r.deletions + r.insertions, 0);
  const referenceLength = rates.reduce((a, r) => a + r.referenceLength, 0);
  return { errors, referenceLength, rate: referenceLength === 0 ? (errors > 0 ? 1 : 0) : errors / referenceLength };
}

/** Pooled WER / CER over the measured cases, judged against maxWer when one is set. */
export function pooled(cases: readonly CaseRecord[], maxWer: number | null): Pooled {
  const measured = cases.filter((c) => c.wer && c.cer);
  const words = pool(measured.map((c) => c.wer!));
  const chars = pool(measured.map((c) => c.cer!));
  const status = maxWer === null || measured.length === 0 ? "skip" : words.rate <= maxWer ? "pass" : "fail";
  return { words, chars, maxWer, status };
}
