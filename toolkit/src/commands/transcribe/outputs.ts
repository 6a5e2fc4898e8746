// Files written by `vox transcribe --output-dir DIR`: <input name>.<ext> per format, each written to a
// temporary name and renamed, so a file with the final name is always complete. A run cut short
// (Ctrl-C) writes <input name>.incomplete.<ext> instead, and JSON / WebVTT say so inside too.
// (Not lib/output.ts's writeFileAtomic: it arms a Ctrl-C handler that exits at once, and a transcribe
// run must keep going after Ctrl-C until the engine has decided what it was given.)
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { OutputError } from "../../lib/errors.js";
import { FORMAT_EXTENSION, renderTranscript, type OutputFormat, type Transcript } from "../../lib/transcript.js";

/** The path a format is written to. */
export function outputPath(dir: string, stem: string, format: OutputFormat, incomplete = false): string {
  return join(dir, `${stem}${incomplete ? ".incomplete" : ""}.${FORMAT_EXTENSION[format]}`);
}

/** Writes every format (temp + rename); returns the paths. */
export function writeOutputs(dir: string, stem: string, t: Transcript, formats: readonly OutputFormat[], incomplete: boolean): string[] {
  return formats.map((f) => {
    const path = outputPath(dir, stem, f, incomplete);
    const tmp = `${path}.tmp-${process.pid}`;
    try {
      writeFileSync(tmp, renderTranscript(t, f, { incomplete }));
      renameSync(tmp, path);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw new OutputError(`cannot write ${path}: ${(e as Error).message}`, "Pass an --output-dir you can write to, or free some space.");
    }
    return path;
  });
}
