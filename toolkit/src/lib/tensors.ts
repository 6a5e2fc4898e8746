// The tensors a checkpoint must hold, as the engine lists them. `voxtral --tensors [-d DIR]` prints the
// engine's one table (vox_weights_spec in engine/src/weights.c: the list its loader validates against,
// its synthetic writer writes and its model uploads), so the toolkit keeps no list of its own and the
// doctor can never pass a checkpoint the engine refuses. The engine needs only params.json for it.
import { type EngineResult, runEngine } from "./engine.js";
import { engineBinary } from "./paths.js";

export interface TensorSpec {
  /** Linear weights are [out, in]. */
  shape: number[];
  /** The checkpoint's dtype (BF16). */
  dtype: string;
}

/** name -> shape and dtype, in the engine's order. */
export type TensorTable = Map<string, TensorSpec>;

/** Time limit of a `--tensors` run (it reads params.json only). */
export const TENSORS_TIMEOUT_MS = 20_000;

/** Whose shapes: a model folder's params.json, or a synthetic size (full = the real model's shapes). */
export type TensorSource = { modelDir: string } | { size: "full" | "tiny" };

/** The engine's arguments for a source. */
export function tensorsArgs(from: TensorSource): string[] {
  return "modelDir" in from ? ["--tensors", "-d", from.modelDir] : ["--tensors", "--synthetic-size", from.size];
}

/** Parses `voxtral --tensors` stdout; throws Error saying what does not follow the contract. */
export function parseTensorTable(stdout: string): TensorTable {
  let j: { tensors?: unknown };
  try {
    j = JSON.parse(stdout) as { tensors?: unknown };
  } catch {
    throw new Error(`voxtral --tensors printed no JSON: ${JSON.stringify(stdout.slice(0, 120))}`);
  }
  if (!Array.isArray(j?.tensors)) throw new Error("voxtral --tensors: no 'tensors' array");
  const t: TensorTable = new Map();
  for (const e of j.tensors as Array<{ name?: unknown; shape?: unknown; dtype?: unknown }>) {
    const shape = e?.shape;
    if (
      typeof e?.name !== "string" ||
      typeof e.dtype !== "string" ||
      !Array.isArray(shape) ||
      !shape.every((d) => Number.isSafeInteger(d) && d > 0)
    )
      throw new Error(`voxtral --tensors: an entry without a name, a positive shape and a dtype: ${JSON.stringify(e)}`);
    t.set(e.name, { shape: shape as number[], dtype: e.dtype });
  }
  return t;
}

function tableOf(r: EngineResult): TensorTable {
  if (r.failure) throw new Error(r.failure);
  return parseTensorTable(r.stdout);
}

/** Asks the engine; throws Error with the engine's own error line when it refuses. */
export async function engineTensors(from: TensorSource, binary = engineBinary()): Promise<TensorTable> {
  return tableOf(await runEngine(tensorsArgs(from), { binary, timeoutMs: TENSORS_TIMEOUT_MS }));
}

/** Bytes of every tensor in BF16 (the real model: 711 tensors, 8_859_358_720 bytes). */
export function bf16Bytes(t: TensorTable): number {
  let n = 0;
  for (const { shape } of t.values()) n += shape.reduce((a, d) => a * d, 1);
  return n * 2;
}

/** The BF16 bytes a table's run lists, or null when the run failed or printed something else. */
export function bf16BytesOf(r: { exitCode: number | null; stdout: string } | null | undefined): number | null {
  if (r?.exitCode !== 0) return null;
  try {
    return bf16Bytes(parseTensorTable(r.stdout));
  } catch {
    return null;
  }
}
