// voxtral --serve: many streams over one loaded model (engine/README.md, "Serve mode").
// On the tiny-small-windows fixture, two or three streams whose frames are interleaved in ragged
// pieces (odd byte counts that split samples between frames) must each give the tokens of a solo
// run of the same audio (-i FILE, or raw PCM on --stdin for the cut clips); broken streams (bad
// open JSON, unknown id, duplicate open, close mid-way, audio after finish, an odd last byte,
// finished before one token of audio)
// get their error event and leave the others' tokens unchanged; stdin EOF finishes every stream;
// framing errors that cannot be stepped over end the process with a "stream": null error, exit 2.
// Every event line is validated against checks/schemas/events.schema.json. With --debug the engine
// reports where its time went (the mel on its pool of threads, the encoder passes).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { audioFrames, encodeFrame, openFrame } from "../../toolkit/src/commands/serve/frames.js";
import { parseEngineJson, runEngine } from "../../toolkit/src/lib/engine.js";
import { parseEventLine } from "../../toolkit/src/lib/events.js";
import { engineBinary, fixturesDir } from "../../toolkit/src/lib/paths.js";
import { readWav } from "../../toolkit/src/lib/wav.js";

const dir = join(fixturesDir(), "tiny-small-windows");
const wav = join(dir, "test_speech.wav");
const pcm = Buffer.from(readWav(wav).samples.buffer);
// A second, different clip: the last 2.4 s of the same speech.
const tail = pcm.subarray(pcm.length - 2 * 38400);

interface Event {
  type: string;
  stream: number | null;
  [k: string]: unknown;
}
interface Served {
  code: number | null;
  signal: string | null;
  events: Event[];
  stderr: string;
}

function serve(input: Buffer, extra: string[] = []): Promise<Served> {
  return new Promise((resolve, reject) => {
    const p = spawn(engineBinary(), ["-d", dir, "--serve", "--backend", "cpu", ...extra]);
    let out = "";
    let err = "";
    p.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    p.stderr.setEncoding("utf8").on("data", (d: string) => {
      err += d;
    });
    p.on("error", reject);
    p.on("close", (code, signal) => {
      // Every line must be a valid event (checks/schemas/events.schema.json); parseEventLine throws otherwise.
      const events = out
        .split("\n")
        .filter((l) => l.length > 0)
        .map((l) => parseEventLine(l) as unknown as Event);
      resolve({ code, signal, events, stderr: err });
    });
    p.stdin.end(input);
  });
}

async function solo(args: string[], input?: Buffer): Promise<number[]> {
  const r = await runEngine(["-d", dir, "--backend", "cpu", "--json", ...args], input ? { input } : {});
  assert.equal(r.failure, null, r.stderr);
  return parseEngineJson<{ tokens: number[] }>(r).tokens;
}

function tokensOf(events: Event[], id: number): number[] {
  return events.filter((e) => e.type === "token" && e.stream === id).map((e) => e.id as number);
}
function doneOf(events: Event[], id: number): Event | undefined {
  return events.find((e) => e.type === "done" && e.stream === id);
}
function errorsOf(events: Event[], id: number | null): Event[] {
  return events.filter((e) => e.type === "error" && e.stream === id);
}

/** Interleave the audio of several streams in ragged pieces (odd sizes split samples). */
function interleave(streams: { id: number; pcm: Buffer }[], sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  const off = streams.map(() => 0);
  for (let round = 0; streams.some((s, i) => off[i] < s.pcm.length); round++) {
    streams.forEach((s, i) => {
      if (off[i] >= s.pcm.length) return;
      const n = sizes[(round + i) % sizes.length];
      out.push(...audioFrames(s.id, s.pcm.subarray(off[i], off[i] + n)));
      off[i] += n;
    });
  }
  return out;
}

/** Streams 1 (the whole clip) and 2 (its tail) opened, then their audio interleaved in pieces of `sizes`. */
function fullAndTail(sizes: number[]): Buffer {
  return Buffer.concat([
    openFrame(1),
    openFrame(2),
    ...interleave(
      [
        { id: 1, pcm },
        { id: 2, pcm: tail },
      ],
      sizes,
    ),
  ]);
}

const soloFull = solo(["-i", wav]);
const soloTail = solo(["--stdin"], tail);
const soloTail960 = solo(["--stdin", "--delay-ms", "960"], tail);

test("interleaved streams each give their solo run's tokens; events are well-formed", async () => {
  const frames = [
    openFrame(1),
    openFrame(2, {}),
    openFrame(7, { delay_ms: 960 }),
    ...interleave(
      [
        { id: 1, pcm },
        { id: 2, pcm: tail },
        { id: 7, pcm: tail },
      ],
      [3333, 1001, 4096, 17, 2560],
    ),
    encodeFrame("F", 2),
    encodeFrame("F", 1),
    encodeFrame("F", 7),
  ];
  const r = await serve(Buffer.concat(frames));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.events[0].type, "ready");
  assert.equal(r.events[0].backend, "cpu");
  const expect: [number, number[]][] = [
    [1, await soloFull],
    [2, await soloTail],
    [7, await soloTail960],
  ];
  for (const [id, tokens] of expect) {
    assert.ok(tokens.length > 10);
    assert.deepEqual(tokensOf(r.events, id), tokens, `stream ${id} tokens`);
    const done = doneOf(r.events, id);
    assert.ok(done, `stream ${id} done`);
    assert.deepEqual(done.tokens, tokens);
    assert.equal((done.token_times_ms as number[]).length, tokens.length);
    assert.ok(r.events.findIndex((e) => e.type === "opened" && e.stream === id) > 0);
    // Token events: steps 0, 1, 2, ... and times 80 ms apart; nothing of the stream after its done.
    const toks = r.events.filter((e) => e.type === "token" && e.stream === id);
    toks.forEach((e, k) => {
      assert.equal(e.step, k);
      assert.equal(e.start_ms, 80 * k);
      assert.equal(e.end_ms, 80 * (k + 1));
    });
    assert.equal(
      r.events.findLastIndex((e) => e.stream === id),
      r.events.indexOf(done),
    );
  }
  assert.equal(doneOf(r.events, 7)?.delay_ms, 960);
  assert.equal(r.events.filter((e) => e.type === "error").length, 0);
});

test("broken streams get an error event and leave the other streams' tokens unchanged", async () => {
  const half = pcm.subarray(0, 20000);
  const frames = [
    openFrame(1),
    encodeFrame("O", 5, Buffer.from('{"delay_ms": 480,')), // bad open JSON
    encodeFrame("O", 6, Buffer.from('{"delay_ms": 100}')), // not a multiple of 80
    openFrame(3),
    ...audioFrames(3, half),
    ...audioFrames(77, half), // unknown id
    openFrame(4),
    ...audioFrames(4, pcm.subarray(0, 5001)), // odd byte count, then finished
    encodeFrame("F", 4),
    openFrame(8),
    ...audioFrames(8, half),
    encodeFrame("F", 8),
    ...audioFrames(8, half), // audio after finish
    ...interleave(
      [
        { id: 1, pcm },
        { id: 3, pcm: half },
      ],
      [4000, 999],
    ),
    encodeFrame("C", 3), // close mid-way: discarded
    openFrame(1), // duplicate: ends stream 1 too
    openFrame(9),
    ...audioFrames(9, tail),
    encodeFrame("F", 9),
    openFrame(10),
    ...audioFrames(10, pcm.subarray(0, 500)), // 250 samples, finished before one token (its flush fails)
    encodeFrame("F", 10),
  ];
  const r = await serve(Buffer.concat(frames));
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(tokensOf(r.events, 9), await soloTail);
  assert.ok(doneOf(r.events, 9));
  assert.match(String(errorsOf(r.events, 5)[0]?.message), /invalid JSON/);
  assert.match(String(errorsOf(r.events, 6)[0]?.message), /delay_ms must be a multiple of 80/);
  assert.match(String(errorsOf(r.events, 77)[0]?.message), /no open stream 77/);
  assert.match(String(errorsOf(r.events, 4)[0]?.message), /odd number of audio bytes/);
  assert.equal(errorsOf(r.events, 4)[0]?.code, "audio");
  assert.match(String(errorsOf(r.events, 10)[0]?.message), /shorter than one token: 250 samples/);
  assert.equal(errorsOf(r.events, 10)[0]?.code, "audio");
  assert.match(String(errorsOf(r.events, 8)[0]?.message), /after its finish frame/);
  assert.match(String(errorsOf(r.events, 1)[0]?.message), /already open/);
  assert.ok(r.events.some((e) => e.type === "closed" && e.stream === 3));
  for (const id of [1, 3, 4, 5, 6, 8, 10]) assert.equal(doneOf(r.events, id), undefined, `stream ${id} has no done`);
  for (const id of [5, 6, 77])
    assert.equal(
      r.events.some((e) => e.type === "opened" && e.stream === id),
      false,
    );
  // The tokens stream 1 gave before it was ended are a prefix of its solo run.
  const got1 = tokensOf(r.events, 1);
  assert.deepEqual(got1, (await soloFull).slice(0, got1.length));
});

test("stdin EOF finishes every open stream (exit 0)", async () => {
  const r = await serve(fullAndTail([8192]));
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(doneOf(r.events, 1)?.tokens, await soloFull);
  assert.deepEqual(doneOf(r.events, 2)?.tokens, await soloTail);
});

test("framing errors: stream null error event and exit 2; open streams still finish at a cut frame", async () => {
  const bad = await serve(Buffer.concat([openFrame(1), Buffer.from("Zxxxxxxxx")]));
  assert.equal(bad.code, 2);
  assert.match(String(errorsOf(bad.events, null)[0]?.message), /unknown frame type byte 0x5a/);
  assert.match(bad.stderr, /^voxtral: error: serve: unknown frame type/m);

  const big = Buffer.alloc(9);
  big.write("A", 0, "latin1");
  big.writeUInt32LE(1, 1);
  big.writeUInt32LE((1 << 20) + 1, 5);
  const over = await serve(Buffer.concat([openFrame(1), big]));
  assert.equal(over.code, 2);
  assert.match(String(errorsOf(over.events, null)[0]?.message), /over the limit of 1048576/);

  const cut = await serve(
    Buffer.concat([openFrame(1), ...audioFrames(1, tail), encodeFrame("A", 1, tail).subarray(0, 20)]),
  );
  assert.equal(cut.code, 2);
  assert.match(String(errorsOf(cut.events, null)[0]?.message), /stdin ended inside a frame/);
  assert.deepEqual(doneOf(cut.events, 1)?.tokens, await soloTail);
});

test("--serve refuses -i / --stdin / --json with a usage error (exit 2)", async () => {
  const r = await runEngine(["-d", dir, "--serve", "--json"]);
  assert.equal(r.exitCode, 2);
  assert.match(r.stderr, /^voxtral: error: --serve reads framed audio/m);
  const m = await runEngine(["-d", join(dir, "nope"), "--serve", "--backend", "cpu"]);
  assert.equal(m.exitCode, 3);
  const ev = parseEventLine(m.stdout.trim()) as unknown as Event;
  assert.equal(ev.type, "error");
  assert.equal(ev.stream, null);
  assert.equal(ev.code, "model");
});

test("streams opened, fed and closed one after another are freed at once: engine memory stays flat", async () => {
  const p = spawn(engineBinary(), ["-d", dir, "--serve", "--backend", "cpu"]);
  const waiting: ((e: Event) => void)[] = [];
  const queued: Event[] = [];
  let buf = "";
  p.stdout.setEncoding("utf8").on("data", (d: string) => {
    buf += d;
    const lines = buf.split("\n");
    buf = lines.pop() ?? "";
    for (const l of lines) if (l) queued.push(parseEventLine(l) as unknown as Event);
    while (queued.length && waiting.length) waiting.shift()!(queued.shift()!);
  });
  const nextEvent = () =>
    new Promise<Event>((r) => {
      const e = queued.shift();
      if (e) r(e);
      else waiting.push(r);
    });
  const rssMb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p.pid}/status`, "utf8"))?.[1]) / 1024;
  assert.equal((await nextEvent()).type, "ready");
  let at30 = 0;
  for (let i = 1; i <= 150; i++) {
    p.stdin.write(
      Buffer.concat([openFrame(i), ...audioFrames(i, pcm.subarray(0, 32000 * (1 + (i % 3)))), encodeFrame("C", i)]),
    );
    assert.equal((await nextEvent()).type, "opened");
    assert.deepEqual(await nextEvent(), { type: "closed", stream: i });
    if (i === 30) at30 = rssMb();
  }
  const at150 = rssMb();
  p.stdin.end();
  await new Promise((r) => p.on("close", r));
  // Before closed streams were freed at once they piled up until the next decoding turn (~3 MB each).
  assert.ok(at150 - at30 < 8, `engine RSS after 30 streams ${at30.toFixed(1)} MB, after 150 ${at150.toFixed(1)} MB`);
});

test("--debug says where serve's time went: the mel on the pool's threads, the passes' layers inside the encoder time", async () => {
  const r = await serve(fullAndTail([4000, 12001]), ["--debug"]);
  assert.equal(r.code, 0, r.stderr);
  // the pool's pushes leave each stream its solo tokens
  assert.deepEqual(doneOf(r.events, 1)?.tokens, await soloFull);
  assert.deepEqual(doneOf(r.events, 2)?.tokens, await soloTail);
  const rounds = /serve: (\d+) rounds; .* the streams' mel \(on (\d+) threads\) (\d+), feeding the streams/.exec(
    r.stderr,
  );
  assert.ok(rounds, r.stderr);
  assert.ok(Number(rounds[1]) > 0);
  assert.equal(Number(rounds[2]), Math.min(cpus().length, 16)); // one pool thread per core, at most 16
  const enc = /(\d+) encoder passes, .*, (\d+) ms \(the passes' layers (\d+),/.exec(r.stderr);
  assert.ok(enc, r.stderr);
  assert.ok(Number(enc[1]) > 0, "two streams share encoder passes on the CPU backend");
  assert.ok(Number(enc[3]) <= Number(enc[2]), "the layers are part of the encoder time");
});
