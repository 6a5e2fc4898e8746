// Running helper programs (nvidia-smi, ldconfig, nvcc, cc, ...) for facts: never throws, always
// returns what happened, so a missing or hanging tool is itself a fact a check can judge.
// (The engine is started only by engine.ts.)
import { execa } from "execa";
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";

export interface CmdFact {
  cmd: string;
  /** false when the program does not exist (ENOENT / EACCES). */
  found: boolean;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Spawn error or signal, in words; null when the program ran and exited. */
  error: string | null;
}

export async function runCommand(
  file: string,
  args: readonly string[],
  opts: { timeoutMs?: number; env?: Record<string, string | undefined> } = {},
): Promise<CmdFact> {
  const cmd = [file, ...args].join(" ");
  const r = await execa(file, [...args], {
    reject: false,
    timeout: opts.timeoutMs ?? 10_000,
    forceKillAfterDelay: 1000,
    env: opts.env,
    stdin: "ignore",
    encoding: "utf8",
    stripFinalNewline: false,
  });
  const code = (r as { code?: string }).code;
  const notFound = code === "ENOENT" || code === "EACCES";
  let error: string | null = null;
  if (r.timedOut) error = `timed out after ${opts.timeoutMs ?? 10_000} ms`;
  else if (r.signal) error = `killed by ${r.signal}`;
  else if (r.exitCode === undefined) error = code ?? r.shortMessage ?? "could not start";
  return {
    cmd,
    found: !notFound,
    exitCode: r.exitCode ?? null,
    stdout: typeof r.stdout === "string" ? r.stdout : "",
    stderr: typeof r.stderr === "string" ? r.stderr : "",
    timedOut: r.timedOut,
    error,
  };
}

/** Where `name` resolves on PATH (like `command -v`), or null. */
export function which(name: string, pathVar: string | undefined = process.env.PATH): string | null {
  if (isAbsolute(name)) return isExecutable(name) ? name : null;
  for (const dir of (pathVar ?? "").split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    if (isExecutable(p)) return p;
  }
  return null;
}

function isExecutable(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
