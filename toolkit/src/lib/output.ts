// Writing files so that nothing half-written is ever left behind, and finding out before any work
// that an output folder cannot be used:
//   ensureWritableDir(dir, "--out-dir")  creates the folder level by level (never mkdir -p: Node's
//                                        recursive mkdir loops forever under /proc) and proves it is
//                                        writable with a probe file; else OutputError (exit 73)
//   writeFileAtomic(path, data)          writes <path>.tmp-<pid>-<n>, then renames it over path; on
//                                        failure the temporary file is removed and OutputError thrown
// Every report, CSV, Markdown/HTML view, the matrix and doctor's fact set go through writeFileAtomic.
import { accessSync, constants, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { keepOnExit, removeOnExit } from "./cleanup.js";
import { OutputError } from "./errors.js";

const FIX = "Pass a folder you can write to (it is created if missing), or free some space.";

function errnoWords(e: unknown): string {
  const x = e as NodeJS.ErrnoException;
  const words: Record<string, string> = {
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    EROFS: "read-only file system",
    ENOSPC: "no space left on the device",
    EDQUOT: "disk quota exceeded",
    ENOTDIR: "a part of the path is a file, not a folder",
    ENOENT: "the folder cannot be created there",
    EEXIST: "a file of that name exists",
  };
  return x?.code ? `${words[x.code] ?? x.code} (${x.code})` : String((e as Error)?.message ?? e);
}

let probeCount = 0;

/** Creates `dir` (and missing parents) and checks a file can be written in it; returns the absolute path.
 *  `what` names the option in the message (e.g. "report folder"); create = false: the folder must exist.
 *  Throws OutputError (exit 73). */
export function ensureWritableDir(dir: string, what = "output folder", create = true): string {
  return writableDir(dir, what, create);
}

function writableDir(dir: string, what: string, create: boolean): string {
  const abs = resolve(dir);
  const missing: string[] = [];
  let at = abs;
  for (;;) {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(at);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR")
        throw new OutputError(`${what} ${abs} cannot be used: ${at}: ${errnoWords(e)}`, FIX);
      missing.unshift(at);
      const up = dirname(at);
      if (up === at) break;
      at = up;
      continue;
    }
    if (!st.isDirectory())
      throw new OutputError(`${what} ${abs} cannot be created: ${at} is a file, not a folder`, FIX);
    break;
  }
  if (!create && missing.length > 0)
    throw new OutputError(
      `${what} ${abs} does not exist`,
      "Create the folder first, or pass a path in an existing folder.",
    );
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST" && statSync(d).isDirectory()) continue; // made by a concurrent run
      throw new OutputError(`${what} ${abs} cannot be created: ${d}: ${errnoWords(e)}`, FIX);
    }
  }
  return probeWrite(abs, abs, what);
}

/** Permission bits do not tell (root, read-only mounts, /proc): write a probe file in `at` and remove it. */
function probeWrite(at: string, abs: string, what: string): string {
  const probe = join(at, `.vox-write-probe-${process.pid}-${probeCount++}`);
  try {
    accessSync(at, constants.W_OK);
    writeFileSync(probe, "");
  } catch (e) {
    throw new OutputError(
      `${what} ${abs} ${at === abs ? "is not writable" : `cannot be created in ${at}`}: ${errnoWords(e)}`,
      FIX,
    );
  } finally {
    rmSync(probe, { force: true });
  }
  return abs;
}

let tmpCount = 0;

/** Writes `data` to `path` through a temporary file in the same folder and a rename, so readers see
 *  the old file or the complete new one, never a partial one. Throws OutputError (exit 73). */
export function writeFileAtomic(path: string, data: string | Uint8Array, fix = FIX): void {
  const tmp = `${path}.tmp-${process.pid}-${tmpCount++}`;
  try {
    removeOnExit(tmp);
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new OutputError(`cannot write ${path}: ${errnoWords(e)}`, fix);
  } finally {
    keepOnExit(tmp);
  }
}
