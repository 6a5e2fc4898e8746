// Temporary files and folders that must not outlive the process: removed when it exits normally,
// and on Ctrl-C (SIGINT) or SIGTERM, after which the process exits 130 / 143 (one line on stderr) —
// unless the command has its own handler for that signal: then it decides when to exit, and the
// files go when it does.
//   const dir = trackedTempDir("vox-bench-");   // mkdtemp in $TMPDIR, removed on exit and on signals
//   removeOnExit(path) / keepOnExit(path)       // for paths made elsewhere (a .partial folder, a .tmp file)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EXIT } from "./errors.js";

const paths = new Set<string>();
const hooks = new Set<() => void>();
let installed = false;

function removeAll(): void {
  for (const h of hooks) {
    try {
      h();
    } catch {
      // a hook that fails must not keep the files from being removed
    }
  }
  hooks.clear();
  for (const p of paths) rmSync(p, { recursive: true, force: true });
  paths.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on("exit", removeAll);
  for (const [sig, code] of [["SIGINT", EXIT.interrupted], ["SIGTERM", EXIT.terminated]] as const) {
    process.on(sig, () => {
      // A command with its own handler for the signal (a graceful stop, e.g. vox transcribe deciding
      // the audio it has) owns the shutdown; the files are then removed by the exit hook.
      if (process.listenerCount(sig) > 1) return;
      removeAll();
      process.stderr.write(`vox: interrupted (${sig}); temporary files removed.\n`);
      process.exit(code);
    });
  }
}

/** Runs `fn` (synchronously) at exit or on a signal, before the paths are removed — e.g. to kill a
 *  child process still writing into them. Returns a function that unregisters it. */
export function atExit(fn: () => void): () => void {
  install();
  hooks.add(fn);
  return () => hooks.delete(fn);
}

/** Removes `path` (file or folder) when the process exits or is interrupted, unless keepOnExit(path). */
export function removeOnExit(path: string): void {
  install();
  paths.add(path);
}

/** The path is finished (renamed into place, or removed already): no longer removed at exit. */
export function keepOnExit(path: string): void {
  paths.delete(path);
}

/** mkdtemp under $TMPDIR, removed on exit and on Ctrl-C; remove it earlier with rmTracked. */
export function trackedTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  removeOnExit(dir);
  return dir;
}

/** Removes a tracked path now. */
export function rmTracked(path: string): void {
  rmSync(path, { recursive: true, force: true });
  paths.delete(path);
}
