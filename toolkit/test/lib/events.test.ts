// parseEventLine on the real engine's event stream, on lines the engine must never write, and the
// line splitter on every way a stream can be cut. The schema's shape is pinned here: vox transcribe,
// vox serve and users' scripts read these fields.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runEngine } from "../../src/lib/engine.js";
import { EventLineError, LineSplitter, parseEventLine, timedToken, type EngineEvent } from "../../src/lib/events.js";
import { fixturesDir, schemaPath } from "../../src/lib/paths.js";
import { buildTranscript } from "../../src/lib/transcript.js";

test("the event schema's shape is pinned", () => {
  const s = JSON.parse(readFileSync(schemaPath("events"), "utf8")) as {
    $id: string;
    $defs: Record<string, { required?: string[] }>;
  };
  assert.equal(s.$id, "events.schema.json");
  assert.deepEqual(s.$defs.token!.required, ["type", "id", "text", "control", "pos", "step", "start_ms", "end_ms"]);
  assert.deepEqual(s.$defs.progress!.required, ["type", "consumed_ms", "decoded_ms"]);
  assert.deepEqual(s.$defs.error!.required, ["type", "code", "exit_code", "message"]);
  assert.deepEqual(s.$defs.done!.required, ["type"]);
  for (const k of ["text", "tokens", "token_times_ms", "audio_seconds", "backend", "peak_rss_mb", "interrupted"]) {
    assert.ok(s.$defs.engineJson!.required!.includes(k), `done carries ${k}`);
  }
});

test("the real engine's events parse; tokens become the transcript the engine printed", async () => {
  const dir = join(fixturesDir(), "tiny-delay");
  const r = await runEngine(["-d", dir, "-i", join(dir, "jfk.wav"), "--backend", "cpu", "--events"]);
  assert.equal(r.failure, null, r.stderr);
  const events: EngineEvent[] = r.stdout.trimEnd().split("\n").map(parseEventLine);
  const done = events.at(-1)!;
  assert.equal(done.type, "done");
  if (done.type !== "done") return;
  const tokens = events.filter((e) => e.type === "token");
  assert.deepEqual(
    tokens.map((t) => t.id),
    done.tokens,
  );
  assert.ok(events.some((e) => e.type === "progress"));
  const t = buildTranscript(tokens.map(timedToken), done.audio_seconds * 1000);
  assert.equal(t.text.replace(/\s+/g, ""), done.text.replace(/[\p{Cc}\s]+/gu, ""));
  assert.ok(t.words.every((w) => w.end <= done.audio_seconds));
});

test("lines the engine must never write are refused with the line quoted", () => {
  const good = '{"type":"token","id":5,"text":"a","control":false,"pos":38,"step":0,"start_ms":0,"end_ms":80}';
  assert.equal(parseEventLine(good).type, "token");
  const bad = [
    ["{not json", /is not JSON/],
    [good.replace('"end_ms":80', '"end_ms":-1'), /does not match events\.schema\.json/],
    [good.replace('"token"', '"tokens"'), /does not match/],
    ['{"type":"error","code":"disk","exit_code":2,"message":"x"}', /does not match/],
    ['{"type":"progress","consumed_ms":1}', /does not match/],
  ] as const;
  for (const [line, why] of bad) {
    assert.throws(
      () => parseEventLine(line),
      (e: unknown) => e instanceof EventLineError && why.test(e.message) && e.line === line,
      line,
    );
  }
});

test("LineSplitter: lines cut anywhere, a character split between chunks, a last line without newline", () => {
  const text = '{"a":"é"}\n{"b":"日本"}\n\n{"c":1}';
  const bytes = Buffer.from(text, "utf8");
  for (let cut = 0; cut <= bytes.length; cut++) {
    const s = new LineSplitter();
    const lines = [...s.push(bytes.subarray(0, cut)), ...s.push(bytes.subarray(cut)), ...s.end()];
    assert.deepEqual(lines, ['{"a":"é"}', '{"b":"日本"}', '{"c":1}'], `cut at ${cut}`);
  }
});
