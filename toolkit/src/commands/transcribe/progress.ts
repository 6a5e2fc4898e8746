// The progress line `vox transcribe` draws on stderr when it is a terminal: how much of the audio is
// decided, how fast (× real time) and how long is left. Pure functions; index.ts writes them.

export interface ProgressState {
  label: string;
  /** audio decided so far (the engine's decoded_ms), ms */
  decodedMs: number;
  /** the input's length when known (WAV header, ffprobe), ms */
  totalMs: number | null;
  /** wall time since the engine started, ms */
  elapsedMs: number;
}

/** m:ss, or h:mm:ss from an hour on. */
export function clock(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const mm = Math.floor(s / 60) % 60;
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(mm).padStart(2, "0")}:${ss}` : `${mm}:${ss}`;
}

/** `talk.ogg  42%  1:15 / 3:00  12.3× real time  ETA 0:08`; without a known length: no percent, no ETA. */
export function progressLine(p: ProgressState): string {
  const total = p.totalMs && p.totalMs > 0 ? p.totalMs : null;
  const decided = total ? Math.min(p.decodedMs, total) : p.decodedMs;
  const speed = p.elapsedMs > 0 ? decided / p.elapsedMs : 0;
  const parts = [p.label];
  if (total)
    parts.push(`${String(Math.floor((100 * decided) / total)).padStart(3)}%`, `${clock(decided)} / ${clock(total)}`);
  else parts.push(clock(decided));
  parts.push(speed > 0 ? `${speed >= 10 ? speed.toFixed(0) : speed.toFixed(1)}× real time` : "starting");
  if (total && speed > 0) parts.push(`ETA ${clock((total - decided) / speed)}`);
  return parts.join("  ");
}

// Terminal sequences. When stdout is the same terminal, the progress line sits on the line below
// the text being printed: IND/RI make sure that line exists (scrolling if needed) without moving the
// text's column, DECSC/DECRC come back to the text.
const ESC = "\u001b";
const CLEAR = `\r${ESC}[K`;
const BELOW = `${ESC}D${ESC}M${ESC}7${ESC}D`;
const BACK = `${ESC}8`;

/** What to write on stderr to show `line` (`belowText`: stdout is the same terminal). */
export function drawProgress(line: string, belowText: boolean, columns = 80): string {
  const fitted = line.length >= columns ? `${line.slice(0, Math.max(0, columns - 2))}…` : line;
  return belowText ? `${BELOW}${CLEAR}${fitted}${BACK}` : `${CLEAR}${fitted}`;
}

/** What to write on stderr to remove the progress line again. */
export function clearProgress(belowText: boolean): string {
  return belowText ? `${BELOW}${CLEAR}${BACK}` : CLEAR;
}
