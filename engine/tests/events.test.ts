// The engine's event stream (`voxtral … --events`) and `--json`, against
// checks/schemas/events.schema.json (ajv, strict), on every fixture:
//   - every stdout line is one schema-valid event; token events, then one done event last;
//   - token events carry exactly the --json tokens, in order, at consecutive steps from 0, with
//     pos - step = L - 1 = 32 + delay tokens and [start_ms, end_ms) = [80 k, 80 (k + 1)) of user audio
//     (the timing rule: the 32 tokens of left padding are not user audio);
//   - end_ms of each token equals --json's token_times_ms; the token texts concatenate to the text;
//   - progress events: consumed_ms ends at the audio's length, decoded_ms never goes back;
//   - --json validates against $defs/json, and the done event holds the same results.
// --stdin: events come out while the input is still being written (a test writes the audio slowly
// and reads token events before closing stdin). Failures: one error event (code, exit_code, message)
// as the last stdout line, the usual stderr line and exit code.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Ajv2020 } from "ajv/dist/2020.js";
import { parseEngineJson, runEngine, startEngine } from "../../toolkit/src/lib/engine.js";
import { fixturesDir, schemaPath } from "../../toolkit/src/lib/paths.js";

const LEFT_PAD_TOKENS = 32;
const MS_PER_TOKEN = 80;

const ajv = new Ajv2020({ allErrors: true, strict: true });
ajv.addSchema(JSON.parse(readFileSync(schemaPath("events"), "utf8")) as object);
const validEvent = ajv.getSchema("events.schema.json")!;
const validJson = ajv.compile({ $ref: "events.schema.json#/$defs/json" });

type Ev = Record<string, unknown> & { type: string };
interface Result {
  text: string;
  tokens: number[];
  token_times_ms: number[];
  n_audio: number;
  audio_seconds: number;
}

/** Parses and validates every line of an --events stdout. */
function events(stdout: string): Ev[] {
  assert.ok(stdout.endsWith("\n"), "the event stream ends with a newline");
  return stdout
    .slice(0, -1)
    .split("\n")
    .map((line, i) => {
      const e = JSON.parse(line) as Ev;
      assert.ok(
        validEvent(e),
        `line ${i + 1} breaks events.schema.json: ${JSON.stringify(validEvent.errors)}\n${line}`,
      );
      return e;
    });
}

const fixtures = readdirSync(fixturesDir())
  .sort()
  .map((name) => {
    const dir = join(fixturesDir(), name);
    const fx = JSON.parse(readFileSync(join(dir, "fixture.json"), "utf8")) as { audio: string; delay_ms: number };
    return { name, dir, audio: join(dir, fx.audio), delayMs: fx.delay_ms };
  });

test("the schema rejects what the engine must never write", () => {
  const token = { type: "token", id: 5, text: "a", control: false, pos: 38, step: 0, start_ms: 0, end_ms: 80 };
  assert.ok(validEvent(token));
  assert.ok(validEvent({ ...token, stream: 3 }), "serve mode adds a stream id");
  assert.ok(!validEvent({ ...token, extra: 1 }), "unknown fields are refused");
  assert.ok(!validEvent({ ...token, type: "tokens" }), "unknown types are refused");
  const { end_ms: _drop, ...noEnd } = token;
  assert.ok(!validEvent(noEnd), "a token without end_ms is refused");
  assert.ok(!validEvent({ type: "error", code: "disk", exit_code: 2, message: "x" }), "error codes are a fixed set");
});

for (const fx of fixtures) {
  test(`${fx.name}: --events lines are schema-valid and match --json`, async () => {
    const base = ["-d", fx.dir, "-i", fx.audio, "--delay-ms", String(fx.delayMs), "--backend", "cpu"];
    const [ev, js] = await Promise.all([runEngine([...base, "--events"]), runEngine([...base, "--json"])]);
    assert.equal(ev.failure, null, `${ev.command}\n${ev.stderr}`);
    assert.equal(js.failure, null, `${js.command}\n${js.stderr}`);
    const json = parseEngineJson<Result>(js);
    assert.ok(validJson(json), `--json breaks events.schema.json#/$defs/json: ${JSON.stringify(validJson.errors)}`);
    const all = events(ev.stdout);
    const done = all.at(-1) as Ev & Result;
    assert.equal(done.type, "done", "the last event is done");
    assert.equal(all.filter((e) => e.type === "done").length, 1, "one done event");
    assert.equal(done.interrupted, false);

    const tokens = all.filter((e) => e.type === "token") as Array<
      Ev & { id: number; text: string; pos: number; step: number; start_ms: number; end_ms: number; control: boolean }
    >;
    assert.ok(tokens.length > 10, "more than 10 tokens decoded");
    assert.deepEqual(
      tokens.map((t) => t.id),
      json.tokens,
      "token events = --json tokens",
    );
    assert.deepEqual(done.tokens, json.tokens, "done tokens = --json tokens");
    const firstPos = LEFT_PAD_TOKENS + fx.delayMs / MS_PER_TOKEN; // L - 1, L = 1 + 32 + delay tokens
    tokens.forEach((t, k) => {
      assert.equal(t.step, k, "steps count from 0 without gaps");
      assert.equal(t.pos, firstPos + k, "pos = L - 1 + step");
      assert.equal(t.start_ms, MS_PER_TOKEN * k);
      assert.equal(t.end_ms, MS_PER_TOKEN * (k + 1));
      if (t.control) assert.equal(t.text, "", "control tokens have no text");
    });
    assert.deepEqual(
      tokens.map((t) => t.end_ms),
      json.token_times_ms,
      "end_ms = --json token_times_ms",
    );
    assert.deepEqual(done.token_times_ms, json.token_times_ms);
    assert.equal(tokens.map((t) => t.text).join(""), json.text, "token texts concatenate to the text");
    assert.equal(done.text, json.text);
    assert.equal(done.n_audio, json.n_audio);
    assert.equal(done.audio_seconds, json.audio_seconds);
    // Tokens decided in the right padding may end past the audio, but never past its padded end.
    const audioMs = json.audio_seconds * 1000;
    const padded =
      Math.ceil(audioMs / MS_PER_TOKEN) * MS_PER_TOKEN + (fx.delayMs / MS_PER_TOKEN + 1 + 10) * MS_PER_TOKEN;
    assert.ok(
      tokens.at(-1)!.end_ms <= padded,
      `last token ends at ${tokens.at(-1)!.end_ms} ms, padded audio ${padded} ms`,
    );

    const progress = all.filter((e) => e.type === "progress") as Array<
      Ev & { consumed_ms: number; decoded_ms: number }
    >;
    assert.ok(progress.length >= 1, "at least one progress event");
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i]!.decoded_ms >= progress[i - 1]!.decoded_ms);
    const last = progress.at(-1)!;
    assert.ok(
      Math.abs(last.consumed_ms - audioMs) < 0.1,
      `last progress consumed ${last.consumed_ms} ms of ${audioMs}`,
    );
    assert.equal(last.decoded_ms, MS_PER_TOKEN * tokens.length, "last progress: 80 ms per decided token");
  });
}

test("--stdin --events: token events arrive while the input is still being written", async () => {
  const fx = fixtures.find((f) => f.name === "tiny-delay")!;
  const base = ["-d", fx.dir, "--delay-ms", String(fx.delayMs), "--backend", "cpu"];
  const pcm = readFileSync(fx.audio); // the WAV itself (PCM16 mono 16 kHz), header first
  const { process: p, result } = startEngine([...base, "--stdin", "--events"], { stdinPipe: true });
  let out = "";
  p.stdout!.on("data", (d: Buffer | string) => {
    out += d.toString();
  });
  const second = 16000 * 2;
  let written = 0;
  let early: Ev[] = [];
  // Half a second of audio at a time; stop writing once a token event is out, then send the rest.
  while (written < 6 * second) {
    p.stdin!.write(pcm.subarray(written, written + second / 2));
    written += second / 2;
    for (let waited = 0; waited < 2000 && !out.includes('"type":"token"'); waited += 20) await sleep(20);
    if (out.includes('"type":"token"')) break;
  }
  early = events(out.slice(0, out.lastIndexOf("\n") + 1));
  assert.ok(
    early.some((e) => e.type === "token"),
    "no token event while stdin was still open",
  );
  const prog = early.filter((e) => e.type === "progress") as Array<Ev & { consumed_ms: number }>;
  for (const e of prog)
    assert.ok(e.consumed_ms <= (written / 2 / 16000) * 1000, "progress counts only audio fed so far");
  assert.ok(written < pcm.length, "tokens came before all the audio was written");
  p.stdin!.end(pcm.subarray(written));
  const r = await result;
  assert.equal(r.failure, null, `${r.command}\n${r.stderr}`);
  const all = events(r.stdout);
  const offline = parseEngineJson<Result>(await runEngine([...base, "-i", fx.audio, "--json"]));
  assert.deepEqual(
    all.filter((e) => e.type === "token").map((e) => e.id),
    offline.tokens,
  );
  assert.deepEqual((all.at(-1) as Ev & Result).tokens, offline.tokens);
});

const fx0 = fixtures[0]!;
const cases: Array<{ what: string; args: string[]; code: string; exit: number; says: string; input?: Buffer }> = [
  {
    what: "a usage mistake",
    args: ["-d", fx0.dir, "-i", fx0.audio, "--delay-ms", "100"],
    code: "usage",
    exit: 2,
    says: "multiple of 80",
  },
  {
    what: "a missing audio file",
    args: ["-d", fx0.dir, "-i", join(fx0.dir, "nope.wav")],
    code: "audio",
    exit: 4,
    says: "cannot open audio file",
  },
  {
    what: "a model folder without the model",
    args: ["-d", join(fx0.dir, "golden"), "-i", fx0.audio],
    code: "model",
    exit: 3,
    says: "params.json",
  },
  {
    what: "stdin that is not audio",
    args: ["-d", fx0.dir, "--stdin"],
    code: "audio",
    exit: 4,
    says: "Ogg",
    input: Buffer.from("OggS\0\x02\0\0\0\0\0\0\0\0"),
  },
];
for (const c of cases) {
  test(`--events: ${c.what} is one error event, the stderr line and exit ${c.exit}`, async () => {
    const r = await runEngine([...c.args, "--backend", "cpu", "--events"], c.input ? { input: c.input } : {});
    assert.equal(r.exitCode, c.exit, r.stderr);
    const all = events(r.stdout);
    const err = all.at(-1) as Ev & { code: string; exit_code: number; message: string };
    assert.equal(err.type, "error");
    assert.equal(all.filter((e) => e.type === "error").length, 1);
    assert.ok(!all.some((e) => e.type === "done"), "no done event after a failure");
    assert.equal(err.code, c.code);
    assert.equal(err.exit_code, c.exit);
    assert.ok(err.message.includes(c.says), err.message);
    assert.equal(r.stderr.trim(), `voxtral: error: ${err.message}`, "the stderr line says the same");
  });
}
