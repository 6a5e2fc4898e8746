// Temporary files and folders that must not outlive the process.
//   removeOnExit(path)                          removed when the process exits (process.exit or the end)
//   removeOnSignal(path) / trackedTempDir(p)    also on Ctrl-C (SIGINT) or SIGTERM: removed, one line
//                                               on stderr, exit 130 / 143
//   keepOnExit(path) / rmTracked(path)          done with it (renamed into place / removed now)
// The signal handlers are installed only while a signal-tracked path exists, and removed when the
// last one is done: a command with its own graceful Ctrl-C (vox transcribe, vox serve) keeps it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EXIT } from "./errors.js";

const atExitPaths = new Set<string>();
const onSignalPaths = new Set<string>();
const hooks = new Set<() => void>();
let exitHook = false;
const SIGNALS = [
  ["SIGINT", EXIT.interrupted],
  ["SIGTERM", EXIT.terminated],
] as const;

function removeAll(): void {
  for (const h of hooks) {
    try {
      h();
    } catch {
      // a hook that fails must not keep the files from being removed
    }
  }
  hooks.clear();
  for (const p of [...atExitPaths, ...onSignalPaths]) rmSync(p, { recursive: true, force: true });
  atExitPaths.clear();
  onSignalPaths.clear();
}

const handlers = new Map<string, () => void>();

function syncSignalHandlers(): void {
  const want = onSignalPaths.size > 0 || hooks.size > 0;
  for (const [sig, code] of SIGNALS) {
    const h = handlers.get(sig);
    if (want && !h) {
      const handler = () => {
        removeAll();
        process.stderr.write(`vox: interrupted (${sig}); temporary files removed.\n`);
        process.exit(code);
      };
      handlers.set(sig, handler);
      process.on(sig, handler);
    } else if (!want && h) {
      process.off(sig, h);
      handlers.delete(sig);
    }
  }
}

function installExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  process.on("exit", removeAll);
}

/** Removes `path` (file or folder) when the process exits, unless keepOnExit(path) comes first. */
export function removeOnExit(path: string): void {
  installExitHook();
  atExitPaths.add(path);
}

/** As removeOnExit, and on Ctrl-C / SIGTERM too (then the process exits 130 / 143). */
export function removeOnSignal(path: string): void {
  installExitHook();
  onSignalPaths.add(path);
  syncSignalHandlers();
}

/** Runs `fn` (synchronously) at exit or on a signal, before the paths are removed — e.g. to kill a
 *  child process still writing into them. Returns a function that unregisters it. */
export function atExit(fn: () => void): () => void {
  installExitHook();
  hooks.add(fn);
  syncSignalHandlers();
  return () => {
    hooks.delete(fn);
    syncSignalHandlers();
  };
}

/** The path is finished (renamed into place, or removed already): no longer removed at exit. */
export function keepOnExit(path: string): void {
  atExitPaths.delete(path);
  onSignalPaths.delete(path);
  syncSignalHandlers();
}

/** mkdtemp under $TMPDIR, removed on exit and on Ctrl-C; remove it earlier with rmTracked. */
export function trackedTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  removeOnSignal(dir);
  return dir;
}

/** Removes a tracked path now. */
export function rmTracked(path: string): void {
  rmSync(path, { recursive: true, force: true });
  keepOnExit(path);
}
