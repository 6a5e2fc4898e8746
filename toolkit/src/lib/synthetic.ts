// Synthetic models: `voxtral --write-synthetic DIR --synthetic-size full|tiny --seed N` writes a model
// folder with real (full) or tiny shapes and deterministic random BF16 weights. Written once into the
// user's cache ($XDG_CACHE_HOME or ~/.cache)/vox/synthetic-<size>-<seed>/ and reused while complete:
// the engine writes into a sibling temporary folder that is renamed into place only after it succeeded
// and a `complete.json` stamp (file sizes) is written, so an interrupted write is never reused.
// Ctrl-C during the write kills the engine and removes the partial folder; a partial folder left by
// a run that was killed outright (SIGKILL, power loss) is removed by the next run.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { atExit, keepOnExit, removeOnSignal, rmTracked } from "./cleanup.js";
import { startEngine } from "./engine.js";
import { EngineUnavailableError, VoxError, EXIT } from "./errors.js";
import { MODEL_FILES } from "./model.js";
import { bf16Bytes, engineTensors } from "./tensors.js";

export type SyntheticSize = "full" | "tiny";
export { MODEL_FILES };
const STAMP = "complete.json";

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg && xdg.length > 0 ? xdg : join(homedir(), ".cache"), "vox");
}

export function syntheticDir(size: SyntheticSize, seed: number, env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), `synthetic-${size}-${seed}`);
}

interface Stamp {
  size: SyntheticSize;
  seed: number;
  engineCommit: string | null;
  files: Record<string, number>;
}

/** True when `dir` holds a finished write: the stamp exists and every file has its recorded size. */
export function isComplete(dir: string): boolean {
  try {
    const stamp = JSON.parse(readFileSync(join(dir, STAMP), "utf8")) as Stamp;
    return MODEL_FILES.every((f) => stamp.files[f] !== undefined && statSync(join(dir, f)).size === stamp.files[f]);
  } catch {
    return false;
  }
}

/** Bytes written so far into the folder (the engine may write under a temporary name, then rename). */
function bytesIn(dir: string): number {
  try {
    return readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
  } catch {
    return 0;
  }
}

/** Bytes the weights will take, from the engine's tensor list for the size (null when it cannot say). */
function expectedWeightBytes(size: SyntheticSize, engine: string | undefined): Promise<number | null> {
  return engineTensors({ size }, engine).then(bf16Bytes, () => null);
}

export interface EnsureOptions {
  size: SyntheticSize;
  seed: number;
  engine?: string;
  engineCommit?: string | null;
  env?: NodeJS.ProcessEnv;
  /** Called about twice a second while writing, with bytes written and the expected weight bytes (null until known). */
  onProgress?: (written: number, total: number | null) => void;
}

/** Returns the folder of a complete synthetic model, writing it first when needed. */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes `<name>.partial-<pid>` folders in the cache whose process is gone (a killed earlier run);
 *  returns the paths removed. A live run's folder is left alone. */
export function removeStalePartials(env: NodeJS.ProcessEnv = process.env): string[] {
  const root = cacheRoot(env);
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    const m = /^synthetic-.+\.partial-(\d+)$/.exec(n);
    if (!m || (Number(m[1]) !== process.pid && pidAlive(Number(m[1])))) continue;
    rmSync(join(root, n), { recursive: true, force: true });
    removed.push(join(root, n));
  }
  return removed;
}

export async function ensureSynthetic(o: EnsureOptions): Promise<{ dir: string; written: boolean }> {
  const dir = syntheticDir(o.size, o.seed, o.env);
  if (isComplete(dir)) return { dir, written: false };
  removeStalePartials(o.env);
  const tmp = `${dir}.partial-${process.pid}`;
  mkdirSync(tmp, { recursive: true });
  // Ctrl-C (or SIGTERM) while writing: stop the engine and remove the partial folder.
  removeOnSignal(tmp);
  const args = ["--write-synthetic", tmp, "--synthetic-size", o.size, "--seed", String(o.seed)];
  const { process: child, result } = startEngine(args, { binary: o.engine, timeoutMs: 60 * 60 * 1000 });
  const unhook = atExit(() => child.kill("SIGKILL"));
  const total = o.onProgress ? await expectedWeightBytes(o.size, o.engine) : null;
  const timer = o.onProgress ? setInterval(() => o.onProgress!(bytesIn(tmp), total), 500) : null;
  const r = await result.finally(() => {
    if (timer) clearInterval(timer);
    unhook();
  });
  if (r.failure) {
    rmTracked(tmp);
    if (r.failureKind === "spawn") throw new EngineUnavailableError(r.failure);
    throw new VoxError(
      `writing the synthetic ${o.size} model failed: ${r.failure}`,
      `Check free space in ${cacheRoot(o.env)} (full needs about 9 GB) or set XDG_CACHE_HOME to a larger disk.`,
      EXIT.failed,
    );
  }
  const files: Record<string, number> = {};
  for (const f of MODEL_FILES) {
    if (!existsSync(join(tmp, f))) {
      rmTracked(tmp);
      throw new VoxError(
        `voxtral --write-synthetic succeeded but wrote no ${f}`,
        "This is an engine bug; report it with `voxtral --info`.",
        EXIT.failed,
      );
    }
    files[f] = statSync(join(tmp, f)).size;
  }
  o.onProgress?.(files["consolidated.safetensors"]!, files["consolidated.safetensors"]!);
  const stamp: Stamp = { size: o.size, seed: o.seed, engineCommit: o.engineCommit ?? null, files };
  writeFileSync(join(tmp, STAMP), `${JSON.stringify(stamp, null, 2)}\n`);
  rmSync(dir, { recursive: true, force: true }); // an incomplete earlier write
  renameSync(tmp, dir);
  keepOnExit(tmp);
  return { dir, written: true };
}
