// Timed tokens -> words, segments (subtitle cues) and the output formats of `vox transcribe` and the
// server's transcription endpoint: text, json, verbose_json (OpenAI's shape), SRT and WebVTT.
//
// Times: the engine gives each decided token the 80 ms of user audio it closes ([start_ms, end_ms),
// see the engine's event stream). A word starts with its first token's frame and lasts until the next
// word starts (or, before a pause, until its last token's frame ends), so word times are approximate:
// to about one 80 ms frame, plus however far the model's emission drifts from the speech. Everything is clamped to the audio: a token decided in the right padding is moved into
// the last frame of the audio (never before the end of the word before it), so no word, segment or
// cue ends after the audio does, and none overlaps the one before it.
//
// Words: whitespace in a token's text ends a word (a token starting with a space starts one); so does
// [STREAMING_WORD] (the model's word boundary, emitted when two words do not share a frame). Other
// control tokens ([STREAMING_PAD], EOS, ...) carry no text and no boundary. A word is also cut where
// it would grow past a subtitle line or a cue's duration, or across a pause (text without spaces).
//
// Segments (also the subtitle cues): words are grouped in order; a segment ends after a word that
// ends a sentence (. ! ? … and the CJK full stops), before a pause of PAUSE_MS or more, and before a
// word that would make it longer than CUE_MAX_MS or not fit in CUE_MAX_LINES lines of CUE_LINE_CHARS.

/** A decided token with its audio interval in user-audio milliseconds (contract of the event stream). */
export interface TimedToken {
  id: number;
  text: string;
  control: boolean;
  startMs: number;
  endMs: number;
}
/** Seconds. */
export interface Word {
  start: number;
  end: number;
  word: string;
}
/** Seconds; `id` counts from 0 as OpenAI's segments do. */
export interface Segment {
  id: number;
  start: number;
  end: number;
  text: string;
}
export interface Transcript {
  text: string;
  durationS: number;
  segments: Segment[];
  words: Word[];
}
export type OutputFormat = "text" | "json" | "verbose_json" | "srt" | "vtt";
export const OUTPUT_FORMATS: readonly OutputFormat[] = ["text", "json", "verbose_json", "srt", "vtt"];
/** File extension of each format (`text` is written as .txt). */
export const FORMAT_EXTENSION: Readonly<Record<OutputFormat, string>> = {
  text: "txt",
  json: "json",
  verbose_json: "verbose.json",
  srt: "srt",
  vtt: "vtt",
};

/** [STREAMING_WORD] in tekken.json: the model's word boundary (a control token). */
export const STREAMING_WORD_ID = 33;
/** One decoder step is this much audio. */
export const FRAME_MS = 80;
/** A silence this long (between one word's end and the next word's start) ends a segment. */
export const PAUSE_MS = 1000;
/** Subtitle limits: characters a line, lines a cue, milliseconds a cue. */
export const CUE_LINE_CHARS = 42;
export const CUE_MAX_LINES = 2;
export const CUE_MAX_MS = 7000;

const SENTENCE_END = /[.!?…。！？]["'”’)\]]*$/u;
// Control characters (NUL, CR, ...) never reach a word: they would break subtitle and text files.
const CONTROL_CHARS = /\p{Cc}/gu;

interface MsWord {
  startMs: number;
  endMs: number;
  /** the whitespace that preceded the word in the text ("" after a [STREAMING_WORD] boundary) */
  lead: string;
  word: string;
}

/** A token's interval clamped into [0, audioMs]; one past the end moves into the audio's last frame. */
function clampInterval(t: TimedToken, audioMs: number): { startMs: number; endMs: number } {
  const end = Math.max(0, Math.min(t.endMs, audioMs));
  const start = Math.max(0, Math.min(t.startMs, end));
  if (start < end || audioMs <= 0) return { startMs: start, endMs: end };
  return { startMs: Math.max(0, audioMs - FRAME_MS), endMs: audioMs };
}

/** May `piece` (a token's text without whitespace, spanning endMs) extend word `w`? Not when the word
 *  would grow past a subtitle line or a cue's duration, nor across a pause: then it is a new word. */
function extends_(w: MsWord, piece: string, startMs: number, endMs: number): boolean {
  return (
    w.word.length + piece.length <= CUE_LINE_CHARS && endMs - w.startMs <= CUE_MAX_MS && startMs - w.endMs < PAUSE_MS
  );
}

function buildWords(tokens: readonly TimedToken[], audioMs: number): MsWord[] {
  const out: MsWord[] = [];
  let boundary = true;
  let lead = "";
  for (const t of tokens) {
    if (t.control) {
      if (t.id === STREAMING_WORD_ID) boundary = true;
      continue;
    }
    const text = t.text.replace(CONTROL_CHARS, " ");
    if (text.length === 0) continue;
    const { startMs, endMs } = clampInterval(t, audioMs);
    for (const piece of text.split(/(\s+)/u)) {
      if (piece.length === 0) continue;
      if (/^\s/u.test(piece)) {
        lead += piece;
        boundary = true;
        continue;
      }
      const cur = out.at(-1);
      if (cur && !boundary && extends_(cur, piece, startMs, endMs)) {
        cur.word += piece;
        cur.endMs = Math.max(cur.endMs, endMs);
      } else {
        // Clamping can pull a late token back over the word before it: words never overlap.
        const from = Math.min(Math.max(startMs, cur?.endMs ?? 0), endMs);
        out.push({ startMs: from, endMs, lead: cur ? lead : "", word: piece });
      }
      lead = "";
      boundary = false;
    }
  }
  // A word is spoken until the next one starts, unless a pause comes between them.
  for (let i = 0; i + 1 < out.length; i++) {
    const w = out[i]!;
    const next = out[i + 1]!;
    if (next.startMs - w.endMs < PAUSE_MS && next.startMs > w.endMs) w.endMs = next.startMs;
  }
  return out;
}

/** Lines of a cue: one line when it fits, else the split between words with the shortest longest line,
 *  every line within `lineChars` (a single word longer than a line stays whole). [] when it cannot fit. */
export function wrapCue(words: readonly string[], lineChars = CUE_LINE_CHARS, maxLines = CUE_MAX_LINES): string[] {
  const one = words.join(" ");
  if (one.length <= lineChars || words.length <= 1) return [one];
  if (maxLines <= 1) return [];
  let best: string[] = [];
  let bestLongest = Number.POSITIVE_INFINITY;
  for (let i = 1; i < words.length; i++) {
    const first = words.slice(0, i).join(" ");
    if (first.length > lineChars && i > 1) break;
    const rest = wrapCue(words.slice(i), lineChars, maxLines - 1);
    if (rest.length === 0) continue;
    const longest = Math.max(first.length, ...rest.map((l) => l.length));
    if (longest < bestLongest) {
      best = [first, ...rest];
      bestLongest = longest;
    }
  }
  return best;
}

/** The units a cue is wrapped by: whitespace-separated words, a run longer than a line cut into
 *  line-sized pieces (text without spaces, such as Chinese or Japanese, still wraps). */
function cueUnits(text: string): string[] {
  return text
    .split(/\s+/u)
    .filter((w) => w.length > 0)
    .flatMap((w) => {
      const chars = [...w];
      if (chars.length <= CUE_LINE_CHARS) return [w];
      const parts: string[] = [];
      for (let i = 0; i < chars.length; i += CUE_LINE_CHARS) parts.push(chars.slice(i, i + CUE_LINE_CHARS).join(""));
      return parts;
    });
}

/** The text of a run of words as it was decided (each word keeps the whitespace before it). */
const joinWords = (g: readonly MsWord[]): string => g.map((w, i) => (i === 0 ? w.word : w.lead + w.word)).join("");

function groupSegments(ws: readonly MsWord[]): MsWord[][] {
  const groups: MsWord[][] = [];
  let cur: MsWord[] = [];
  for (const w of ws) {
    const last = cur.at(-1);
    if (last) {
      const pause = w.startMs - last.endMs >= PAUSE_MS;
      const tooLong = w.endMs - cur[0]!.startMs > CUE_MAX_MS;
      if (pause || tooLong || wrapCue(cueUnits(joinWords([...cur, w]))).length === 0) {
        groups.push(cur);
        cur = [];
      }
    }
    cur.push(w);
    if (SENTENCE_END.test(w.word)) {
      groups.push(cur);
      cur = [];
    }
  }
  if (cur.length > 0) groups.push(cur);
  return groups;
}

const seconds = (ms: number): number => Math.round(ms) / 1000;

/** Words and segments of a run from its decided tokens; `audioMs` is the user audio's length. */
export function buildTranscript(tokens: readonly TimedToken[], audioMs: number): Transcript {
  const ws = buildWords(tokens, audioMs);
  const segments = groupSegments(ws).map((g, id) => ({
    id,
    start: seconds(g[0]!.startMs),
    end: seconds(Math.max(...g.map((w) => w.endMs))),
    text: joinWords(g).replace(/\s+/gu, " "),
  }));
  return {
    text: joinWords(ws),
    durationS: seconds(Math.max(0, audioMs)),
    segments,
    words: ws.map((w) => ({ start: seconds(w.startMs), end: seconds(w.endMs), word: w.word })),
  };
}

/** `HH:MM:SS,mmm` (SRT) or `HH:MM:SS.mmm` (WebVTT). */
export function timestamp(s: number, sep: "," | "."): string {
  const ms = Math.max(0, Math.round(s * 1000));
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(Math.floor(ms / 3_600_000))}:${p(Math.floor(ms / 60_000) % 60)}:${p(Math.floor(ms / 1000) % 60)}${sep}${p(ms % 1000, 3)}`;
}

/** A segment's cue lines (never empty: a segment always fits, see groupSegments). */
function cueLines(text: string): string[] {
  const lines = wrapCue(cueUnits(text));
  return lines.length > 0 ? lines : [text];
}

const vttEscape = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export interface RenderOptions {
  /** verbose_json's `language` (the model does not report one; default "unknown") */
  language?: string;
  /** the run was interrupted: json formats get "incomplete": true, WebVTT a NOTE */
  incomplete?: boolean;
}

/** The transcript in one output format (each ends with a newline; SRT of no speech is empty). */
export function renderTranscript(t: Transcript, format: OutputFormat, o: RenderOptions = {}): string {
  const mark = o.incomplete ? { incomplete: true } : {};
  switch (format) {
    case "text":
      return `${t.text}\n`;
    case "json":
      return `${JSON.stringify({ text: t.text, ...mark })}\n`;
    case "verbose_json":
      return `${JSON.stringify(
        {
          task: "transcribe",
          language: o.language ?? "unknown",
          duration: t.durationS,
          text: t.text,
          segments: t.segments,
          words: t.words,
          ...mark,
        },
        null,
        2,
      )}\n`;
    case "srt":
      return t.segments
        .map(
          (s, i) =>
            `${i + 1}\n${timestamp(s.start, ",")} --> ${timestamp(s.end, ",")}\n${cueLines(s.text).join("\n")}\n`,
        )
        .join("\n");
    case "vtt": {
      const head = o.incomplete
        ? "WEBVTT\n\nNOTE incomplete: the run was interrupted before the end of the audio\n"
        : "WEBVTT\n";
      const cues = t.segments.map(
        (s) =>
          `\n${timestamp(s.start, ".")} --> ${timestamp(s.end, ".")}\n${cueLines(s.text).map(vttEscape).join("\n")}\n`,
      );
      return head + cues.join("");
    }
  }
}
