// Shared by the command tests: run the real `vox` CLI (compiled) with reports in a temp folder,
// copy a fixture to perturb it, and fake engines (shell scripts behind VOX_ENGINE) that crash or hang
// on transcription while answering --info like the real engine. Every temporary folder made here is
// removed when the test file's process exits (lib/cleanup.ts), so the suite leaves $TMPDIR as it was.
import { execa } from "execa";
import { chmodSync, cpSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { trackedTempDir } from "../../src/lib/cleanup.js";
import { engineBinary, fixturesDir, packageRoot } from "../../src/lib/paths.js";

export interface CliRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  reportsDir: string;
  /** parsed reports written, by file name */
  reports: Record<string, unknown>;
}

export function tempDir(prefix = "vox-test-"): string {
  return trackedTempDir(prefix);
}

export async function vox(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const reportsDir = tempDir("vox-reports-");
  const r = await execa(process.execPath, [join(packageRoot(), "dist", "toolkit", "src", "bin", "vox.js"), ...args], {
    reject: false,
    env: { VOX_REPORTS_DIR: reportsDir, ...env },
    cwd: packageRoot(),
    timeout: 120_000,
  });
  const reports: Record<string, unknown> = {};
  for (const f of readdirSync(reportsDir))
    if (f.endsWith(".json")) reports[f] = JSON.parse(readFileSync(join(reportsDir, f), "utf8"));
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr), reportsDir, reports };
}

/** The one report whose file name starts with `prefix`. */
export function report<T = Record<string, unknown>>(run: CliRun, prefix: string): T {
  const names = Object.keys(run.reports).filter((n) => n.startsWith(prefix));
  if (names.length !== 1)
    throw new Error(`expected one ${prefix}* report, found ${names.join(", ") || "none"}; stderr: ${run.stderr}`);
  return run.reports[names[0]!] as T;
}

/** A copy of checks/fixtures/<name> in a temp folder whose golden tokens are changed at `indices`. */
export function perturbedFixture(name: string, indices: number[]): string {
  const dir = join(tempDir("vox-fixture-"), name);
  cpSync(join(fixturesDir(), name), dir, { recursive: true });
  const path = join(dir, "golden", "tokens.json");
  const tokens = (JSON.parse(readFileSync(path, "utf8")) as { tokens: number[] }).tokens;
  for (const i of indices) tokens[i] = tokens[i] === 7 ? 8 : 7;
  writeFileSync(path, JSON.stringify({ tokens }));
  return dir;
}

/** A fake engine: the queries `--info` and `--tensors` (with their arguments, e.g. `-d MODEL`) are answered by the
 *  real engine; anything else runs `body` (sh). */
export function fakeEngine(body: string): string {
  const p = join(tempDir("vox-fake-engine-"), "voxtral");
  const real = engineBinary({});
  writeFileSync(p, `#!/bin/sh\ncase "$1" in --info | --tensors) exec "${real}" "$@" ;; esac\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

export const SEGFAULT = "kill -SEGV $$";
export const HANG = "exec sleep 60";
