// Starts the real `vox serve` (the CLI, as a user would) on a free loopback port for a test, and
// stops it. Every test of the server goes through real HTTP / WebSocket clients.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { fixturesDir, packageRoot } from "../../../src/lib/paths.js";

export interface Running {
  proc: ChildProcess;
  port: number;
  http: string;
  ws: string;
  stdout: () => string;
  stderr: () => string;
  /** resolves with the exit code (or signal) */
  exited: Promise<{ code: number | null; signal: string | null }>;
  stop(): Promise<void>;
  health(): Promise<Record<string, unknown>>;
}

export const MODEL = "tiny-small-windows";
export const modelDir = join(fixturesDir(), MODEL);

/** detached: vox serve in its own process group (so a test can send Ctrl-C's SIGINT to the group). */
export async function startServe(extra: string[] = [], detached = false): Promise<Running> {
  const proc = spawn(
    process.execPath,
    [
      join(packageRoot(), "dist/toolkit/src/bin/vox.js"),
      "serve",
      "--model",
      modelDir,
      "--port",
      "0",
      "--backend",
      "cpu",
      ...extra,
    ],
    {
      stdio: ["ignore", "pipe", "pipe"],
      detached,
    },
  );
  let out = "";
  let err = "";
  proc.stdout!.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  proc.stderr!.setEncoding("utf8").on("data", (d: string) => {
    err += d;
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) =>
    proc.on("exit", (code, signal) => r({ code, signal })),
  );
  const port = await new Promise<number>((resolve, reject) => {
    const check = () => {
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      if (m) resolve(Number(m[1]));
    };
    proc.stdout!.on("data", check);
    void exited.then((e) =>
      reject(new Error(`vox serve exited (${e.code ?? e.signal}) before listening:\n${out}\n${err}`)),
    );
  });
  const http = `http://127.0.0.1:${port}`;
  const r: Running = {
    proc,
    port,
    http,
    ws: `ws://127.0.0.1:${port}/v1/realtime`,
    stdout: () => out,
    stderr: () => err,
    exited,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      await exited;
    },
    async health() {
      return (await (await fetch(`${http}/health`)).json()) as Record<string, unknown>;
    },
  };
  return r;
}

/** Polls until cond() holds (no timing assertion: the test's own timeout bounds it). */
export async function until<T>(f: () => Promise<T>, cond: (v: T) => boolean, everyMs = 50): Promise<T> {
  for (;;) {
    const v = await f();
    if (cond(v)) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
