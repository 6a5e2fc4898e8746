// Strict SRT and WebVTT readers for tests: they accept only the exact syntax (numbered cues,
// HH:MM:SS,mmm / HH:MM:SS.mmm times, non-empty text lines, one blank line between cues) and throw
// with the line number on anything else, so "parsed back" means the file is well formed.

export interface Cue {
  index: number;
  start: number;
  end: number;
  lines: string[];
}

const seconds = (h: string, m: string, s: string, ms: string): number =>
  Number(h) * 3600 + Number(m) * 60 + Number(s) + Number(ms) / 1000;

function parseBlocks(body: string, sep: "," | ".", numbered: boolean, firstLine: number): Cue[] {
  const time = new RegExp(
    `^(\\d{2,}):([0-5]\\d):([0-5]\\d)\\${sep}(\\d{3}) --> (\\d{2,}):([0-5]\\d):([0-5]\\d)\\${sep}(\\d{3})$`,
  );
  const lines = body.split("\n");
  const cues: Cue[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`line ${firstLine + i}: ${why}: ${JSON.stringify(lines[i])}`);
  };
  while (i < lines.length) {
    if (lines[i] === "" && i === lines.length - 1) break; // the file's final newline
    let index = cues.length + 1;
    if (numbered) {
      if (!/^\d+$/.test(lines[i]!)) fail("expected a cue number");
      index = Number(lines[i]);
      if (index !== cues.length + 1) fail(`cue number ${index} out of order`);
      i++;
    }
    const m = time.exec(lines[i] ?? "") ?? fail("expected a time line");
    const start = seconds(m[1]!, m[2]!, m[3]!, m[4]!);
    const end = seconds(m[5]!, m[6]!, m[7]!, m[8]!);
    if (end < start) fail("cue ends before it starts");
    i++;
    const text: string[] = [];
    while (i < lines.length && lines[i] !== "") {
      if (/[\r\0]/.test(lines[i]!)) fail("control character in cue text");
      text.push(lines[i]!);
      i++;
    }
    if (text.length === 0) fail("cue without text");
    cues.push({ index, start, end, lines: text });
    if (i < lines.length - 1)
      i++; // the blank line between cues
    else break;
  }
  return cues;
}

export function parseSrt(srt: string): Cue[] {
  if (srt === "") return [];
  if (!srt.endsWith("\n")) throw new Error("SRT does not end with a newline");
  return parseBlocks(srt, ",", true, 1);
}

export function parseVtt(vtt: string): { notes: string[]; cues: Cue[] } {
  if (!vtt.startsWith("WEBVTT\n")) throw new Error("WebVTT must start with the line WEBVTT");
  const blocks = vtt.slice("WEBVTT\n".length);
  const notes: string[] = [];
  let rest = blocks.replace(/^\n/, "");
  let skipped = 2;
  while (rest.startsWith("NOTE")) {
    const end = rest.indexOf("\n\n");
    notes.push(rest.slice(0, end === -1 ? undefined : end));
    skipped += rest.slice(0, end + 2).split("\n").length - 1;
    rest = end === -1 ? "" : rest.slice(end + 2);
  }
  return { notes, cues: rest === "" ? [] : parseBlocks(rest, ".", false, skipped + 1) };
}
