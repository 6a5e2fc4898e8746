// Shared by tests: paths to the source-tree fixtures (tests run from dist/, fixtures stay in the tree).
import { join } from "node:path";
import { expectedTensors, type ModelParams } from "../src/lib/model.js";
import { packageRoot } from "../src/lib/paths.js";

export function fixture(...parts: string[]): string {
  return join(packageRoot(), "toolkit", "test", "fixtures", ...parts);
}

/** Bytes of the tensors a decode step reads (every decoder layer's tensors but the ada-norm projections, the
 *  final norm, the tied LM head) in BF16, summed over lib/model.ts's own tensor table: a check of the engine's. */
export function decoderTensorBytes(p: ModelParams): number {
  let n = 0;
  for (const [name, shape] of expectedTensors(p)) {
    const decoder = (name.startsWith("layers.") && !name.includes(".ada_rms_norm_t_cond.")) || name === "norm.weight";
    if (decoder || name.endsWith("tok_embeddings.weight")) n += shape.reduce((a, d) => a * d, 1);
  }
  return 2 * n;
}
