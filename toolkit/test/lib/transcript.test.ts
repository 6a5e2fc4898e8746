// Words, segments and the five output formats from timed tokens (hand-written token lists in the
// shape of the engine's token events; the end-to-end tests run the real engine).
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { schemaErrors } from "../../src/lib/report.js";
import {
  buildTranscript,
  CUE_LINE_CHARS,
  CUE_MAX_MS,
  renderTranscript,
  STREAMING_WORD_ID,
  timestamp,
  wrapCue,
  type TimedToken,
} from "../../src/lib/transcript.js";
import { parseSrt, parseVtt } from "./subtitles.js";

const PAD = 32;
/** Tokens on consecutive 80 ms frames from `fromStep`: strings are text tokens, numbers control ids. */
function tokens(fromStep: number, items: Array<string | number>): TimedToken[] {
  return items.map((it, i) => {
    const k = fromStep + i;
    const control = typeof it === "number";
    return { id: control ? it : 1000 + i, text: control ? "" : it, control, startMs: 80 * k, endMs: 80 * (k + 1) };
  });
}

test("words: a leading space starts a word, [STREAMING_WORD] marks a boundary, control tokens carry no text", () => {
  const t = buildTranscript(
    tokens(0, [PAD, " Hel", "lo", ",", PAD, " wor", "ld", STREAMING_WORD_ID, "again", 2]),
    10_000,
  );
  assert.deepEqual(t.words, [
    // A word lasts until the next one starts (no pause between them here).
    { start: 0.08, end: 0.4, word: "Hello," },
    { start: 0.4, end: 0.64, word: "world" },
    { start: 0.64, end: 0.72, word: "again" },
  ]);
  // The text is what was decided: no space is invented at a [STREAMING_WORD] boundary.
  assert.equal(t.text, "Hello, worldagain");
  assert.equal(t.durationS, 10);
  assert.deepEqual(t.segments, [{ id: 0, start: 0.08, end: 0.72, text: "Hello, worldagain" }]);
});

test("nothing past the audio's end: a token decided in the right padding moves into the last frame", () => {
  const t = buildTranscript([...tokens(10, [" one", " two."]), ...tokens(40, [" late"])], 1000);
  assert.deepEqual(t.words.at(-1), { start: 0.96, end: 1, word: "late" });
  assert.ok(t.words.every((w) => w.end <= 1 && w.start <= w.end));
  assert.ok(t.segments.every((s) => s.end <= 1));
  // " two." ends a sentence: the late word is a segment of its own.
  assert.deepEqual(
    t.segments.map((s) => s.text),
    ["one two.", "late"],
  );
});

test("segments split at sentence ends and at pauses of a second, not at shorter gaps", () => {
  const toks = [...tokens(0, [" Yes.", " No"]), ...tokens(14, [" maybe"]), ...tokens(30, [" later"])];
  const t = buildTranscript(toks, 5000);
  // 0.16 s..1.12 s: a 0.96 s gap stays in the segment; 1.2 s..2.4 s: a 1.2 s gap splits it.
  assert.deepEqual(
    t.segments.map((s) => [s.text, s.start, s.end]),
    [
      ["Yes.", 0, 0.08],
      ["No maybe", 0.08, 1.2],
      ["later", 2.4, 2.48],
    ],
  );
});

test("text without spaces still makes words, lines and cues within the limits", () => {
  const t = buildTranscript(
    tokens(
      0,
      Array.from({ length: 120 }, (_, i) => "日本語"[i % 3]!),
    ),
    20_000,
  );
  assert.ok(t.words.every((w) => w.word.length <= CUE_LINE_CHARS));
  assert.equal(t.text, t.words.map((w) => w.word).join(""));
  const cues = parseSrt(renderTranscript(t, "srt"));
  assert.ok(cues.length >= 2);
  for (const c of cues)
    assert.ok(c.lines.length <= 2 && c.lines.every((l) => l.length <= CUE_LINE_CHARS) && c.end - c.start <= 7);
});

test("cues stay within 2 lines of 42 characters and 7 seconds", () => {
  const many = Array.from({ length: 40 }, (_, i) => ` word${i}`);
  const t = buildTranscript(tokens(0, many), 60_000);
  for (const s of t.segments) {
    assert.ok(s.end - s.start <= CUE_MAX_MS / 1000, `${s.start}..${s.end}`);
    const lines = wrapCue(s.text.split(" "));
    assert.ok(
      lines.length >= 1 && lines.length <= 2 && lines.every((l) => l.length <= CUE_LINE_CHARS),
      JSON.stringify(lines),
    );
  }
  assert.equal(t.segments.map((s) => s.text).join(" "), many.join("").trim());
  // Slow words (one every 0.8 s): the 7 s limit cuts before the character limit does.
  const slow = buildTranscript(
    many.slice(0, 12).flatMap((w, i) => tokens(i * 10, [w])),
    60_000,
  );
  assert.deepEqual(
    slow.segments.map((s) => [s.start, s.end]),
    [
      [0, 6.4],
      [6.4, 8.88],
    ],
  );
});

test("wrapCue balances two lines, keeps an over-long word whole, and refuses what needs three lines", () => {
  assert.deepEqual(wrapCue(["short", "line"]), ["short line"]);
  const w = "the quick brown fox jumps over the lazy dog and runs far away".split(" ");
  assert.deepEqual(wrapCue(w), ["the quick brown fox jumps over", "the lazy dog and runs far away"]);
  assert.deepEqual(wrapCue(["x".repeat(50)]), ["x".repeat(50)]);
  assert.deepEqual(wrapCue([..."abcdefghij".split("").map((c) => c.repeat(9))]), []);
});

test("SRT and WebVTT: exact syntax, escaped WebVTT text, timestamps past an hour", () => {
  const t = buildTranscript(
    [...tokens(0, [" Fish", " &", " <chips>."]), ...tokens(45_000, [" Late", " night"])],
    3_700_000,
  );
  assert.equal(
    renderTranscript(t, "srt"),
    "1\n00:00:00,000 --> 00:00:00,240\nFish & <chips>.\n\n2\n01:00:00,000 --> 01:00:00,160\nLate night\n",
  );
  assert.equal(
    renderTranscript(t, "vtt"),
    "WEBVTT\n\n00:00:00.000 --> 00:00:00.240\nFish &amp; &lt;chips&gt;.\n\n01:00:00.000 --> 01:00:00.160\nLate night\n",
  );
  assert.equal(parseSrt(renderTranscript(t, "srt")).length, 2);
  assert.equal(parseVtt(renderTranscript(t, "vtt")).cues.length, 2);
  assert.equal(timestamp(3661.0425, ","), "01:01:01,043");
  const cut = parseVtt(renderTranscript(t, "vtt", { incomplete: true }));
  assert.match(cut.notes[0]!, /^NOTE incomplete/);
  assert.equal(cut.cues.length, 2);
});

test("no speech: empty text, an empty SRT, a WebVTT header alone, valid verbose_json", () => {
  const t = buildTranscript(tokens(0, [PAD, PAD, 2]), 3000);
  assert.equal(renderTranscript(t, "text"), "\n");
  assert.equal(renderTranscript(t, "srt"), "");
  assert.equal(renderTranscript(t, "vtt"), "WEBVTT\n");
  assert.deepEqual(schemaErrors("transcription", JSON.parse(renderTranscript(t, "verbose_json"))), []);
});

test("control characters in token text never reach a word or a cue", () => {
  const t = buildTranscript(tokens(0, [" a\u0000b", "\rc", " d\u0007"]), 3000);
  assert.deepEqual(
    t.words.map((w) => w.word),
    ["a", "b", "c", "d"],
  );
  assert.equal(parseSrt(renderTranscript(t, "srt"))[0]!.lines.join(" "), "a b c d");
});

test("json and verbose_json: OpenAI's shapes; the schema accepts ours and rejects broken ones", () => {
  const t = buildTranscript(tokens(2, [" Hello", " there."]), 2000);
  assert.deepEqual(JSON.parse(renderTranscript(t, "json")), { text: "Hello there." });
  const v = JSON.parse(renderTranscript(t, "verbose_json", { language: "en" })) as Record<string, unknown>;
  assert.deepEqual(Object.keys(v), ["task", "language", "duration", "text", "segments", "words"]);
  assert.deepEqual(schemaErrors("transcription", v), []);
  assert.equal(JSON.parse(renderTranscript(t, "verbose_json", { incomplete: true })).incomplete, true);
  // Mixed: one field broken at a time is caught.
  assert.ok(schemaErrors("transcription", { ...v, task: "translate" }).length > 0);
  assert.ok(schemaErrors("transcription", { ...v, words: [{ start: 0, end: 1 }] }).length > 0);
  assert.ok(schemaErrors("transcription", { ...v, segments: [{ id: 0, start: -1, end: 1, text: "x" }] }).length > 0);
});

test("property: any token sequence gives ordered cues inside the audio, within the limits, text kept", () => {
  const word = fc.stringMatching(/^[a-z]{1,12}$/);
  const item = fc.oneof(
    fc.constant<string | number>(PAD),
    fc.constant<string | number>(STREAMING_WORD_ID),
    word.map((w) => ` ${w}`),
    word,
    word,
    fc.constantFrom(",", ".", "?", "\r", " "),
  );
  fc.assert(
    fc.property(fc.array(item, { maxLength: 400 }), fc.integer({ min: 80, max: 40_000 }), (items, audioMs) => {
      const t = buildTranscript(tokens(0, items), audioMs);
      const srt = parseSrt(renderTranscript(t, "srt"));
      const vtt = parseVtt(renderTranscript(t, "vtt")).cues;
      assert.equal(srt.length, t.segments.length);
      assert.equal(vtt.length, t.segments.length);
      let prevEnd = 0;
      for (const c of srt) {
        assert.ok(c.start >= prevEnd - 1e-9 && c.start <= c.end && c.end <= audioMs / 1000 + 1e-9);
        assert.ok(
          c.lines.length <= 2 && c.lines.every((l) => [...l].length <= CUE_LINE_CHARS),
          JSON.stringify(c.lines),
        );
        assert.ok(c.end - c.start <= CUE_MAX_MS / 1000 + 1e-9);
        prevEnd = c.end;
      }
      for (const w of t.words) assert.ok(w.start <= w.end && w.end <= audioMs / 1000 + 1e-9);
      const plain = t.text.replace(/\s+/g, "");
      assert.equal(
        t.segments
          .map((s) => s.text)
          .join("")
          .replace(/\s+/g, ""),
        plain,
      );
      assert.equal(
        items
          .filter((x) => typeof x === "string")
          .join("")
          .replace(/\s+/g, ""),
        plain,
      );
    }),
    { numRuns: 300 },
  );
});
