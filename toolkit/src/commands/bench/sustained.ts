// --sustained SECONDS: one long run per backend; ms/step, resident memory and GPU memory per quarter
// of it, which must stay flat (the decoder's KV cache is a ring buffer; nothing may grow per step).
//
// Memory is polled from outside while the engine runs: VmRSS from /proc/<pid>/status every 250 ms,
// the process's GPU memory from `nvidia-smi --query-compute-apps` every second (cuda only). The polls
// after model load (load_ms from the engine's report) up to the exit are split into four equal time
// quarters; each quarter reports its largest value. Step times per quarter need the engine's
// per-step times (`step_ms` in --json, a proposed extension); without them ms/step stays null.
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { startEngine } from "../../lib/engine.js";
import { runCommand, which } from "../../lib/exec.js";
import { mean } from "../../lib/stats.js";
import type { Plan } from "./run.js";
import { engineArgs } from "./run.js";
import { parseEngineRun } from "./sample.js";
import type { Backend, Quarter, Sustained } from "./types.js";

export interface Poll {
  /** ms since the engine started. */
  t: number;
  rssMb: number | null;
  gpuMemMb: number | null;
}

/** Allowed growth of the last quarter over the first before a run is called not flat. */
const FLAT_PCT = 10;

/** VmRSS of a live process in MB, null once it is gone. */
function readRssMb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** `nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader,nounits` -> MB used by pid. */
export function parseComputeApps(csv: string, pid: number): number | null {
  for (const line of csv.split("\n")) {
    const [p, mb] = line.split(",").map((s) => s.trim());
    if (Number(p) === pid && Number.isFinite(Number(mb))) return Number(mb);
  }
  return null;
}

const growth = (xs: Array<number | null>): number | null => {
  const first = xs[0];
  const last = xs[xs.length - 1];
  return first !== null && first !== undefined && last !== null && last !== undefined && first > 0
    ? (100 * (last - first)) / first
    : null;
};

/** Pure: polls and step times -> quarters, growth and the flat verdict. */
export function quarters(
  polls: readonly Poll[],
  fromMs: number,
  toMs: number,
  stepMs: readonly number[] | null,
): Pick<Sustained, "quarters" | "growthPct" | "flat"> {
  const span = Math.max(1e-9, toMs - fromMs);
  const qs: Quarter[] = [1, 2, 3, 4].map((q) => {
    const inQ = polls.filter(
      (p) => p.t >= fromMs + ((q - 1) * span) / 4 && (q === 4 ? p.t <= toMs : p.t < fromMs + (q * span) / 4),
    );
    const maxOf = (k: "rssMb" | "gpuMemMb") => {
      const xs = inQ.map((p) => p[k]).filter((x): x is number => x !== null);
      return xs.length ? Math.max(...xs) : null;
    };
    let ms: number | null = null;
    if (stepMs && stepMs.length >= 4) {
      const a = Math.floor(((q - 1) * stepMs.length) / 4);
      const b = Math.floor((q * stepMs.length) / 4);
      ms = mean(stepMs.slice(a, b));
    }
    return { quarter: q, msPerStep: ms, rssMb: maxOf("rssMb"), gpuMemMb: maxOf("gpuMemMb"), polls: inQ.length };
  });
  const growthPct = {
    msPerStep: growth(qs.map((q) => q.msPerStep)),
    rssMb: growth(qs.map((q) => q.rssMb)),
    gpuMemMb: growth(qs.map((q) => q.gpuMemMb)),
  };
  const measured = Object.values(growthPct).filter((g): g is number => g !== null);
  return { quarters: qs, growthPct, flat: measured.length ? measured.every((g) => g <= FLAT_PCT) : null };
}

export async function runSustained(
  plan: Plan,
  backend: Backend,
  clipPath: string,
  seconds: number,
): Promise<Sustained> {
  const { process: proc, result } = startEngine(engineArgs(plan, backend, clipPath), {
    binary: plan.engine,
    timeoutMs: plan.timeoutMs,
  });
  const t0 = performance.now();
  const polls: Poll[] = [];
  const smi = backend === "cuda" && which("nvidia-smi") !== null;
  let gpu: number | null = null;
  let busy = false;
  const rssTimer = setInterval(() => {
    if (proc.pid) polls.push({ t: performance.now() - t0, rssMb: readRssMb(proc.pid), gpuMemMb: gpu });
  }, 250);
  const gpuTimer = smi
    ? setInterval(() => {
        if (busy || !proc.pid) return;
        busy = true;
        void runCommand("nvidia-smi", ["--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"], {
          timeoutMs: 5000,
        }).then((c) => {
          gpu = c.exitCode === 0 ? parseComputeApps(c.stdout, proc.pid!) : null;
          busy = false;
        });
      }, 1000)
    : null;
  const r = await result.finally(() => {
    clearInterval(rssTimer);
    if (gpuTimer) clearInterval(gpuTimer);
  });
  const end = performance.now() - t0;
  const base = { backend, device: null, seconds, wallMs: null, nSteps: null, stepTimes: "unavailable" as const };
  if (r.failure) return { ...base, ...quarters([], 0, 1, null), flat: null, failure: r.failure };
  try {
    const run = parseEngineRun(r.stdout);
    const steps = run.step_ms ?? null;
    return {
      ...base,
      device: run.device,
      wallMs: run.timings_ms.wall,
      nSteps: run.n_steps,
      stepTimes: steps ? "engine" : "unavailable",
      ...quarters(polls, Math.min(run.timings_ms.load, end), end, steps),
      failure: null,
    };
  } catch (e) {
    return { ...base, ...quarters([], 0, 1, null), flat: null, failure: (e as Error).message };
  }
}
