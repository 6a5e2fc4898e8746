// `npm test` after `tsc`: builds the engine when engine/Makefile exists (with the CUDA kernels when nvcc is there), then runs every compiled
// test file (dist/toolkit/test/**/*.test.js and dist/engine/tests/**/*.test.js) in one `node --test`
// with the spec reporter, whose closing lines count tests, passes and failures.
// Compiled files whose .ts source is gone are skipped (tsc never deletes stale output).
// The tests run with a private, empty TMPDIR; whatever is left in it afterwards is a leak: the run
// fails naming each leftover (then the folder is removed), so every test cleans up after itself.
// Usage: npm test [-- WORD... ] [-- --test-name-pattern=RE]; WORDs keep only files whose path contains one.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { packageRoot } from "../src/lib/paths.js";

const root = packageRoot();
const TEST_DIRS = ["toolkit/test", "engine/tests"];

function listTests(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".test.js"))
    .map((e) => join(e.parentPath, e.name));
}

const args = process.argv.slice(2);
const nodeFlags = args.filter((a) => a.startsWith("-"));
const words = args.filter((a) => !a.startsWith("-"));

/** nvcc on PATH or in the usual CUDA folder: then the CUDA kernels are compiled (and embedded) too. */
function findNvcc(): string | null {
  const onPath = spawnSync("sh", ["-c", "command -v nvcc"], { encoding: "utf8" }).stdout.trim();
  if (onPath) return onPath;
  return existsSync("/usr/local/cuda/bin/nvcc") ? "/usr/local/cuda/bin/nvcc" : null;
}

/** Formatting and lint on full runs (`npm run lint`: Biome for the TypeScript, clang-format for the C/CUDA);
 *  without clang-format only the TypeScript is checked, with one note. */
function lint(): void {
  const hasClangFormat = spawnSync("sh", ["-c", "command -v clang-format"], { encoding: "utf8" }).stdout.trim() !== "";
  const cmd = hasClangFormat ? (["npm", ["run", "-s", "lint"]] as const) : (["npx", ["biome", "check", "."]] as const);
  if (!hasClangFormat)
    console.log("npm test: note: no clang-format on this machine, so only the TypeScript is lint-checked.");
  console.log(`> ${cmd[0]} ${cmd[1].join(" ")}`);
  if (spawnSync(cmd[0], [...cmd[1]], { stdio: "inherit", cwd: root }).status !== 0) {
    console.error(
      "npm test: the lint check failed; `npm run format` fixes the formatting, then fix what it still reports.",
    );
    process.exit(1);
  }
}
if (words.length === 0) lint();

if (existsSync(join(root, "engine", "Makefile"))) {
  const nvcc = findNvcc();
  const target = nvcc ? ["cuda"] : [];
  if (!nvcc)
    console.log(
      "npm test: note: no nvcc on this machine, so the CUDA kernels are not compiled (host code is); install the CUDA toolkit to compile them too.",
    );
  console.log(`> make -C engine ${target.join(" ")}`);
  const make = spawnSync("make", ["-C", join(root, "engine"), ...target], { stdio: "inherit" });
  if (make.status !== 0) {
    console.error(
      `npm test: make -C engine ${target.join(" ")} failed (exit ${make.status ?? make.signal}); fix the engine build first.`,
    );
    process.exit(1);
  }
}

const files = TEST_DIRS.flatMap((d) => listTests(join(root, "dist", d)))
  .filter((f) => existsSync(join(root, relative(join(root, "dist"), f)).replace(/\.js$/, ".ts")))
  .filter((f) => words.length === 0 || words.some((w) => f.includes(w)))
  .sort();

if (files.length === 0) {
  console.error(
    `npm test: no test files found under dist/{${TEST_DIRS.join(",")}}${words.length ? ` matching ${words.join(" ")}` : ""}`,
  );
  process.exit(1);
}
/** Leftovers in the private TMPDIR: top-level entries with their size. */
function leftovers(dir: string): string[] {
  const size = (p: string): number => {
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) return 0;
    if (!st.isDirectory()) return st.size;
    return readdirSync(p).reduce((n, e) => n + size(join(p, e)), 0);
  };
  return readdirSync(dir)
    .sort()
    .map((e) => `${e} (${size(join(dir, e))} bytes)`);
}

const privateTmp = mkdtempSync(join(tmpdir(), "vox-npm-test-"));
// Audio clients (ffmpeg's and Chromium's libpulse) keep runtime files under XDG_RUNTIME_DIR, else
// in TMPDIR: give them a runtime folder of their own, removed after the run, not counted as leftovers.
const runtimeDir = process.env.XDG_RUNTIME_DIR ? null : mkdtempSync(join(tmpdir(), "vox-npm-runtime-"));
console.log(`> node --test (${files.length} files), TMPDIR=${privateTmp}`);
const run = spawnSync(
  process.execPath,
  ["--test", "--test-reporter=spec", ...nodeFlags, ...files.map((f) => relative(root, f))],
  {
    stdio: "inherit",
    cwd: root,
    env: { ...process.env, TMPDIR: privateTmp, ...(runtimeDir ? { XDG_RUNTIME_DIR: runtimeDir } : {}) },
  },
);
const left = leftovers(privateTmp);
rmSync(privateTmp, { recursive: true, force: true });
if (runtimeDir) rmSync(runtimeDir, { recursive: true, force: true });
if (left.length > 0) {
  console.error(
    `npm test: the tests left ${left.length} entries in $TMPDIR (removed now); each test must remove what it creates:`,
  );
  for (const l of left) console.error(`  ${l}`);
  process.exit(1);
}
process.exit(run.status ?? 1);
