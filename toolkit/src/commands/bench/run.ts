// Runs the plan: for each backend and clip, warm-up runs (discarded) then measured repetitions of the
// engine on the clip, each turned into a sample; failures are kept with the repetition they hit.
import { runEngine } from "../../lib/engine.js";
import type { Progress } from "./progress.js";
import { parseEngineRun, toSample } from "./sample.js";
import type { Backend, Clip, Failure, Sample } from "./types.js";

export interface Plan {
  model: string;
  backends: Backend[];
  clips: Array<{ clip: Clip; path: string }>;
  repeat: number;
  warmup: number;
  ignoreEos: boolean;
  threads: number | null;
  engine?: string;
  timeoutMs: number;
}

export interface RawResult {
  backend: Backend;
  device: string | null;
  clip: Clip;
  samples: Sample[];
  failures: Failure[];
}

/** The engine's argument list for one transcription of `audio`. */
export function engineArgs(
  plan: Pick<Plan, "model" | "ignoreEos" | "threads">,
  backend: Backend,
  audio: string,
): string[] {
  const args = ["-d", plan.model, "-i", audio, "--backend", backend, "--json"];
  if (plan.ignoreEos) args.push("--ignore-eos");
  if (plan.threads !== null) args.push("--threads", String(plan.threads));
  return args;
}

export async function runPlan(plan: Plan, progress: Progress): Promise<RawResult[]> {
  const total = plan.backends.length * plan.clips.length * (plan.warmup + plan.repeat);
  let done = 0;
  const results: RawResult[] = [];
  for (const backend of plan.backends) {
    for (const { clip, path } of plan.clips) {
      const res: RawResult = { backend, device: null, clip, samples: [], failures: [] };
      for (let i = 0; i < plan.warmup + plan.repeat; i++) {
        const warm = i < plan.warmup;
        const label = warm ? `warm-up ${i + 1}/${plan.warmup}` : `run ${i - plan.warmup + 1}/${plan.repeat}`;
        progress.status(`[${++done}/${total}] ${backend} ${clip.name}: ${label} ...`);
        const r = await runEngine(engineArgs(plan, backend, path), { binary: plan.engine, timeoutMs: plan.timeoutMs });
        let message = r.failure;
        if (!message) {
          try {
            const run = parseEngineRun(r.stdout);
            if (run.backend !== backend) message = `engine ran on ${run.backend}, not the ${backend} backend asked for`;
            else {
              res.device = run.device;
              const s = toSample(run);
              if (!warm) res.samples.push(s);
              progress.log(
                `[${done}/${total}] ${backend} ${clip.name}: ${label}: wall ${(s.wallMs / 1000).toFixed(2)} s, ${s.xRealTime.toFixed(1)}x real time, ${s.msPerStep.toFixed(2)} ms/step`,
              );
            }
          } catch (e) {
            message = (e as Error).message;
          }
        }
        if (message) {
          res.failures.push({ repetition: warm ? i : i - plan.warmup, warmup: warm, message });
          progress.log(`[${done}/${total}] ${backend} ${clip.name}: ${label}: FAILED: ${message}`);
        }
      }
      results.push(res);
    }
  }
  return results;
}
