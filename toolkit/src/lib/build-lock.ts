// Building the engine on demand, once, however many vox processes start at the same time on a fresh
// checkout: the first takes engine/build/build.lock (created exclusively, holding its pid) and runs make;
// the others wait for the lock to go away, then use the binary it built. A lock whose process is
// gone (a killed run) is stale and taken over. Only `make -C engine` runs here (the CPU engine).
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { keepOnExit, removeOnSignal } from "./cleanup.js";
import { EngineUnavailableError } from "./errors.js";
import { runCommand } from "./exec.js";
import { engineBinary, packageRoot } from "./paths.js";

export function buildLockPath(root = packageRoot()): string {
  return join(root, "engine", "build", "build.lock");
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The pid in a lock file; null when unreadable or empty (a lock being written, or garbage). */
function lockPid(lock: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(lock, "utf8"), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function mtimeMs(p: string): number {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return 0;
  }
}

/** Takes the lock (true), or returns false when a live process holds it. Removes a stale lock. */
function tryLock(lock: string): boolean {
  mkdirSync(dirname(lock), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lock, "wx");
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      removeOnSignal(lock);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const pid = lockPid(lock);
      // No pid yet: being written right now, unless it has been like that for a while (a crash in between).
      if (pid === null ? Date.now() - mtimeMs(lock) < 10_000 : alive(pid)) return false;
      rmSync(lock, { force: true }); // stale: the builder was killed
    }
  }
  return false;
}

export interface EnsureEngineOptions {
  /** called once when this process starts a build, and once when it waits for another's */
  note?: (line: string) => void;
  timeoutMs?: number;
}

/** Makes sure engine/build/voxtral exists, building it once (under the lock) when it is missing.
 *  Nothing to do when VOX_ENGINE names a binary. Throws EngineUnavailableError when make fails. */
export async function ensureEngineBuilt(o: EnsureEngineOptions = {}): Promise<void> {
  if (process.env.VOX_ENGINE) return;
  const root = packageRoot();
  const lock = buildLockPath(root);
  let waited = false;
  // A binary with no lock around it is complete: the lock is held from before make starts until it ends.
  while (existsSync(lock) || !existsSync(engineBinary())) {
    if (tryLock(lock)) break;
    if (!waited) o.note?.("vox: note: another vox process is building the engine; waiting for it.");
    waited = true;
    await sleep(250);
  }
  if (!existsSync(lock) || lockPid(lock) !== process.pid) return; // built by another process
  try {
    if (existsSync(engineBinary())) return; // finished by the holder of a lock we found stale
    o.note?.("vox: note: the engine is not built yet; building it now with make -C engine (once).");
    const make = await runCommand("make", ["-C", join(root, "engine")], { timeoutMs: o.timeoutMs ?? 15 * 60_000 });
    if (make.exitCode !== 0) {
      process.stderr.write(make.stderr.split("\n").slice(-15).join("\n"));
      throw new EngineUnavailableError(
        `make -C engine failed${make.error ? ` (${make.error})` : ""}`,
        "Run npx vox-doctor --backend cpu: it names what is missing (usually: sudo apt-get install -y build-essential libopenblas-dev).",
      );
    }
  } finally {
    rmSync(lock, { force: true });
    keepOnExit(lock);
  }
}
