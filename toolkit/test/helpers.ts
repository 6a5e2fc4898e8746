// Shared by tests: paths to the source-tree fixtures (tests run from dist/, fixtures stay in the tree).
import { join } from "node:path";
import { packageRoot } from "../src/lib/paths.js";
import type { TensorTable } from "../src/lib/tensors.js";

export function fixture(...parts: string[]): string {
  return join(packageRoot(), "toolkit", "test", "fixtures", ...parts);
}

/** Bytes of the tensors a decode step reads (every decoder layer's tensors but the ada-norm projections, the
 *  final norm, the tied LM head) in BF16, summed here over the engine's tensor list (`voxtral --tensors`):
 *  a check of the engine's own sum (decoder_bytes_per_step). */
export function decoderTensorBytes(table: TensorTable): number {
  let n = 0;
  for (const [name, { shape }] of table) {
    const decoder = (name.startsWith("layers.") && !name.includes(".ada_rms_norm_t_cond.")) || name === "norm.weight";
    if (decoder || name.endsWith("tok_embeddings.weight")) n += shape.reduce((a, d) => a * d, 1);
  }
  return 2 * n;
}

/** Debian's chromium, which the page and HTML-report tests drive headless (.ci/run installs it). */
export const CHROMIUM = "/usr/bin/chromium";
/** Chromium flags of every test run: no sandbox (CI runs as root), no GPU, nothing fetched on its own. */
export const CHROMIUM_QUIET_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
