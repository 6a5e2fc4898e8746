// WER/CER and their alignments against hand-computed cases (jiwer conventions).
import assert from "node:assert/strict";
import { test } from "node:test";
import { align, charErrorRate, formatAlignment, normalizeText, wordErrorRate, words } from "../../src/lib/wer.js";

test("normalisation drops case and punctuation, keeps apostrophes inside words", () => {
  assert.equal(normalizeText("  Hello,   World! It’s 3.5 — ok?"), "hello world it's 3 5 ok");
  assert.equal(normalizeText("'quoted' don't"), "quoted don't");
  assert.equal(normalizeText("Ｆｕｌｌ width"), "full width");
  assert.deepEqual(words("  ...  "), []);
});

test("WER counts substitutions, deletions and insertions over reference words", () => {
  const r = wordErrorRate("One two three four five.", "zero one two thee four");
  assert.equal(r.substitutions, 1);
  assert.equal(r.deletions, 1);
  assert.equal(r.insertions, 1);
  assert.equal(r.hits, 3);
  assert.equal(r.referenceLength, 5);
  assert.equal(r.rate, 3 / 5);
});

test("identical texts after normalisation have WER 0; empty cases are defined", () => {
  assert.equal(wordErrorRate("Hello, world.", "hello world").rate, 0);
  assert.equal(wordErrorRate("", "").rate, 0);
  assert.equal(wordErrorRate("", "extra").rate, 1);
  assert.equal(wordErrorRate("a b", "").rate, 1);
});

test("CER counts characters including spaces", () => {
  const r = charErrorRate("abc de", "abd de");
  assert.equal(r.substitutions, 1);
  assert.equal(r.referenceLength, 6);
  assert.ok(Math.abs(r.rate - 1 / 6) < 1e-12);
});

test("alignment is minimal and printable", () => {
  const steps = align(["a", "b", "c"], ["a", "x", "c", "d"]);
  assert.deepEqual(
    steps.map((s) => s.op),
    ["equal", "substitute", "equal", "insert"],
  );
  assert.equal(formatAlignment(steps), "REF: a b c *\nHYP: a x c d\n       S   I");
  const del = formatAlignment(align(["hello", "big", "world"], ["hello", "world"]));
  assert.equal(del, "REF: hello big world\nHYP: hello *** world\n           D");
});
