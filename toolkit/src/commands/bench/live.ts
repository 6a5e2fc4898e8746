// `vox-bench --live N`: what a live user feels. N concurrent sessions through `vox serve`'s
// WS /v1/realtime, each sending the same speech at real time (80 ms appends on the wall clock), and
// per stream and pooled: delta latency p50 / p95 / max, steps that fell behind real time, the time to
// the first delta. The measuring is here; the numbers become a report in liveReport (pure).
//
// Latency of a delta (the definition of toolkit/SERVE.md, measured on the client): its receipt minus
// the send time of the append holding the last sample it covers (its token's end_ms). Behind real
// time: a token can be decided once the audio up to end_ms + delay_ms is in, plus about one step the
// front end needs beyond it (the mel window and the conv stem look a few frames ahead); a delta
// received more than two steps (BEHIND_MS) after the append completing that audio was sent fell behind.
import type { LiveSchema } from "../../generated/schemas.js";
import type { RealtimeRun } from "../serve/client.js";

export const CHUNK_MS = 80;
export const BEHIND_MS = 2 * CHUNK_MS;
const CHUNK_SAMPLES = (16_000 * CHUNK_MS) / 1000;

/** One stream of the report, and a second of its timeline (checks/schemas/live.schema.json). */
export type LiveStream = LiveSchema["streams"][number];
/** p50 / p95 / max of a latency list */
export type Percentiles = NonNullable<LiveStream["latencyMs"]>;
/** second of audio (deltas whose end_ms falls in [second, second + 1)), each stream's median client
 *  latency in it (null: no delta), and the percentiles of all the streams' deltas in it */
export type LiveTimelinePoint = LiveSchema["timeline"][number];

/** Nearest-rank percentile of a non-empty list. */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

function percentiles(xs: readonly number[]): Percentiles | null {
  return xs.length ? { p50: percentile(xs, 50), p95: percentile(xs, 95), max: Math.max(...xs) } : null;
}

/** The chunk that holds audio time ms (clamped to the chunks sent). */
function chunkAt(run: RealtimeRun, ms: number): number {
  return Math.max(0, Math.min(run.sentAt.length - 1, Math.ceil((ms * 16) / CHUNK_SAMPLES) - 1));
}

export function clientLatencies(run: RealtimeRun): number[] {
  return run.deltas.map((d) => d.at - run.sentAt[chunkAt(run, d.end_ms)]!);
}

export function behindSteps(run: RealtimeRun, delayMs: number): number {
  return run.deltas.filter((d) => {
    const due = run.sentAt[chunkAt(run, d.end_ms + delayMs)]!;
    return d.at - due > BEHIND_MS;
  }).length;
}

export function streamSummary(run: RealtimeRun, index: number, delayMs: number): LiveStream {
  const server = run.deltas.map((d) => d.latency_ms).filter((x): x is number => typeof x === "number");
  return {
    index,
    deltas: run.deltas.length,
    latencyMs: percentiles(clientLatencies(run)),
    serverLatencyMs: percentiles(server),
    behindSteps: behindSteps(run, delayMs),
    firstDeltaMs: run.deltas.length ? run.deltas[0]!.at - run.startedAt : null,
    textChars: run.done?.text.length ?? 0,
    errors: run.errors.map((e) => `${String(e.code)}: ${String(e.error)}`),
  };
}

export function timeline(runs: readonly RealtimeRun[]): LiveTimelinePoint[] {
  const lat = runs.map(clientLatencies);
  const last = Math.max(0, ...runs.flatMap((r) => r.deltas.map((d) => Math.floor(d.end_ms / 1000))));
  const points: LiveTimelinePoint[] = [];
  for (let second = 0; second <= last; second++) {
    const each = runs.map((r, i) =>
      r.deltas
        .map((d, k) => (Math.floor(d.end_ms / 1000) === second ? lat[i]![k]! : null))
        .filter((x): x is number => x !== null),
    );
    points.push({
      second,
      latencyMs: each.map((xs) => (xs.length ? percentile(xs, 50) : null)),
      pooledMs: percentiles(each.flat()),
    });
  }
  return points;
}

export function pooled(runs: readonly RealtimeRun[], streams: readonly LiveStream[]): LiveSchema["pooled"] {
  const first = streams.map((s) => s.firstDeltaMs).filter((x): x is number => x !== null);
  return {
    deltas: streams.reduce((a, s) => a + s.deltas, 0),
    latencyMs: percentiles(runs.flatMap(clientLatencies)),
    behindSteps: streams.reduce((a, s) => a + s.behindSteps, 0),
    firstDeltaMs: first.length
      ? { min: Math.min(...first), median: percentile(first, 50), max: Math.max(...first) }
      : null,
  };
}
