// Files written by `vox transcribe --output-dir DIR`: <input name>.<ext> per format, each written to a
// temporary name and renamed, so a file with the final name is always complete. A run cut short
// (Ctrl-C) writes <input name>.incomplete.<ext> instead, and JSON / WebVTT say so inside too.
import { join } from "node:path";
import { writeFileAtomic } from "../../lib/output.js";
import { FORMAT_EXTENSION, renderTranscript, type OutputFormat, type Transcript } from "../../lib/transcript.js";

/** The path a format is written to. */
export function outputPath(dir: string, stem: string, format: OutputFormat, incomplete = false): string {
  return join(dir, `${stem}${incomplete ? ".incomplete" : ""}.${FORMAT_EXTENSION[format]}`);
}

/** Writes every format (temp + rename); returns the paths. */
export function writeOutputs(
  dir: string,
  stem: string,
  t: Transcript,
  formats: readonly OutputFormat[],
  incomplete: boolean,
): string[] {
  return formats.map((f) => {
    const path = outputPath(dir, stem, f, incomplete);
    writeFileAtomic(
      path,
      renderTranscript(t, f, { incomplete }),
      "Pass an --output-dir you can write to, or free some space.",
    );
    return path;
  });
}
