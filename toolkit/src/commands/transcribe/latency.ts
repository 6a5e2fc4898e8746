// Live latency for `vox transcribe --mic`: a token's latency is the time from the arrival of the last
// sample of its audio interval (its end_ms, in captured-audio time) to the moment its text was
// printed. The clock records when each chunk of captured audio arrived; tokens are decided in order,
// so entries older than the last token asked about are dropped (memory stays flat on long sessions).

export class ArrivalClock {
  #marks: Array<{ endMs: number; at: number }> = [];
  #capturedMs = 0;

  /** A chunk arrived at `at` (ms, any monotonic clock) carrying audio up to `capturedMs`. */
  arrived(capturedMs: number, at: number): void {
    this.#capturedMs = capturedMs;
    this.#marks.push({ endMs: capturedMs, at });
  }

  get capturedMs(): number {
    return this.#capturedMs;
  }

  /** When the sample at `audioMs` arrived; null when it has not (a token decided in the padding after
   *  the capture stopped closes audio that never arrived). */
  arrivalOf(audioMs: number): number | null {
    const i = this.#marks.findIndex((m) => m.endMs >= audioMs);
    if (i < 0) return null;
    const at = this.#marks[i]!.at;
    if (i > 0) this.#marks.splice(0, i);
    return at;
  }
}

export interface LatencySummary {
  n: number;
  p50: number;
  p95: number;
  max: number;
}

/** Nearest-rank percentile of sorted values. */
function rank(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function summarizeLatency(ms: readonly number[]): LatencySummary | null {
  if (ms.length === 0) return null;
  const s = [...ms].sort((a, b) => a - b);
  return { n: s.length, p50: rank(s, 50), p95: rank(s, 95), max: s.at(-1)! };
}

/** The summary line printed after a --mic session. */
export function micSummary(capturedMs: number, lat: LatencySummary | null): string {
  const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const head = `captured ${(capturedMs / 1000).toFixed(1)} s of audio`;
  if (!lat) return `${head}; latency: no text was decided`;
  return `${head}; latency p50 ${sec(lat.p50)}, p95 ${sec(lat.p95)}, max ${sec(lat.max)} (${lat.n} tokens with text)`;
}
