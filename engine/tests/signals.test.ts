// Nothing lost on a stop: SIGINT / SIGTERM end the input, the engine decides what it read, prints the
// text and the --json / done result with "interrupted": true, and exits 130 / 143; a second signal
// exits at once. A raw stdin stream cut after an odd byte: the complete samples are decided and
// printed, then exit 4 with the message.
// "Decides what it read" is checked exactly: the tokens of the interrupted run equal those of a run on
// precisely the samples it read (done.audio_seconds x 16000), fed as a complete stream.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { spawn } from "node:child_process";
import { parseEngineJson, runEngine, startEngine } from "../../toolkit/src/lib/engine.js";
import { engineBinary, fixturesDir } from "../../toolkit/src/lib/paths.js";
import { wavHeader } from "../../toolkit/src/lib/wav.js";
import { pcm16 } from "./golden.js";

const dir = join(fixturesDir(), "tiny-delay"); // 11 s of speech, 960 ms delay
const base = ["-d", dir, "--delay-ms", "960", "--backend", "cpu"];
const SECOND = 16000 * 2; // bytes of raw s16le per second

const raw = pcm16(join(dir, "jfk.wav"));
const work = mkdtempSync(join(tmpdir(), "vox-signals-"));
after(() => rmSync(work, { recursive: true, force: true }));

interface Done {
  type: string;
  tokens: number[];
  text: string;
  audio_seconds: number;
  interrupted: boolean;
}
type Ev = Record<string, unknown> & { type: string };
const lines = (s: string): Ev[] =>
  s
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Ev);

/** Collects stdout; resolves `until(pred)` once the text so far satisfies pred (polling, no deadline). */
function collect(stream: NodeJS.ReadableStream) {
  let text = "";
  stream.on("data", (d: Buffer | string) => {
    text += d.toString();
  });
  return {
    get text() {
      return text;
    },
    async until(pred: (t: string) => boolean): Promise<void> {
      while (!pred(text)) await sleep(20);
    },
  };
}

/** Tokens of a complete run on the first n samples of the speech. */
async function tokensOfPrefix(n: number): Promise<number[]> {
  const r = await runEngine([...base, "--stdin", "--json"], { input: raw.subarray(0, 2 * n) });
  assert.equal(r.failure, null, `${r.command}\n${r.stderr}`);
  return parseEngineJson<{ tokens: number[] }>(r).tokens;
}

test("--stdin --events, SIGINT: what was read is decided, done has interrupted: true, exit 130", async () => {
  const { process: p, result } = startEngine([...base, "--stdin", "--events"], { stdinPipe: true });
  const out = collect(p.stdout!);
  p.stdin!.write(raw.subarray(0, 5 * SECOND));
  await out.until((t) => t.includes('"type":"token"'));
  p.kill("SIGINT"); // stdin stays open: the signal alone ends the input
  const r = await result;
  p.stdin!.destroy();
  assert.equal(r.exitCode, 130, r.stderr);
  assert.match(r.stderr, /voxtral: note: stopped by SIGINT/);
  const ev = lines(r.stdout);
  const done = ev.at(-1) as unknown as Done;
  assert.equal(done.type, "done");
  assert.equal(done.interrupted, true);
  assert.deepEqual(
    ev.filter((e) => e.type === "token").map((e) => e.id),
    done.tokens,
  );
  const n = Math.round(done.audio_seconds * 16000);
  assert.ok(n > 0 && n <= 5 * 16000, `read ${n} samples of the 80000 written`);
  assert.deepEqual(done.tokens, await tokensOfPrefix(n), "the interrupted run = a complete run on the samples read");
});

test("-i on a long file, SIGTERM: the part read is decided, --json has interrupted: true, exit 143", async () => {
  const long = join(work, "long.wav");
  const body = Buffer.concat(Array.from({ length: 12 }, () => raw)); // 132 s
  const h = wavHeader(body.length);
  writeFileSync(long, Buffer.concat([h, body]));
  const { process: p, result } = startEngine([...base, "-i", long, "--events"]);
  const out = collect(p.stdout!);
  await out.until((t) => t.includes('"type":"token"'));
  p.kill("SIGTERM");
  const r = await result;
  assert.equal(r.exitCode, 143, r.stderr);
  const done = lines(r.stdout).at(-1) as unknown as Done;
  assert.equal(done.type, "done");
  assert.equal(done.interrupted, true);
  const n = Math.round(done.audio_seconds * 16000);
  assert.ok(n < body.length / 2, `stopped before the end of the file (${n} samples read)`);
  const prefix = Buffer.concat(Array.from({ length: Math.ceil(n / (raw.length / 2)) }, () => raw)).subarray(0, 2 * n);
  const ref = await runEngine([...base, "--stdin", "--json"], { input: prefix });
  assert.deepEqual(done.tokens, parseEngineJson<{ tokens: number[] }>(ref).tokens);
});

test("plain --stdin, SIGINT: the text decided so far stays on stdout, ends with a newline, exit 130", async () => {
  const { process: p, result } = startEngine([...base, "--stdin"], { stdinPipe: true });
  const out = collect(p.stdout!);
  p.stdin!.write(raw.subarray(0, 6 * SECOND));
  await out.until((t) => t.length > 0);
  const early = out.text;
  p.kill("SIGINT");
  const r = await result;
  p.stdin!.destroy();
  assert.equal(r.exitCode, 130, r.stderr);
  assert.ok(r.stdout.startsWith(early), "the text printed before the signal is kept");
  assert.ok(r.stdout.endsWith("\n") && r.stdout.length > early.length, "the flush adds the rest and a newline");
});

test("a signal before any audio: an empty result with interrupted: true, exit 130", async () => {
  const { process: p, result } = startEngine([...base, "--stdin", "--json", "--debug"], { stdinPipe: true });
  const err = collect(p.stderr!);
  await err.until((t) => t.includes("voxtral: debug: backend")); // the handlers are installed before the load
  p.kill("SIGINT");
  const r = await result;
  p.stdin!.destroy();
  assert.equal(r.exitCode, 130, r.stderr);
  const j = parseEngineJson<Done>(r);
  assert.deepEqual(j.tokens, []);
  assert.equal(j.interrupted, true);
});

/** Whether /proc/PID/wchan names where a sleeping process waits (a `sleep` child: not "0"). */
async function wchanWorks(): Promise<boolean> {
  const c = spawn("sleep", ["30"]);
  let w = "0";
  for (let i = 0; i < 100 && (w === "0" || w === ""); i++) {
    await sleep(20);
    try {
      w = readFileSync(`/proc/${c.pid}/wchan`, "utf8");
    } catch {
      w = "";
      break;
    }
  }
  c.kill("SIGKILL");
  return w !== "0" && w !== "";
}

test("a second signal exits at once (the engine is blocked writing to a full stdout)", async (t) => {
  if (!(await wchanWorks())) {
    t.skip("/proc/PID/wchan does not show where a process sleeps here, so a blocked engine cannot be seen");
    return;
  }
  // Spawned directly: nothing reads its stdout until both signals are sent.
  const p = spawn(engineBinary(), [...base, "--stdin", "--events"], { stdio: ["pipe", "pipe", "pipe"] });
  const exited = new Promise<number | null>((res) => p.on("exit", (code) => res(code)));
  p.stdout.pause();
  // Enough audio for far more token events than the pipe (64 KiB) and the paused stream (64 KiB) hold.
  p.stdin.on("error", () => {});
  p.stdin.write(Buffer.concat(Array.from({ length: 24 }, () => raw)));
  let wchan = "";
  // "0" while it runs; once stdout is full, the wait of a pipe or (node's stdio) a Unix socket write.
  for (let i = 0; !/pipe_write|sock_alloc_send/.test(wchan); i++) {
    if (p.exitCode !== null || i > 6000)
      assert.fail(`the engine never blocked on its stdout (wchan ${wchan}, exit ${p.exitCode})`);
    wchan = readFileSync(`/proc/${p.pid}/wchan`, "utf8");
    await sleep(20);
  }
  p.kill("SIGINT"); // alone, it would flush and wait for stdout to drain
  // Wait until it is delivered (no process-wide pending signal left), so the two are not handled together.
  while (/^ShdPnd:\s*0*[1-9a-f]/m.test(readFileSync(`/proc/${p.pid}/status`, "utf8"))) await sleep(5);
  p.kill("SIGTERM"); // the second signal: exit now
  const out = collect(p.stdout);
  const code = await exited;
  p.stdin.destroy();
  assert.equal(code, 143, "exit 128 + SIGTERM at once");
  assert.ok(!out.text.includes('"type":"done"'), "no flush after the second signal");
});

test("raw stdin cut after an odd byte: the complete samples are decided and printed, then exit 4", async () => {
  const cut = Buffer.concat([raw.subarray(0, 4 * SECOND), Buffer.from([0x12])]);
  const ref = await runEngine([...base, "--stdin", "--json"], { input: cut.subarray(0, 4 * SECOND) });
  const refJson = parseEngineJson<{ tokens: number[]; text: string }>(ref);
  const j = await runEngine([...base, "--stdin", "--json"], { input: cut });
  assert.equal(j.exitCode, 4, j.stderr);
  const lines1 = j.stderr.trim().split("\n");
  assert.equal(lines1.length, 1);
  assert.match(lines1[0]!, /^voxtral: error: stdin: raw s16le input ended after an odd number of bytes \(128001\)/);
  assert.deepEqual(parseEngineJson<{ tokens: number[] }>(j).tokens, refJson.tokens);
  const plain = await runEngine([...base, "--stdin"], { input: cut });
  assert.equal(plain.exitCode, 4);
  const plainRef = await runEngine([...base, "--stdin"], { input: cut.subarray(0, 4 * SECOND) });
  assert.equal(plain.stdout, plainRef.stdout, "plain mode prints the same text as the whole-sample stream");
  const ev = await runEngine([...base, "--stdin", "--events"], { input: cut });
  const all = lines(ev.stdout);
  assert.deepEqual(
    all.slice(-2).map((e) => e.type),
    ["done", "error"],
    "the result, then the error",
  );
  assert.equal(ev.exitCode, 4);
});
